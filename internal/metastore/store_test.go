package metastore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
)

// The tests run against real SQLite files in t.TempDir(), through the
// exported API; tampering goes through a separate raw database/sql
// connection, as someone editing the file would.

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cheap is an argon2id cost that keeps the tests fast (and -race usable).
var cheap = metastore.PasswordParams{Memory: 64, Time: 1, Threads: 1}

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// open returns a store in a new temporary data dir, its clock and the dir.
func open(t *testing.T) (*metastore.Store, *clock, string) {
	t.Helper()
	dir := t.TempDir()
	c := &clock{t: t0}
	s, err := metastore.Open(context.Background(), dir, metastore.Options{Now: c.Now, Password: cheap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c, dir
}

// raw opens the store's file directly, bypassing the store.
func raw(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, metastore.File)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// wantCode fails unless err is an *oml.Error with code and, when want is
// not empty, a message containing it; every message must be bilingual.
func wantCode(t *testing.T, err error, code, want string) {
	t.Helper()
	if oml.ErrorCode(err) != code {
		t.Fatalf("error %v (code %q), want code %q", err, oml.ErrorCode(err), code)
	}
	var e *oml.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *oml.Error", err)
	}
	if !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not contain %q", e.Message, want)
	}
	if !strings.Contains(e.Message, " / ") {
		t.Errorf("message %q is not Italian / English", e.Message)
	}
}

func roles(t *testing.T, s string) oml.Roles {
	t.Helper()
	r, err := oml.ParseRoles(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func actions(t *testing.T, s *metastore.Store, f metastore.AuditFilter) []string {
	t.Helper()
	es, err := s.Audit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action+" "+e.Actor+" "+e.Object)
	}
	return out
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	s, _, dir := open(t)
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	db := raw(t, dir)
	var mode string
	var version int
	db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	db.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&version)
	if mode != "wal" || version != 1 {
		t.Errorf("journal mode %q, schema %d; want wal, 1", mode, version)
	}

	// Opening again applies nothing twice.
	s2, err := metastore.Open(ctx, dir, metastore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	var n int
	db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n)
	if n != 1 {
		t.Errorf("%d migrations recorded", n)
	}

	// A schema newer than the program is refused.
	exec(t, db, "INSERT INTO schema_migrations VALUES (99, 'x')")
	_, err = metastore.Open(ctx, dir, metastore.Options{})
	wantCode(t, err, oml.ECONFLICT, "più recente di questo programma")
}

func TestUsers(t *testing.T) {
	ctx := metastore.WithActor(context.Background(), "cli:root")
	s, _, dir := open(t)
	const pw = "correct horse battery"
	u, err := s.AddUser(ctx, "mario.rossi", pw, roles(t, "analyst:016,editor:016,analyst:016"))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Roles.String() != "analyst:016,editor:016" || !u.Created.Equal(t0) {
		t.Errorf("AddUser = %+v", u)
	}
	if _, err := s.AddUser(ctx, "anna@regione.lombardia.it", pw, nil); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, user, password, roles string
		code, want                  string
	}{
		{"short password", "luca", "short pass", "", oml.EINVALID, "password troppo corta: 10 caratteri, ne servono almeno 12"},
		{"empty password", "luca", "", "", oml.EINVALID, "password troppo corta"},
		{"long password", "luca", strings.Repeat("x", 2000), "", oml.EINVALID, "password troppo lunga"},
		{"empty name", "", pw, "", oml.EINVALID, "nome utente"},
		{"name with space", "mario rossi", pw, "", oml.EINVALID, "nome utente"},
		{"name with comma", "a,b", pw, "", oml.EINVALID, "nome utente"},
		{"node role", "luca", pw, "node:014", oml.EINVALID, "non si assegna a un utente"},
		{"public role", "luca", pw, "public", oml.EINVALID, "non si assegna a un utente"},
		{"taken name", "Mario.Rossi", pw, "", oml.ECONFLICT, "esiste già"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddUser(ctx, tt.user, tt.password, roles(t, tt.roles))
			wantCode(t, err, tt.code, tt.want)
		})
	}
	if _, err := s.AddUser(ctx, "luca", pw, oml.Roles{{Kind: "analyst", Territory: "LOM"}}); oml.ErrorCode(err) != oml.EINVALID {
		t.Errorf("unvalidated role accepted: %v", err)
	}

	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "anna@regione.lombardia.it" || list[1].Name != "mario.rossi" {
		t.Errorf("ListUsers = %+v", list)
	}
	got, err := s.User(ctx, "MARIO.ROSSI")
	if err != nil || got.ID != u.ID {
		t.Errorf("User case-insensitive = %+v, %v", got, err)
	}

	changed, err := s.SetRoles(ctx, "mario.rossi", roles(t, "analyst:ITC4"))
	if err != nil || changed.Roles.String() != "analyst:ITC4" {
		t.Fatalf("SetRoles = %+v, %v", changed, err)
	}
	_, err = s.SetRoles(ctx, "mario.rossi", roles(t, "node:016"))
	wantCode(t, err, oml.EINVALID, "non si assegna")
	if err := s.DisableUser(ctx, "mario.rossi"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DisableUser(ctx, "mario.rossi"), oml.ECONFLICT, "già disabilitato")
	if got, _ := s.User(ctx, "mario.rossi"); !got.Disabled {
		t.Error("not disabled")
	}

	want := []string{
		"user_add cli:root mario.rossi", "user_add cli:root anna@regione.lombardia.it",
		"role_change cli:root mario.rossi", "user_disable cli:root mario.rossi",
	}
	if got := actions(t, s, metastore.AuditFilter{}); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	es, _ := s.Audit(ctx, metastore.AuditFilter{Action: metastore.ActionRoleChange})
	if len(es) != 1 || es[0].Detail != "analyst:016,editor:016 -> analyst:ITC4" {
		t.Errorf("role_change entry %+v", es)
	}

	// The password is stored only as an argon2id PHC string.
	var stored string
	raw(t, dir).QueryRow("SELECT password FROM users WHERE name = 'mario.rossi'").Scan(&stored)
	if strings.Contains(stored, pw) || !strings.HasPrefix(stored, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("stored password %q", stored)
	}
}

func TestDefaultPasswordParams(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := metastore.Open(ctx, dir, metastore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddUser(ctx, "admin", "a long enough password", roles(t, "admin")); err != nil {
		t.Fatal(err)
	}
	var stored string
	raw(t, dir).QueryRow("SELECT password FROM users").Scan(&stored)
	f := strings.Split(stored, "$")
	if len(f) != 6 || f[1] != "argon2id" || f[2] != "v=19" || f[3] != "m=19456,t=2,p=1" || len(f[4]) != 22 || len(f[5]) != 43 {
		t.Errorf("PHC string %q", stored)
	}
	if _, err := s.Authenticate(ctx, "admin", "a long enough password"); err != nil {
		t.Error(err)
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	s, _, dir := open(t)
	const pw = "correct horse battery"
	if _, err := s.AddUser(ctx, "mario", pw, roles(t, "analyst:016")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, "gino", pw, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableUser(ctx, "gino"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertOIDCUser(ctx, "https://idp.example", "sub-1", "oidc.user"); err != nil {
		t.Fatal(err)
	}

	u, err := s.Authenticate(ctx, "Mario", pw)
	if err != nil || u.Name != "mario" || u.Roles.String() != "analyst:016" {
		t.Fatalf("Authenticate = %+v, %v", u, err)
	}
	var msgs []string
	for _, c := range []struct{ name, password string }{
		{"mario", "wrong password!"}, // wrong password
		{"nobody", pw},               // unknown user
		{"gino", pw},                 // disabled
		{"oidc.user", ""},            // no password
		{"mario", strings.Repeat("x", 5000)},
	} {
		_, err := s.Authenticate(ctx, c.name, c.password)
		wantCode(t, err, oml.EUNAUTHORIZED, "nome utente o password errati")
		msgs = append(msgs, oml.ErrorMessage(err)+oml.ErrorHint(err))
	}
	for _, m := range msgs {
		if m != msgs[0] {
			t.Errorf("answers differ: %q and %q", m, msgs[0])
		}
	}
	es, _ := s.Audit(ctx, metastore.AuditFilter{Since: t0})
	var got []string
	for _, e := range es {
		if e.Action == metastore.ActionLogin || e.Action == metastore.ActionLoginFailed {
			got = append(got, e.Action+" "+e.Actor+": "+e.Detail)
		}
	}
	want := []string{
		"login mario: password",
		"login_failed mario: password errata / wrong password",
		"login_failed nobody: utente sconosciuto / unknown user",
		"login_failed gino: utente disabilitato / user disabled",
		"login_failed oidc.user: utente OpenID Connect senza password / OpenID Connect account",
		"login_failed mario: password errata / wrong password",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A hash of another cost is replaced at the next login.
	s2, err := metastore.Open(ctx, dir, metastore.Options{Password: metastore.PasswordParams{Memory: 128, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Authenticate(ctx, "mario", pw); err != nil {
		t.Fatal(err)
	}
	var stored string
	raw(t, dir).QueryRow("SELECT password FROM users WHERE name = 'mario'").Scan(&stored)
	if !strings.Contains(stored, "$m=128,t=1,p=1$") {
		t.Errorf("not rehashed: %s", stored)
	}
	if _, err := s2.Authenticate(ctx, "mario", pw); err != nil {
		t.Errorf("after rehash: %v", err)
	}
}

func TestLockout(t *testing.T) {
	ctx := context.Background()
	s, c, _ := open(t)
	const pw = "correct horse battery"
	if _, err := s.AddUser(ctx, "mario", pw, nil); err != nil {
		t.Fatal(err)
	}
	fail := func(name string) error {
		t.Helper()
		_, err := s.Authenticate(ctx, name, "wrong password!")
		if err == nil {
			t.Fatal("wrong password accepted")
		}
		return err
	}

	// Four failures, then a success, which clears them.
	for range 4 {
		fail("mario")
		c.Add(time.Minute)
	}
	if _, err := s.Authenticate(ctx, "mario", pw); err != nil {
		t.Fatalf("4 failures locked: %v", err)
	}

	// Five failures within 15 minutes lock for 15 minutes from the fifth.
	for i := range 5 {
		err := fail("mario")
		if i < 4 && errors.Is(err, metastore.ErrLockedOut) {
			t.Fatalf("locked after %d failures", i+1)
		}
		if i == 4 {
			wantCode(t, err, oml.EUNAUTHORIZED, "troppi tentativi falliti")
			if !errors.Is(err, metastore.ErrLockedOut) {
				t.Error("lock error does not wrap ErrLockedOut")
			}
			// The fifth failure at 09:08 UTC locks until 09:23 UTC, 10:23 in Rome.
			if h := oml.ErrorHint(err); !strings.Contains(h, "riprovare dopo le 10:23 del 10/03/2025") || !strings.Contains(h, "2025-03-10T09:23:00Z") {
				t.Errorf("hint %q", h)
			}
		}
		c.Add(time.Minute)
	}
	// The right password does not help while locked.
	_, err := s.Authenticate(ctx, "mario", pw)
	if !errors.Is(err, metastore.ErrLockedOut) {
		t.Fatalf("locked account let in: %v", err)
	}
	c.Add(14 * time.Minute) // 09:24: the lock ends
	if _, err := s.Authenticate(ctx, "mario", pw); err != nil {
		t.Fatalf("after the lock: %v", err)
	}

	// The window slides: failures at minutes 0, 10, 11, 12, 16 and 17
	// lock at the sixth, the fifth within 15 minutes (a window fixed at
	// the first failure would have restarted at minute 16).
	start := c.Now()
	for i, m := range []int{0, 10, 11, 12, 16, 17} {
		c.Set(start.Add(time.Duration(m) * time.Minute))
		err := fail("mario")
		if locked := errors.Is(err, metastore.ErrLockedOut); locked != (i == 5) {
			t.Fatalf("failure at minute %d: locked %v", m, locked)
		}
	}

	// Names that are not accounts lock the same way.
	for i := range 5 {
		if err := fail("nobody"); errors.Is(err, metastore.ErrLockedOut) != (i == 4) {
			t.Fatalf("unknown name, failure %d: %v", i+1, err)
		}
	}
}

func TestOIDCUser(t *testing.T) {
	ctx := context.Background()
	s, _, _ := open(t)
	if _, err := s.AddUser(ctx, "mario", "correct horse battery", nil); err != nil {
		t.Fatal(err)
	}
	u, err := s.UpsertOIDCUser(ctx, "https://idp.example", "abc", "m.bianchi")
	if err != nil || u.ID == 0 || len(u.Roles) != 0 || u.OIDCSubject != "abc" {
		t.Fatalf("UpsertOIDCUser = %+v, %v", u, err)
	}
	again, err := s.UpsertOIDCUser(ctx, "https://idp.example", "abc", "m.bianchi")
	if err != nil || again.ID != u.ID {
		t.Errorf("second upsert = %+v, %v", again, err)
	}
	renamed, err := s.UpsertOIDCUser(ctx, "https://idp.example", "abc", "marco.bianchi")
	if err != nil || renamed.ID != u.ID || renamed.Name != "marco.bianchi" {
		t.Errorf("rename = %+v, %v", renamed, err)
	}
	_, err = s.UpsertOIDCUser(ctx, "https://idp.example", "abc", "mario")
	wantCode(t, err, oml.ECONFLICT, "è già di un altro utente")
	_, err = s.UpsertOIDCUser(ctx, "https://idp.example", "other", "mario")
	wantCode(t, err, oml.ECONFLICT, "esiste già")
	_, err = s.UpsertOIDCUser(ctx, "", "abc", "x")
	wantCode(t, err, oml.EINVALID, "senza emittente")
	if got := actions(t, s, metastore.AuditFilter{Action: metastore.ActionUserAdd}); len(got) != 2 {
		t.Errorf("user_add entries %v", got)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s, c, dir := open(t)
	u, err := s.AddUser(ctx, "mario", "correct horse battery", roles(t, "analyst:016"))
	if err != nil {
		t.Fatal(err)
	}
	token, sess, err := s.NewSession(ctx, u.ID, 8*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 || len(sess.CSRF) != 43 || sess.CSRF == token || !sess.Expires.Equal(t0.Add(8*time.Hour)) {
		t.Errorf("token %q, session %+v", token, sess)
	}
	var n int
	raw(t, dir).QueryRow("SELECT count(*) FROM sessions WHERE token_hash = ? OR csrf = ? AND token_hash LIKE ?", token, token, "%"+token+"%").Scan(&n)
	if n != 0 {
		t.Error("the session token is stored in clear")
	}

	got, gu, err := s.Session(ctx, token)
	if err != nil || got.ID != sess.ID || got.CSRF != sess.CSRF || gu.Name != "mario" {
		t.Fatalf("Session = %+v, %+v, %v", got, gu, err)
	}
	// Role changes hold at the next request.
	if _, err := s.SetRoles(ctx, "mario", roles(t, "editor:016")); err != nil {
		t.Fatal(err)
	}
	if _, gu, _ := s.Session(ctx, token); gu.Roles.String() != "editor:016" {
		t.Errorf("roles after change %s", gu.Roles)
	}
	_, _, err = s.Session(ctx, "not a token")
	wantCode(t, err, oml.EUNAUTHORIZED, "sessione scaduta o non valida")

	c.Add(8 * time.Hour) // expired
	_, _, err = s.Session(ctx, token)
	wantCode(t, err, oml.EUNAUTHORIZED, "sessione scaduta")

	token2, _, err := s.NewSession(ctx, u.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, token2); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Session(ctx, token2)
	wantCode(t, err, oml.EUNAUTHORIZED, "")
	wantCode(t, s.EndSession(ctx, token2), oml.ENOTFOUND, "sessione inesistente")
	if got := actions(t, s, metastore.AuditFilter{Action: metastore.ActionLogout}); len(got) != 1 || got[0] != "logout mario mario" {
		t.Errorf("logout entries %v", got)
	}

	// Disabling ends the sessions and refuses new ones.
	token3, _, _ := s.NewSession(ctx, u.ID, time.Hour)
	if err := s.DisableUser(ctx, "mario"); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Session(ctx, token3)
	wantCode(t, err, oml.EUNAUTHORIZED, "")
	_, _, err = s.NewSession(ctx, u.ID, time.Hour)
	wantCode(t, err, oml.EUNAUTHORIZED, "disabilitato")
	_, _, err = s.NewSession(ctx, 999, time.Hour)
	wantCode(t, err, oml.EUNAUTHORIZED, "inesistente")
	_, _, err = s.NewSession(ctx, u.ID, 0)
	wantCode(t, err, oml.EINVALID, "")
}

func TestTokens(t *testing.T) {
	ctx := metastore.WithActor(context.Background(), "admin")
	s, c, dir := open(t)
	analyst := oml.Role{Kind: oml.RoleAnalyst, Territory: "016"}
	secret, tok, err := s.CreateToken(ctx, analyst, "script di Bergamo", t0.Add(90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, metastore.TokenPrefix) || len(secret) != 4+43 || len(tok.ID) != 16 {
		t.Errorf("secret %q, token %+v", secret, tok)
	}
	var n int
	raw(t, dir).QueryRow("SELECT count(*) FROM tokens WHERE secret_hash = ? OR id = ? OR label = ?", secret, secret, secret).Scan(&n)
	if n != 0 {
		t.Error("secret stored in clear")
	}

	bad := []struct {
		name    string
		role    oml.Role
		label   string
		expires time.Time
		code    string
		want    string
	}{
		{"node role", oml.Role{Kind: oml.RoleNode, Territory: "014"}, "", t0.Add(time.Hour), oml.EINVALID, "non ha il ruolo node:014"},
		{"public role", oml.Role{Kind: oml.RolePublic}, "", t0.Add(time.Hour), oml.EINVALID, "non ha il ruolo public"},
		{"invalid role", oml.Role{Kind: "analyst"}, "", t0.Add(time.Hour), oml.EINVALID, "manca il territorio"},
		{"past expiry", analyst, "", t0, oml.EINVALID, "scadenza"},
		{"label with newline", analyst, "a\nb", t0.Add(time.Hour), oml.EINVALID, "etichetta"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.CreateToken(ctx, tt.role, tt.label, tt.expires)
			wantCode(t, err, tt.code, tt.want)
		})
	}

	got, err := s.LookupToken(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Role != analyst || !got.LastUsed.Equal(t0) {
		t.Fatalf("LookupToken = %+v, %v", got, err)
	}
	// Uses within a minute are recorded once.
	c.Add(30 * time.Second)
	s.LookupToken(ctx, secret)
	c.Add(31 * time.Second)
	s.LookupToken(ctx, secret)
	if got := actions(t, s, metastore.AuditFilter{Action: metastore.ActionTokenUse}); len(got) != 2 || got[0] != "token_use token:"+tok.ID+" "+tok.ID {
		t.Errorf("token_use entries %v", got)
	}

	for _, bad := range []string{"", "oml_", "oml_nope", "Bearer " + secret, secret + "x"} {
		_, err := s.LookupToken(ctx, bad)
		wantCode(t, err, oml.EUNAUTHORIZED, "token API")
	}

	admin, _, err := s.CreateToken(ctx, oml.Role{Kind: oml.RoleAdmin}, "", t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.LookupToken(ctx, secret)
	wantCode(t, err, oml.EUNAUTHORIZED, "revocato")
	wantCode(t, s.RevokeToken(ctx, tok.ID), oml.ECONFLICT, "già revocato")
	wantCode(t, s.RevokeToken(ctx, "ffff"), oml.ENOTFOUND, "inesistente")

	c.Add(24 * time.Hour)
	_, err = s.LookupToken(ctx, admin)
	wantCode(t, err, oml.EUNAUTHORIZED, "scaduto il 2025-03-11")

	list, err := s.ListTokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != tok.ID || list[0].Revoked.IsZero() || list[0].Label != "script di Bergamo" || list[1].Role.Kind != oml.RoleAdmin {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}
	if list[0].Active(c.Now()) || list[1].Active(c.Now()) {
		t.Error("revoked or expired token active")
	}
	want := []string{"token_create admin " + tok.ID, "token_create admin " + list[1].ID, "token_revoke admin " + tok.ID}
	if got := actions(t, s, metastore.AuditFilter{Actor: "admin"}); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit %v, want %v", got, want)
	}
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	s, c, _ := open(t)
	_, err := s.Append(ctx, metastore.Entry{Action: "delete_everything"})
	wantCode(t, err, oml.EINVALID, "sconosciuta")
	_, err = s.Append(ctx, metastore.Entry{Action: metastore.ActionMicrodataRead, Detail: "\xff"})
	wantCode(t, err, oml.EINVALID, "UTF-8")
	_, err = s.AuditHead(ctx)
	wantCode(t, err, oml.ENOTFOUND, "vuoto")
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("empty log: %d, %v", n, err)
	}

	for i := range 6 {
		e, err := s.Append(metastore.WithActor(ctx, fmt.Sprint("analyst", i%2)), metastore.Entry{
			Action: metastore.ActionMicrodataRead, Object: "016", Rows: int64(100 * i), Detail: "estrazione"})
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != int64(i+1) || !e.Time.Equal(c.Now()) || e.Actor != fmt.Sprint("analyst", i%2) || len(e.Hash) != 64 {
			t.Errorf("entry %+v", e)
		}
		c.Add(time.Hour)
	}
	s.Append(ctx, metastore.Entry{Actor: "cli:root", Action: metastore.ActionReleasePublish, Object: "20250228-1"})

	tests := []struct {
		f    metastore.AuditFilter
		seqs string
	}{
		{metastore.AuditFilter{}, "1234567"},
		{metastore.AuditFilter{Action: metastore.ActionReleasePublish}, "7"},
		{metastore.AuditFilter{Actor: "analyst1"}, "246"},
		{metastore.AuditFilter{Since: t0.Add(4 * time.Hour)}, "567"},
		{metastore.AuditFilter{Limit: 2}, "67"},
		{metastore.AuditFilter{Actor: "analyst0", Limit: 2, Since: t0.Add(time.Hour)}, "35"},
	}
	for _, tt := range tests {
		es, err := s.Audit(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, e := range es {
			got += fmt.Sprint(e.Seq)
		}
		if got != tt.seqs {
			t.Errorf("Audit(%+v) = %s, want %s", tt.f, got, tt.seqs)
		}
	}
	if n, err := s.VerifyAudit(ctx); n != 7 || err != nil {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
	head, err := s.AuditHead(ctx)
	if err != nil || head.Seq != 7 || head.Action != metastore.ActionReleasePublish {
		t.Errorf("AuditHead = %+v, %v", head, err)
	}
}

// TestAuditTampering edits the log through a raw connection, as someone
// with access to the file would, and checks that VerifyAudit names the
// first entry that no longer holds.
func TestAuditTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper []string
		seq    int // the entry named
		want   string
	}{
		{"changed field", []string{"UPDATE audit SET rows = 0 WHERE seq = 3"}, 3, "il contenuto non corrisponde"},
		{"changed actor", []string{"UPDATE audit SET actor = 'someone' WHERE seq = 1"}, 1, "il contenuto non corrisponde"},
		{"changed time", []string{"UPDATE audit SET time = '2020-01-01T00:00:00.000000Z' WHERE seq = 5"}, 5, "il contenuto non corrisponde"},
		{"changed hash", []string{"UPDATE audit SET hash = prev_hash WHERE seq = 2"}, 2, "il contenuto non corrisponde"},
		{"deleted row", []string{"DELETE FROM audit WHERE seq = 3"}, 3, "voce mancante"},
		{"deleted first row", []string{"DELETE FROM audit WHERE seq = 1"}, 1, "voce mancante"},
		{"deleted last row", []string{"DELETE FROM audit WHERE seq = 5"}, 5, "mancano le ultime voci"},
		{"deleted last rows and head", []string{"DELETE FROM audit WHERE seq >= 4", "DELETE FROM audit_head"}, 4, "manca la testa registrata"},
		{"appended row", []string{"INSERT INTO audit SELECT 6, time, actor, action, object, rows, detail, hash, hash FROM audit WHERE seq = 5"}, 6, "il contenuto non corrisponde"},
		{"head rewritten", []string{"UPDATE audit_head SET hash = (SELECT prev_hash FROM audit WHERE seq = 5)"}, 5, "l'ultima voce non corrisponde alla testa registrata"},
		{"deleted row renumbered", []string{"DELETE FROM audit WHERE seq = 3", "UPDATE audit SET seq = seq - 1 WHERE seq > 3"}, 3, "il collegamento alla voce precedente"},
		{"reordered rows", []string{"UPDATE audit SET seq = -2 WHERE seq = 2", "UPDATE audit SET seq = 2 WHERE seq = 3", "UPDATE audit SET seq = 3 WHERE seq = -2"}, 2, "il collegamento"},
		{"swapped contents", []string{
			"CREATE TEMP TABLE a2 AS SELECT * FROM audit WHERE seq = 2",
			"UPDATE audit SET actor = (SELECT actor FROM audit WHERE seq = 4), rows = (SELECT rows FROM audit WHERE seq = 4) WHERE seq = 2",
			"UPDATE audit SET actor = (SELECT actor FROM a2), rows = (SELECT rows FROM a2) WHERE seq = 4"}, 2, "il contenuto non corrisponde"},
		{"inserted row", []string{"UPDATE audit SET seq = -(seq + 1) WHERE seq >= 3", "UPDATE audit SET seq = -seq WHERE seq < 0",
			"INSERT INTO audit SELECT 3, time, actor, action, object, rows, detail, prev_hash, hash FROM audit WHERE seq = 2"}, 3, "il collegamento"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, c, dir := open(t)
			for i := range 5 {
				if _, err := s.Append(metastore.WithActor(ctx, fmt.Sprint("a", i)), metastore.Entry{
					Action: metastore.ActionMicrodataRead, Object: "016", Rows: int64(10 + i)}); err != nil {
					t.Fatal(err)
				}
				c.Add(time.Minute)
			}
			db := raw(t, dir)
			conn, err := db.Conn(ctx) // one connection, for the temporary table
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range tt.tamper {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			n, err := s.VerifyAudit(ctx)
			wantCode(t, err, oml.EINTEGRITY, fmt.Sprintf("alla voce %d: %s", tt.seq, tt.want))
			if n != tt.seq-1 {
				t.Errorf("%d entries verified, want %d", n, tt.seq-1)
			}
		})
	}
}

// TestConcurrentAppends appends from many goroutines through two stores
// on one file (two processes, as oml serve and an oml command): the chain
// stays whole.
func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	s1, _, dir := open(t)
	s2, err := metastore.Open(ctx, dir, metastore.Options{Password: cheap})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s1.AddUser(ctx, "mario", "correct horse battery", nil); err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		s := s1
		if g%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(ctx, metastore.Entry{Action: metastore.ActionMicrodataRead, Object: fmt.Sprint(g), Rows: int64(i)}); err != nil {
					errs <- err
				}
				if i%10 == 0 { // interleave other writes
					if _, err := s.Authenticate(ctx, "mario", "wrong password!"); oml.ErrorCode(err) != oml.EUNAUTHORIZED {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := s2.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n < goroutines*each+1 {
		t.Errorf("%d entries", n)
	}
}

func TestAgenda(t *testing.T) {
	ctx := context.Background()
	s, _, _ := open(t)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.ParseInLocation(time.DateOnly, s, rome); return d }
	embargo := time.Date(2025, 4, 15, 11, 0, 0, 0, rome)

	b, err := s.AddPlanned(ctx, metastore.Planned{Title: "Rapporto territoriale 2024", Date: day("2025-06-30")})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AddPlanned(ctx, metastore.Planned{Release: "20250331-1", Title: " Flussi I trimestre 2025 ", Content: "Nota", Date: day("2025-04-15"), EmbargoUntil: embargo})
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Flussi I trimestre 2025" || !a.Date.Equal(time.Date(2025, 4, 15, 0, 0, 0, 0, time.UTC)) || !a.EmbargoUntil.Equal(embargo) {
		t.Errorf("AddPlanned = %+v", a)
	}
	c, err := s.AddPlanned(ctx, metastore.Planned{Title: "Flussi II trimestre", Date: day("2025-04-15")})
	if err != nil {
		t.Fatal(err)
	}

	bad := []struct {
		name string
		p    metastore.Planned
		code string
		want string
	}{
		{"no title", metastore.Planned{Title: "  ", Date: day("2025-01-01")}, oml.EINVALID, "titolo mancante"},
		{"two-line title", metastore.Planned{Title: "a\nb", Date: day("2025-01-01")}, oml.EINVALID, "una riga"},
		{"no date", metastore.Planned{Title: "x"}, oml.EINVALID, "data di pubblicazione mancante"},
		{"bad release", metastore.Planned{Title: "x", Date: day("2025-01-01"), Release: "../x y"}, oml.EINVALID, "identificativo di release"},
		{"release taken", metastore.Planned{Title: "x", Date: day("2025-01-01"), Release: "20250331-1"}, oml.ECONFLICT, "è già nella voce"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddPlanned(ctx, tt.p)
			wantCode(t, err, tt.code, tt.want)
		})
	}

	list, err := s.Agenda(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, p := range list {
		ids = append(ids, p.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint([]int64{a.ID, c.ID, b.ID}) {
		t.Errorf("agenda order %v, want by date then id", ids)
	}

	// The embargo holds until its instant.
	for _, tt := range []struct {
		now  time.Time
		want int
	}{{embargo.Add(-time.Second), 1}, {embargo, 0}, {embargo.Add(time.Hour), 0}} {
		m, err := s.EmbargoedReleases(ctx, tt.now)
		if err != nil || len(m) != tt.want || m == nil {
			t.Errorf("EmbargoedReleases(%v) = %v, %v", tt.now, m, err)
		}
		if tt.want == 1 && !m["20250331-1"].Equal(embargo) {
			t.Errorf("embargo %v", m)
		}
	}
	if !a.Embargoed(embargo.Add(-time.Minute)) || a.Embargoed(embargo) || b.Embargoed(t0) {
		t.Error("Planned.Embargoed wrong")
	}

	b.Release, b.EmbargoUntil = "20250630-1", day("2025-07-01")
	got, err := s.UpdatePlanned(ctx, b)
	if err != nil || got.Release != "20250630-1" || !got.Created.Equal(b.Created) {
		t.Fatalf("UpdatePlanned = %+v, %v", got, err)
	}
	if m, _ := s.EmbargoedReleases(ctx, t0); len(m) != 2 {
		t.Errorf("embargoes after update %v", m)
	}
	c.Release = "20250630-1"
	_, err = s.UpdatePlanned(ctx, c)
	wantCode(t, err, oml.ECONFLICT, "è già nella voce")
	if err := s.DeletePlanned(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.EmbargoedReleases(ctx, t0); len(m) != 1 {
		t.Errorf("embargoes after delete %v", m)
	}
	if got := actions(t, s, metastore.AuditFilter{Action: metastore.ActionAgendaChange}); len(got) != 5 {
		t.Errorf("agenda_change entries %v", got)
	}
	es, _ := s.Audit(ctx, metastore.AuditFilter{Action: metastore.ActionAgendaChange, Limit: 1})
	if !strings.HasPrefix(es[0].Detail, "rimossa / removed: 2025-04-15 \"Flussi I trimestre 2025\", release 20250331-1, embargo 2025-04-15T09:00:00Z") {
		t.Errorf("detail %q", es[0].Detail)
	}
}

// TestNotFound checks that every lookup of something missing is
// ENOTFOUND, not a zero value.
func TestNotFound(t *testing.T) {
	ctx := context.Background()
	s, _, _ := open(t)
	tests := []struct {
		name string
		err  func() error
	}{
		{"User", func() error { _, err := s.User(ctx, "nobody"); return err }},
		{"DisableUser", func() error { return s.DisableUser(ctx, "nobody") }},
		{"SetRoles", func() error { _, err := s.SetRoles(ctx, "nobody", nil); return err }},
		{"RevokeToken", func() error { return s.RevokeToken(ctx, "0123") }},
		{"Planned", func() error { _, err := s.Planned(ctx, 7); return err }},
		{"UpdatePlanned", func() error {
			_, err := s.UpdatePlanned(ctx, metastore.Planned{ID: 7, Title: "x", Date: t0})
			return err
		}},
		{"DeletePlanned", func() error { return s.DeletePlanned(ctx, 7) }},
		{"AuditHead", func() error { _, err := s.AuditHead(ctx); return err }},
		{"EndSession", func() error { return s.EndSession(ctx, "x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err(), oml.ENOTFOUND, "") })
	}
}
