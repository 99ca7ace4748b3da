package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/oidctest"
)

// withOIDC registers the server with the test provider op.
func withOIDC(op *oidctest.Provider) func(*accessEnv, *Config) {
	return func(e *accessEnv, c *Config) {
		c.Access.OIDC = &OIDCConfig{Issuer: op.Issuer(), ClientID: op.ClientID(), ClientSecret: op.ClientSecret(),
			RedirectURL: e.base + "/accedi/oidc/ritorno", Label: "Entra con SPID o CIE"}
	}
}

// oidcLogin runs the browser's side of a login with the provider: the
// server sends it to the provider, which sends it back with a code. It
// returns the server's answer to the return.
func (c *client) oidcLogin(next string) *response {
	c.t.Helper()
	start := c.do("GET", "/accedi/oidc?dopo="+url.QueryEscape(next), nil)
	if start.StatusCode != http.StatusFound {
		c.t.Fatalf("/accedi/oidc: %d %s", start.StatusCode, firstLine(start.body))
	}
	auth, err := c.http.Get(start.Header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	auth.Body.Close()
	back := auth.Header.Get("Location")
	if auth.StatusCode != http.StatusFound || !strings.HasPrefix(back, c.e.base+"/accedi/oidc/ritorno?") {
		c.t.Fatalf("provider: %d to %q", auth.StatusCode, back)
	}
	return c.do("GET", strings.TrimPrefix(back, c.e.base), nil)
}

func TestOIDCLogin(t *testing.T) {
	op := oidctest.New(t, "oml-portale", "segreto:/+%&=del-client")
	e := newAccessEnv(t, withOIDC(op))
	ctx := context.Background()
	const subject = "TINIT-RSSMRA80A01F205X" // a subject made of a fiscal code, as some SPID gateways send
	op.SetUser(oidctest.User{Subject: subject, Name: "Maria Rossi", Email: "maria.rossi@example.it", PreferredUsername: "maria.rossi"})

	c := e.client(t)
	if r := c.do("GET", "/accedi", nil); !strings.Contains(string(r.body), `href="/accedi/oidc?dopo=`) {
		t.Error("the login page offers no SPID/CIE button")
	}
	r := c.oidcLogin("/api/v1/releases")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/api/v1/releases" {
		t.Fatalf("return from the provider: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), firstLine(r.body))
	}
	page := c.do("GET", "/area-riservata", nil)
	if page.StatusCode != 200 || !strings.Contains(string(page.body), "maria.rossi") || !strings.Contains(string(page.body), "Nessun ruolo") {
		t.Fatalf("account page after OIDC login: %d\n%s", page.StatusCode, page.body)
	}

	// The account exists, with no roles, and the subject is not in clear.
	u, err := e.store.User(ctx, "maria.rossi")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Roles) != 0 || u.OIDCIssuer != op.Issuer() || !strings.HasPrefix(u.OIDCSubject, "sha256:") || strings.Contains(u.OIDCSubject, "RSSMRA") {
		t.Errorf("account = %+v", u)
	}
	if r := c.do("GET", "/api/v1/microdata?territory=016", nil); r.StatusCode != http.StatusForbidden {
		t.Errorf("microdata without roles: %d", r.StatusCode)
	}
	// An administrator grants a role; it applies to the open session.
	if _, err := e.store.SetRoles(ctx, "maria.rossi", oml.Roles{{Kind: oml.RoleAnalyst, Territory: "016"}}); err != nil {
		t.Fatal(err)
	}
	if r := c.do("GET", "/api/v1/microdata?territory=016", nil); r.StatusCode != http.StatusOK {
		t.Errorf("microdata after the grant: %d %s", r.StatusCode, firstLine(r.body))
	}
	// A second login finds the same account.
	if r := e.client(t).oidcLogin("/"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("second login: %d", r.StatusCode)
	}
	users, _ := e.store.ListUsers(ctx)
	n := 0
	for _, u := range users {
		if u.OIDCIssuer != "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d OIDC accounts after two logins of one identity", n)
	}
	logins, _ := e.store.Audit(ctx, metastore.AuditFilter{Actor: "maria.rossi", Action: metastore.ActionLogin})
	if len(logins) != 2 || !strings.Contains(logins[0].Detail, "OpenID Connect") {
		t.Errorf("audited logins = %+v", logins)
	}

	// Refusals: the provider denies, a nonce that is not ours, a state
	// that is not this browser's.
	op.Deny("utente ha annullato")
	if r := e.client(t).oidcLogin("/"); r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "access_denied") {
		t.Errorf("denied: %d %s", r.StatusCode, firstLine(r.body))
	}
	op.TamperNextIDToken(func(claims map[string]any) { claims["nonce"] = "un-altro-nonce" })
	if r := e.client(t).oidcLogin("/"); r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "non è valida") {
		t.Errorf("foreign nonce: %d %s", r.StatusCode, firstLine(r.body))
	}
	op.TamperNextIDToken(func(claims map[string]any) { claims["aud"] = "un-altro-client" })
	if r := e.client(t).oidcLogin("/"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("foreign audience: %d", r.StatusCode)
	}
	other := e.client(t)
	start := other.do("GET", "/accedi/oidc", nil)
	auth, err := other.http.Get(start.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	auth.Body.Close()
	victim := e.client(t) // a browser that did not start this login
	if r := victim.do("GET", strings.TrimPrefix(auth.Header.Get("Location"), e.base), nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("login finished in another browser: %d", r.StatusCode)
	}
}
