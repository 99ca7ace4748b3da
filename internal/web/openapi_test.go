package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// openAPI is the parsed document, as generic JSON.
type openAPI map[string]any

func parseOpenAPI(t testing.TB, b []byte) openAPI {
	t.Helper()
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	return doc
}

// operations returns the document's operations by "METHOD path".
func (doc openAPI) operations() map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			out[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	return out
}

// params returns the names of the operation's parameters located in in.
func docParams(op map[string]any, in string) []string {
	var out []string
	ps, _ := op["parameters"].([]any)
	for _, p := range ps {
		p := p.(map[string]any)
		if p["in"] == in {
			out = append(out, p["name"].(string))
		}
	}
	sort.Strings(out)
	return out
}

// schemaFor returns the schema of the documented response of op with
// status and media type, and whether there is one.
func (doc openAPI) schemaFor(op map[string]any, status, mediaType string) (any, bool) {
	resp, ok := op["responses"].(map[string]any)[status].(map[string]any)
	if !ok {
		return nil, false
	}
	content, _ := resp["content"].(map[string]any)
	for key, c := range content {
		mt, _, _ := strings.Cut(key, ";")
		if mt == mediaType {
			return c.(map[string]any)["schema"], true
		}
	}
	return nil, false
}

// validate checks v against the JSON Schema subset the document uses
// (type, properties, required, items, additionalProperties, enum, oneOf,
// $ref) and returns the violations.
func (doc openAPI) validate(schema any, v any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{at + ": schema is not an object"}
	}
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		target, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name]
		if !ok {
			return []string{at + ": unresolved " + r}
		}
		return doc.validate(target, v, at)
	}
	if alts, ok := s["oneOf"].([]any); ok {
		n := 0
		var errs []string
		for _, a := range alts {
			e := doc.validate(a, v, at)
			if len(e) == 0 {
				n++
			}
			errs = append(errs, e...)
		}
		if n != 1 {
			return append([]string{fmt.Sprintf("%s: matches %d of oneOf", at, n)}, errs...)
		}
		return nil
	}
	var errs []string
	if typ, ok := s["type"]; ok {
		var types []string
		switch x := typ.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				types = append(types, y.(string))
			}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return jsonType(v, t) }) {
			return []string{fmt.Sprintf("%s: %T is not %v", at, v, types)}
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", at, v, enum))
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				errs = append(errs, at+": missing "+r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, val := range x {
			if p, ok := props[k]; ok {
				errs = append(errs, doc.validate(p, val, at+"."+k)...)
			} else if ap, ok := s["additionalProperties"]; ok {
				errs = append(errs, doc.validate(ap, val, at+"."+k)...)
			} else if props != nil {
				errs = append(errs, at+": undocumented member "+k)
			}
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, val := range x {
				errs = append(errs, doc.validate(items, val, fmt.Sprintf("%s[%d]", at, i))...)
				if len(errs) > 20 {
					break
				}
			}
		}
	}
	return errs
}

func jsonType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	}
	return false
}

func asStrings(v any) []string {
	var out []string
	xs, _ := v.([]any)
	for _, x := range xs {
		out = append(out, x.(string))
	}
	return out
}

// TestOpenAPIDocument checks the document against the router and the table
// of operations, without data: every documented operation is routed to
// itself, every route is documented, the parameters are the table's, the
// path parameters are the template's, and every $ref resolves.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	s := newServer(t, t.TempDir())
	doc := parseOpenAPI(t, s.openapi)
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	info := doc["info"].(map[string]any)
	if info["title"] == "" || info["version"] == "" {
		t.Errorf("info = %v", info)
	}

	mux := s.mux()
	ops := doc.operations()
	for key, op := range ops {
		method, path, _ := strings.Cut(key, " ")
		// Fill the path parameters with their examples.
		url := path
		ps, _ := op["parameters"].([]any)
		for _, p := range ps {
			p := p.(map[string]any)
			if p["in"] == "path" {
				url = strings.ReplaceAll(url, "{"+p["name"].(string)+"}", p["example"].(string))
			}
		}
		req := httptest.NewRequest(method, url, nil)
		if _, pattern := mux.Handler(req); pattern != key {
			t.Errorf("%s: %s is routed to %q", key, url, pattern)
		}
		// Path parameters are exactly the template's.
		var tmpl []string
		for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
			tmpl = append(tmpl, m[1])
		}
		sort.Strings(tmpl)
		if got := docParams(op, "path"); !slices.Equal(got, tmpl) {
			t.Errorf("%s: path parameters %v, template has %v", key, got, tmpl)
		}
	}
	seen := map[string]bool{}
	for _, op := range s.ops {
		key := op.pattern()
		if seen[op.ID] {
			t.Errorf("operationId %s twice", op.ID)
		}
		seen[op.ID] = true
		d, ok := ops[key]
		if !ok {
			t.Errorf("route %s is not documented", key)
			continue
		}
		if d["operationId"] != op.ID {
			t.Errorf("%s: operationId %v, want %s", key, d["operationId"], op.ID)
		}
		want := op.queryNames()
		sort.Strings(want)
		if got := docParams(d, "query"); !slices.Equal(got, want) {
			t.Errorf("%s: documented query parameters %v, the handler accepts %v", key, got, want)
		}
		for _, st := range []string{"200", "304", "400", "429", "500"} {
			if _, ok := d["responses"].(map[string]any)[st]; !ok {
				t.Errorf("%s: response %s not documented", key, st)
			}
		}
	}
	if len(ops) != len(s.ops) {
		t.Errorf("document has %d operations, router %d", len(ops), len(s.ops))
	}

	// Every $ref resolves.
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				name := strings.TrimPrefix(r, "#/components/schemas/")
				if _, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name]; !ok || name == r {
					t.Errorf("%s: unresolved $ref %s", at, r)
				}
			}
			for k, y := range x {
				walk(y, at+"/"+k)
			}
		case []any:
			for i, y := range x {
				walk(y, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(map[string]any(doc), "")
}

// TestOpenAPIConformance calls every operation with every documented
// parameter set to its example (or default) over a real release and
// checks that the handler reads exactly the documented parameters, that
// the response has a documented media type, and that a JSON body
// validates against the documented schema. The data operation is called
// once per format.
func TestOpenAPIConformance(t *testing.T) {
	t.Parallel()
	// A server with accounts, and an analyst's token for the operations
	// that need one.
	f := releasetest.Build(t)
	dir := f.Copy(t)
	st, err := metastore.Open(context.Background(), dir, metastore.Options{Password: cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	token, _, err := st.CreateToken(context.Background(), oml.Role{Kind: oml.RoleAnalyst, Territory: "016"}, "openapi", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, dir, func(c *Config) { c.Access = &Access{Store: st} })
	ts := startServer(t, s)
	doc := parseOpenAPI(t, s.openapi)
	ops := doc.operations()

	var mu sync.Mutex
	read := map[string]map[string]bool{}
	s.onRead = func(op string, params map[string]bool) {
		mu.Lock()
		defer mu.Unlock()
		if read[op] == nil {
			read[op] = map[string]bool{}
		}
		for p := range params {
			read[op][p] = true
		}
	}

	for _, op := range s.ops {
		d := ops[op.pattern()]
		path := op.Path
		v := url.Values{}
		for _, p := range op.Params {
			val := p.Example
			if val == "" {
				val = p.Default
			}
			if val == "" && len(p.Enum) > 0 {
				val = p.Enum[0]
			}
			if p.Name == "release" || (p.Name == "id" && strings.Contains(op.Path, "/releases/")) {
				val = f.Info.ID
			}
			if val == "" {
				t.Errorf("%s: parameter %s has no example, default or enumeration", op.ID, p.Name)
				continue
			}
			if p.In == "path" {
				path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(val))
			} else {
				v.Set(p.Name, val)
			}
		}
		variants := []url.Values{v}
		if op.ID == "getData" {
			variants = nil
			for _, format := range formatNames() {
				w := maps.Clone(v)
				w.Set("format", format)
				variants = append(variants, w)
			}
		}
		for _, q := range variants {
			u := path
			if len(q) > 0 {
				u += "?" + q.Encode()
			}
			var auth []string
			if op.Auth {
				auth = append(auth, "Authorization: Bearer "+token)
				if r := get(t, ts, u); r.StatusCode != 401 {
					t.Errorf("%s without credentials: %d", u, r.StatusCode)
				}
			}
			r := get(t, ts, u, auth...)
			if r.StatusCode != 200 {
				t.Errorf("%s: %d %s", u, r.StatusCode, r.body)
				continue
			}
			mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
			schema, ok := doc.schemaFor(d, "200", mt)
			if !ok {
				t.Errorf("%s: media type %s is not documented", u, mt)
				continue
			}
			if mt == "application/json" {
				var body any
				if err := json.Unmarshal(r.body, &body); err != nil {
					t.Errorf("%s: %v", u, err)
					continue
				}
				for _, e := range doc.validate(schema, body, op.ID) {
					t.Errorf("%s: %s", u, e)
				}
			}
		}
		// An unknown parameter is refused with the documented error body.
		r := get(t, ts, path+"?nonesiste=1")
		schema, ok := doc.schemaFor(d, "400", "application/json")
		var body any
		if !ok || r.StatusCode != 400 || json.Unmarshal(r.body, &body) != nil {
			t.Errorf("%s?nonesiste=1: %d %s", path, r.StatusCode, r.body)
		} else {
			for _, e := range doc.validate(schema, body, op.ID+" 400") {
				t.Errorf("%s: %s", path, e)
			}
		}
	}

	// The handlers read exactly the documented parameters.
	for _, op := range s.ops {
		var want, got []string
		for _, p := range op.Params {
			want = append(want, p.Name)
		}
		for p := range read[op.ID] {
			got = append(got, p)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s reads %v, documents %v", op.ID, got, want)
		}
	}
}

// TestOpenAPIValidator checks the document with the reference validator
// of the OpenAPI community (Python openapi-spec-validator) where it is
// installed; elsewhere the structural test above stands alone.
func TestOpenAPIValidator(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	if exec.Command(python, "-c", "import openapi_spec_validator").Run() != nil {
		t.Skip("openapi-spec-validator not installed (pip install openapi-spec-validator)")
	}
	s := newServer(t, t.TempDir())
	cmd := exec.Command(python, "-c", `import json, sys
from openapi_spec_validator import validate
validate(json.load(sys.stdin))`)
	cmd.Stdin = bytes.NewReader(s.openapi)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openapi-spec-validator: %v\n%s", err, out)
	}
}
