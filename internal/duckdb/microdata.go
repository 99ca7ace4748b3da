package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
)

// MicrodataFilter selects the current events a microdata export writes.
type MicrodataFilter struct {
	// Province is the ISTAT code of a province ("016"); "" selects the
	// whole region, every current event.
	Province string
	// Comuni are further comuni of the territory, as ExportTerritory takes
	// them (those of the province's CPIs, which may lie in another
	// province); nil for none. They need a Province.
	Comuni []string
	// From and To bound the event dates by month: from the first day of
	// From's month to the last day of To's month, both included. A zero
	// time leaves that side open.
	From, To time.Time
}

// Microdata formats: the values of the format parameter of the API's
// microdata route.
const (
	MicrodataCSV     = "csv"     // comma-separated, UTF-8, a header line, dates as YYYY-MM-DD, NULL as an empty field
	MicrodataParquet = "parquet" // Parquet, zstd-compressed
)

// microdataColumns are the columns of a microdata export, in order: those
// of the events view that describe an event. comm_id is the id of the
// communication that made the event (the first one, for an event later
// rectified), tipo its event type (A, C, P, T) and rettificato whether a
// rectification restated it. The ids kept are those a territory's extract
// already carries: worker and employer are pseudonyms (HMAC of the fiscal
// codes), comm_id and rel_id the ids of the source with any part shaped like
// a fiscal code pseudonymised at ingest; rel_id links the events of one
// relationship. Left out are internal bookkeeping, which says nothing
// about the event: file_id, line and seq (where and when a file brought
// it), hash (the duplicate check), rif, root_id and tipo_effettivo (folded
// into comm_id and tipo) and active (always true here).
var microdataColumns = [...]string{
	"comm_id", "tipo", "rel_id", "data", "worker", "employer",
	"genere", "anno_nascita", "eta", "cittadinanza", "titolo_studio",
	"comune_lavoro", "prov_lavoro", "comune_residenza", "prov_residenza",
	"ateco", "professione", "contratto", "orario", "data_fine_prevista",
	"tipo_trasformazione", "motivo_cessazione", "categoria_protetta", "rettificato",
}

// MicrodataColumns returns the columns of a microdata export, in the order
// written (see ExportMicrodata).
func MicrodataColumns() []string { return append([]string(nil), microdataColumns[:]...) }

// ExportMicrodata writes the current events (the active, pseudonymised
// communications after rectifications and cancellations) selected by f to
// path in format (MicrodataCSV or MicrodataParquet), ordered by arrival
// (seq), and returns how many rows it wrote. The columns are those of
// MicrodataColumns. An event is in the territory when its workplace or
// residence is in the province or in one of the comuni, the rule of
// ExportTerritory.
//
// The file is written in a temporary directory next to path and renamed
// into place, with mode 0600 (the microdata are personal data): a failed or
// cancelled export leaves no file and an existing file at path as it was.
//
// The error is EINVALID for an unknown format, a code that is not 1 to 12
// ASCII letters or digits, comuni without a province, or From in a month
// after To's; the codes are bound as parameters, never written into the
// SQL text.
func (db *DB) ExportMicrodata(ctx context.Context, f MicrodataFilter, format, path string) (int64, error) {
	var options string
	switch format {
	case MicrodataCSV:
		options = "FORMAT csv, HEADER true, COMPRESSION none"
	case MicrodataParquet:
		options = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"
	default:
		return 0, oml.Errorf(oml.EINVALID, "formato dei microdati %q sconosciuto / unknown microdata format %q", format, format).
			WithHint("usare %s o %s / use %s or %s", MicrodataCSV, MicrodataParquet, MicrodataCSV, MicrodataParquet)
	}
	where, args, err := f.where()
	if err != nil {
		return 0, err
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".microdata-")
	if err != nil {
		return 0, fmt.Errorf("export microdata: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "microdata")
	stmt := "COPY (SELECT " + strings.Join(microdataColumns[:], ", ") + " FROM events WHERE " + where +
		" ORDER BY seq) TO " + quote(tmp) + " (" + options + ")"
	var n int64
	if err := db.db.QueryRowContext(ctx, stmt, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("export microdata: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return 0, fmt.Errorf("export microdata: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("export microdata: %w", err)
	}
	return n, nil
}

// where returns the condition on the events view that selects f, with its
// parameters, or an EINVALID error when f is not valid.
func (f MicrodataFilter) where() (string, []any, error) {
	conds := []string{"true"}
	var args []any
	if f.Province != "" {
		if !validCode(f.Province) {
			return "", nil, oml.Errorf(oml.EINVALID, "codice di provincia %q non valido / invalid province code %q", f.Province, f.Province).
				WithHint("un codice ISTAT di provincia, ad esempio 016 / an ISTAT province code, e.g. 016")
		}
		for _, c := range f.Comuni {
			if !validCode(c) {
				return "", nil, oml.Errorf(oml.EINVALID, "codice di comune %q non valido / invalid comune code %q", c, c).
					WithHint("un codice ISTAT di comune, ad esempio 016024 / an ISTAT comune code, e.g. 016024")
			}
		}
		conds = append(conds, inTerritory)
		args = append(args, territoryArgs(f.Province, f.Comuni)...)
	} else if len(f.Comuni) > 0 {
		return "", nil, oml.Errorf(oml.EINVALID, "comuni senza provincia / comuni without a province").
			WithHint("i microdati della regione si chiedono senza comuni / the region's microdata take no comuni")
	}
	if !f.From.IsZero() && !f.To.IsZero() && monthOf(f.From).After(monthOf(f.To)) {
		return "", nil, oml.Errorf(oml.EINVALID, "periodo vuoto: %s è dopo %s / empty period: %s is after %s",
			f.From.Format("2006-01"), f.To.Format("2006-01"), f.From.Format("2006-01"), f.To.Format("2006-01")).
			WithHint("il mese iniziale non può seguire quello finale / the first month cannot follow the last")
	}
	// Dates are bound as text and cast in SQL, so that the time zone of
	// From and To (their calendar month is what counts) plays no part.
	if !f.From.IsZero() {
		conds = append(conds, "data >= $from::DATE")
		args = append(args, sql.Named("from", monthOf(f.From).Format(time.DateOnly)))
	}
	if !f.To.IsZero() {
		conds = append(conds, "data < $until::DATE")
		args = append(args, sql.Named("until", monthOf(f.To).AddDate(0, 1, 0).Format(time.DateOnly)))
	}
	return strings.Join(conds, " AND "), args, nil
}

// monthOf returns the first day of t's calendar month, in UTC.
func monthOf(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// validCode reports whether s can be a territorial code: 1 to 12 ASCII
// letters or digits (ISTAT province and comune codes have 3 and 6).
func validCode(s string) bool {
	if len(s) == 0 || len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// syncFile gives path mode 0600 and flushes it to disk, so that the rename
// that follows never publishes a file whose contents a crash could lose.
func syncFile(path string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
