// Package oidctest runs a real OpenID Connect provider on a loopback
// httptest.Server, for tests of oml's login with OpenID Connect.
//
// The provider implements the authorization-code flow with PKCE for one
// confidential client: discovery, the authorization endpoint, the token
// endpoint, the JSON Web Key Set and the userinfo endpoint. Its ID tokens
// are JWTs signed with RS256 by an RSA key made for each provider, so a
// relying party verifies them exactly as it would verify a production
// provider's, and a client that gets the protocol wrong fails here as it
// would there.
//
// There is no login form: the authorization endpoint logs in the user set
// with SetUser (a default user otherwise) and redirects back at once, or
// denies the authorization once after Deny.
//
// The provider is stricter than the specifications where oml's client must
// do better than the minimum: it requires state, nonce and a PKCE S256
// code_challenge on every authorization request, and it burns an
// authorization code at its first redemption by the authenticated client,
// even a failed one, so that a code verifier cannot be guessed.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Lifetimes of what the provider issues, measured on the provider's clock
// (see SetNow).
const (
	// CodeLifetime is how long an authorization code can be redeemed.
	CodeLifetime = time.Minute
	// TokenLifetime is how long an access token and an ID token are valid.
	TokenLifetime = time.Hour
)

// Paths of the provider's endpoints under Issuer.
const (
	DiscoveryPath     = "/.well-known/openid-configuration"
	AuthorizationPath = "/authorize"
	TokenPath         = "/token"
	UserInfoPath      = "/userinfo"
	JWKSPath          = "/jwks"
)

// User is the identity the provider logs in. Subject is required; empty
// Name, Email and PreferredUsername are left out of the ID token and of the
// userinfo answer, and email_verified is sent only with an Email.
type User struct {
	Subject           string
	Name              string
	Email             string
	EmailVerified     bool
	PreferredUsername string
	// Claims are further claims for the ID token and the userinfo answer,
	// such as SPID's "fiscal_number". They never replace a claim the
	// provider sets itself (iss, sub, aud, exp, nonce, name, email...):
	// use TamperNextIDToken for that.
	Claims map[string]any
}

// defaultUser is the user logged in until SetUser is called.
func defaultUser() User {
	return User{
		Subject:           "oidctest-mario-rossi",
		Name:              "Mario Rossi",
		Email:             "mario.rossi@example.org",
		EmailVerified:     true,
		PreferredUsername: "mrossi",
	}
}

// Request is one HTTP request the provider answered, as the provider saw
// it, for tests to assert what their client sent.
type Request struct {
	// Method and Path are the request's; Path is one of the *Path
	// constants, or any other path the client asked for.
	Method string
	Path   string
	// Params are the OAuth parameters: the query of a GET and the
	// url-encoded body of a POST to the authorization endpoint, the body
	// of a POST to the token endpoint. Secrets are kept as sent.
	Params url.Values
	// ClientAuth is how the client authenticated at the token endpoint:
	// "client_secret_basic", "client_secret_post", or "" when it did not
	// (or on other endpoints).
	ClientAuth string
	// Status is the HTTP status of the answer.
	Status int
	// Error is the OAuth error code of the answer, in its JSON body or in
	// the redirect back to the client; "" on success, and on a userinfo
	// request without a token, which RFC 6750 answers 401 without a code.
	Error string
}

// Provider is a running OpenID Connect provider with one registered
// confidential client. Its methods are safe for concurrent use, also while
// requests are served.
type Provider struct {
	t            testing.TB
	srv          *httptest.Server
	clientID     string
	clientSecret string
	signer       jose.Signer
	jwks         jose.JSONWebKeySet

	mu           sync.Mutex
	now          func() time.Time
	user         User
	deny         *string // reason of the pending denial, if any
	tamper       func(claims map[string]any)
	redirectURIs []string
	codes        map[string]*grant
	tokens       map[string]*accessToken
	requests     []Request
}

// grant is an authorization: what the authorization endpoint approved, to
// be redeemed once at the token endpoint with its code.
type grant struct {
	redirectURI string
	challenge   string // PKCE S256 code_challenge
	nonce       string
	scope       string
	user        User
	authTime    time.Time
	expires     time.Time
	redeemed    bool
	tokens      []string // access tokens issued for it, revoked if the code is replayed
}

// accessToken is an issued access token, good at the userinfo endpoint.
type accessToken struct {
	user    User
	scope   string
	expires time.Time
	revoked bool
}

// New starts a provider for the client clientID with the secret
// clientSecret on a loopback httptest.Server, closed by t.Cleanup, with a
// new 2048-bit RSA signing key. The provider logs in a default user
// (subject "oidctest-mario-rossi", Mario Rossi) until SetUser, accepts
// any absolute http or https redirect URI until SetRedirectURIs, and reads
// the time from time.Now until SetNow.
func New(t testing.TB, clientID, clientSecret string) *Provider {
	t.Helper()
	if clientID == "" || clientSecret == "" {
		t.Fatalf("oidctest.New: client ID and secret are required")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("oidctest.New: generate RSA key: %v", err)
	}
	jwk := jose.JSONWebKey{Key: key, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatalf("oidctest.New: key thumbprint: %v", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("oidctest.New: signer: %v", err)
	}
	p := &Provider{
		t:            t,
		clientID:     clientID,
		clientSecret: clientSecret,
		signer:       signer,
		jwks:         jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk.Public()}},
		now:          time.Now,
		user:         defaultUser(),
		codes:        map[string]*grant{},
		tokens:       map[string]*accessToken{},
	}
	p.srv = httptest.NewServer(p.routes())
	t.Cleanup(p.srv.Close)
	return p
}

// Issuer returns the provider's issuer identifier, the URL of its server
// without a trailing slash; the discovery document is at
// Issuer()+DiscoveryPath.
func (p *Provider) Issuer() string { return p.srv.URL }

// ClientID returns the ID of the provider's client.
func (p *Provider) ClientID() string { return p.clientID }

// ClientSecret returns the secret of the provider's client.
func (p *Provider) ClientSecret() string { return p.clientSecret }

// SetUser sets the user that the following authorizations log in. An
// authorization already approved keeps the user it had. A user without a
// Subject fails the test.
func (p *Provider) SetUser(u User) {
	p.t.Helper()
	if u.Subject == "" {
		p.t.Fatalf("oidctest: SetUser with an empty Subject")
	}
	u.Claims = maps.Clone(u.Claims)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// Deny makes the next valid authorization request fail: the provider
// redirects back with error=access_denied, error_description=reason and
// the request's state, as when a user refuses consent. The authorization
// after it is approved again.
func (p *Provider) Deny(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = &reason
}

// TamperNextIDToken makes the token endpoint pass the claims of the next ID
// token it issues to f before signing them, so that a test can check that
// its client rejects a token with a wrong nonce, audience, issuer or
// expiry. The token is still properly signed.
func (p *Provider) TamperNextIDToken(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = f
}

// SetRedirectURIs registers the client's redirect URIs: from then on, an
// authorization request must name one of them exactly. With none, any
// absolute http or https URL without a fragment is accepted.
func (p *Provider) SetRedirectURIs(uris ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirectURIs = slices.Clone(uris)
}

// SetNow sets the provider's clock, which dates the tokens and expires
// codes and access tokens. A nil now restores time.Now. An ID token dated
// by a moved clock is verified by a client only if its clock agrees.
func (p *Provider) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// Requests returns the requests the provider answered so far, oldest first.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, len(p.requests))
	for i, r := range p.requests {
		r.Params = cloneValues(r.Params)
		out[i] = r
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// randomToken returns 32 random bytes in base64url, for codes and access
// tokens.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never returns an error
	return base64.RawURLEncoding.EncodeToString(b)
}
