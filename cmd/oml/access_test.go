package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// TestServeWithAccounts goes through the access model from the command
// line to a served data dir: an administrator account, a release
// published under embargo (on the agenda before it is visible), `oml
// serve` hiding it from the public and previewing it to the logged-in
// administrator, an analyst's token reading its province's microdata, and
// the read in the audit log with its row count.
func TestServeWithAccounts(t *testing.T) {
	f := releasetest.Build(t)
	data := f.Copy(t)
	now := time.Now()
	cli := func(stdin string, args ...string) string {
		t.Helper()
		stdout, stderr, code := runIn(t, stdin, now, map[string]string{"USER": "operatore"}, args...)
		if code != 0 {
			t.Fatalf("oml %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}
	cli("password-della-amministratrice\n", "user", "add", "--data", data, "--name", "ammin", "--role", "admin")
	embargo := now.Add(time.Hour).Format(time.RFC3339)
	var pub struct{ Release string }
	if err := json.Unmarshal([]byte(cli("", "release", "--data", data, "--json", "--embargo-until", embargo, "--title", "Rilascio di prova")), &pub); err != nil {
		t.Fatal(err)
	}
	agenda := cli("", "agenda", "list", "--data", data, "--json")
	if !strings.Contains(agenda, pub.Release) || !strings.Contains(agenda, "Rilascio di prova") {
		t.Fatalf("agenda after release --embargo-until:\n%s", agenda)
	}
	token := strings.TrimSpace(cli("", "token", "create", "--data", data, "--role", "analyst:016", "--label", "script di prova"))

	var stdout, stderr syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--data", data, "--addr", "127.0.0.1:0"}) }()
	portal := regexp.MustCompile(`portal at (http://[0-9.:]+)/`)
	var base string
	for i := 0; i < 500 && (base == "" || !strings.Contains(stdout.String(), "/accedi")); i++ {
		if m := portal.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == "" || !strings.Contains(stdout.String(), "Area riservata") {
		t.Fatalf("serve did not start with accounts:\n%s\n%s", stdout.String(), stderr.String())
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	get := func(c *http.Client, path string, header ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	latest := func(c *http.Client) string {
		t.Helper()
		_, body := get(c, "/api/v1/releases/latest")
		var in struct{ ID string }
		json.Unmarshal([]byte(body), &in)
		return in.ID
	}
	if got := latest(http.DefaultClient); got != f.Info.ID {
		t.Errorf("public latest = %q, want %s (the new one is under embargo)", got, f.Info.ID)
	}
	// The administrator logs in through the form and previews it.
	_, form := get(browser, "/accedi")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("login form:\n%s", form)
	}
	resp, err := browser.PostForm(base+"/accedi", url.Values{"csrf": {csrf[1]}, "nome": {"ammin"}, "password": {"password-della-amministratrice"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/area-riservata" {
		t.Fatalf("login: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	if got := latest(browser); got != pub.Release {
		t.Errorf("administrator's latest = %q, want the preview %s", got, pub.Release)
	}
	if r, body := get(browser, "/amministrazione"); r.StatusCode != 200 || !strings.Contains(body, "release_publish") || !strings.Contains(body, "Catena di impronte verificata") {
		t.Errorf("admin page: %d", r.StatusCode)
	}
	// The analyst's script reads its microdata with the token.
	r, body := get(http.DefaultClient, "/api/v1/microdata?territory=016&from=2023-01&to=2023-12", "Authorization", "Bearer "+token)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("microdata: %d %s", r.StatusCode, body)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) < 2 || recs[0][0] != "comm_id" {
		t.Fatalf("microdata CSV: %v, %d lines", err, len(recs))
	}
	if r.Header.Get("X-OML-Rows") != strconv.Itoa(len(recs)-1) {
		t.Errorf("X-OML-Rows %s for %d rows", r.Header.Get("X-OML-Rows"), len(recs)-1)
	}
	if r, _ := get(http.DefaultClient, "/api/v1/microdata?territory=015", "Authorization", "Bearer "+token); r.StatusCode != 403 {
		t.Errorf("another province's microdata: %d", r.StatusCode)
	}
	cancel()
	<-done

	type entry struct {
		Actor, Action, Object string
		Rows                  int64
	}
	var entries []entry
	dec := json.NewDecoder(strings.NewReader(cli("", "audit", "--data", data, "--json")))
	for dec.More() {
		var e entry
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	found := false
	for _, e := range entries {
		if e.Action == "microdata_read" && e.Object == "016" && e.Rows == int64(len(recs)-1) && strings.HasPrefix(e.Actor, "token:") {
			found = true
		}
	}
	if !found {
		t.Errorf("no microdata_read of 016 with %d rows in the audit log: %+v", len(recs)-1, entries)
	}
	cli("", "audit", "--data", data, "--verify") // exits non-zero on a broken chain
}
