package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/regione-lombardia/oml/internal/oidctest"
)

// The readers of the authorisation table, one column each.
const (
	asPublic  = iota // no credentials
	asNoRoles        // an account without roles, logged in
	asAna016         // analyst:016, logged in
	asAnaITC4        // analyst:ITC4 with an API token (Bearer)
	asRed016         // editor:016, logged in
	asAdmin          // admin, logged in
	asNode016        // node:016: its signed federation credentials on /federation/, nothing elsewhere
	readers
)

var readerNames = [readers]string{"public", "no roles", "analyst:016", "analyst:ITC4 token", "editor:016", "admin", "node:016"}

// authRow is a request and the status each reader must get. form posts
// an HTML form carrying the reader's anti-forgery token.
type authRow struct {
	pattern string // the ServeMux pattern the request exercises
	method  string
	path    string
	form    url.Values
	want    [readers]int
}

// all returns the same status for every reader.
func all(st int) [readers]int {
	var w [readers]int
	for i := range w {
		w[i] = st
	}
	return w
}

// TestAuthorizationMatrix sends every route of the server, as every
// reader, to a real server over loopback, and checks the status written in
// the table. Every route the server registers must have a row, and every
// row must name a registered route.
func TestAuthorizationMatrix(t *testing.T) {
	op := oidctest.New(t, "oml-test", "segreto-del-client")
	e := newAccessEnv(t, withOIDC(op))
	if err := e.srv.Preload(); err != nil {
		t.Fatal(err)
	}
	id := e.f.Info.ID
	const (
		ok, found, seeOther        = http.StatusOK, http.StatusFound, http.StatusSeeOther
		bad, unauth, forbidden, nf = http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound
	)
	// Statuses in reader order: public, no roles, analyst:016,
	// analyst:ITC4 token, editor:016, admin, node:016.
	row := func(pattern, method, path string, want ...int) authRow {
		if len(want) == 1 {
			return authRow{pattern: pattern, method: method, path: path, want: all(want[0])}
		}
		if len(want) != readers {
			panic(pattern)
		}
		return authRow{pattern: pattern, method: method, path: path, want: [readers]int(want)}
	}
	fedOnly := func(pattern, method, path string, node int) authRow {
		r := row(pattern, method, path, unauth)
		r.want[asNode016] = node
		return r
	}
	agendaForm := url.Values{"data": {"2026-12-15"}, "titolo": {"Rilascio di dicembre"}, "embargo": {"2026-12-15T10:00"}}
	rows := []authRow{
		// The open data API: the same for everyone.
		row("GET /api/v1/releases", "GET", "/api/v1/releases", ok),
		row("GET /api/v1/releases/latest", "GET", "/api/v1/releases/latest", ok),
		row("GET /api/v1/releases/{id}", "GET", "/api/v1/releases/"+id, ok),
		row("GET /api/v1/releases/{id}/manifest", "GET", "/api/v1/releases/"+id+"/manifest", ok),
		row("GET /api/v1/releases/{id}/signature", "GET", "/api/v1/releases/"+id+"/signature", ok),
		row("GET /api/v1/releases/{id}/pubkey", "GET", "/api/v1/releases/"+id+"/pubkey", ok),
		row("GET /api/v1/indicators", "GET", "/api/v1/indicators", ok),
		row("GET /api/v1/indicators/{id}", "GET", "/api/v1/indicators/saldo", ok),
		row("GET /api/v1/territories", "GET", "/api/v1/territories?level=province", ok),
		row("GET /api/v1/codes/{dimension}", "GET", "/api/v1/codes/genere", ok),
		row("GET /api/v1/data", "GET", "/api/v1/data?indicator=attivazioni&territory=016&freq=Y", ok),
		row("GET /api/v1/openapi.json", "GET", "/api/v1/openapi.json", ok),
		row("/api/", "GET", "/api/v1/nonesiste", nf),
		// Microdata: the analysts of the territory or of the region only.
		row("GET /api/v1/microdata", "GET", "/api/v1/microdata?territory=016", unauth, forbidden, ok, ok, forbidden, forbidden, unauth),
		row("GET /api/v1/microdata", "GET", "/api/v1/microdata?territory=015&format=parquet", unauth, forbidden, forbidden, ok, forbidden, forbidden, unauth),
		row("GET /api/v1/microdata", "GET", "/api/v1/microdata?territory=ITC4&from=2023-01&to=2023-03", unauth, forbidden, forbidden, ok, forbidden, forbidden, unauth),
		// Probes and metrics (the test client is local).
		row("GET /healthz", "GET", "/healthz", ok),
		row("GET /readyz", "GET", "/readyz", ok),
		row("GET /metrics", "GET", "/metrics", ok),
		// The federation: signed node requests only, own territory only.
		fedOnly("GET /federation/v1/hello", "GET", "/federation/v1/hello", ok),
		fedOnly("GET /federation/v1/releases", "GET", "/federation/v1/releases", ok),
		fedOnly("GET /federation/v1/releases/{id}/{file...}", "GET", "/federation/v1/releases/"+id+"/manifest.json", ok),
		fedOnly("GET /federation/v1/extracts/{territory}", "GET", "/federation/v1/extracts/016", ok),
		fedOnly("GET /federation/v1/extracts/{territory}", "GET", "/federation/v1/extracts/015", forbidden),
		fedOnly("GET /federation/v1/extracts/{territory}/{file}", "GET", "/federation/v1/extracts/016/extract.json", ok),
		fedOnly("POST /federation/v1/contributions", "POST", "/federation/v1/contributions", bad),
		fedOnly("GET /federation/v1/aggregates/{id}", "GET", "/federation/v1/aggregates/20241231-1", forbidden),
		fedOnly("PUT /federation/v1/aggregates/{id}/{file...}", "PUT", "/federation/v1/aggregates/20241231-1/manifest.json", forbidden),
		fedOnly("POST /federation/v1/aggregates/{id}", "POST", "/federation/v1/aggregates/20241231-1", forbidden),
		row("/federation/", "GET", "/federation/v1/nonesiste", nf),
		// The public portal: the same for everyone.
		row("GET /{$}", "GET", "/", ok),
		row("GET /territorio/{code}", "GET", "/territorio/016", ok),
		row("GET /confronta", "GET", "/confronta", ok),
		row("GET /dati", "GET", "/dati", ok),
		row("GET /metodologia", "GET", "/metodologia", ok),
		row("GET /rilasci", "GET", "/rilasci", ok),
		row("GET /rilasci/{id}", "GET", "/rilasci/"+id, ok),
		row("GET /rapporti", "GET", "/rapporti", ok),
		row("GET /rapporti/{file}", "GET", "/rapporti/016.html", ok),
		row("GET /contributi", "GET", "/contributi", ok),
		row("GET /contributi/{id}", "GET", "/contributi/nessuno", nf),
		row("GET /contributi/{id}/dati.csv", "GET", "/contributi/nessuno/dati.csv", nf),
		row("GET /locale", "GET", "/locale", ok),
		row("GET /locale/dati/{slug}", "GET", "/locale/dati/nessuno", nf),
		row("GET /locale/dati/{slug}/dati.csv", "GET", "/locale/dati/nessuno/dati.csv", nf),
		row("GET /locale/geografie/{slug}", "GET", "/locale/geografie/nessuna", nf),
		row("GET /locale/geografie/{slug}/indicatori.csv", "GET", "/locale/geografie/nessuna/indicatori.csv", nf),
		row("GET /rete", "GET", "/rete", ok),
		row("GET /rete/{territory}/{id}/{file...}", "GET", "/rete/ITC4/20241231-1/manifest.json", nf),
		row("GET "+staticPrefix, "GET", e.srv.portal.assets.URL("favicon.svg"), ok),
		row("/", "GET", "/nonesiste", nf),
		row("GET /agenda", "GET", "/agenda", ok),
		row("GET /agenda.ics", "GET", "/agenda.ics", ok),
		row("GET /rilasci.atom", "GET", "/rilasci.atom", ok),
		row("GET /rilasci.rss", "GET", "/rilasci.rss", ok),
		// Login: a reader with a session goes to the account page.
		row("GET /accedi", "GET", "/accedi", ok, seeOther, seeOther, ok, seeOther, seeOther, ok),
		row("POST /accedi", "POST", "/accedi", forbidden), // no anti-forgery cookie
		row("GET /accedi/oidc", "GET", "/accedi/oidc", found),
		row("GET /accedi/oidc/ritorno", "GET", "/accedi/oidc/ritorno?code=x&state=y", bad),
		// The reserved area.
		row("GET /area-riservata", "GET", "/area-riservata", seeOther, ok, ok, ok, ok, ok, seeOther),
		row("GET /amministrazione", "GET", "/amministrazione", seeOther, forbidden, forbidden, forbidden, forbidden, ok, seeOther),
		row("GET /amministrazione/agenda", "GET", "/amministrazione/agenda", seeOther, forbidden, forbidden, forbidden, forbidden, ok, seeOther),
		{pattern: "POST /amministrazione/agenda", method: "POST", path: "/amministrazione/agenda", form: agendaForm,
			want: [readers]int{seeOther, forbidden, forbidden, forbidden, forbidden, seeOther, seeOther}},
		{pattern: "POST /amministrazione/agenda/{id}/elimina", method: "POST", path: "/amministrazione/agenda/999/elimina", form: url.Values{},
			want: [readers]int{seeOther, forbidden, forbidden, forbidden, forbidden, nf, seeOther}},
		// Last: logging out ends the sessions.
		{pattern: "POST /esci", method: "POST", path: "/esci", form: url.Values{}, want: all(seeOther)},
	}

	// Every registered route has a row, every row a registered route.
	registered := e.srv.mux().patterns
	var covered []string
	for _, r := range rows {
		if !slices.Contains(registered, r.pattern) {
			t.Errorf("row for %q, which the server does not register", r.pattern)
		}
		covered = append(covered, r.pattern)
	}
	for _, p := range registered {
		if !slices.Contains(covered, p) {
			t.Errorf("route %q has no row in the authorisation table", p)
		}
	}

	clients := [readers]*client{asPublic: e.client(t), asNoRoles: e.loggedIn(t, "nessuno"), asAna016: e.loggedIn(t, "ana016"),
		asAnaITC4: e.client(t), asRed016: e.loggedIn(t, "red016"), asAdmin: e.loggedIn(t, "ammin"), asNode016: e.nodeClient(t, "016")}
	clients[asAnaITC4].bearer = e.tokens["analyst:ITC4"]

	for _, r := range rows {
		for who, c := range clients {
			form := r.form
			if form != nil {
				form = url.Values{}
				for k, v := range r.form {
					form[k] = v
				}
				if c.csrf != "" {
					form.Set("csrf", c.csrf)
				}
			}
			resp := c.do(r.method, r.path, form)
			if resp.StatusCode != r.want[who] {
				t.Errorf("%s %s as %s: %d, want %d\n%s", r.method, r.path, readerNames[who], resp.StatusCode, r.want[who], firstLine(resp.body))
			}
		}
	}
}

// firstLine returns the start of a body, for a failure message.
func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i < 300 {
		return string(b[:i])
	}
	return string(b[:min(len(b), 300)])
}
