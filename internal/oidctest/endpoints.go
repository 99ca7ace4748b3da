package oidctest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds the body of a request to the provider.
const maxBody = 64 << 10

// Scopes the provider knows; it ignores others, as RFC 6749 allows.
var knownScopes = []string{"openid", "profile", "email"}

// routes returns the provider's handler: one route per endpoint, each
// request recorded for Requests.
func (p *Provider) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *Request)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			rec := &Request{Method: r.Method, Path: r.URL.Path}
			sw := &statusWriter{ResponseWriter: w}
			r.Body = http.MaxBytesReader(sw, r.Body, maxBody)
			h(sw, r, rec)
			rec.Status = sw.status
			if rec.Status == 0 {
				rec.Status = http.StatusOK
			}
			p.mu.Lock()
			p.requests = append(p.requests, *rec)
			p.mu.Unlock()
		})
	}
	handle(DiscoveryPath, p.discovery)
	handle(AuthorizationPath, p.authorize)
	handle(TokenPath, p.token)
	handle(UserInfoPath, p.userinfo)
	handle(JWKSPath, p.keys)
	handle("/", func(w http.ResponseWriter, r *http.Request, _ *Request) { http.NotFound(w, r) })
	return mux
}

// statusWriter remembers the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// writeJSON answers v as JSON with the given status, not to be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(map[string]string{"error": "server_error", "error_description": err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers an OAuth 2.0 error (RFC 6749 section 5.2) as JSON and
// records its code.
func writeError(w http.ResponseWriter, rec *Request, status int, code, description string) {
	rec.Error = code
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// onlyMethods answers 405 and reports false unless r's method is one of
// methods.
func onlyMethods(w http.ResponseWriter, r *http.Request, rec *Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, rec, http.StatusMethodNotAllowed, "invalid_request", "method "+r.Method+" not allowed")
	return false
}

// formBody parses r's url-encoded body, answering invalid_request and
// reporting false if it is not one.
func formBody(w http.ResponseWriter, r *http.Request, rec *Request) (url.Values, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "unreadable form: "+err.Error())
		return nil, false
	}
	rec.Params = r.PostForm
	return r.PostForm, true
}

// repeated returns the name of a parameter given more than once, which
// RFC 6749 section 3.1 forbids, or "".
func repeated(v url.Values) string {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if len(v[k]) > 1 {
			return k
		}
	}
	return ""
}

// discovery serves the provider metadata of OpenID Connect Discovery 1.0.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request, rec *Request) {
	if !onlyMethods(w, r, rec, http.MethodGet, http.MethodHead) {
		return
	}
	iss := p.Issuer()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + AuthorizationPath,
		"token_endpoint":                        iss + TokenPath,
		"userinfo_endpoint":                     iss + UserInfoPath,
		"jwks_uri":                              iss + JWKSPath,
		"scopes_supported":                      knownScopes,
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
			"name", "preferred_username", "email", "email_verified"},
		"authorization_response_iss_parameter_supported": true,
	})
}

// keys serves the public JSON Web Key Set that verifies the ID tokens.
func (p *Provider) keys(w http.ResponseWriter, r *http.Request, rec *Request) {
	if !onlyMethods(w, r, rec, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, p.jwks)
}

// authorize is the authorization endpoint. It checks the request; errors
// it cannot trust the redirect URI for are answered as JSON with status
// 400, the others are sent back to the redirect URI (RFC 6749 section
// 4.1.2.1). A valid request is approved at once for the current user,
// unless Deny asked otherwise.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request, rec *Request) {
	if !onlyMethods(w, r, rec, http.MethodGet, http.MethodPost) {
		return
	}
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		var ok bool
		if params, ok = formBody(w, r, rec); !ok {
			return
		}
	}
	rec.Params = params
	if k := repeated(params); k != "" {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "parameter "+k+" given more than once")
		return
	}
	if params.Get("client_id") != p.clientID {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "unknown client_id "+strconv.Quote(params.Get("client_id")))
		return
	}
	redirectURI := params.Get("redirect_uri")
	if why := p.checkRedirectURI(redirectURI); why != "" {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", why)
		return
	}

	state := params.Get("state")
	back := func(v url.Values) {
		u, _ := url.Parse(redirectURI) // checked above
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		if state != "" {
			q.Set("state", state)
		}
		q.Set("iss", p.Issuer()) // RFC 9207
		u.RawQuery = q.Encode()
		w.Header().Set("Location", u.String())
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusFound)
	}
	fail := func(code, description string) {
		rec.Error = code
		back(url.Values{"error": {code}, "error_description": {description}})
	}

	scopes := strings.Fields(params.Get("scope"))
	challenge := params.Get("code_challenge")
	switch {
	case params.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case !slices.Contains(scopes, "openid"):
		fail("invalid_scope", "scope must contain openid")
		return
	case state == "":
		fail("invalid_request", "state is required")
		return
	case params.Get("nonce") == "":
		fail("invalid_request", "nonce is required")
		return
	case challenge == "":
		fail("invalid_request", "code_challenge is required (PKCE)")
		return
	case params.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case !validChallenge(challenge):
		fail("invalid_request", "code_challenge is not a base64url SHA-256 hash")
		return
	}

	p.mu.Lock()
	if p.deny != nil {
		reason := *p.deny
		p.deny = nil
		p.mu.Unlock()
		fail("access_denied", reason)
		return
	}
	now := p.now()
	code := randomToken()
	p.codes[code] = &grant{
		redirectURI: redirectURI,
		challenge:   challenge,
		nonce:       params.Get("nonce"),
		scope:       grantedScope(scopes),
		user:        p.user,
		authTime:    now,
		expires:     now.Add(CodeLifetime),
	}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// checkRedirectURI returns why uri cannot be a redirect URI of the client,
// or "" if it can.
func (p *Provider) checkRedirectURI(uri string) string {
	if uri == "" {
		return "redirect_uri is required"
	}
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "redirect_uri must be an absolute http or https URL"
	}
	if strings.Contains(uri, "#") {
		return "redirect_uri must not have a fragment"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.redirectURIs) > 0 && !slices.Contains(p.redirectURIs, uri) {
		return "redirect_uri " + uri + " is not registered for the client"
	}
	return ""
}

// validChallenge reports whether s can be an S256 code challenge: the
// unpadded base64url encoding of 32 bytes.
func validChallenge(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// validVerifier reports whether s has the form of a PKCE code verifier
// (RFC 7636 section 4.1): 43 to 128 unreserved characters.
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}

// grantedScope returns the requested scopes the provider knows, in its
// order, as a scope parameter.
func grantedScope(requested []string) string {
	var out []string
	for _, s := range knownScopes {
		if slices.Contains(requested, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// token is the token endpoint for the authorization_code grant.
func (p *Provider) token(w http.ResponseWriter, r *http.Request, rec *Request) {
	if !onlyMethods(w, r, rec, http.MethodPost) {
		return
	}
	form, ok := formBody(w, r, rec)
	if !ok {
		return
	}
	if k := repeated(form); k != "" {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "parameter "+k+" given more than once")
		return
	}
	if !p.authenticateClient(w, r, form, rec) {
		return
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
	case "":
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		writeError(w, rec, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+strconv.Quote(gt)+" is not supported")
		return
	}
	code := form.Get("code")
	if code == "" {
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "code is required")
		return
	}
	invalidGrant := func(why string) {
		writeError(w, rec, http.StatusBadRequest, "invalid_grant", why)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	g := p.codes[code]
	switch {
	case g == nil:
		invalidGrant("unknown authorization code")
		return
	case g.redeemed:
		// RFC 6749 section 4.1.2: a replayed code revokes what it gave.
		for _, t := range g.tokens {
			p.tokens[t].revoked = true
		}
		invalidGrant("authorization code already used")
		return
	case !now.Before(g.expires):
		invalidGrant("authorization code expired")
		return
	}
	// Burnt at the first try, good or bad, so a verifier cannot be guessed.
	g.redeemed = true
	if form.Get("redirect_uri") != g.redirectURI {
		invalidGrant("redirect_uri differs from the authorization request's")
		return
	}
	verifier := form.Get("code_verifier")
	if !validVerifier(verifier) {
		invalidGrant("code_verifier missing or malformed")
		return
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		invalidGrant("code_verifier does not match code_challenge")
		return
	}

	access := randomToken()
	idToken, err := p.idToken(g, access, now)
	if err != nil {
		writeError(w, rec, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	p.tokens[access] = &accessToken{user: g.user, scope: g.scope, expires: now.Add(TokenLifetime)}
	g.tokens = append(g.tokens, access)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(TokenLifetime / time.Second),
		"id_token":     idToken,
		"scope":        g.scope,
	})
}

// authenticateClient checks the client's credentials by
// client_secret_basic or client_secret_post, answering the error and
// reporting false if they are missing or wrong.
func (p *Provider) authenticateClient(w http.ResponseWriter, r *http.Request, form url.Values, rec *Request) bool {
	unauthorized := func(why string) bool {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		writeError(w, rec, http.StatusUnauthorized, "invalid_client", why)
		return false
	}
	user, pass, basic := r.BasicAuth()
	_, post := form["client_secret"]
	var id, secret string
	switch {
	case r.Header.Get("Authorization") != "" && !basic:
		return unauthorized("unsupported Authorization header")
	case basic && post:
		writeError(w, rec, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
		return false
	case basic:
		rec.ClientAuth = "client_secret_basic"
		// RFC 6749 section 2.3.1: both are form-urlencoded before Basic.
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return unauthorized("client credentials not form-urlencoded")
		}
		if fid, ok := form["client_id"]; ok && fid[0] != id {
			writeError(w, rec, http.StatusBadRequest, "invalid_request", "client_id differs from the authenticated client")
			return false
		}
	case post:
		rec.ClientAuth = "client_secret_post"
		id, secret = form.Get("client_id"), form.Get("client_secret")
	default:
		return unauthorized("client authentication required")
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(p.clientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) == 1
	if !idOK || !secretOK {
		return unauthorized("client authentication failed")
	}
	return true
}

// idToken returns the signed ID token of grant g, whose access token is
// access, issued at now. The caller holds p.mu.
func (p *Provider) idToken(g *grant, access string, now time.Time) (string, error) {
	claims := userClaims(g.user, g.scope)
	atHash := sha256.Sum256([]byte(access))
	maps.Copy(claims, map[string]any{
		"iss":       p.Issuer(),
		"sub":       g.user.Subject,
		"aud":       p.clientID,
		"exp":       now.Add(TokenLifetime).Unix(),
		"iat":       now.Unix(),
		"auth_time": g.authTime.Unix(),
		"nonce":     g.nonce,
		"at_hash":   base64.RawURLEncoding.EncodeToString(atHash[:sha256.Size/2]),
	})
	if p.tamper != nil {
		p.tamper(claims)
		p.tamper = nil
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode ID token claims: %w", err)
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return jws.CompactSerialize()
}

// userClaims returns the claims about u that scope grants, as the ID token
// and the userinfo endpoint give them: u.Claims always, sub, name and
// preferred_username with scope profile, email and email_verified with
// scope email.
func userClaims(u User, scope string) map[string]any {
	c := maps.Clone(u.Claims)
	if c == nil {
		c = map[string]any{}
	}
	scopes := strings.Fields(scope)
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		} else {
			delete(c, k)
		}
	}
	if slices.Contains(scopes, "profile") {
		set("name", u.Name)
		set("preferred_username", u.PreferredUsername)
	}
	if slices.Contains(scopes, "email") {
		set("email", u.Email)
		if u.Email != "" {
			c["email_verified"] = u.EmailVerified
		} else {
			delete(c, "email_verified")
		}
	}
	c["sub"] = u.Subject
	return c
}

// userinfo is the userinfo endpoint: the claims of the user an access
// token was issued for, given as a Bearer token in the Authorization
// header (RFC 6750 section 2.1).
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request, rec *Request) {
	if !onlyMethods(w, r, rec, http.MethodGet, http.MethodPost) {
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		// RFC 6750 section 3.1: no error code when no token was sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidctest"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	at := p.tokens[token]
	var why string
	switch {
	case at == nil:
		why = "unknown access token"
	case at.revoked:
		why = "access token revoked"
	case !p.now().Before(at.expires):
		why = "access token expired"
	}
	var claims map[string]any
	if why == "" {
		claims = userClaims(at.user, at.scope)
	}
	p.mu.Unlock()
	if why != "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="oidctest", error="invalid_token", error_description="`+why+`"`)
		writeError(w, rec, http.StatusUnauthorized, "invalid_token", why)
		return
	}
	writeJSON(w, http.StatusOK, claims)
}
