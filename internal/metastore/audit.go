package metastore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
)

// Audit actions. The store writes the account, token and agenda actions
// itself; the web layer appends login and logout of OpenID Connect
// sessions, token_use it does not see here, microdata_read, and the
// command line appends release_publish.
const (
	ActionLogin          = "login"
	ActionLoginFailed    = "login_failed"
	ActionLogout         = "logout"
	ActionTokenUse       = "token_use"
	ActionTokenCreate    = "token_create"
	ActionTokenRevoke    = "token_revoke"
	ActionRoleChange     = "role_change"
	ActionUserAdd        = "user_add"
	ActionUserDisable    = "user_disable"
	ActionMicrodataRead  = "microdata_read"
	ActionReleasePublish = "release_publish"
	ActionAgendaChange   = "agenda_change"
)

// Actions lists every audit action.
var Actions = []string{ActionLogin, ActionLoginFailed, ActionLogout, ActionTokenUse, ActionTokenCreate, ActionTokenRevoke,
	ActionRoleChange, ActionUserAdd, ActionUserDisable, ActionMicrodataRead, ActionReleasePublish, ActionAgendaChange}

// Entry is one line of the audit log. Actor is who acted (see WithActor),
// Object what the action was on (an account name, a token id, a territory,
// a release id, an agenda entry id), Rows how many rows of microdata were
// read (0 for other actions), Detail free text. Seq, Time, PrevHash and
// Hash are set by the store.
type Entry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Object   string    `json:"object"`
	Rows     int64     `json:"rows"`
	Detail   string    `json:"detail"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

// zeroHash is the prev_hash of the first entry.
var zeroHash = strings.Repeat("0", 2*sha256.Size)

// canonical is the encoding of e that its hash covers: a JSON array of
// seq, time (UTC, microseconds), actor, action, object, rows and detail.
// Append refuses strings that are not UTF-8, which JSON would rewrite.
func (e Entry) canonical() []byte {
	b, _ := json.Marshal([]any{e.Seq, ts(e.Time), e.Actor, e.Action, e.Object, e.Rows, e.Detail})
	return b
}

// chainHash returns hex(sha256(prev || canonical(e))), prev being the
// previous entry's hash as bytes.
func chainHash(prev string, e Entry) string {
	p, _ := hex.DecodeString(prev)
	h := sha256.New()
	h.Write(p)
	h.Write(e.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// Append adds e to the audit log, at the end of the chain, and returns it
// as stored: Seq, Time (the store's clock, to the microsecond), PrevHash
// and Hash are set; an empty Actor is the actor of ctx. Action must be one
// of Actions.
func (s *Store) Append(ctx context.Context, e Entry) (Entry, error) {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = s.appendTx(ctx, tx, e)
		return err
	})
	return e, err
}

// appendTx appends e within tx: the write lock tx holds serialises the
// chain, across processes too.
func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	if e.Actor == "" {
		e.Actor = ActorOf(ctx)
	}
	known := false
	for _, a := range Actions {
		known = known || a == e.Action
	}
	if !known {
		return Entry{}, oml.Errorf(oml.EINVALID, "azione di audit %q sconosciuta / unknown audit action", e.Action).
			WithHint("azioni: %s", strings.Join(Actions, ", "))
	}
	for _, f := range []string{e.Actor, e.Object, e.Detail} {
		if !utf8.ValidString(f) {
			return Entry{}, oml.Errorf(oml.EINVALID, "voce di audit non in UTF-8 / audit entry not UTF-8")
		}
	}
	if e.Rows < 0 {
		return Entry{}, oml.Errorf(oml.EINVALID, "righe negative in una voce di audit / negative rows")
	}
	e.PrevHash = zeroHash
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &e.PrevHash)
	if err != nil && err != sql.ErrNoRows {
		return Entry{}, err
	}
	e.Seq++
	e.Time = s.now().UTC().Truncate(time.Microsecond)
	e.Hash = chainHash(e.PrevHash, e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (seq, time, actor, action, object, rows, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, ts(e.Time), e.Actor, e.Action, e.Object, e.Rows, e.Detail, e.PrevHash, e.Hash); err != nil {
		return Entry{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_head (one, seq, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
		e.Seq, e.Hash); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	Action string    // only this action
	Actor  string    // only this actor
	Since  time.Time // only entries at or after this time
	Limit  int       // only the last Limit entries that match (all when 0)
}

// Audit returns the entries that match f, oldest first.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]Entry, error) {
	var where []string
	var args []any
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, ts(f.Since))
	}
	q := `SELECT seq, time, actor, action, object, rows, detail, prev_hash, hash FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT * FROM (`+q+`) ORDER BY seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var t sql.NullString
	if err := rows.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Object, &e.Rows, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return Entry{}, err
	}
	var err error
	e.Time, err = parseTS(t)
	return e, err
}

// VerifyAudit walks the whole audit log and checks the chain: sequence
// numbers 1, 2, 3 ... with no gap, every prev_hash equal to the hash of
// the entry before, every hash equal to the hash of its entry, and the
// last entry equal to the head recorded beside the log. It returns the
// number of entries verified. On the first break it returns the number of
// entries before it and an EINTEGRITY error naming the seq of the first
// entry that fails: a changed field, a deleted, inserted or reordered
// entry, and entries removed from the end all fail.
//
// What it cannot detect is a log rewritten whole, hashes included, by
// someone who can write the file: keep the head printed by oml audit
// --verify elsewhere (ADR 0012).
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one snapshot for the log and its head
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT seq, time, actor, action, object, rows, detail, prev_hash, hash FROM audit ORDER BY seq`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	broken := func(seq int64, it, en string) error {
		return oml.Errorf(oml.EINTEGRITY, "registro di audit alterato alla voce %d: %s / audit log broken at entry %d: %s", seq, it, seq, en).
			WithHint("le voci fino alla %d sono integre; confrontare il file %s con la copia di sicurezza", seq-1, s.path)
	}
	n, prev := 0, Entry{Hash: zeroHash}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return n, broken(prev.Seq+1, "voce illeggibile", "unreadable entry")
		}
		switch {
		case e.Seq != prev.Seq+1:
			return n, broken(prev.Seq+1, fmt.Sprintf("voce mancante (segue la %d)", e.Seq), fmt.Sprintf("entry missing (next is %d)", e.Seq))
		case e.PrevHash != prev.Hash:
			return n, broken(e.Seq, "il collegamento alla voce precedente non corrisponde", "link to the previous entry does not match")
		case chainHash(e.PrevHash, e) != e.Hash:
			return n, broken(e.Seq, "il contenuto non corrisponde alla sua impronta", "content does not match its hash")
		}
		n, prev = n+1, e
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	var head Entry
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head`).Scan(&head.Seq, &head.Hash)
	switch {
	case err == sql.ErrNoRows:
		if n > 0 {
			return n, broken(prev.Seq+1, fmt.Sprintf("manca la testa registrata: voci dopo la %d forse rimosse", prev.Seq),
				fmt.Sprintf("recorded head missing: entries after %d may have been removed", prev.Seq))
		}
	case err != nil:
		return n, err
	case head.Seq > prev.Seq:
		return n, broken(prev.Seq+1, fmt.Sprintf("mancano le ultime voci fino alla %d", head.Seq), fmt.Sprintf("last entries up to %d removed", head.Seq))
	case head.Seq < prev.Seq:
		return int(head.Seq), broken(head.Seq+1, fmt.Sprintf("voci aggiunte dopo la testa registrata (%d)", head.Seq), fmt.Sprintf("entries added after the recorded head (%d)", head.Seq))
	case head.Hash != prev.Hash:
		return n - 1, broken(prev.Seq, "l'ultima voce non corrisponde alla testa registrata", "last entry does not match the recorded head")
	}
	return n, nil
}

// AuditHead returns the last entry of the log: its Seq and Hash identify
// the whole chain before it, and are what to keep elsewhere to detect a
// rewritten log. An empty log is ENOTFOUND.
func (s *Store) AuditHead(ctx context.Context) (Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, time, actor, action, object, rows, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return Entry{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Entry{}, err
		}
		return Entry{}, oml.Errorf(oml.ENOTFOUND, "registro di audit vuoto / audit log empty")
	}
	return scanEntry(rows)
}
