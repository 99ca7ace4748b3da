package oidctest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/regione-lombardia/oml/internal/oidctest"
)

const (
	clientID = "oml-portale"
	// The secret has characters that RFC 6749 section 2.3.1 makes the
	// client form-urlencode before HTTP Basic authentication.
	clientSecret = "s3gr3to:con/caratteri+speciali%&="
	// The relying party's callback is never requested: the browser of the
	// tests stops at the redirect to it.
	callbackURL = "http://127.0.0.1:9/auth/callback"
)

// relyingParty is a client of the provider set up as oml's web server sets
// up its login: discovery with go-oidc, the flow with x/oauth2.
type relyingParty struct {
	op       *oidctest.Provider
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	config   oauth2.Config
	// browser follows no redirect, so that the tests read the one back
	// to the callback.
	browser *http.Client
}

func newRelyingParty(t *testing.T, style oauth2.AuthStyle) *relyingParty {
	t.Helper()
	op := oidctest.New(t, clientID, clientSecret)
	provider, err := oidc.NewProvider(t.Context(), op.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = style
	return &relyingParty{
		op:       op,
		provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		config: oauth2.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			Endpoint:     endpoint,
			RedirectURL:  callbackURL,
			Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
		},
		browser: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// authorization is one trip of the browser to the authorization endpoint
// and back.
type authorization struct {
	state, nonce, verifier string
	// callback is the URL the provider redirected the browser to.
	callback *url.URL
}

// authorize sends the browser to the authorization endpoint with a fresh
// state, nonce and PKCE verifier, and returns where the provider sent it
// back. opts come after the relying party's own, to override them.
func (rp *relyingParty) authorize(t *testing.T, opts ...oauth2.AuthCodeOption) *authorization {
	t.Helper()
	a := &authorization{
		state:    oauth2.GenerateVerifier(),
		nonce:    oauth2.GenerateVerifier(),
		verifier: oauth2.GenerateVerifier(),
	}
	opts = append([]oauth2.AuthCodeOption{oidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier)}, opts...)
	resp, err := rp.browser.Get(rp.config.AuthCodeURL(a.state, opts...))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize: status %d, want 302; body %s", resp.StatusCode, body)
	}
	a.callback, err = resp.Location()
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	back := *a.callback
	back.RawQuery = ""
	if back.String() != callbackURL {
		t.Fatalf("authorize: redirected to %s, want the callback %s", a.callback, callbackURL)
	}
	if got := a.callback.Query().Get("iss"); got != rp.op.Issuer() {
		t.Errorf("authorize: iss = %q, want %q", got, rp.op.Issuer())
	}
	return a
}

// code returns the authorization code of a successful authorization,
// after checking the state as the callback does.
func (a *authorization) code(t *testing.T) string {
	t.Helper()
	q := a.callback.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("authorization failed: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != a.state {
		t.Fatalf("callback state = %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("code") == "" {
		t.Fatalf("callback without code: %s", a.callback)
	}
	return q.Get("code")
}

// login runs the whole flow as the callback does: code for tokens with
// the PKCE verifier, then verification of the ID token and of its nonce.
func (rp *relyingParty) login(t *testing.T) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	a := rp.authorize(t)
	tok, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatalf("token response without id_token")
	}
	idt, err := rp.verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != a.nonce {
		t.Fatalf("ID token nonce = %q, want %q", idt.Nonce, a.nonce)
	}
	return tok, idt
}

type claims struct {
	Name              string `json:"name"`
	Email             string `json:"email"`
	EmailVerified     *bool  `json:"email_verified"`
	PreferredUsername string `json:"preferred_username"`
	FiscalNumber      string `json:"fiscal_number"`
}

var luisa = oidctest.User{
	Subject:           "TINIT-BNCLSU80A41F205X",
	Name:              "Luisa Bianchi",
	Email:             "luisa.bianchi@regione.lombardia.it",
	EmailVerified:     true,
	PreferredUsername: "lbianchi",
	Claims:            map[string]any{"fiscal_number": "TINIT-BNCLSU80A41F205X", "sub": "not this one"},
}

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		style    oauth2.AuthStyle
		wantAuth string
	}{
		{"basic", oauth2.AuthStyleInHeader, "client_secret_basic"},
		{"post", oauth2.AuthStyleInParams, "client_secret_post"},
		{"autodetect", oauth2.AuthStyleAutoDetect, "client_secret_basic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rp := newRelyingParty(t, tt.style)
			rp.op.SetUser(luisa)
			start := time.Now()
			tok, idt := rp.login(t)

			if tok.TokenType != "Bearer" || tok.AccessToken == "" {
				t.Errorf("token type %q, access token %q", tok.TokenType, tok.AccessToken)
			}
			if d := time.Until(tok.Expiry); d < oidctest.TokenLifetime-time.Minute || d > oidctest.TokenLifetime {
				t.Errorf("access token expires in %v, want about %v", d, oidctest.TokenLifetime)
			}
			if idt.Issuer != rp.op.Issuer() || idt.Subject != luisa.Subject ||
				len(idt.Audience) != 1 || idt.Audience[0] != clientID {
				t.Errorf("ID token iss %q sub %q aud %q", idt.Issuer, idt.Subject, idt.Audience)
			}
			if idt.IssuedAt.Before(start.Add(-time.Second)) || idt.Expiry.Sub(idt.IssuedAt) != oidctest.TokenLifetime {
				t.Errorf("ID token iat %v exp %v", idt.IssuedAt, idt.Expiry)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var c claims
			if err := idt.Claims(&c); err != nil {
				t.Fatal(err)
			}
			want := claims{luisa.Name, luisa.Email, &luisa.EmailVerified, luisa.PreferredUsername, "TINIT-BNCLSU80A41F205X"}
			if c.Name != want.Name || c.Email != want.Email || c.EmailVerified == nil || !*c.EmailVerified ||
				c.PreferredUsername != want.PreferredUsername || c.FiscalNumber != want.FiscalNumber {
				t.Errorf("ID token claims %+v, want %+v", c, want)
			}

			info, err := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var ic claims
			if err := info.Claims(&ic); err != nil {
				t.Fatal(err)
			}
			if info.Subject != luisa.Subject || info.Email != luisa.Email || ic.Name != luisa.Name {
				t.Errorf("userinfo sub %q email %q name %q", info.Subject, info.Email, ic.Name)
			}

			var token *oidctest.Request
			reqs := rp.op.Requests()
			for i := range reqs {
				if reqs[i].Path == oidctest.TokenPath {
					token = &reqs[i]
				}
			}
			if token == nil || token.ClientAuth != tt.wantAuth || token.Status != http.StatusOK || token.Error != "" {
				t.Errorf("token request %+v, want a successful %s", token, tt.wantAuth)
			}
		})
	}
}

// TestScope checks that the provider gives profile and email claims only
// for the scopes that ask for them, so that a client that forgets them
// does not pass.
func TestScope(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
	rp.op.SetUser(luisa)
	rp.config.Scopes = []string{oidc.ScopeOpenID}
	tok, idt := rp.login(t)
	var c claims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.Name != "" || c.Email != "" || c.EmailVerified != nil || c.PreferredUsername != "" {
		t.Errorf("scope openid: ID token has profile or email claims: %+v", c)
	}
	if c.FiscalNumber == "" {
		t.Errorf("scope openid: ID token lacks the user's own claims")
	}
	if got := tok.Extra("scope"); got != "openid" {
		t.Errorf("granted scope %q, want openid", got)
	}
}

func TestDeny(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
	const reason = "l'utente ha negato il consenso"
	rp.op.Deny(reason)
	a := rp.authorize(t)
	q := a.callback.Query()
	if q.Get("error") != "access_denied" || q.Get("error_description") != reason || q.Get("state") != a.state || q.Has("code") {
		t.Errorf("denied authorization came back as %s", a.callback)
	}
	// A denial holds for one authorization only.
	rp.login(t)
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
	rp.op.SetRedirectURIs(callbackURL)
	set := oauth2.SetAuthURLParam
	// Errors sent back to the client's callback.
	redirected := []struct {
		name string
		opts []oauth2.AuthCodeOption
		want string
	}{
		{"no openid scope", []oauth2.AuthCodeOption{set("scope", "profile email")}, "invalid_scope"},
		{"implicit flow", []oauth2.AuthCodeOption{set("response_type", "id_token")}, "unsupported_response_type"},
		{"no nonce", []oauth2.AuthCodeOption{set("nonce", "")}, "invalid_request"},
		{"no PKCE", []oauth2.AuthCodeOption{set("code_challenge", ""), set("code_challenge_method", "")}, "invalid_request"},
		{"plain PKCE", []oauth2.AuthCodeOption{set("code_challenge", oauth2.GenerateVerifier()), set("code_challenge_method", "plain")}, "invalid_request"},
		{"malformed challenge", []oauth2.AuthCodeOption{set("code_challenge", "abc")}, "invalid_request"},
		{"no state", []oauth2.AuthCodeOption{set("state", "")}, "invalid_request"},
	}
	for _, tt := range redirected {
		t.Run(tt.name, func(t *testing.T) {
			a := rp.authorize(t, tt.opts...)
			q := a.callback.Query()
			if q.Get("error") != tt.want || q.Has("code") {
				t.Errorf("came back as %s, want error=%s", a.callback, tt.want)
			}
			if tt.name != "no state" && q.Get("state") != a.state {
				t.Errorf("state %q not echoed: %s", a.state, a.callback)
			}
		})
	}
	// Errors the provider must not redirect, its redirect URI untrusted.
	shown := []struct {
		name   string
		params url.Values
	}{
		{"unknown client", url.Values{"client_id": {"altro"}}},
		{"no redirect_uri", url.Values{"redirect_uri": {""}}},
		{"unregistered redirect_uri", url.Values{"redirect_uri": {"http://127.0.0.1:9/evil"}}},
		{"repeated parameter", url.Values{"redirect_uri": {callbackURL, callbackURL}}},
	}
	for _, tt := range shown {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{
				"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {callbackURL},
				"scope": {"openid"}, "state": {"s"}, "nonce": {"n"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
			}
			for k, v := range tt.params {
				q[k] = v
			}
			resp, err := rp.browser.Get(rp.config.Endpoint.AuthURL + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			e := decodeError(t, resp)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || e != "invalid_request" {
				t.Errorf("status %d, Location %q, error %q; want 400 invalid_request and no redirect",
					resp.StatusCode, resp.Header.Get("Location"), e)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	type exchange func(t *testing.T, rp *relyingParty, a *authorization) error
	tests := []struct {
		name       string
		exchange   exchange
		wantError  string
		wantStatus int
	}{
		{
			name: "wrong verifier",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				_, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(oauth2.GenerateVerifier()))
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "no verifier",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				_, err := rp.config.Exchange(t.Context(), a.code(t))
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "right verifier after a wrong one",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				if _, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
					t.Fatal("wrong verifier accepted")
				}
				_, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "code reused",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				tok, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				if err != nil {
					t.Fatalf("first exchange: %v", err)
				}
				_, err = rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				// The replay revokes the access token the code gave.
				if _, uerr := rp.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); uerr == nil {
					t.Errorf("access token still good at userinfo after the code was replayed")
				}
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "unknown code",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				_, err := rp.config.Exchange(t.Context(), oauth2.GenerateVerifier(), oauth2.VerifierOption(a.verifier))
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "code expired",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				rp.op.SetNow(func() time.Time { return time.Now().Add(oidctest.CodeLifetime) })
				_, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "other redirect_uri",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				c := rp.config
				c.RedirectURL = callbackURL + "/altro"
				_, err := c.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				return err
			},
			wantError: "invalid_grant", wantStatus: http.StatusBadRequest,
		},
		{
			name: "wrong secret",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				c := rp.config
				c.ClientSecret = "sbagliato"
				_, err := c.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				// A failed client authentication leaves the code good.
				if _, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier)); err != nil {
					t.Errorf("exchange after a wrong secret: %v", err)
				}
				return err
			},
			wantError: "invalid_client", wantStatus: http.StatusUnauthorized,
		},
		{
			name: "wrong client",
			exchange: func(t *testing.T, rp *relyingParty, a *authorization) error {
				c := rp.config
				c.ClientID = "altro"
				_, err := c.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
				return err
			},
			wantError: "invalid_client", wantStatus: http.StatusUnauthorized,
		},
	}
	for _, style := range []struct {
		name  string
		style oauth2.AuthStyle
	}{{"basic", oauth2.AuthStyleInHeader}, {"post", oauth2.AuthStyleInParams}} {
		for _, tt := range tests {
			t.Run(style.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				rp := newRelyingParty(t, style.style)
				err := tt.exchange(t, rp, rp.authorize(t))
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) {
					t.Fatalf("exchange error %v, want %s", err, tt.wantError)
				}
				if re.ErrorCode != tt.wantError || re.Response.StatusCode != tt.wantStatus {
					t.Errorf("got %d %s (%s), want %d %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription,
						tt.wantStatus, tt.wantError)
				}
				if tt.wantStatus == http.StatusUnauthorized && re.Response.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("401 without WWW-Authenticate")
				}
			})
		}
	}
}

// TestTokenRequests sends the token endpoint requests that x/oauth2 never
// makes.
func TestTokenRequests(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
	tokenURL := rp.config.Endpoint.TokenURL
	basic := func(id, secret string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(id, secret)
		return http.Header{"Authorization": r.Header["Authorization"]}
	}
	encodedBasic := basic(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	tests := []struct {
		name       string
		method     string
		header     http.Header
		body       string
		wantStatus int
		wantError  string
	}{
		{"GET", "GET", encodedBasic, "", http.StatusMethodNotAllowed, "invalid_request"},
		{"JSON body", "POST", encodedBasic, `{"grant_type":"authorization_code"}`, http.StatusBadRequest, "invalid_request"},
		{"no client authentication", "POST", nil, "grant_type=authorization_code&code=x&client_id=" + clientID,
			http.StatusUnauthorized, "invalid_client"},
		{"two client authentications", "POST", encodedBasic,
			"grant_type=authorization_code&code=x&client_id=" + clientID + "&client_secret=" + url.QueryEscape(clientSecret),
			http.StatusBadRequest, "invalid_request"},
		{"Basic credentials not form-urlencoded", "POST", basic(clientID, clientSecret), "grant_type=authorization_code&code=x",
			http.StatusUnauthorized, "invalid_client"},
		{"refresh grant", "POST", encodedBasic, "grant_type=refresh_token&refresh_token=x", http.StatusBadRequest, "unsupported_grant_type"},
		{"no grant type", "POST", encodedBasic, "code=x", http.StatusBadRequest, "invalid_request"},
		{"no code", "POST", encodedBasic, "grant_type=authorization_code", http.StatusBadRequest, "invalid_request"},
		{"repeated parameter", "POST", encodedBasic, "grant_type=authorization_code&code=x&code=y", http.StatusBadRequest, "invalid_request"},
		{"unknown code", "POST", encodedBasic, "grant_type=authorization_code&code=x", http.StatusBadRequest, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, tokenURL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if strings.HasPrefix(tt.body, "{") {
				req.Header.Set("Content-Type", "application/json")
			} else if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if e := decodeError(t, resp); resp.StatusCode != tt.wantStatus || e != tt.wantError {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, e, tt.wantStatus, tt.wantError)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		})
	}
}

// TestTamperedIDToken checks that a properly signed ID token with wrong
// claims is what a careful client rejects, and that a token whose
// signature was altered fails verification.
func TestTamperedIDToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(claims map[string]any)
	}{
		{"audience", func(c map[string]any) { c["aud"] = "altro-client" }},
		{"issuer", func(c map[string]any) { c["iss"] = "https://idp.example.org" }},
		{"expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }},
		{"nonce", func(c map[string]any) { c["nonce"] = "replayed" }},
		{"no subject", func(c map[string]any) { delete(c, "sub") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
			rp.op.TamperNextIDToken(tt.tamper)
			a := rp.authorize(t)
			tok, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			idt, err := rp.verifier.Verify(t.Context(), tok.Extra("id_token").(string))
			if err == nil && idt.Nonce == a.nonce && idt.Subject != "" {
				t.Errorf("tampered ID token passed the client's checks")
			}
		})
	}
	t.Run("signature", func(t *testing.T) {
		t.Parallel()
		rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
		a := rp.authorize(t)
		tok, err := rp.config.Exchange(t.Context(), a.code(t), oauth2.VerifierOption(a.verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw := tok.Extra("id_token").(string)
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			t.Fatalf("ID token is not a compact JWS: %q", raw)
		}
		// Change the first character of the signature, whose 6 bits all count.
		flipped := "A"
		if parts[2][0] == 'A' {
			flipped = "B"
		}
		if _, err := rp.verifier.Verify(t.Context(), parts[0]+"."+parts[1]+"."+flipped+parts[2][1:]); err == nil {
			t.Errorf("ID token with an altered signature verified")
		}
		if _, err := rp.verifier.Verify(t.Context(), raw); err != nil {
			t.Errorf("untouched ID token: %v", err)
		}
	})
	t.Run("other provider's key", func(t *testing.T) {
		t.Parallel()
		rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
		other := newRelyingParty(t, oauth2.AuthStyleInHeader)
		tok, _ := other.login(t)
		// Same issuer and audience claims, signed by the other provider.
		v := oidc.NewVerifier(other.op.Issuer(), oidc.NewRemoteKeySet(t.Context(), rp.op.Issuer()+oidctest.JWKSPath),
			&oidc.Config{ClientID: clientID})
		if _, err := v.Verify(t.Context(), tok.Extra("id_token").(string)); err == nil {
			t.Errorf("ID token verified with another provider's keys")
		}
	})
}

func TestUserInfoErrors(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
	tok, _ := rp.login(t)
	tests := []struct {
		name   string
		header string
		after  time.Duration
		want   string
	}{
		{"no token", "", 0, ""},
		{"unknown token", "Bearer sconosciuto", 0, "invalid_token"},
		{"expired token", "Bearer " + tok.AccessToken, oidctest.TokenLifetime, "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp.op.SetNow(func() time.Time { return time.Now().Add(tt.after) })
			defer rp.op.SetNow(nil)
			req, _ := http.NewRequestWithContext(t.Context(), "GET", rp.op.Issuer()+oidctest.UserInfoPath, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wa := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(wa, "Bearer") ||
				strings.Contains(wa, "invalid_token") != (tt.want != "") {
				t.Errorf("status %d, WWW-Authenticate %q; want 401 %q", resp.StatusCode, wa, tt.want)
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	rp := newRelyingParty(t, oauth2.AuthStyleInHeader)
	var doc struct {
		Issuer         string   `json:"issuer"`
		JWKSURI        string   `json:"jwks_uri"`
		ResponseTypes  []string `json:"response_types_supported"`
		SubjectTypes   []string `json:"subject_types_supported"`
		Algs           []string `json:"id_token_signing_alg_values_supported"`
		PKCE           []string `json:"code_challenge_methods_supported"`
		TokenAuth      []string `json:"token_endpoint_auth_methods_supported"`
		UserInfo       string   `json:"userinfo_endpoint"`
		AuthEndpoint   string   `json:"authorization_endpoint"`
		TokenEndpoint  string   `json:"token_endpoint"`
		ScopeSupported []string `json:"scopes_supported"`
	}
	if err := rp.provider.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	iss := rp.op.Issuer()
	got, _ := json.Marshal(doc)
	want := `{"issuer":"` + iss + `","jwks_uri":"` + iss + `/jwks","response_types_supported":["code"],` +
		`"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"],` +
		`"code_challenge_methods_supported":["S256"],"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],` +
		`"userinfo_endpoint":"` + iss + `/userinfo","authorization_endpoint":"` + iss + `/authorize",` +
		`"token_endpoint":"` + iss + `/token","scopes_supported":["openid","profile","email"]}`
	if string(got) != want {
		t.Errorf("discovery\n got %s\nwant %s", got, want)
	}

	resp, err := http.Get(doc.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["alg"] != "RS256" ||
		set.Keys[0]["use"] != "sig" || set.Keys[0]["kid"] == nil || set.Keys[0]["d"] != nil {
		t.Errorf("JWKS %v, want one public RSA signing key", set.Keys)
	}
}

// decodeError returns the OAuth error code of resp's JSON body, and closes
// it.
func decodeError(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	body, _ := io.ReadAll(resp.Body)
	if len(body) > 0 {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("error body %q is not JSON: %v", body, err)
		}
	}
	return e.Error
}
