package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release"
)

// The reserved area of the portal: login (local accounts and OpenID
// Connect), logout, the reader's account page, and the administrators'
// pages (audit log, accounts and tokens, release agenda). Every form
// carries an anti-forgery token, and cross-origin form posts are refused
// (http.CrossOriginProtection) before any handler runs.

// accessRoutes registers the reserved area and the agenda's public pages.
func (s *Server) accessRoutes(mux *router) {
	cop := http.NewCrossOriginProtection()
	post := func(h http.HandlerFunc) http.Handler { return cop.Handler(h) }
	mux.HandleFunc("GET /accedi", s.loginForm)
	mux.Handle("POST /accedi", post(s.login))
	mux.Handle("POST /esci", post(s.logout))
	mux.HandleFunc("GET /accedi/oidc", s.oidcStart)
	mux.HandleFunc("GET /accedi/oidc/ritorno", s.oidcCallback)
	mux.HandleFunc("GET /area-riservata", s.pageAccount)
	mux.HandleFunc("GET /amministrazione", s.pageAdmin)
	mux.HandleFunc("GET /amministrazione/agenda", s.pageAdminAgenda)
	mux.Handle("POST /amministrazione/agenda", post(s.adminAgendaAdd))
	mux.Handle("POST /amministrazione/agenda/{id}/elimina", post(s.adminAgendaDelete))
	mux.HandleFunc("GET /agenda", s.pageAgenda)
	mux.HandleFunc("GET /agenda.ics", s.serveAgendaICS)
	mux.HandleFunc("GET /rilasci.atom", s.serveFeed)
	mux.HandleFunc("GET /rilasci.rss", s.serveFeed)
}

// randomValue returns 32 random bytes in base64url: cookies, states,
// nonces.
func randomValue() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// localPath returns p if it is a path of this server ("/..." and not
// "//host" or "/\host"), else "": login never sends a reader elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return ""
	}
	if u, err := url.Parse(p); err != nil || u.IsAbs() || u.Host != "" {
		return ""
	}
	return p
}

// showPage renders pg for the reader of r with the banner of the latest
// release it may see, if any: the pages of the reserved area and of the
// agenda need no release.
func (s *Server) showPage(w http.ResponseWriter, r *http.Request, pg *page) {
	var info *release.Info
	if in, err := s.latestFor(r); err == nil {
		info = &in
	}
	rp, err := s.render(r, pg, info)
	if err != nil {
		s.pageError(w, r, info, err)
		return
	}
	writePage(w, r, rp)
}

// errNoAccounts answers the reserved area of a server without accounts.
func errNoAccounts() error {
	return oml.Errorf(oml.ENOTFOUND, "questo server non ha un'area riservata / no accounts on this server").
		WithHint("il portale pubblico è consultabile senza accedere; l'osservatorio attiva gli account con oml user add")
}

// loginPageData is the body of the login template.
type loginPageData struct {
	CSRF, Next, Error, OIDCLabel string
	Name                         string
}

// loginForm serves GET /accedi: the form, with a fresh anti-forgery value
// in a SameSite=Strict cookie and in the form (double submit). A reader
// already logged in goes to the account page.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.access == nil {
		s.pageError(w, r, nil, errNoAccounts())
		return
	}
	if viewerOf(r).session != "" {
		http.Redirect(w, r, "/area-riservata", http.StatusSeeOther)
		return
	}
	s.loginPage(w, r, http.StatusOK, "")
}

// loginPage renders the login form with status and an error message.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	csrf := randomValue()
	http.SetCookie(w, &http.Cookie{Name: loginCSRF, Value: csrf, Path: "/accedi", MaxAge: 3600, HttpOnly: true,
		Secure: s.secureRequest(r), SameSite: http.SameSiteStrictMode})
	body := loginPageData{CSRF: csrf, Next: localPath(r.FormValue("dopo")), Error: msg, Name: oneLine(r.PostFormValue("nome"), 100)}
	if s.oidc != nil {
		body.OIDCLabel = s.oidc.cfg.Label
	}
	s.showPage(w, r, &page{name: "login", title: "Accedi", status: status, private: true, body: body,
		description: "Accesso all'area riservata degli osservatori: microdati pseudonimizzati, anteprime dei rilasci, amministrazione."})
}

// login serves POST /accedi: checks the anti-forgery value, then the name
// and password (metastore.Authenticate, which counts failures, locks the
// name after repeated ones and appends login or login_failed), and opens a
// session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.access == nil {
		s.pageError(w, r, nil, errNoAccounts())
		return
	}
	c, err := r.Cookie(loginCSRF)
	if err != nil || !sameSecret(r.PostFormValue("csrf"), c.Value) {
		s.loginPage(w, r, http.StatusForbidden, "Il modulo è scaduto o non è stato inviato da questa pagina: inserire di nuovo nome e password.")
		return
	}
	u, err := s.access.Store.Authenticate(r.Context(), r.PostFormValue("nome"), r.PostFormValue("password"))
	if errors.Is(err, metastore.ErrLockedOut) {
		s.loginPage(w, r, http.StatusTooManyRequests, oml.ErrorMessage(err)+". "+oml.ErrorHint(err)+".")
		return
	}
	if oml.ErrorCode(err) == oml.EUNAUTHORIZED {
		s.loginPage(w, r, http.StatusUnauthorized, "Nome utente o password non corretti. / Wrong user name or password.")
		return
	}
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCSRF, Path: "/accedi", MaxAge: -1, HttpOnly: true, Secure: s.secureRequest(r), SameSite: http.SameSiteStrictMode})
	s.startSession(w, r, u, r.PostFormValue("dopo"), "")
}

// startSession opens a session for u, sets its cookie and sends the
// reader to next (a local path) or to the account page. detail, when set,
// is a login made elsewhere (OpenID Connect), which the store did not
// record: it is appended here.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u metastore.User, next, detail string) {
	token, sess, err := s.access.Store.NewSession(r.Context(), u.ID, s.access.SessionTTL)
	if err != nil {
		s.loginPage(w, r, StatusOf(oml.ErrorCode(err)), oml.ErrorMessage(err))
		return
	}
	if detail != "" {
		s.audit(r, metastore.Entry{Actor: u.Name, Action: metastore.ActionLogin, Object: u.Name, Detail: detail})
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sess.Expires.Sub(sess.Created).Seconds()), HttpOnly: true,
		Secure: s.secureRequest(r), SameSite: http.SameSiteLaxMode})
	if next = localPath(next); next == "" || strings.HasPrefix(next, "/accedi") {
		next = "/area-riservata"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout serves POST /esci: ends the session (the store appends logout)
// and drops its cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if v.session != "" {
		if !sameSecret(r.PostFormValue("csrf"), v.csrf) {
			s.pageError(w, r, nil, errForgery())
			return
		}
		if err := s.access.Store.EndSession(r.Context(), v.session); err != nil && oml.ErrorCode(err) != oml.ENOTFOUND {
			s.pageError(w, r, nil, err)
			return
		}
	}
	http.SetCookie(w, s.expiredCookie(r, sessionCookie))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// errForgery answers a form without the session's anti-forgery token.
func errForgery() error {
	return oml.Errorf(oml.EFORBIDDEN, "modulo non valido o scaduto / invalid or expired form").
		WithHint("ricaricare la pagina e inviare di nuovo il modulo")
}

// checkForm checks the anti-forgery token of a form posted by v: the
// session's. A request with an API token carries no cookie to forge.
func checkForm(r *http.Request, v *viewer) error {
	if v.token != "" || sameSecret(r.PostFormValue("csrf"), v.csrf) {
		return nil
	}
	return errForgery()
}

// requireLogin returns the viewer of r, or sends the reader to the login
// form (coming back to this page) and returns nil.
func (s *Server) requireLogin(w http.ResponseWriter, r *http.Request) *viewer {
	if s.access == nil {
		s.pageError(w, r, nil, errNoAccounts())
		return nil
	}
	v := viewerOf(r)
	if !v.authenticated() {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/accedi?dopo="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil
	}
	return v
}

// requireAdmin returns the viewer of r if it is an administrator; a
// reader who is not logged in goes to the login form, anyone else gets 403.
func (s *Server) requireAdmin(w http.ResponseWriter, r *http.Request) *viewer {
	v := s.requireLogin(w, r)
	if v != nil && !v.roles.IsAdmin() {
		s.pageError(w, r, nil, oml.Errorf(oml.EFORBIDDEN, "pagina riservata agli amministratori / administrators only").
			WithHint("il ruolo admin si assegna con oml user roles"))
		return nil
	}
	return v
}

// accountPageData is the body of the account template.
type accountPageData struct {
	Name      string
	Roles     []roleView
	Microdata []string // territories whose microdata the reader may read
	Previews  []previewView
	Admin     bool
	CSRF      string
}

type roleView struct{ Role, Meaning string }

type previewView struct {
	ID    string
	Until time.Time
}

// pageAccount serves GET /area-riservata: who the reader is, what the
// roles allow, the releases it may preview.
func (s *Server) pageAccount(w http.ResponseWriter, r *http.Request) {
	v := s.requireLogin(w, r)
	if v == nil {
		return
	}
	body := accountPageData{Name: v.name, Admin: v.roles.IsAdmin(), CSRF: v.csrf}
	for _, ro := range v.roles {
		body.Roles = append(body.Roles, roleView{Role: ro.String(), Meaning: s.roleMeaning(ro)})
		if ro.Kind == oml.RoleAnalyst || ro.Kind == oml.RoleNode {
			body.Microdata = append(body.Microdata, ro.Territory)
		}
	}
	if v.roles.SeesEmbargoed() {
		for id, until := range s.embargoed() {
			body.Previews = append(body.Previews, previewView{ID: id, Until: until})
		}
	}
	s.showPage(w, r, &page{name: "account", title: "Area riservata", private: true, body: body})
}

// roleMeaning says in Italian what a role allows.
func (s *Server) roleMeaning(ro oml.Role) string {
	place := ro.Territory
	if t, ok := s.names.Territory(ro.Territory); ok {
		place = t.Name
	}
	switch ro.Kind {
	case oml.RoleAnalyst:
		return "analista: microdati pseudonimizzati di " + place + " (API /api/v1/microdata), anteprima dei rilasci sotto embargo"
	case oml.RoleEditor:
		return "redattore: testi e agenda di " + place + ", anteprima dei rilasci sotto embargo"
	case oml.RoleAdmin:
		return "amministratore: account, token, registro degli accessi e agenda dei rilasci"
	case oml.RoleNode:
		return "nodo della federazione per " + place
	}
	return "pubblico"
}

// adminPageData is the body of the admin template.
type adminPageData struct {
	Users    []metastore.User
	Tokens   []metastore.Token
	Entries  []metastore.Entry
	Verified int
	Broken   string
	Actions  []string
	Action   string
	Actor    string
	Limit    int
}

// pageAdmin serves GET /amministrazione[?azione=&chi=]: the audit log,
// newest first and checked end to end, and the accounts and tokens.
func (s *Server) pageAdmin(w http.ResponseWriter, r *http.Request) {
	v := s.requireAdmin(w, r)
	if v == nil {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	body := adminPageData{Actions: metastore.Actions, Action: q.Get("azione"), Actor: oneLine(q.Get("chi"), 100), Limit: 500}
	var err error
	if body.Users, err = s.access.Store.ListUsers(ctx); err == nil {
		if body.Tokens, err = s.access.Store.ListTokens(ctx); err == nil {
			body.Entries, err = s.access.Store.Audit(ctx, metastore.AuditFilter{Action: body.Action, Actor: body.Actor, Limit: body.Limit})
		}
	}
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	slices.Reverse(body.Entries) // newest first
	if body.Verified, err = s.access.Store.VerifyAudit(ctx); err != nil {
		body.Broken = oml.ErrorMessage(err)
	}
	s.showPage(w, r, &page{name: "admin", title: "Amministrazione", private: true, body: body})
}

// adminAgendaData is the body of the admin-agenda template.
type adminAgendaData struct {
	Agenda   []metastore.Planned
	CSRF     string
	Error    string
	Releases []string
}

// pageAdminAgenda serves GET /amministrazione/agenda: the agenda with a
// form to add an entry and a button to delete each.
func (s *Server) pageAdminAgenda(w http.ResponseWriter, r *http.Request) {
	v := s.requireAdmin(w, r)
	if v == nil {
		return
	}
	s.adminAgenda(w, r, v, http.StatusOK, "")
}

func (s *Server) adminAgenda(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) {
	list, err := s.access.Store.Agenda(r.Context())
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	body := adminAgendaData{Agenda: list, CSRF: v.csrf, Error: msg}
	if infos, err := s.releases.infos(); err == nil {
		for _, in := range infos {
			body.Releases = append(body.Releases, in.ID)
		}
	}
	s.showPage(w, r, &page{name: "admin-agenda", title: "Agenda dei rilasci · amministrazione", status: status, private: true, body: body})
}

// rome is the time zone of the agenda's forms.
var rome = itfmt.Rome

// adminAgendaAdd serves POST /amministrazione/agenda: date (AAAA-MM-GG),
// title, content, release id and embargo end (date and time in Rome).
func (s *Server) adminAgendaAdd(w http.ResponseWriter, r *http.Request) {
	v := s.requireAdmin(w, r)
	if v == nil {
		return
	}
	if err := checkForm(r, v); err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	p := metastore.Planned{Title: r.PostFormValue("titolo"), Content: r.PostFormValue("contenuto"), Release: r.PostFormValue("release")}
	var err error
	if p.Date, err = time.ParseInLocation(time.DateOnly, strings.TrimSpace(r.PostFormValue("data")), rome); err != nil {
		s.adminAgenda(w, r, v, http.StatusBadRequest, "Data di pubblicazione non valida: scrivere AAAA-MM-GG.")
		return
	}
	if e := strings.TrimSpace(r.PostFormValue("embargo")); e != "" {
		if p.EmbargoUntil, err = time.ParseInLocation("2006-01-02T15:04", e, rome); err != nil {
			s.adminAgenda(w, r, v, http.StatusBadRequest, "Fine dell'embargo non valida: scrivere data e ora (AAAA-MM-GGTHH:MM, ora di Roma).")
			return
		}
	}
	if _, err := s.access.Store.AddPlanned(metastore.WithActor(r.Context(), v.name), p); err != nil {
		s.adminAgenda(w, r, v, StatusOf(oml.ErrorCode(err)), oml.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, "/amministrazione/agenda", http.StatusSeeOther)
}

// adminAgendaDelete serves POST /amministrazione/agenda/{id}/elimina.
func (s *Server) adminAgendaDelete(w http.ResponseWriter, r *http.Request) {
	v := s.requireAdmin(w, r)
	if v == nil {
		return
	}
	if err := checkForm(r, v); err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = s.access.Store.DeletePlanned(metastore.WithActor(r.Context(), v.name), id)
	} else {
		err = oml.Errorf(oml.ENOTFOUND, "voce dell'agenda inesistente / no such agenda entry")
	}
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/amministrazione/agenda", http.StatusSeeOther)
}
