package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
)

// Lockout: MaxFailures failed logins for one name within LockoutWindow
// lock that name for LockoutDuration.
const (
	MaxFailures     = 5
	LockoutWindow   = 15 * time.Minute
	LockoutDuration = 15 * time.Minute
)

// User is an account: local (with a password) or from OpenID Connect
// (issuer and subject, no password). Roles are assigned by an
// administrator; an account with none reads what the public reads.
type User struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Roles       oml.Roles `json:"roles"`
	Disabled    bool      `json:"disabled"`
	OIDCIssuer  string    `json:"oidc_issuer,omitempty"`
	OIDCSubject string    `json:"oidc_subject,omitempty"`
	Created     time.Time `json:"created"`
}

// ValidName checks an account name: 1 to 100 characters, letters, digits
// and . _ - @ +, so that names are e-mail addresses or handles and never
// collide with the separators of the command line and the audit log. The
// error is EINVALID.
func ValidName(name string) error {
	ok := name != "" && utf8.RuneCountInString(name) <= 100
	for _, r := range name {
		ok = ok && (r == '.' || r == '_' || r == '-' || r == '@' || r == '+' ||
			('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || (r > 127 && isLetter(r)))
	}
	if !ok {
		return oml.Errorf(oml.EINVALID, "nome utente %q non valido / invalid user name", name).
			WithHint("da 1 a 100 caratteri: lettere, cifre e . _ - @ + (per esempio mario.rossi o m.rossi@regione.lombardia.it)")
	}
	return nil
}

func isLetter(r rune) bool { return strings.ToLower(string(r)) != strings.ToUpper(string(r)) }

// checkPassword applies the password policy: at least MinPasswordLength
// characters, at most maxPasswordBytes bytes.
func checkPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return oml.Errorf(oml.EINVALID, "password troppo corta: %d caratteri, ne servono almeno %d / password too short: at least %d characters", n, MinPasswordLength, MinPasswordLength).
			WithHint("una frase di quattro o cinque parole è lunga e facile da ricordare")
	}
	if len(password) > maxPasswordBytes {
		return oml.Errorf(oml.EINVALID, "password troppo lunga (più di %d byte) / password too long", maxPasswordBytes)
	}
	return nil
}

// checkRoles validates roles for an account: no node roles (nodes are
// machines of the federation, with node tokens) and no public (the
// default of an account without roles).
func checkRoles(roles oml.Roles) (oml.Roles, error) {
	if err := roles.Validate(); err != nil {
		return nil, err
	}
	roles, _ = oml.ParseRoles(roles.String()) // sorted, without duplicates
	for _, r := range roles {
		if r.Kind == oml.RoleNode || r.Kind == oml.RolePublic {
			return nil, oml.Errorf(oml.EINVALID, "il ruolo %s non si assegna a un utente / role %s is not for accounts", r, r).
				WithHint("ruoli di un utente: admin, analyst:TERRITORIO, editor:TERRITORIO; i nodi ricevono un token con oml token create --role node:PROVINCIA")
		}
	}
	return roles, nil
}

// hash runs fn holding one of the store's hashing slots.
func (s *Store) hash(ctx context.Context, fn func()) error {
	select {
	case s.hashes <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashes }()
	fn()
	return nil
}

// AddUser creates a local account with password (MinPasswordLength
// characters at least; hashed with argon2id, the password itself is never
// stored) and roles, and appends user_add. A name taken, case-insensitively,
// is ECONFLICT.
func (s *Store) AddUser(ctx context.Context, name, password string, roles oml.Roles) (User, error) {
	if err := ValidName(name); err != nil {
		return User{}, err
	}
	if err := checkPassword(password); err != nil {
		return User{}, err
	}
	roles, err := checkRoles(roles)
	if err != nil {
		return User{}, err
	}
	var phc string
	if err := s.hash(ctx, func() { phc, err = hashPassword(password, s.params) }); err != nil {
		return User{}, err
	}
	if err != nil {
		return User{}, err
	}
	u := User{Name: name, Roles: roles, Created: s.now().UTC().Truncate(time.Microsecond)}
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := s.insertUser(ctx, tx, &u, sql.NullString{String: phc, Valid: true}); err != nil {
			return err
		}
		_, err := s.appendTx(ctx, tx, Entry{Action: ActionUserAdd, Object: name, Detail: "ruoli / roles: " + rolesText(roles)})
		return err
	})
	return u, err
}

func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, u *User, password sql.NullString) error {
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ?`, u.Name).Scan(&taken); err != nil {
		return err
	}
	if taken > 0 {
		return oml.Errorf(oml.ECONFLICT, "l'utente %q esiste già / user %q already exists", u.Name, u.Name).
			WithHint("scegliere un altro nome; oml user list elenca gli utenti")
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO users (name, password, oidc_issuer, oidc_subject, roles, created) VALUES (?, ?, ?, ?, ?, ?)`,
		u.Name, password, nullString(u.OIDCIssuer), nullString(u.OIDCSubject), u.Roles.String(), ts(u.Created))
	if err != nil {
		return err
	}
	u.ID, err = res.LastInsertId()
	return err
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func rolesText(r oml.Roles) string {
	if len(r) == 0 {
		return "(nessuno / none)"
	}
	return r.String()
}

// userColumns are the columns scanUser reads, of the users table named
// alias ("" for none).
func userColumns(alias string) string {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	return p + "id, " + p + "name, " + p + "roles, " + p + "disabled, coalesce(" + p + "oidc_issuer, ''), coalesce(" + p + "oidc_subject, ''), " + p + "created"
}

type scanner interface{ Scan(...any) error }

func scanUser(row scanner) (User, error) {
	var u User
	var roles string
	var created sql.NullString
	if err := row.Scan(&u.ID, &u.Name, &roles, &u.Disabled, &u.OIDCIssuer, &u.OIDCSubject, &created); err != nil {
		return User{}, err
	}
	var err error
	if u.Roles, err = oml.ParseRoles(roles); err != nil {
		return User{}, fmt.Errorf("metastore: roles of user %d: %w", u.ID, err)
	}
	u.Created, err = parseTS(created)
	return u, err
}

// User returns the account named name (case-insensitively); ENOTFOUND
// when there is none.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	return userBy(ctx, s.r, name)
}

// userBy reads the account named name with q.
func userBy(ctx context.Context, q querier, name string) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, notFound("utente", "user", name).WithHint("oml user list elenca gli utenti")
	}
	return u, err
}

// ListUsers returns every account, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userColumns("")+` FROM users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// DisableUser disables the account named name: it can no longer log in,
// its sessions end now, and user_disable is appended. The account and its
// audit trail stay. Disabling a disabled account is ECONFLICT.
func (s *Store) DisableUser(ctx context.Context, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		u, err := userBy(ctx, tx, name)
		if err != nil {
			return err
		}
		if u.Disabled {
			return oml.Errorf(oml.ECONFLICT, "l'utente %q è già disabilitato / user %q is already disabled", u.Name, u.Name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1 WHERE id = ?`, u.ID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, u.ID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		_, err = s.appendTx(ctx, tx, Entry{Action: ActionUserDisable, Object: u.Name, Detail: fmt.Sprintf("sessioni chiuse / sessions ended: %d", n)})
		return err
	})
}

// SetRoles replaces the roles of the account named name and appends
// role_change with the roles before and after. The change holds from the
// next request of its open sessions, which read the account each time.
func (s *Store) SetRoles(ctx context.Context, name string, roles oml.Roles) (User, error) {
	roles, err := checkRoles(roles)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.write(ctx, func(tx *sql.Tx) error {
		if u, err = userBy(ctx, tx, name); err != nil {
			return err
		}
		before := u.Roles
		if _, err := tx.ExecContext(ctx, `UPDATE users SET roles = ? WHERE id = ?`, roles.String(), u.ID); err != nil {
			return err
		}
		u.Roles = roles
		_, err := s.appendTx(ctx, tx, Entry{Action: ActionRoleChange, Object: u.Name, Detail: rolesText(before) + " -> " + rolesText(roles)})
		return err
	})
	return u, err
}

// UpsertOIDCUser returns the account of the OpenID Connect identity
// (issuer, subject), creating it with no roles (an administrator assigns
// them) and appending user_add the first time, and renaming it when the
// provider's name changed. The name must be valid and not taken by
// another account (ECONFLICT). It does not log in: the web layer, having
// verified the ID token, calls NewSession (which refuses a disabled
// account) and appends login.
func (s *Store) UpsertOIDCUser(ctx context.Context, issuer, subject, name string) (User, error) {
	if issuer == "" || subject == "" {
		return User{}, oml.Errorf(oml.EINVALID, "identità OpenID Connect senza emittente o soggetto / OpenID Connect identity without issuer or subject")
	}
	if err := ValidName(name); err != nil {
		return User{}, err
	}
	var u User
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE oidc_issuer = ? AND oidc_subject = ?`, issuer, subject))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u = User{Name: name, OIDCIssuer: issuer, OIDCSubject: subject, Created: s.now().UTC().Truncate(time.Microsecond)}
			if err := s.insertUser(ctx, tx, &u, sql.NullString{}); err != nil {
				return err
			}
			_, err = s.appendTx(ctx, tx, Entry{Action: ActionUserAdd, Object: name, Detail: "OpenID Connect " + issuer})
			return err
		case err != nil:
			return err
		case u.Name != name:
			var taken int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE name = ? AND id <> ?`, name, u.ID).Scan(&taken); err != nil {
				return err
			}
			if taken > 0 {
				return oml.Errorf(oml.ECONFLICT, "il nome %q è già di un altro utente / name %q belongs to another user", name, name)
			}
			_, err = tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, name, u.ID)
			u.Name = name
			return err
		}
		return nil
	})
	return u, err
}

// errWrongCredentials is the one answer to a wrong name or password, a
// disabled account and an account without a password, so that the answer
// does not tell which accounts exist.
func errWrongCredentials() *oml.Error {
	return oml.Errorf(oml.EUNAUTHORIZED, "nome utente o password errati / wrong user name or password").
		WithHint("dopo %d tentativi falliti in %d minuti l'accesso è sospeso per %d minuti", MaxFailures, int(LockoutWindow.Minutes()), int(LockoutDuration.Minutes()))
}

// ErrLockedOut is the cause of the EUNAUTHORIZED error Authenticate
// returns for a locked name (errors.Is): the web layer may answer 429 with
// Retry-After.
var ErrLockedOut = errors.New("login locked out")

func errLocked(until time.Time) *oml.Error {
	ceil := func(t time.Time, d time.Duration) time.Time {
		if r := t.Truncate(d); r.Before(t) {
			return r.Add(d)
		} else {
			return r
		}
	}
	local := ceil(until, time.Minute).In(itfmt.Rome)
	return &oml.Error{Code: oml.EUNAUTHORIZED, Err: ErrLockedOut,
		Message: fmt.Sprintf("troppi tentativi falliti: accesso sospeso per %d minuti / too many failed attempts: login suspended", int(LockoutDuration.Minutes())),
		Hint: fmt.Sprintf("riprovare dopo le %s del %s / retry after %s", local.Format("15:04"), local.Format("02/01/2006"),
			ceil(until, time.Second).UTC().Format(time.RFC3339))}
}

// Authenticate checks name and password and returns the account. The
// answer is the same EUNAUTHORIZED error for an unknown name, a wrong
// password, a disabled account and an account that logs in with OpenID
// Connect, and takes as long. MaxFailures failures for one name within
// LockoutWindow (a sliding window) lock that name for LockoutDuration:
// every attempt then fails, whatever the password, with an EUNAUTHORIZED
// error wrapping ErrLockedOut whose hint says when to retry; names that
// are not accounts lock the same way. A success clears the failures.
// Each attempt appends login or login_failed (actor: the name tried), in
// the transaction that counts it.
func (s *Store) Authenticate(ctx context.Context, name, password string) (User, error) {
	now := s.now().UTC()
	// The name tried is anyone's input: the log keeps at most 100
	// characters of it, in valid UTF-8.
	tried := strings.ToValidUTF8(name, "?")
	if utf8.RuneCountInString(tried) > 100 {
		tried = string([]rune(tried)[:100]) + "…"
	}
	if until, err := s.lockedUntil(ctx, s.r, name); err != nil {
		return User{}, err
	} else if now.Before(until) {
		_, err := s.Append(ctx, Entry{Actor: tried, Action: ActionLoginFailed, Object: tried, Detail: "accesso sospeso / locked out"})
		return User{}, errors.Join(errLocked(until), err)
	}

	var id int64
	var phc sql.NullString
	var disabled bool
	var why string
	err := s.r.QueryRowContext(ctx, `SELECT id, password, disabled FROM users WHERE name = ?`, name).Scan(&id, &phc, &disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		why = "utente sconosciuto / unknown user"
	case err != nil:
		return User{}, err
	case !phc.Valid:
		why = "utente OpenID Connect senza password / OpenID Connect account"
	}
	encoded := phc.String
	if why != "" {
		if encoded, err = s.dummy(); err != nil {
			return User{}, err
		}
	}
	ok, params := false, PasswordParams{}
	if len(password) <= maxPasswordBytes {
		var verr error
		if err := s.hash(ctx, func() { ok, params, verr = verifyPassword(password, encoded) }); err != nil {
			return User{}, err
		}
		if verr != nil {
			return User{}, fmt.Errorf("metastore: user %q: %w", name, verr)
		}
	}
	switch {
	case why != "":
		ok = false
	case !ok:
		why = "password errata / wrong password"
	case disabled:
		ok, why = false, "utente disabilitato / user disabled"
	}
	var rehash string
	if ok && params != s.params {
		if err := s.hash(ctx, func() { rehash, err = hashPassword(password, s.params) }); err != nil {
			return User{}, err
		}
	}

	var u User
	var locked time.Time
	err = s.write(ctx, func(tx *sql.Tx) error {
		// A lock set by a concurrent attempt meanwhile holds for this one.
		until, err := s.lockedUntil(ctx, tx, name)
		if err != nil {
			return err
		}
		if now.Before(until) {
			ok, locked = false, until
			why = strings.TrimPrefix(why+"; accesso sospeso / locked out", "; ")
		}
		if ok {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE name = ?`, name); err != nil {
				return err
			}
			if rehash != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE users SET password = ? WHERE id = ?`, rehash, id); err != nil {
					return err
				}
			}
			if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns("")+` FROM users WHERE id = ?`, id)); err != nil {
				return err
			}
			_, err = s.appendTx(ctx, tx, Entry{Actor: u.Name, Action: ActionLogin, Object: u.Name, Detail: "password"})
			return err
		}
		if locked.IsZero() {
			if locked, err = recordFailure(ctx, tx, name, now); err != nil {
				return err
			}
			if !locked.IsZero() {
				why += fmt.Sprintf("; %d tentativi falliti, accesso sospeso / %d failures, locked out", MaxFailures, MaxFailures)
			}
		}
		_, err = s.appendTx(ctx, tx, Entry{Actor: tried, Action: ActionLoginFailed, Object: tried, Detail: why})
		return err
	})
	switch {
	case err != nil:
		return User{}, err
	case !locked.IsZero():
		return User{}, errLocked(locked)
	case !ok:
		return User{}, errWrongCredentials()
	}
	return u, nil
}

// querier is what lockedUntil reads with: the readers or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// lockedUntil returns when the lock on name ends (zero when none).
func (s *Store) lockedUntil(ctx context.Context, q querier, name string) (time.Time, error) {
	var until sql.NullString
	err := q.QueryRowContext(ctx, `SELECT until FROM login_locks WHERE name = ?`, name).Scan(&until)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, err
	}
	return parseTS(until)
}

// recordFailure counts a failed login for name at now and returns when
// the lock it sets ends (zero when it sets none): the MaxFailures-th
// failure within LockoutWindow locks the name and clears its failures, so
// that after the lock the name has MaxFailures attempts again.
func recordFailure(ctx context.Context, tx *sql.Tx, name string, now time.Time) (time.Time, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at <= ?`, ts(now.Add(-LockoutWindow))); err != nil {
		return time.Time{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (name, at) VALUES (?, ?)`, name, ts(now)); err != nil {
		return time.Time{}, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE name = ?`, name).Scan(&n); err != nil {
		return time.Time{}, err
	}
	if n < MaxFailures {
		return time.Time{}, nil
	}
	until := now.Add(LockoutDuration)
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE name = ?`, name); err != nil {
		return time.Time{}, err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO login_locks (name, until) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET until = excluded.until`, name, ts(until))
	return until, err
}
