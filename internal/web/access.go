package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release"
)

// Access makes the server know its readers: the accounts, sessions, API
// tokens, audit log and release agenda of the data dir's metadata store
// (internal/metastore). Without it every reader is the public: no login,
// no microdata, no embargo (docs/adr/0013-access.md).
type Access struct {
	// Store is the data dir's metadata store; the server does not close it.
	Store *metastore.Store
	// OIDC, when set, offers login with the regional identity provider
	// (SPID/CIE in production) besides local accounts.
	OIDC *OIDCConfig
	// SessionTTL is how long a login lasts (DefaultSessionTTL when 0).
	// Sessions do not slide: after it the reader logs in again.
	SessionTTL time.Duration
	// SecureCookies marks the session cookie Secure even when the server
	// itself speaks plain HTTP (TLS ended by a proxy). A server serving TLS
	// marks it Secure anyway.
	SecureCookies bool
}

// DefaultSessionTTL is the lifetime of a login session: a working day.
const DefaultSessionTTL = 8 * time.Hour

// Cookie names. The session cookie is HttpOnly and SameSite=Lax; the
// login form's anti-forgery cookie SameSite=Strict.
const (
	sessionCookie = "oml_sessione"
	loginCSRF     = "oml_csrf"
)

// viewer is who sends a request: the public (name empty, no roles), an
// account logged in with a session, or an API token. It is set on every
// request's context by identify.
type viewer struct {
	name    string    // account name, or "token:<id>"; empty for the public
	roles   oml.Roles // none for the public
	token   string    // API token id, when the request carries one
	session string    // the session cookie's value, when logged in
	csrf    string    // the session's anti-forgery secret
}

// public is the viewer of a request without credentials.
var public = &viewer{}

type viewerKey struct{}

// viewerOf returns the viewer of r: the public when identify did not run
// or found no credentials.
func viewerOf(r *http.Request) *viewer {
	if v, ok := r.Context().Value(viewerKey{}).(*viewer); ok {
		return v
	}
	return public
}

// authenticated reports whether v holds credentials (a session or a token).
func (v *viewer) authenticated() bool { return v.name != "" }

// actor names v in the audit log.
func (v *viewer) actor() string {
	if v.name == "" {
		return "public"
	}
	return v.name
}

// identify sets the viewer of every request: an API token from
// "Authorization: Bearer oml_..." (an unknown, revoked or expired token is
// 401, never the public: a script must learn its token is dead), else the
// account of a valid session cookie (a stale cookie is dropped and the
// request goes on as the public). /federation/ authenticates its own
// signed requests and is left alone. Responses to a request with
// credentials are private: no shared cache may keep them.
func (s *Server) identify(next http.Handler) http.Handler {
	if s.access == nil {
		return next
	}
	st := s.access.Store
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/federation/") {
			next.ServeHTTP(w, r)
			return
		}
		v := public
		if auth := r.Header.Get("Authorization"); auth != "" {
			scheme, secret, _ := strings.Cut(auth, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				w.Header().Set("WWW-Authenticate", `Bearer realm="oml"`)
				s.writeError(w, r, oml.Errorf(oml.EUNAUTHORIZED, "schema di autenticazione %q non ammesso / unsupported authentication scheme", scheme).
					WithHint("usare Authorization: Bearer oml_... con un token creato da oml token create"))
				return
			}
			tok, err := st.LookupToken(r.Context(), strings.TrimSpace(secret))
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="oml", error="invalid_token"`)
				s.writeError(w, r, err)
				return
			}
			v = &viewer{name: metastore.ActorTokenPrefix + tok.ID, roles: oml.Roles{tok.Role}, token: tok.ID}
		} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			sess, u, err := st.Session(r.Context(), c.Value)
			if err == nil {
				v = &viewer{name: u.Name, roles: u.Roles, session: c.Value, csrf: sess.CSRF}
			} else if oml.ErrorCode(err) == oml.EUNAUTHORIZED {
				http.SetCookie(w, s.expiredCookie(r, sessionCookie))
			} else {
				s.writeError(w, r, err)
				return
			}
		}
		if v.authenticated() {
			w = &privateWriter{ResponseWriter: w}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, v)))
	})
}

// privateWriter marks a response private before its header goes out.
type privateWriter struct {
	http.ResponseWriter
	marked bool
}

func (w *privateWriter) mark() {
	if !w.marked {
		w.marked = true
		h := w.Header()
		h.Set("Cache-Control", "private, no-store")
		h.Add("Vary", "Cookie, Authorization")
	}
}

func (w *privateWriter) WriteHeader(code int) { w.mark(); w.ResponseWriter.WriteHeader(code) }
func (w *privateWriter) Write(b []byte) (int, error) {
	w.mark()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *privateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rateKey is the rate-limit key of a server with accounts: requests with
// an API token are exempt (they are accountable, audited and revocable);
// everyone else counts as their client address.
func rateKey(r *http.Request) (string, bool) {
	if v := viewerOf(r); v.token != "" {
		return "token:" + v.token, true
	}
	return ClientKey(r)
}

// secureRequest reports whether cookies set in answer to r must be Secure.
func (s *Server) secureRequest(r *http.Request) bool {
	return r.TLS != nil || s.hsts || (s.access != nil && s.access.SecureCookies)
}

// expiredCookie is a cookie that deletes the cookie name.
func (s *Server) expiredCookie(r *http.Request, name string) *http.Cookie {
	return &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureRequest(r), SameSite: http.SameSiteLaxMode}
}

// sameSecret compares two secrets in constant time; empty never matches.
func sameSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// audit appends e to the audit log, with the request's viewer as actor
// unless e names one. A failure is logged: the action it records has
// happened already.
func (s *Server) audit(r *http.Request, e metastore.Entry) error {
	if s.access == nil {
		return nil
	}
	if e.Actor == "" {
		e.Actor = viewerOf(r).actor()
	}
	_, err := s.access.Store.Append(r.Context(), e)
	if err != nil {
		s.log.Error("audit append failed", "id", RequestID(r), "action", e.Action, "err", err.Error())
	}
	return err
}

// embargoes caches the agenda's embargoes for embargoCache: every request
// asks whether its release is under embargo, and the agenda changes
// rarely.
type embargoes struct {
	mu      sync.Mutex
	fetched time.Time
	until   map[string]time.Time // release id → end of embargo
}

const embargoCache = 2 * time.Second

// embargoed returns the releases under embargo at the server's clock, by
// id, with the end of each. Without accounts nothing is under embargo. A
// store that cannot be read hides nothing new and keeps the last answer:
// the error is logged.
func (s *Server) embargoed() map[string]time.Time {
	if s.access == nil {
		return nil
	}
	now := s.releases.now()
	e := &s.embargo
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.until == nil || now.Sub(e.fetched) >= embargoCache || now.Before(e.fetched) {
		m, err := s.access.Store.EmbargoedReleases(context.Background(), now)
		if err != nil {
			s.log.Error("agenda unreadable: embargoes not refreshed", "err", err.Error())
			if e.until == nil {
				e.until = map[string]time.Time{}
			}
		} else {
			e.until, e.fetched = m, now
		}
	}
	out := make(map[string]time.Time, len(e.until))
	for id, t := range e.until {
		if now.Before(t) {
			out[id] = t
		}
	}
	return out
}

// embargoOf returns the end of release id's embargo, or the zero time.
func (s *Server) embargoOf(id string) time.Time { return s.embargoed()[id] }

// hides reports whether release id is hidden from the viewer of r: under
// embargo, and the viewer does not see embargoed releases.
func (s *Server) hides(r *http.Request, id string) bool {
	if viewerOf(r).roles.SeesEmbargoed() {
		return false
	}
	_, ok := s.embargoed()[id]
	return ok
}

// accountOf returns what the layout shows of the reader of r, reading
// info (the page's release, nil if none); nil without accounts.
func (s *Server) accountOf(r *http.Request, info *release.Info) *accountView {
	if s.access == nil {
		return nil
	}
	v := viewerOf(r)
	a := &accountView{Name: v.name, Roles: v.roles.String(), Admin: v.roles.IsAdmin(), CSRF: v.csrf}
	if info != nil && v.roles.SeesEmbargoed() {
		a.Embargo = s.embargoOf(info.ID)
	}
	return a
}
