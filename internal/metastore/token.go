package metastore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
)

// TokenPrefix starts every API token secret, so that secret scanners and
// people recognise one (the federation's node tokens start "omlfed1.").
const TokenPrefix = "oml_"

// TokenUseInterval is how often LookupToken records a token's use: it
// updates LastUsed and appends token_use at most once per interval, so a
// busy client does not write on every request.
const TokenUseInterval = time.Minute

// Token is an API bearer token: a role for scripts and applications,
// without an account. The secret is returned once by CreateToken and never
// stored: the store keeps its SHA-256.
type Token struct {
	ID       string    `json:"id"`
	Role     oml.Role  `json:"role"`
	Label    string    `json:"label"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Revoked  time.Time `json:"revoked,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Active reports whether t is neither revoked nor expired at now.
func (t Token) Active(now time.Time) bool { return t.Revoked.IsZero() && now.Before(t.Expires) }

// CreateToken creates an API token with role, a label for people (who or
// what it is for) and an expiry, appends token_create, and returns the
// secret (TokenPrefix and 32 random bytes in base64url), shown this once,
// with the token. The role must be analyst, editor or admin (node roles
// have the federation's tokens; public needs none); expires must be in the
// future.
func (s *Store) CreateToken(ctx context.Context, role oml.Role, label string, expires time.Time) (string, Token, error) {
	if err := role.Validate(); err != nil {
		return "", Token{}, err
	}
	if role.Kind == oml.RoleNode || role.Kind == oml.RolePublic {
		return "", Token{}, oml.Errorf(oml.EINVALID, "un token API non ha il ruolo %s / an API token cannot have role %s", role, role).
			WithHint("ruoli: analyst:TERRITORIO, editor:TERRITORIO, admin; i token dei nodi si creano con --role node:PROVINCIA")
	}
	label = strings.TrimSpace(label)
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > 200 || strings.ContainsFunc(label, unicode.IsControl) {
		return "", Token{}, oml.Errorf(oml.EINVALID, "etichetta del token non valida (una riga, al massimo 200 caratteri) / invalid token label")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if !expires.After(now) {
		return "", Token{}, oml.Errorf(oml.EINVALID, "la scadenza del token deve essere futura / the token's expiry must be in the future")
	}
	id := make([]byte, 8)
	rand.Read(id)
	secret := TokenPrefix + randomToken(32)
	t := Token{ID: hex.EncodeToString(id), Role: role, Label: label, Created: now, Expires: expires.UTC().Truncate(time.Microsecond)}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, secret_hash, role, label, created, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, secretHash(secret), role.String(), label, ts(t.Created), ts(t.Expires)); err != nil {
			return err
		}
		_, err := s.appendTx(ctx, tx, Entry{Action: ActionTokenCreate, Object: t.ID,
			Detail: fmt.Sprintf("%s, scade / expires %s, %q", role, t.Expires.Format(time.RFC3339), label)})
		return err
	})
	if err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

const tokenColumns = `id, role, label, created, expires, revoked, last_used`

func scanToken(row scanner) (Token, error) {
	var t Token
	var role string
	var created, expires, revoked, used sql.NullString
	if err := row.Scan(&t.ID, &role, &t.Label, &created, &expires, &revoked, &used); err != nil {
		return Token{}, err
	}
	var err error
	if t.Role, err = oml.ParseRole(role); err != nil {
		return Token{}, fmt.Errorf("metastore: role of token %s: %w", t.ID, err)
	}
	for _, f := range []struct {
		to *time.Time
		s  sql.NullString
	}{{&t.Created, created}, {&t.Expires, expires}, {&t.Revoked, revoked}, {&t.LastUsed, used}} {
		if *f.to, err = parseTS(f.s); err != nil {
			return Token{}, err
		}
	}
	return t, nil
}

// LookupToken returns the token whose secret is secret. An unknown secret
// is EUNAUTHORIZED, and so are a revoked and an expired token, with a
// message saying which. It records the use (LastUsed and a token_use
// entry whose actor is "token:<id>") at most once per TokenUseInterval.
func (s *Store) LookupToken(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Token{}, oml.Errorf(oml.EUNAUTHORIZED, "token API non valido / invalid API token").
			WithHint("un token API comincia con %s ed è stampato una sola volta da oml token create", TokenPrefix)
	}
	t, err := scanToken(s.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE secret_hash = ?`, secretHash(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, oml.Errorf(oml.EUNAUTHORIZED, "token API sconosciuto / unknown API token").
			WithHint("controllare di averlo copiato intero; un token perso si revoca e se ne crea un altro")
	}
	if err != nil {
		return Token{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	switch {
	case !t.Revoked.IsZero():
		return Token{}, oml.Errorf(oml.EUNAUTHORIZED, "token API %s revocato il %s / API token revoked", t.ID, t.Revoked.Format(time.DateOnly)).
			WithHint("chiedere un nuovo token all'amministratore")
	case !now.Before(t.Expires):
		return Token{}, oml.Errorf(oml.EUNAUTHORIZED, "token API %s scaduto il %s / API token expired", t.ID, t.Expires.Format(time.DateOnly)).
			WithHint("chiedere un nuovo token all'amministratore")
	}
	if !t.LastUsed.IsZero() && now.Sub(t.LastUsed) < TokenUseInterval {
		return t, nil
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Recorded by a concurrent lookup meanwhile: nothing to do.
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used <= ?)`,
			ts(now), t.ID, ts(now.Add(-TokenUseInterval)))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = s.appendTx(ctx, tx, Entry{Actor: ActorTokenPrefix + t.ID, Action: ActionTokenUse, Object: t.ID, Detail: t.Role.String()})
		return err
	})
	if err != nil {
		return Token{}, err
	}
	t.LastUsed = now
	return t, nil
}

// RevokeToken revokes the token id at once and appends token_revoke. An
// unknown id is ENOTFOUND, a revoked token ECONFLICT.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("token", "token", id).WithHint("oml token list elenca i token")
		}
		if err != nil {
			return err
		}
		if !t.Revoked.IsZero() {
			return oml.Errorf(oml.ECONFLICT, "token %s già revocato il %s / token already revoked", id, t.Revoked.Format(time.DateOnly))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE id = ?`, ts(s.now()), id); err != nil {
			return err
		}
		_, err = s.appendTx(ctx, tx, Entry{Action: ActionTokenRevoke, Object: id, Detail: t.Role.String()})
		return err
	})
}

// ListTokens returns every API token, revoked and expired ones included,
// oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
