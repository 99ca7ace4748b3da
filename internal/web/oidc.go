package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
)

// OIDCConfig is the server's registration with an OpenID Connect provider
// (the regional identity provider, which offers SPID and CIE): the
// authorization-code flow with PKCE, the ID token verified against the
// provider's published keys.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret are the server's credentials with the
	// provider.
	ClientID, ClientSecret string
	// RedirectURL is the address of /accedi/oidc/ritorno as the provider
	// knows it (https://observatory.example/accedi/oidc/ritorno).
	RedirectURL string
	// Label is the text of the login button ("Entra con SPID o CIE" when
	// empty).
	Label string
}

// oidcCookie keeps the state, nonce and PKCE verifier of a login under way
// in the browser that started it; it lives 10 minutes.
const (
	oidcCookie = "oml_oidc"
	oidcMaxAge = 10 * time.Minute
)

// oidcClient talks to the provider. Discovery happens at the first login,
// and again after a failure: a provider down when the server starts does
// not stop the server.
type oidcClient struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
}

func newOIDCClient(cfg OIDCConfig) (*oidcClient, error) {
	u, err := url.Parse(cfg.RedirectURL)
	switch {
	case cfg.Issuer == "" || cfg.ClientID == "":
		return nil, oml.Errorf(oml.EINVALID, "OpenID Connect: emittente e client id obbligatori / issuer and client id required")
	case err != nil || !u.IsAbs() || u.Path != "/accedi/oidc/ritorno":
		return nil, oml.Errorf(oml.EINVALID, "OpenID Connect: indirizzo di ritorno %q non valido / invalid redirect URL", cfg.RedirectURL).
			WithHint("l'indirizzo pubblico del portale seguito da /accedi/oidc/ritorno, per esempio https://osservatorio.example/accedi/oidc/ritorno")
	}
	if cfg.Label == "" {
		cfg.Label = "Entra con SPID o CIE"
	}
	return &oidcClient{cfg: cfg}, nil
}

// discover reads the provider's discovery document once.
func (c *oidcClient) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
		if err != nil {
			return nil, nil, oml.Errorf(oml.EUNAVAILABLE, "fornitore di identità non raggiungibile / identity provider unreachable").
				WithHint("riprovare tra poco, oppure accedere con nome utente e password; dettaglio: %v", err)
		}
		c.provider = p
		c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID})
		c.oauth = &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: c.cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	}
	return c.oauth, c.verifier, nil
}

// oidcStart sends the browser to the provider: GET /accedi/oidc[?dopo=PATH].
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.pageError(w, r, nil, oml.Errorf(oml.ENOTFOUND, "accesso con SPID/CIE non configurato su questo server / OpenID Connect login not configured"))
		return
	}
	conf, _, err := s.oidc.discover(r.Context())
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	state, nonce, verifier := randomValue(), randomValue(), oauth2.GenerateVerifier()
	next := base64.RawURLEncoding.EncodeToString([]byte(localPath(r.URL.Query().Get("dopo"))))
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier + "." + next, Path: "/accedi/oidc",
		MaxAge: int(oidcMaxAge.Seconds()), HttpOnly: true, Secure: s.secureRequest(r), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// oidcCallback ends a login with the provider: GET
// /accedi/oidc/ritorno?code=&state=. The state must be the one this
// browser was sent with, the code is exchanged with the PKCE verifier, and
// the ID token's signature, issuer, audience, expiry and nonce are
// checked. The account is the identity's (created with no roles the first
// time: an administrator assigns them); the provider's subject is stored
// as a SHA-256, never in clear (some providers use the fiscal code).
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string, args ...any) {
		s.loginPage(w, r, status, fmt.Sprintf(msg, args...))
	}
	if s.oidc == nil {
		s.pageError(w, r, nil, oml.Errorf(oml.ENOTFOUND, "accesso con SPID/CIE non configurato su questo server / OpenID Connect login not configured"))
		return
	}
	c, err := r.Cookie(oidcCookie)
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: "/accedi/oidc", MaxAge: -1, HttpOnly: true, Secure: s.secureRequest(r), SameSite: http.SameSiteLaxMode})
	parts := []string{}
	if err == nil {
		parts = strings.Split(c.Value, ".")
	}
	q := r.URL.Query()
	if len(parts) != 4 || !sameSecret(q.Get("state"), parts[0]) {
		fail(http.StatusBadRequest, "Accesso non completato: la richiesta è scaduta o non è partita da questo browser. Riprovare.")
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusUnauthorized, "Il fornitore di identità non ha concesso l'accesso (%s).", oneLine(e, 60))
		return
	}
	conf, verifier, err := s.oidc.discover(r.Context())
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		s.log.Info("oidc exchange refused", "id", RequestID(r), "err", err.Error())
		fail(http.StatusUnauthorized, "Il fornitore di identità ha rifiutato il codice di accesso. Riprovare.")
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, raw)
	if err != nil || !sameSecret(idt.Nonce, parts[1]) {
		if err == nil {
			err = errors.New("nonce mismatch")
		}
		s.log.Info("oidc id token refused", "id", RequestID(r), "err", err.Error())
		fail(http.StatusUnauthorized, "L'identità ricevuta non è valida (firma, scadenza o destinatario). Riprovare.")
		return
	}
	var claims struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		fail(http.StatusUnauthorized, "L'identità ricevuta non è leggibile.")
		return
	}
	sum := sha256.Sum256([]byte(idt.Subject))
	subject := "sha256:" + hex.EncodeToString(sum[:])
	name := accountName(claims.PreferredUsername, claims.Email, subject)
	u, err := s.access.Store.UpsertOIDCUser(metastore.WithActor(r.Context(), "oidc:"+idt.Issuer), idt.Issuer, subject, name)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	next, _ := base64.RawURLEncoding.DecodeString(parts[3])
	s.startSession(w, r, u, string(next), "OpenID Connect "+idt.Issuer)
}

// accountName is the account name of an identity: its preferred user
// name or e-mail when they are valid names, else "oidc-" and the start of
// its subject's hash.
func accountName(preferred, email, subject string) string {
	for _, n := range []string{preferred, email} {
		if metastore.ValidName(n) == nil {
			return n
		}
	}
	return "oidc-" + strings.TrimPrefix(subject, "sha256:")[:16]
}

// oneLine cuts s to n bytes of one line, for a message.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	return s
}
