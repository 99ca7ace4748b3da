package web

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

// cheapHash keeps the tests' argon2id fast; production uses the default.
var cheapHash = metastore.PasswordParams{Memory: 64, Time: 1, Threads: 1}

const testPassword = "una-password-lunga-abbastanza"

// accessEnv is a real server with accounts over loopback: a writable copy
// of the release fixture's data dir with its metadata store, a settable
// clock shared by server and store, and the accounts of every role.
type accessEnv struct {
	f     *releasetest.Fixture
	dir   string
	clock *clock
	store *metastore.Store
	srv   *Server
	ts    *httptest.Server
	// tokens are API bearer secrets by role.
	tokens map[string]string
	// fedKey is the hub's federation key.
	fedKey []byte
	// base is the server's address, http://127.0.0.1:PORT.
	base string
}

// Accounts of the environment: name → roles.
var testAccounts = map[string]string{
	"nessuno":   "",
	"ana016":    "analyst:016",
	"anaitc4":   "analyst:ITC4",
	"red016":    "editor:016",
	"ammin":     "admin",
	"ana015red": "analyst:015,editor:016",
}

// newAccessEnv starts the environment; options adjust the server's
// config, knowing the server's address (e.base) beforehand.
func newAccessEnv(t *testing.T, options ...func(*accessEnv, *Config)) *accessEnv {
	t.Helper()
	ctx := context.Background()
	f := releasetest.Build(t)
	e := &accessEnv{f: f, dir: f.Copy(t), clock: &clock{t: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}, tokens: map[string]string{}}
	st, err := metastore.Open(ctx, e.dir, metastore.Options{Now: e.clock.now, Password: cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	for name, roles := range testAccounts {
		rs, err := oml.ParseRoles(roles)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddUser(ctx, name, testPassword, rs); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range []string{"analyst:016", "analyst:ITC4", "admin"} {
		ro, err := oml.ParseRole(role)
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := st.CreateToken(ctx, ro, "test", e.clock.now().Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = secret
	}
	if e.fedKey, err = federation.LoadKey(e.dir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.base = "http://" + ln.Addr().String()
	e.srv = newServer(t, e.dir, func(c *Config) {
		c.Access = &Access{Store: st}
		c.Now = e.clock.now
		c.Federation = &Federation{Hub: federation.NewHub(e.dir, testLists(t)), Verifier: federation.NewVerifier(e.fedKey, e.clock.now)}
		for _, o := range options {
			o(e, c)
		}
	})
	e.ts = &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.srv.Handler()}}
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

// client is a browser of the environment: a cookie jar, no redirect
// followed (the tests read each redirect).
type client struct {
	t    *testing.T
	e    *accessEnv
	http *http.Client
	csrf string // the session's anti-forgery token, read from a page
	// bearer, when set, is sent as Authorization: Bearer.
	bearer string
	// sign, when set, signs the requests to /federation/ as a node does.
	sign *federation.Credentials
}

// nodeClient returns a client that signs its requests to /federation/ as
// the node of province does, with a token of the hub's key.
func (e *accessEnv) nodeClient(t *testing.T, province string) *client {
	t.Helper()
	tok, _, err := federation.Issue(e.fedKey, "node:"+province, 24*time.Hour, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := federation.ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	c.sign = &creds
	return c
}

func (e *accessEnv) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the response with its body read.
func (c *client) do(method, path string, form url.Values, headers ...string) *response {
	c.t.Helper()
	var body io.Reader
	var raw []byte
	if form != nil {
		raw = []byte(form.Encode())
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.e.ts.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	if c.sign != nil && strings.HasPrefix(path, "/federation/") {
		c.sign.Sign(req, raw, c.e.clock.now())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return &response{resp, b}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formCSRF returns the anti-forgery value of the first form of a page.
func formCSRF(t *testing.T, r *response) string {
	t.Helper()
	m := csrfField.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s: no csrf field in\n%s", r.Request.URL, r.body)
	}
	return string(m[1])
}

// login logs the client in as name with password and returns the
// response to the form's post.
func (c *client) login(name, password string) *response {
	c.t.Helper()
	form := c.do("GET", "/accedi", nil)
	if form.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /accedi: %d", form.StatusCode)
	}
	return c.do("POST", "/accedi", url.Values{"csrf": {formCSRF(c.t, form)}, "nome": {name}, "password": {password}, "dopo": {"/area-riservata"}})
}

// loggedIn returns a client logged in as name, with its session's
// anti-forgery token.
func (e *accessEnv) loggedIn(t *testing.T, name string) *client {
	t.Helper()
	c := e.client(t)
	if r := c.login(name, testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d\n%s", name, r.StatusCode, r.body)
	}
	page := c.do("GET", "/area-riservata", nil)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("/area-riservata as %s: %d", name, page.StatusCode)
	}
	c.csrf = formCSRF(t, page)
	return c
}

func TestLoginLogout(t *testing.T) {
	e := newAccessEnv(t)
	c := e.client(t)

	form := c.do("GET", "/accedi", nil)
	if form.StatusCode != 200 || form.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /accedi: %d, Cache-Control %q", form.StatusCode, form.Header.Get("Cache-Control"))
	}
	var csrfCookie *http.Cookie
	for _, ck := range form.Cookies() {
		if ck.Name == loginCSRF {
			csrfCookie = ck
		}
	}
	if csrfCookie == nil || !csrfCookie.HttpOnly || csrfCookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login anti-forgery cookie = %+v", csrfCookie)
	}

	// A post without the form's value, or from another site, is refused.
	if r := c.do("POST", "/accedi", url.Values{"nome": {"ana016"}, "password": {testPassword}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("post without csrf: %d", r.StatusCode)
	}
	if r := c.do("POST", "/accedi", url.Values{"csrf": {formCSRF(t, form)}, "nome": {"ana016"}, "password": {testPassword}},
		"Origin: https://attacker.example", "Sec-Fetch-Site: cross-site"); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d", r.StatusCode)
	}

	// A wrong password: 401 and the form again, naming neither which.
	r := c.login("ana016", "sbagliata-sbagliata")
	if r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "non corretti") {
		t.Fatalf("wrong password: %d\n%s", r.StatusCode, r.body)
	}

	// The right one: a session cookie, Secure off on plain HTTP, and the
	// account page.
	r = c.login("ana016", testPassword)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/area-riservata" {
		t.Fatalf("login: %d to %q\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	var sess *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == sessionCookie {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
		t.Fatalf("session cookie = %+v", sess)
	}
	page := c.do("GET", "/area-riservata", nil)
	if page.StatusCode != 200 || !strings.Contains(string(page.body), "ana016") || !strings.Contains(string(page.body), "analyst:016") {
		t.Fatalf("account page: %d\n%s", page.StatusCode, page.body)
	}
	if cc := page.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("account page Cache-Control = %q", cc)
	}
	// A public page read with a session is private too, and names the reader.
	home := c.do("GET", "/", nil)
	if home.Header.Get("Cache-Control") != "private, no-store" || !strings.Contains(string(home.body), `href="/area-riservata">ana016</a>`) {
		t.Errorf("home with a session: Cache-Control %q", home.Header.Get("Cache-Control"))
	}

	// Logout needs the session's token.
	if r := c.do("POST", "/esci", url.Values{"csrf": {"falso"}}); r.StatusCode != http.StatusForbidden {
		t.Errorf("logout with a forged token: %d", r.StatusCode)
	}
	if r := c.do("POST", "/esci", url.Values{"csrf": {formCSRF(t, page)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if r := c.do("GET", "/area-riservata", nil); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/accedi?dopo=") {
		t.Errorf("account page after logout: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	// The old cookie is dead even if a thief kept it.
	thief := e.client(t)
	u, _ := url.Parse(e.ts.URL)
	thief.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sess.Value}})
	if r := thief.do("GET", "/area-riservata", nil); r.StatusCode != http.StatusSeeOther {
		t.Errorf("ended session reused: %d", r.StatusCode)
	}

	// The log has the login, the failure and the logout.
	entries, err := e.store.Audit(context.Background(), metastore.AuditFilter{Actor: "ana016"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	if got := strings.Join(actions, ","); got != "login_failed,login,logout" {
		t.Errorf("audit of ana016 = %s", got)
	}
}

func TestLoginLockout(t *testing.T) {
	e := newAccessEnv(t)
	c := e.client(t)
	for i := 0; i < metastore.MaxFailures; i++ {
		r := c.login("red016", "non-e-questa-password")
		// The failure that reaches the limit may already say so.
		if r.StatusCode != http.StatusUnauthorized && !(i == metastore.MaxFailures-1 && r.StatusCode == http.StatusTooManyRequests) {
			t.Fatalf("failure %d: %d", i+1, r.StatusCode)
		}
	}
	r := c.login("red016", testPassword)
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(r.body), "troppi tentativi") || !strings.Contains(string(r.body), "riprovare dopo") {
		t.Fatalf("locked out, right password: %d\n%s", r.StatusCode, r.body)
	}
	e.clock.add(metastore.LockoutDuration + time.Second)
	if r := c.login("red016", testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the lockout: %d", r.StatusCode)
	}
}

func TestSecureCookies(t *testing.T) {
	e := newAccessEnv(t, func(_ *accessEnv, c *Config) { c.Access.SecureCookies = true })
	r := e.client(t).login("ammin", testPassword)
	for _, ck := range r.Cookies() {
		if ck.Name == sessionCookie && !ck.Secure {
			t.Errorf("session cookie not Secure behind a TLS proxy")
		}
	}
}

func TestBearerTokens(t *testing.T) {
	e := newAccessEnv(t, func(_ *accessEnv, c *Config) { c.RateLimit = RateLimit{Rate: 1, Burst: 1} })
	c := e.client(t)
	c.bearer = e.tokens["analyst:016"]
	// Tokens are exempt from the rate limit: many requests in a row pass.
	for i := 0; i < 5; i++ {
		r := c.do("GET", "/api/v1/releases/latest", nil)
		if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("request %d with a token: %d, Cache-Control %q", i, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
	// Anonymous clients are limited.
	anon := e.client(t)
	anon.do("GET", "/api/v1/releases/latest", nil)
	if r := anon.do("GET", "/api/v1/releases/latest", nil); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second anonymous request: %d", r.StatusCode)
	}
	// An unknown, a revoked and a malformed token are 401, with the
	// challenge.
	bad := e.client(t)
	for _, secret := range []string{"oml_sconosciuto", "non-un-token"} {
		bad.bearer = secret
		r := bad.do("GET", "/api/v1/releases", nil)
		if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("token %q: %d %q", secret, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	toks, _ := e.store.ListTokens(context.Background())
	for _, tk := range toks {
		if tk.Role.String() == "analyst:016" {
			if err := e.store.RevokeToken(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r := c.do("GET", "/api/v1/releases", nil); r.StatusCode != http.StatusUnauthorized || !strings.Contains(string(r.body), "revocato") {
		t.Errorf("revoked token: %d %s", r.StatusCode, r.body)
	}
	// The use was audited.
	uses, _ := e.store.Audit(context.Background(), metastore.AuditFilter{Action: metastore.ActionTokenUse})
	if len(uses) == 0 {
		t.Error("no token_use in the audit log")
	}
}
