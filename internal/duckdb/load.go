package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
)

// StagedFile describes one input file whose rows were staged.
type StagedFile struct {
	FileID    int
	Path      string
	SHA256    string
	Format    string
	EventType string // open data: the event type of the file
	Size      int64
	Read      int64 // rows read
	Rejected  int64 // rows rejected by the decoder
}

// Load is one ingest ready to commit.
type Load struct {
	Files       []StagedFile
	EventFiles  []string // stage files of accepted rows
	RejectFiles []string // stage files of rejected rows
	SkipFileIDs []int    // files staged but already ingested: their rows are left out
	KeyID       string   // fingerprint of the pseudonymisation key
	StartedAt   time.Time
	Version     string
}

// FileResult is the outcome of one file after the store's checks.
type FileResult struct {
	FileID     int
	Accepted   int64
	Rejected   int64 // decoder and store rejections
	Duplicates int64
	ByReason   map[oml.Reason]int64
}

// NextFileID returns the id the next ingested file gets.
func (db *DB) NextFileID(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, "SELECT coalesce(max(file_id), 0) + 1 FROM files").Scan(&n)
	return n, err
}

// IngestedFile returns the path and ingest time of the file with this
// sha256, or ok false if it was never ingested.
func (db *DB) IngestedFile(ctx context.Context, sha string) (path string, at time.Time, ok bool, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT f.path, i.finished_at FROM files f JOIN ingests i USING (ingest_id) WHERE f.sha256 = ?`, sha).Scan(&path, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	return path, at, err == nil, err
}

// CheckKey refuses a key other than the one the store was filled with:
// pseudonyms made with another key would not match the stored ones.
func (db *DB) CheckKey(ctx context.Context, keyID string) error {
	stored, err := db.Meta(ctx, "pseudo_key_id")
	if err != nil {
		return err
	}
	if stored != "" && stored != keyID {
		return oml.Errorf(oml.ECONFLICT, "la chiave di pseudonimizzazione (%s) non è quella usata per questa banca dati (%s) / the pseudonymisation key differs from the one this data bank was built with", keyID, stored).
			WithHint("usare la stessa chiave (file pseudo.key o OML_PSEUDO_KEY) / use the same key")
	}
	return nil
}

// Commit loads a staged ingest in one transaction: duplicates and reused ids
// are sorted out against everything stored, rectifications and
// cancellations are resolved, the relationships they touch are rebuilt, and
// the files are recorded. Either all of it is stored or nothing is.
func (db *DB) Commit(ctx context.Context, l Load) (map[int]*FileResult, error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) error {
		t0 := time.Now()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
		db.log.Debug("ingest step", "sql", firstLine(q), "duration", time.Since(t0).Round(time.Millisecond))
		return nil
	}

	for _, f := range l.Files {
		if f.FileID >= 1<<15 {
			return nil, fmt.Errorf("file id %d exceeds the 32767 files the event ordering key supports", f.FileID)
		}
	}

	// Files staged but found already ingested are left out.
	skip := "TRUE"
	if len(l.SkipFileIDs) > 0 {
		ids := make([]string, len(l.SkipFileIDs))
		for i, id := range l.SkipFileIDs {
			ids[i] = strconv.Itoa(id)
		}
		skip = "s.file_id NOT IN (" + strings.Join(ids, ",") + ")"
	}

	// 1. Keys of the staged rows. Only these are materialised: the rows
	// themselves go once from the stage files into communications.
	src := readCSV(l.EventFiles, stageColumns)
	if err := exec(`CREATE OR REPLACE TEMP TABLE keys AS SELECT seq, file_id, line, comm_id, tipo, rif, hash FROM ` + src + ` WHERE ` + skip); err != nil {
		return nil, err
	}
	if err := exec(`CREATE OR REPLACE TEMP TABLE stage_rejects AS SELECT * FROM ` + readCSV(l.RejectFiles, rejectColumns) + ` WHERE ` + skip); err != nil {
		return nil, err
	}

	// 2. Duplicates: an id seen before (stored, or earlier in this ingest)
	// with the same content is a resend; with other content it is rejected.
	// Only ids that occur more than once need a look.
	if err := exec(`CREATE OR REPLACE TEMP TABLE special AS
		WITH multi AS (
			SELECT comm_id FROM keys WHERE comm_id IS NOT NULL GROUP BY comm_id HAVING count(*) > 1
			UNION SELECT k.comm_id FROM keys k SEMI JOIN communications e ON e.comm_id = k.comm_id
		), classified AS (
			SELECT k.seq,
			  CASE WHEN e.hash IS NOT NULL AND e.hash = k.hash THEN 'dup'
			       WHEN e.hash IS NOT NULL THEN 'diff'
			       WHEN row_number() OVER w > 1 AND first_value(k.hash) OVER w = k.hash THEN 'dup'
			       WHEN row_number() OVER w > 1 THEN 'diff'
			       ELSE 'ok' END AS class
			FROM keys k LEFT JOIN communications e ON e.comm_id = k.comm_id
			WHERE k.comm_id IN (SELECT comm_id FROM multi)
			WINDOW w AS (PARTITION BY k.comm_id ORDER BY k.seq)
		)
		SELECT k.seq, k.file_id, k.line, k.comm_id, k.tipo, k.rif, coalesce(c.class, 'ok') AS class,
		       NULL::VARCHAR AS root_id, NULL::VARCHAR AS tipo_effettivo
		FROM keys k LEFT JOIN classified c USING (seq)
		WHERE c.class IN ('dup', 'diff') OR k.tipo IN ('R', 'X')`); err != nil {
		return nil, err
	}

	// 3. Roots: R and X take the root of the communication they name,
	// stored or staged, following chains of rectifications. A reference to
	// nothing (or to a cancellation) is rejected.
	if err := exec(`UPDATE special SET root_id = coalesce(c.root_id, c.comm_id), tipo_effettivo = coalesce(c.tipo_effettivo, c.tipo)
		FROM communications c WHERE special.class = 'ok' AND special.tipo IN ('R','X') AND c.comm_id = special.rif AND c.tipo <> 'X'`); err != nil {
		return nil, err
	}
	if err := exec(`UPDATE special SET root_id = k.comm_id, tipo_effettivo = k.tipo
		FROM (SELECT comm_id, tipo FROM keys
		      WHERE tipo IN ('A','C','P','T') AND comm_id IN (SELECT rif FROM special WHERE tipo IN ('R','X'))
		      AND seq NOT IN (SELECT seq FROM special WHERE class <> 'ok')) k
		WHERE special.class = 'ok' AND special.root_id IS NULL AND special.tipo IN ('R','X') AND k.comm_id = special.rif`); err != nil {
		return nil, err
	}
	for i := 0; i < 32; i++ { // chains inside this ingest; each pass resolves one more link
		res, err := tx.ExecContext(ctx, `UPDATE special SET root_id = t.root_id, tipo_effettivo = t.tipo_effettivo
			FROM (SELECT comm_id, root_id, tipo_effettivo FROM special WHERE class = 'ok' AND tipo = 'R' AND root_id IS NOT NULL) t
			WHERE special.class = 'ok' AND special.root_id IS NULL AND special.tipo IN ('R','X') AND t.comm_id = special.rif`)
		if err != nil {
			return nil, fmt.Errorf("resolve references: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	if err := exec(`UPDATE special SET class = 'noref' WHERE class = 'ok' AND tipo IN ('R','X') AND root_id IS NULL`); err != nil {
		return nil, err
	}

	// 4. Store accepted rows. The current version of a communication is its
	// latest non-X row, unless an X cancelled it.
	if err := exec(`INSERT INTO communications
		SELECT s.comm_id, s.tipo, s.rif, s.rel_id, s.data, s.worker, s.employer, s.genere, s.anno_nascita, s.eta, s.cittadinanza,
		       s.titolo_studio, s.comune_lavoro, s.prov_lavoro, s.comune_residenza, s.prov_residenza, s.ateco, s.professione,
		       s.contratto, s.orario, s.data_fine_prevista, s.tipo_trasformazione, s.motivo_cessazione, s.categoria_protetta,
		       s.hash, s.seq, sp.root_id, sp.tipo_effettivo, s.tipo <> 'X'
		FROM ` + src + ` LEFT JOIN special sp ON sp.seq = s.seq
		WHERE ` + skip + ` AND coalesce(sp.class, 'ok') = 'ok'`); err != nil {
		return nil, err
	}
	if err := exec(`CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT root_id FROM special WHERE class = 'ok' AND tipo IN ('R','X')`); err != nil {
		return nil, err
	}
	if err := exec(`UPDATE communications SET active = (communications.tipo <> 'X' AND communications.seq = m.last AND NOT m.cancelled)
		FROM (SELECT coalesce(root_id, comm_id) AS root, max(seq) FILTER (WHERE tipo <> 'X') AS last, bool_or(tipo = 'X') AS cancelled
		      FROM communications WHERE coalesce(root_id, comm_id) IN (SELECT root_id FROM touched) GROUP BY root) m
		WHERE coalesce(communications.root_id, communications.comm_id) = m.root`); err != nil {
		return nil, err
	}

	// 5. Rebuild the relationships touched by this ingest. On the first
	// load every relationship is new, and the filter is skipped.
	var empty bool
	if err := tx.QueryRowContext(ctx, "SELECT count(*) = 0 FROM relationship_index").Scan(&empty); err != nil {
		return nil, err
	}
	if empty {
		if err := exec(strings.Replace(rebuildRelationships, "rel_id IN (SELECT rel_id FROM touched_rel)", "rel_id IS NOT NULL", 1)); err != nil {
			return nil, err
		}
	} else {
		if err := exec(`CREATE OR REPLACE TEMP TABLE touched_rel AS
			SELECT DISTINCT rel_id FROM communications WHERE seq >= ? AND rel_id IS NOT NULL
			UNION SELECT DISTINCT rel_id FROM communications WHERE coalesce(root_id, comm_id) IN (SELECT root_id FROM touched) AND rel_id IS NOT NULL`, Seq(firstFileID(l), 0)); err != nil {
			return nil, err
		}
		if err := exec(`DELETE FROM relationship_index WHERE rel_id IN (SELECT rel_id FROM touched_rel)`); err != nil {
			return nil, err
		}
		if err := exec(rebuildRelationships); err != nil {
			return nil, err
		}
		if err := exec("DROP TABLE touched_rel"); err != nil {
			return nil, err
		}
	}

	// 6. Rejects, duplicates and the file records.
	if err := exec(`INSERT INTO rejects SELECT file_id, line, col, reason, detail, raw FROM stage_rejects`); err != nil {
		return nil, err
	}
	if err := exec(`INSERT INTO rejects
		SELECT s.file_id, s.line, CASE class WHEN 'diff' THEN 'id_comunicazione' ELSE 'rif_comunicazione' END,
		       CASE class WHEN 'diff' THEN ? ELSE ? END,
		       CASE class WHEN 'diff' THEN s.comm_id ELSE s.rif END,
		       concat_ws(',', s.comm_id, s.tipo, s.rif, s.rel_id, s.data, 'pseudo:' || s.worker, 'pseudo:' || s.employer, s.genere,
		                 s.anno_nascita, s.cittadinanza, s.titolo_studio, s.comune_lavoro, s.comune_residenza, s.ateco, s.professione,
		                 s.contratto, s.orario, s.data_fine_prevista, s.tipo_trasformazione, s.motivo_cessazione, s.categoria_protetta)
		FROM `+src+` JOIN special sp ON sp.seq = s.seq WHERE sp.class IN ('diff', 'noref')`, string(oml.DuplicateDifferent), string(oml.RefUnknown)); err != nil {
		return nil, err
	}
	if err := exec(`INSERT INTO duplicates SELECT file_id, line, comm_id, NULL FROM special WHERE class = 'dup'`); err != nil {
		return nil, err
	}

	var ingestID int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").Scan(&ingestID); err != nil {
		return nil, err
	}
	if err := exec(`INSERT INTO ingests VALUES (?, ?, ?, ?, ?)`, ingestID, l.StartedAt.UTC(), time.Now().UTC(), l.Version, len(l.Files)); err != nil {
		return nil, err
	}
	results := map[int]*FileResult{}
	for _, f := range l.Files {
		results[f.FileID] = &FileResult{FileID: f.FileID, ByReason: map[oml.Reason]int64{}}
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT k.file_id, coalesce(sp.class, 'ok'), NULL AS reason, count(*) FROM keys k LEFT JOIN special sp USING (seq) GROUP BY ALL
		UNION ALL SELECT file_id, 'rej', reason, count(*) FROM stage_rejects GROUP BY ALL`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int
		var class string
		var reason sql.NullString
		var n int64
		if err := rows.Scan(&id, &class, &reason, &n); err != nil {
			rows.Close()
			return nil, err
		}
		r := results[id]
		if r == nil {
			rows.Close()
			return nil, fmt.Errorf("stage holds rows of unknown file %d", id)
		}
		switch class {
		case "ok":
			r.Accepted += n
		case "dup":
			r.Duplicates += n
		case "diff":
			r.Rejected += n
			r.ByReason[oml.DuplicateDifferent] += n
		case "noref":
			r.Rejected += n
			r.ByReason[oml.RefUnknown] += n
		case "rej":
			r.Rejected += n
			r.ByReason[oml.Reason(reason.String)] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, f := range l.Files {
		r := results[f.FileID]
		if got := r.Accepted + r.Rejected + r.Duplicates; got != f.Read {
			return nil, fmt.Errorf("file %s: %d rows read but %d accounted for (accepted %d, rejected %d, duplicates %d)",
				f.Path, f.Read, got, r.Accepted, r.Rejected, r.Duplicates)
		}
		var et any
		if f.EventType != "" {
			et = f.EventType
		}
		if err := exec(`INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.FileID, ingestID, f.Path, f.SHA256, f.Format, et, f.Size, f.Read, r.Accepted, r.Rejected, r.Duplicates); err != nil {
			return nil, err
		}
	}
	if err := exec(`INSERT OR REPLACE INTO meta VALUES ('pseudo_key_id', ?)`, l.KeyID); err != nil {
		return nil, err
	}
	for _, t := range []string{"keys", "special", "stage_rejects", "touched"} {
		if err := exec("DROP TABLE " + t); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit ingest: %w", err)
	}
	return results, nil
}

// rebuildRelationships indexes the relationships of touched_rel from their
// current events. Events are ordered by date, then by arrival: the key k
// packs both into one BIGINT (days since 2000 above bit 47, seq below; seq
// fits while fewer than 32768 files are ingested, which Commit checks).
const rebuildRelationships = `
INSERT INTO relationship_index
WITH ev AS (
    SELECT rel_id, tipo, data, seq, data_fine_prevista, tipo_trasformazione, contratto, orario, motivo_cessazione,
           (date_diff('day', DATE '2000-01-01', data)::BIGINT << 47) + seq AS k
    FROM events WHERE rel_id IN (SELECT rel_id FROM touched_rel)
)
SELECT rel_id,
       coalesce(arg_min(seq, k) FILTER (WHERE tipo = 'A'), arg_min(seq, k)),
       bool_or(tipo = 'A'),
       min(data) FILTER (WHERE tipo = 'A'),
       min(data),
       arg_max(contratto, k),
       arg_max(orario, k),
       arg_max(data_fine_prevista, k) FILTER (WHERE tipo IN ('A', 'P') AND data_fine_prevista IS NOT NULL),
       min(data) FILTER (WHERE tipo = 'C'),
       arg_min(motivo_cessazione, k) FILTER (WHERE tipo = 'C'),
       min(data) FILTER (WHERE tipo = 'T' AND tipo_trasformazione IN ('TD_TI', 'AP_TI')),
       count(*),
       count(*) FILTER (WHERE tipo = 'C'),
       count(*) FILTER (WHERE tipo = 'P'),
       count(*) FILTER (WHERE tipo = 'T')
FROM ev GROUP BY rel_id`

// firstFileID returns the smallest file id of the load.
func firstFileID(l Load) int {
	first := 1 << 30
	for _, f := range l.Files {
		first = min(first, f.FileID)
	}
	return first
}

// readCSV returns a read_csv call over files with the given columns.
func readCSV(files []string, cols []struct{ name, typ string }) string {
	var b strings.Builder
	b.WriteString("read_csv([")
	for i, f := range files {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + strings.ReplaceAll(f, "'", "''") + "'")
	}
	b.WriteString("], header = false, auto_detect = false, delim = ',', quote = '\"', escape = '\"', nullstr = '', columns = {")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + c.name + "': '" + c.typ + "'")
	}
	b.WriteString("}) s")
	return b.String()
}

func firstLine(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexByte(q, '\n'); i > 0 {
		q = q[:i]
	}
	if len(q) > 60 {
		q = q[:60]
	}
	return q
}
