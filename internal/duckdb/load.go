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
	"github.com/regione-lombardia/oml/internal/bloom"
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
	Fresh     int64 // rows staged as fresh (see StageWriter)
}

// Load is one ingest ready to commit.
type Load struct {
	Files        []StagedFile
	EventFiles   []string // stage files of fresh accepted rows
	SpecialFiles []string // stage files of special accepted rows
	RejectFiles  []string // stage files of rejected rows
	SkipFileIDs  []int    // files staged but already ingested: their rows are left out
	KeyID        string   // fingerprint of the pseudonymisation key
	// IDFilter holds every id stored and staged; it is stored with the
	// ingest for the next one (see IDFilter).
	IDFilter  *bloom.Filter
	StartedAt time.Time
	Version   string
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

// Commit loads a staged ingest in one transaction: fresh rows go straight
// in; special rows (R and X, and rows whose id may repeat one seen before)
// are checked against everything stored for duplicates and reused ids, and
// rectifications and cancellations are resolved; the relationships touched
// are rebuilt, the id filter and the files are recorded. Either all of it is
// stored or nothing is.
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
	// Rows of this ingest have seq >= firstSeq; stored rows, smaller ones.
	firstSeq := Seq(firstFileID(l), 0)

	// Files staged but found already ingested are left out.
	skip, skipSeq := "TRUE", "TRUE"
	if len(l.SkipFileIDs) > 0 {
		ids := make([]string, len(l.SkipFileIDs))
		for i, id := range l.SkipFileIDs {
			ids[i] = strconv.Itoa(id)
		}
		skip = "s.file_id NOT IN (" + strings.Join(ids, ",") + ")"
		skipSeq = "(s.seq >> 32) NOT IN (" + strings.Join(ids, ",") + ")"
	}

	// Scans of communications over the rows of this transaction run on
	// one thread unless the table held enough rows before it (see
	// splitScan): then they are split.
	var committed int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM communications").Scan(&committed); err != nil {
		return nil, err
	}
	ways := 1
	if committed < int64(db.threads)*rowGroupSize {
		ways = db.threads
	}
	comms, events := splitScan("communications", ways), splitScan("events", ways)

	// 1. Special rows, in full (they are few).
	if err := exec(`CREATE OR REPLACE TEMP TABLE special AS
		SELECT s.*, (s.seq >> 32)::INTEGER AS file_id, s.seq & 4294967295 AS line,
		       'ok' AS class, FALSE AS moved, NULL::VARCHAR AS root_id, NULL::VARCHAR AS tipo_effettivo
		FROM ` + readCSV(l.SpecialFiles, stageColumns) + ` WHERE ` + skipSeq); err != nil {
		return nil, err
	}
	// 2. Fresh rows: an A, C, P or T whose id the decoder's filter had
	// never seen (or an open-data row, which has none) is stored as it is,
	// streamed once from the stage files. Only if a special row turns out
	// to carry the same id with a smaller seq is it taken out again (step 3).
	// Its active flag is final unless an R or X names it: those rows start
	// inactive, and step 5 corrects the few where that is wrong. (Any
	// UPDATE or DELETE of rows appended in this transaction makes DuckDB
	// rewrite them at commit, about as long as the insert took: they must
	// be rare.)
	if err := exec(`INSERT INTO communications
		SELECT s.comm_id, s.tipo, s.rif, s.rel_id, s.data, s.worker, s.employer, s.genere, s.anno_nascita, s.eta, s.cittadinanza,
		       s.titolo_studio, s.comune_lavoro, s.prov_lavoro, s.comune_residenza, s.prov_residenza, s.ateco, s.professione,
		       s.contratto, s.orario, s.data_fine_prevista, s.tipo_trasformazione, s.motivo_cessazione, s.categoria_protetta,
		       s.hash, s.seq, NULL, NULL,
		       s.tipo <> 'X' AND (s.comm_id IS NULL OR s.comm_id NOT IN (SELECT rif FROM special WHERE tipo IN ('R', 'X') AND rif IS NOT NULL))
		FROM ` + readCSV(l.EventFiles, stageColumns) + ` WHERE ` + skipSeq); err != nil {
		return nil, err
	}
	if err := exec(`CREATE OR REPLACE TEMP TABLE stage_rejects AS SELECT * FROM ` + readCSV(l.RejectFiles, rejectColumns) + ` WHERE ` + skip); err != nil {
		return nil, err
	}

	// 3. Duplicates: an id seen before (stored, or earlier in this ingest)
	// with the same content is a resend; with other content it is rejected.
	// Every row sharing an id with a special row takes part: the stored one
	// and the fresh one of this ingest, now in communications too. The rows
	// of communications that steps 3 to 5 need are read in one pass over
	// the table: named holds those that carry the id of a special row or
	// the one an R or X names, and every R or X stored before (they are
	// few: a first ingest has none).
	if err := exec(`CREATE OR REPLACE TEMP TABLE named AS
		SELECT seq, comm_id, tipo, active, hash, root_id, tipo_effettivo FROM ` + comms + `
		WHERE comm_id IN ` + specialIDs + `
		   OR root_id IS NOT NULL`); err != nil {
		return nil, err
	}
	if err := exec(`CREATE OR REPLACE TEMP TABLE classified AS
		WITH cand AS (
			SELECT seq, comm_id, hash FROM special
			UNION ALL SELECT seq, comm_id, hash FROM named WHERE comm_id IN (SELECT comm_id FROM special)
		), stored AS (
			SELECT comm_id, hash FROM cand WHERE seq < $1
		)
		SELECT c.seq,
		  CASE WHEN st.hash IS NOT NULL AND st.hash = c.hash THEN 'dup'
		       WHEN st.hash IS NOT NULL THEN 'diff'
		       WHEN row_number() OVER w > 1 AND first_value(c.hash) OVER w = c.hash THEN 'dup'
		       WHEN row_number() OVER w > 1 THEN 'diff'
		       ELSE 'ok' END AS class
		FROM cand c LEFT JOIN stored st ON st.comm_id = c.comm_id
		WHERE c.seq >= $1
		WINDOW w AS (PARTITION BY c.comm_id ORDER BY c.seq)`, firstSeq); err != nil {
		return nil, err
	}
	if err := exec(`UPDATE special SET class = c.class FROM classified c WHERE c.seq = special.seq AND c.class <> 'ok'`); err != nil {
		return nil, err
	}
	// A fresh row that is a resend of an earlier special row (the decoding
	// goroutines met them in the other order) moves to special.
	if err := exec(`INSERT INTO special
		SELECT m.seq, m.comm_id, m.tipo, m.rif, m.rel_id, m.data, m.worker, m.employer,
		       m.genere, m.anno_nascita, m.eta, m.cittadinanza, m.titolo_studio, m.comune_lavoro, m.prov_lavoro, m.comune_residenza,
		       m.prov_residenza, m.ateco, m.professione, m.contratto, m.orario, m.data_fine_prevista, m.tipo_trasformazione,
		       m.motivo_cessazione, m.categoria_protetta, m.hash, (m.seq >> 32)::INTEGER, m.seq & 4294967295, c.class, TRUE, NULL, NULL
		FROM communications m JOIN classified c ON c.seq = m.seq
		WHERE m.seq >= $1 AND c.class <> 'ok'`, firstSeq); err != nil {
		return nil, err
	}
	for _, t := range []string{"communications", "named"} {
		if err := exec(`DELETE FROM ` + t + ` WHERE seq IN (SELECT seq FROM special WHERE moved)`); err != nil {
			return nil, err
		}
	}

	// 4. Roots: R and X take the root of the communication they name,
	// stored or of this ingest, following chains of rectifications. A
	// reference to nothing (or to a cancellation) is rejected.
	if err := exec(`UPDATE special SET root_id = coalesce(c.root_id, c.comm_id), tipo_effettivo = coalesce(c.tipo_effettivo, c.tipo)
		FROM named c WHERE special.class = 'ok' AND special.tipo IN ('R','X') AND c.comm_id = special.rif AND c.tipo <> 'X'`); err != nil {
		return nil, err
	}
	if err := exec(`UPDATE special SET root_id = k.comm_id, tipo_effettivo = k.tipo
		FROM (SELECT comm_id, tipo FROM special WHERE class = 'ok' AND tipo IN ('A','C','P','T')) k
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

	// 5. Store the accepted special rows. The current version of a
	// communication is its latest non-X row, unless an X cancelled it:
	// worked out for the communications an R or X acts on, over their rows
	// stored, fresh and special (versions holds those of communications,
	// read in one pass), before the special rows go in.
	// touched also holds what every R and X names, accepted or not: the
	// fresh rows they name went in inactive and need a look.
	if err := exec(`CREATE OR REPLACE TEMP TABLE touched AS
		SELECT root_id FROM special WHERE class = 'ok' AND tipo IN ('R','X')
		UNION SELECT rif FROM special WHERE tipo IN ('R','X')`); err != nil {
		return nil, err
	}
	// Every row whose root is touched is in named: an R or X stored, or a
	// row that is its own root, whose id is then one a special row carries
	// or names, unless the root was reached through an R stored before.
	// Only the rows of such roots are read from the table again.
	if err := exec(`CREATE OR REPLACE TEMP TABLE versions AS
		SELECT seq, tipo, active, coalesce(root_id, comm_id) AS root FROM named
		WHERE coalesce(root_id, comm_id) IN (SELECT root_id FROM touched)`); err != nil {
		return nil, err
	}
	var far int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM touched
		WHERE root_id NOT IN `+specialIDs).Scan(&far); err != nil {
		return nil, err
	}
	if far > 0 {
		if err := exec(`INSERT INTO versions
			SELECT seq, tipo, active, comm_id FROM ` + comms + `
			WHERE root_id IS NULL AND comm_id IN (SELECT root_id FROM touched)
			  AND comm_id NOT IN ` + specialIDs); err != nil {
			return nil, err
		}
	}
	if err := exec(`CREATE OR REPLACE TEMP TABLE current AS
		SELECT root, max(seq) FILTER (WHERE tipo <> 'X') AS last, bool_or(tipo = 'X') AS cancelled
		FROM (SELECT root, seq, tipo FROM versions
		      UNION ALL SELECT coalesce(root_id, comm_id), seq, tipo FROM special WHERE class = 'ok')
		WHERE root IN (SELECT root_id FROM touched)
		GROUP BY root`); err != nil {
		return nil, err
	}
	if err := exec(`INSERT INTO communications
		SELECT s.comm_id, s.tipo, s.rif, s.rel_id, s.data, s.worker, s.employer, s.genere, s.anno_nascita, s.eta, s.cittadinanza,
		       s.titolo_studio, s.comune_lavoro, s.prov_lavoro, s.comune_residenza, s.prov_residenza, s.ateco, s.professione,
		       s.contratto, s.orario, s.data_fine_prevista, s.tipo_trasformazione, s.motivo_cessazione, s.categoria_protetta,
		       s.hash, s.seq, s.root_id, s.tipo_effettivo,
		       s.tipo <> 'X' AND (m.root IS NULL OR (s.seq = m.last AND NOT m.cancelled))
		FROM special s LEFT JOIN current m ON m.root = coalesce(s.root_id, s.comm_id)
		WHERE s.class = 'ok'`); err != nil {
		return nil, err
	}
	// The rows stored before, and the fresh rows named by an R or X (they
	// went in inactive), whose flag changes: few, found by their seq.
	if err := exec(`UPDATE communications SET active = NOT communications.active
		WHERE seq IN (SELECT v.seq FROM versions v JOIN current m ON m.root = v.root
		              WHERE v.active <> (v.tipo <> 'X' AND v.seq = m.last AND NOT m.cancelled))`); err != nil {
		return nil, err
	}

	// 6. Rebuild the relationships touched by this ingest. On the first
	// load every relationship is new, and the filter is skipped.
	var empty bool
	if err := tx.QueryRowContext(ctx, "SELECT count(*) = 0 FROM relationship_index").Scan(&empty); err != nil {
		return nil, err
	}
	if empty {
		if err := exec(relationshipsFrom(events, "rel_id IS NOT NULL")); err != nil {
			return nil, err
		}
	} else {
		if err := exec(`CREATE OR REPLACE TEMP TABLE touched_rel AS
			SELECT DISTINCT rel_id FROM communications WHERE seq >= ? AND rel_id IS NOT NULL
			UNION SELECT DISTINCT rel_id FROM communications WHERE coalesce(root_id, comm_id) IN (SELECT root_id FROM touched) AND rel_id IS NOT NULL`, firstSeq); err != nil {
			return nil, err
		}
		if err := exec(`DELETE FROM relationship_index WHERE rel_id IN (SELECT rel_id FROM touched_rel)`); err != nil {
			return nil, err
		}
		if err := exec(relationshipsFrom(events, "rel_id IN (SELECT rel_id FROM touched_rel)")); err != nil {
			return nil, err
		}
		if err := exec("DROP TABLE touched_rel"); err != nil {
			return nil, err
		}
	}

	// 7. Rejects, duplicates and the file records.
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
		FROM special s WHERE s.class IN ('diff', 'noref')`, string(oml.DuplicateDifferent), string(oml.RefUnknown)); err != nil {
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
	// Fresh rows are accepted unless moved to special; special rows count
	// by their class.
	results := map[int]*FileResult{}
	for _, f := range l.Files {
		results[f.FileID] = &FileResult{FileID: f.FileID, Accepted: f.Fresh, ByReason: map[oml.Reason]int64{}}
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT file_id, class, NULL AS reason, count(*), count(*) FILTER (WHERE moved) FROM special GROUP BY ALL
		UNION ALL SELECT file_id, 'rej', reason, count(*), 0 FROM stage_rejects GROUP BY ALL`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int
		var class string
		var reason sql.NullString
		var n, moved int64
		if err := rows.Scan(&id, &class, &reason, &n, &moved); err != nil {
			rows.Close()
			return nil, err
		}
		r := results[id]
		if r == nil {
			rows.Close()
			return nil, fmt.Errorf("stage holds rows of unknown file %d", id)
		}
		r.Accepted -= moved
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
	if l.IDFilter != nil {
		t0 := time.Now()
		if err := saveIDFilter(ctx, tx, l.IDFilter); err != nil {
			return nil, err
		}
		db.log.Debug("ingest step", "sql", "save id filter", "duration", time.Since(t0).Round(time.Millisecond))
	}
	for _, t := range []string{"special", "named", "classified", "stage_rejects", "touched", "versions", "current"} {
		if err := exec("DROP TABLE " + t); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit ingest: %w", err)
	}
	db.log.Debug("ingest step", "sql", "COMMIT", "duration", time.Since(t0).Round(time.Millisecond))
	return results, nil
}

// specialIDs are the ids the special rows carry or name. NULLs are left
// out, though none is expected (an R or X always names one, and a row is
// special only by its id), because a single NULL would make NOT IN match
// nothing.
const specialIDs = `(SELECT comm_id FROM special WHERE comm_id IS NOT NULL
	UNION ALL SELECT rif FROM special WHERE tipo IN ('R', 'X') AND rif IS NOT NULL)`

// relationshipsFrom returns the statement that indexes the relationships of
// the events of src (the events view, or a split scan of it) that satisfy
// filter.
func relationshipsFrom(src, filter string) string {
	return strings.Replace(rebuildRelationships, "/*source*/", src+" WHERE "+filter, 1)
}

// rowGroupSize is the number of rows of a DuckDB row group.
const rowGroupSize = 122880

// splitScan returns a source equivalent to the table or view t (which has a
// seq column) that DuckDB scans with ways threads. DuckDB sizes the
// parallelism of a table scan by the rows committed (one thread per row
// group): on a first ingest, when every row is one of this transaction's, a
// scan of communications runs on one thread, and so does the work that
// consumes its rows, like the aggregation that builds the relationships.
// The branches of a UNION ALL run side by side: split on seq into ways
// branches, the table is read ways times but the work is spread.
func splitScan(t string, ways int) string {
	if ways <= 1 {
		return t
	}
	var b strings.Builder
	b.WriteString("(")
	for i := 0; i < ways; i++ {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT * FROM %s WHERE seq %% %d = %d", t, ways, i)
	}
	b.WriteString(") " + t)
	return b.String()
}

// rebuildRelationships indexes relationships from their current events, read
// from the source that relationshipsFrom puts in. Events are ordered by
// date, then by arrival: the key k packs both into one BIGINT (days since
// 2000 from bit 47, seq below; seq fits while fewer than 32768 files are
// ingested, which Commit checks), so the smallest k of a set of events also
// gives its date (k >> 47) and its seq (the low 47 bits). Plain min(k)
// aggregates are cheaper than arg_min and min(data) each: this aggregation
// over every event is the largest part of a first ingest.
const rebuildRelationships = `
INSERT INTO relationship_index
WITH ev AS (
    SELECT rel_id, tipo, data, data_fine_prevista, tipo_trasformazione, contratto, orario, motivo_cessazione,
           (date_diff('day', DATE '2000-01-01', data)::BIGINT << 47) + seq AS k
    FROM /*source*/
), agg AS (
    SELECT rel_id,
           min(k) AS first_k,
           min(k) FILTER (WHERE tipo = 'A') AS hire_k,
           min(k) FILTER (WHERE tipo = 'C') AS end_k,
           arg_max(contratto, k) AS contratto,
           arg_max(orario, k) AS orario,
           arg_max(data_fine_prevista, k) FILTER (WHERE tipo IN ('A', 'P') AND data_fine_prevista IS NOT NULL) AS fine_prevista,
           arg_min(motivo_cessazione, k) FILTER (WHERE tipo = 'C') AS motivo_cessazione,
           min(data) FILTER (WHERE tipo = 'T' AND tipo_trasformazione IN ('TD_TI', 'AP_TI')) AS data_trasformazione_ti,
           count(*) AS n,
           count(*) FILTER (WHERE tipo = 'C') AS n_c,
           count(*) FILTER (WHERE tipo = 'P') AS n_p,
           count(*) FILTER (WHERE tipo = 'T') AS n_t
    FROM ev GROUP BY rel_id
)
SELECT rel_id,
       coalesce(hire_k, first_k) & 140737488355327, -- (1 << 47) - 1: the seq
       hire_k IS NOT NULL,
       DATE '2000-01-01' + (hire_k >> 47)::INTEGER,
       DATE '2000-01-01' + (first_k >> 47)::INTEGER,
       contratto, orario, fine_prevista,
       DATE '2000-01-01' + (end_k >> 47)::INTEGER,
       motivo_cessazione, data_trasformazione_ti, n, n_c, n_p, n_t
FROM agg`

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
