package metastore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	"github.com/regione-lombardia/oml"
)

// Session is a login session of the portal. The bearer value (the cookie)
// is returned once by NewSession and never stored: the store keeps its
// SHA-256. CSRF is the session's secret for anti-forgery tokens of forms
// (the web layer derives or compares them); it is not a credential alone.
type Session struct {
	ID      int64     `json:"id"`
	UserID  int64     `json:"user_id"`
	CSRF    string    `json:"-"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// randomToken returns n random bytes in unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretHash is the stored form of a bearer secret: hex SHA-256. A fast
// hash is enough for 32 random bytes (nothing to guess), and lookups by
// hash do not leak the secret through timing.
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// NewSession opens a session for the account userID, valid for ttl, and
// returns its bearer value (32 random bytes, base64url: the cookie) with
// the session. It does not append login: the caller has just done it
// (Authenticate) or does it (OpenID Connect). A disabled or unknown
// account is EUNAUTHORIZED. Expired sessions of every account are deleted
// on the way.
func (s *Store) NewSession(ctx context.Context, userID int64, ttl time.Duration) (string, Session, error) {
	if ttl <= 0 {
		return "", Session{}, oml.Errorf(oml.EINVALID, "durata della sessione non positiva / non-positive session lifetime")
	}
	token := randomToken(32)
	now := s.now().UTC().Truncate(time.Microsecond)
	sess := Session{UserID: userID, CSRF: randomToken(32), Created: now, Expires: now.Add(ttl)}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var disabled bool
		err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, userID).Scan(&disabled)
		if errors.Is(err, sql.ErrNoRows) || disabled {
			return oml.Errorf(oml.EUNAUTHORIZED, "utente inesistente o disabilitato / unknown or disabled user")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires <= ?`, ts(now)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?)`,
			secretHash(token), userID, sess.CSRF, ts(sess.Created), ts(sess.Expires))
		if err != nil {
			return err
		}
		sess.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return "", Session{}, err
	}
	return token, sess, nil
}

// errNoSession is the answer to a session value that is unknown, ended or
// expired, or whose account is disabled.
func errNoSession() *oml.Error {
	return oml.Errorf(oml.EUNAUTHORIZED, "sessione scaduta o non valida / session expired or invalid").
		WithHint("accedere di nuovo")
}

// Session returns the session whose bearer value is token and its account,
// read now (so role changes and disabling take effect at once). An
// unknown, ended or expired session, or one whose account is disabled, is
// EUNAUTHORIZED. Sessions do not slide: Expires is fixed at NewSession.
func (s *Store) Session(ctx context.Context, token string) (Session, User, error) {
	var sess Session
	var created, expires sql.NullString
	row := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.csrf, s.created, s.expires, `+userColumns("u")+`
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, secretHash(token))
	u, err := scanUser(scanFunc(func(dest ...any) error {
		return row.Scan(append([]any{&sess.ID, &sess.UserID, &sess.CSRF, &created, &expires}, dest...)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, errNoSession()
	}
	if err != nil {
		return Session{}, User{}, err
	}
	if sess.Created, err = parseTS(created); err != nil {
		return Session{}, User{}, err
	}
	if sess.Expires, err = parseTS(expires); err != nil {
		return Session{}, User{}, err
	}
	if !s.now().Before(sess.Expires) || u.Disabled {
		return Session{}, User{}, errNoSession()
	}
	return sess, u, nil
}

// scanFunc is a scanner made of a function, to scan a user after other
// columns of the same row.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// EndSession ends the session whose bearer value is token and appends
// logout (actor: the account). An unknown or already ended session is
// ENOTFOUND, which a logout page may treat as done.
func (s *Store) EndSession(ctx context.Context, token string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var id int64
		var name string
		err := tx.QueryRowContext(ctx, `SELECT s.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, secretHash(token)).Scan(&id, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return oml.Errorf(oml.ENOTFOUND, "sessione inesistente o già chiusa / no such session")
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = s.appendTx(ctx, tx, Entry{Actor: name, Action: ActionLogout, Object: name})
		return err
	})
}
