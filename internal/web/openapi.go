package web

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/regione-lombardia/oml"
)

// openAPIVersion is the version of the API the document describes; it
// follows the path's /v1 and changes with any change of the contract.
const openAPIVersion = "1.0.0"

// handleOpenAPI answers GET /api/v1/openapi.json.
func (s *Server) handleOpenAPI(r *request) (*reply, error) {
	return &reply{contentType: mediaJSON, body: s.openapi, maxAge: maxAgeStatic}, nil
}

// object is a JSON object of the document.
type object = map[string]any

// openAPIDocument builds the OpenAPI 3.1 document of the API from the
// table of operations: paths, parameters (with the same names, lists,
// enumerations and defaults the handlers accept), responses and their
// media types. Only the schemas of the bodies are written by hand, below.
func (s *Server) openAPIDocument() ([]byte, error) {
	paths := object{}
	var tags []string
	for _, op := range s.ops {
		if !contains(tags, op.Tag) {
			tags = append(tags, op.Tag)
		}
		item, _ := paths[op.Path].(object)
		if item == nil {
			item = object{}
			paths[op.Path] = item
		}
		var params []any
		for _, p := range op.Params {
			params = append(params, openAPIParam(p))
		}
		o := object{
			"operationId": op.ID,
			"tags":        []string{op.Tag},
			"summary":     op.Summary,
			"responses":   s.openAPIResponses(op),
		}
		if op.Description != "" {
			o["description"] = op.Description
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.Auth {
			o["security"] = []any{object{"bearer": []string{}}, object{"session": []string{}}}
		}
		item[strings.ToLower(op.Method)] = o
	}
	var tagList []any
	for _, t := range tags {
		tagList = append(tagList, object{"name": t})
	}
	doc := object{
		"openapi": "3.1.0",
		"info": object{
			"title":   "oml — API dei dati degli osservatori del mercato del lavoro della Lombardia",
			"version": openAPIVersion,
			"description": "Dati aperti sulle Comunicazioni Obbligatorie: indicatori, territori, release firmate. " +
				"Guida: docs/api.md. / Open data on the mandatory employment notices of Lombardy.",
			"license": object{"name": "CC-BY-4.0", "identifier": "CC-BY-4.0"},
		},
		"servers": []any{object{"url": "/"}},
		"tags":    tagList,
		"paths":   paths,
		"components": object{"schemas": schemas(), "securitySchemes": object{
			"bearer": object{"type": "http", "scheme": "bearer", "description": "token API oml_... creato con oml token create / API token"},
			"session": object{"type": "apiKey", "in": "cookie", "name": sessionCookie,
				"description": "sessione del portale, dopo l'accesso da /accedi / portal session"},
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// openAPIParam describes p. A list parameter is an array in form style,
// not exploded: territory=015,016.
func openAPIParam(p param) object {
	sch := object{"type": "string"}
	if len(p.Enum) > 0 {
		sch["enum"] = p.Enum
	}
	if p.Default != "" && !p.List {
		sch["default"] = p.Default
	}
	o := object{"name": p.Name, "in": p.In, "description": p.Description}
	if p.Required || p.In == "path" {
		o["required"] = true
	}
	if p.List {
		sch = object{"type": "array", "items": sch}
		if p.Default != "" {
			sch["default"] = strings.Split(p.Default, ",")
		}
		o["style"] = "form"
		o["explode"] = false
	}
	o["schema"] = sch
	if p.Example != "" {
		if p.List {
			o["example"] = strings.Split(p.Example, ",")
		} else {
			o["example"] = p.Example
		}
	}
	return o
}

// openAPIResponses describes the responses of op: 200 with its media
// types, 304 (every success carries an entity tag), the errors of the
// operation, and 400 (an unknown parameter), 429 (the rate limit) and 500
// for all.
func (s *Server) openAPIResponses(op *operation) object {
	content := object{}
	for _, ct := range op.Produces {
		mt, params, _ := mime.ParseMediaType(ct)
		key := mt
		if v := params["version"]; v != "" {
			key += "; version=" + v
		}
		if _, dup := content[key]; dup {
			continue
		}
		c := object{}
		switch {
		case mt == "application/json" && op.Schema == "Dataset":
			// JSON and JSON-stat share the media type.
			c["schema"] = object{"oneOf": []any{ref("Dataset"), ref("JSONStat")}}
		case mt == "application/json" && op.Schema != "":
			c["schema"] = ref(op.Schema)
		case mt == "application/json":
			c["schema"] = object{"type": "object"}
		default:
			c["schema"] = object{"type": "string", "format": "binary"}
		}
		content[key] = c
	}
	ok := object{"description": "OK", "content": content, "headers": cacheHeaders()}
	if op.Schema == "Dataset" {
		h := cacheHeaders()
		for name, desc := range map[string]string{
			"X-OML-Release":        "identificativo della release / release id",
			"X-OML-Vintage":        "data di estrazione dei dati, AAAA-MM-GG / data vintage",
			"X-OML-Method-Version": "versione della metodologia / methodology version",
			"X-OML-Perimeter":      "workplace o residence",
			"X-OML-Scope":          "full o core",
			"X-OML-Embargo":        "solo nelle anteprime: fine dell'embargo della release, RFC 3339 / previews only: end of the release's embargo",
			"Content-Disposition":  "attachment con il nome del file, per csv, xlsx e sdmx-csv / attachment with a file name, for csv, xlsx and sdmx-csv",
		} {
			h[name] = object{"description": desc, "schema": object{"type": "string"}}
		}
		ok["headers"] = h
	}
	out := object{
		"200": ok,
		"304": object{"description": "Non modificato: la copia del client (If-None-Match) è ancora valida / Not modified"},
	}
	statuses := append([]int{http.StatusBadRequest}, op.Errors...)
	statuses = append(statuses, http.StatusTooManyRequests, http.StatusInternalServerError)
	for _, st := range statuses {
		out[strconv.Itoa(st)] = object{
			"description": http.StatusText(st),
			"content":     object{"application/json": object{"schema": ref("Error")}},
		}
	}
	limited := out["429"].(object)
	limited["description"] = "Troppe richieste da questo client (codice too_many_requests): riprovare dopo Retry-After secondi / Too many requests from this client; retry after Retry-After seconds"
	limited["headers"] = object{"Retry-After": object{"description": "secondi da attendere / seconds to wait", "schema": object{"type": "integer"}}}
	return out
}

func cacheHeaders() object {
	return object{
		"ETag":          object{"description": "validatore forte; rimandarlo in If-None-Match / strong validator", "schema": object{"type": "string"}},
		"Cache-Control": object{"description": "immutabile per una release indicata, breve per l'ultima / immutable for a named release, short for the latest", "schema": object{"type": "string"}},
	}
}

func ref(name string) object { return object{"$ref": "#/components/schemas/" + name} }

func str(desc string) object { return object{"type": "string", "description": desc} }

func strEnum(desc string, values ...string) object {
	return object{"type": "string", "description": desc, "enum": values}
}

func arrayOf(items any) object { return object{"type": "array", "items": items} }

func obj(required []string, props object) object {
	o := object{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// schemas are the component schemas of the JSON bodies, written to match
// the handlers' structs; the tests validate every JSON response against
// them.
func schemas() object {
	codes := []string{oml.EINVALID, oml.ENOTFOUND, oml.ECONFLICT, oml.EUNAUTHORIZED, oml.EFORBIDDEN,
		oml.ETOOLARGE, oml.EINTEGRITY, oml.EINTERNAL}
	levels := levelNames()
	return object{
		"Error": obj([]string{"error"}, object{
			"error": obj([]string{"code", "message"}, object{
				"code":    strEnum("codice dell'errore / error code", codes...),
				"message": str("messaggio, in italiano e in inglese / message, Italian then English"),
				"hint":    str("come rimediare / how to fix it"),
			}),
		}),
		"Release": obj([]string{"id", "vintage", "method_version", "published_at", "first", "last", "has_ids"}, object{
			"id":             str("identificativo, <vintage AAAAMMGG>-<n> / release id"),
			"vintage":        object{"type": "string", "format": "date", "description": "data di estrazione dei dati / data vintage"},
			"method_version": str("versione della metodologia / methodology version"),
			"published_at":   object{"type": "string", "format": "date-time"},
			"first":          str("primo mese coperto, AAAA-MM / first month covered"),
			"last":           str("ultimo mese coperto, AAAA-MM / last month covered"),
			"has_ids":        object{"type": "boolean", "description": "i dati di input hanno gli identificativi di rapporto e persona / the input carries relationship and person ids"},
		}),
		"ReleaseList": obj([]string{"releases"}, object{"releases": arrayOf(ref("Release"))}),
		"Manifest": object{"type": "object",
			"description": "manifest.json della release, byte per byte: sha256 e righe di ogni file, versione della metodologia, vintage / the release's manifest.json"},
		"Indicator": obj([]string{"id", "label", "definition", "unit", "kind", "additive", "needs_ids", "available", "dimensions", "levels", "breakdowns"}, object{
			"id":         str("identificativo / id"),
			"label":      str("etichetta italiana / Italian label"),
			"definition": str("definizione / definition"),
			"unit":       str("unità di misura / unit"),
			"convention": str("convenzione seguita, se c'è / convention, if any"),
			"kind":       strEnum("tipo / kind", "flow", "cumulative", "stock", "distinct", "ratio", "median", "rate"),
			"additive":   object{"type": "boolean"},
			"needs_ids":  object{"type": "boolean"},
			"available":  object{"type": "boolean", "description": "false se l'input della release non ha gli identificativi che servono (celle con stato M) / false when the input lacks the ids it needs"},
			"dimensions": arrayOf(object{"type": "string"}),
			"levels":     arrayOf(object{"type": "string", "enum": levels}),
			"breakdowns": object{"type": "object", "description": "per livello, le combinazioni di dimensioni pubblicate / per level, the published combinations",
				"additionalProperties": arrayOf(arrayOf(object{"type": "string"}))},
		}),
		"IndicatorList": obj([]string{"method_version", "title", "disclosure", "dimensions", "indicators"}, object{
			"release":        str("release di cui è il catalogo; assente senza release / the release whose catalogue this is"),
			"method_version": str("versione della metodologia / methodology version"),
			"title":          str("titolo della metodologia / title"),
			"disclosure": obj([]string{"k", "round_to"}, object{
				"k":        object{"type": "integer", "description": "le celle con 1..k-1 eventi sono riservate / cells with 1..k-1 events are confidential"},
				"round_to": object{"type": "integer"},
			}),
			"dimensions": arrayOf(obj([]string{"id", "label", "partition"}, object{
				"id": str(""), "label": str(""), "partition": object{"type": "boolean"},
				"applies_to": arrayOf(object{"type": "string"}),
			})),
			"indicators": arrayOf(ref("Indicator")),
		}),
		"Territory": obj([]string{"code", "name", "level"}, object{
			"code":   str("ITC4, provincia ISTAT, cpi:<ANPAL>, comune ISTAT / territory code"),
			"name":   str("nome / name"),
			"level":  object{"type": "string", "enum": levels},
			"parent": str("territorio superiore; per un CPI la provincia della sede / parent"),
		}),
		"TerritoryList": obj([]string{"territories"}, object{"territories": arrayOf(ref("Territory"))}),
		"CodeList": obj([]string{"release", "dimension", "label", "codes"}, object{
			"release":   str(""),
			"dimension": str(""),
			"label":     str("nome della dimensione / dimension label"),
			"indicator": str(""),
			"codes": arrayOf(obj([]string{"code", "label"}, object{
				"code": str(""), "label": str(""),
			})),
		}),
		"Dataset": obj([]string{"release", "vintage", "method_version", "indicator", "label", "unit", "perimeter", "scope", "freq", "by", "observations"}, object{
			"release":        str(""),
			"vintage":        object{"type": "string", "format": "date"},
			"method_version": str(""),
			"indicator":      str(""),
			"label":          str(""),
			"unit":           str(""),
			"transform":      strEnum("serie derivata / derived series", transforms...),
			"perimeter":      strEnum("", string(oml.Workplace), string(oml.Residence)),
			"scope":          strEnum("", string(oml.ScopeFull), string(oml.ScopeCore)),
			"freq":           strEnum("", "M", "Q", "Y"),
			"by":             arrayOf(object{"type": "string"}),
			"convention":     str(""),
			"observations": arrayOf(obj([]string{"territory", "period", "dims", "value", "status"}, object{
				"territory": str(""),
				"period":    str("2024-06, 2024-Q2 o 2024"),
				"dims":      object{"type": "object", "additionalProperties": object{"type": "string"}},
				"value":     object{"type": []string{"number", "null"}, "description": "null se lo stato è C o M / null when status is C or M"},
				"status":    strEnum("A normale, P provvisorio, C riservato, M non disponibile / normal, provisional, confidential, unavailable", "A", "P", "C", "M"),
			})),
		}),
		"JSONStat": obj([]string{"version", "class", "id", "size", "dimension", "value"}, object{
			"version":   strEnum("", "2.0"),
			"class":     strEnum("", "dataset"),
			"label":     str("etichetta dell'indicatore / indicator label"),
			"source":    str("fonte / source"),
			"updated":   str("vintage"),
			"note":      arrayOf(object{"type": "string"}),
			"role":      object{"type": "object"},
			"id":        arrayOf(object{"type": "string"}),
			"size":      arrayOf(object{"type": "integer"}),
			"dimension": object{"type": "object"},
			"value":     arrayOf(object{"type": []string{"number", "null"}}),
			"status":    object{"type": "object", "additionalProperties": object{"type": "string"}},
			"extension": object{"type": "object"},
		}),
	}
}
