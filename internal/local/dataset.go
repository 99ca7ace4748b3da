// Package local keeps what an observatory adds on its own beside the
// common statistics of the network: local data sets (a CSV with its
// metadata) and custom geographies (comune -> area tables, such as
// industrial districts), on which it computes the common indicators with
// the common methodology. Everything lives under <data dir>/locale/ and is
// published on the portal's "Dati locali" section, marked as local.
//
// Whatever is published passes disclosure control: count columns of a data
// set have every value from 1 to k-1 withheld, and indicators on areas go
// through the same primary and secondary suppression as the releases.
package local

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
)

// Dir is the folder of local data in a data dir.
const Dir = "locale"

const (
	datasetsDir    = "dati"
	geographiesDir = "geografie"
	metaFile       = "metadati.json"
	dataFile       = "dati.csv"
)

// MaxDataset is the largest local data set accepted, in bytes.
const MaxDataset = 8 << 20

// DatasetMeta describes a local data set: the metadata file that goes with
// its CSV.
type DatasetMeta struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Source      string   `json:"source"`
	Licence     string   `json:"licence"`
	Dimensions  []string `json:"dimensions"` // columns that classify
	Counts      []string `json:"counts"`     // columns of counts: disclosure control applies
}

// Dataset is a stored local data set.
type Dataset struct {
	Slug  string      `json:"slug"`
	Meta  DatasetMeta `json:"meta"`
	Rows  int         `json:"rows"`
	Added time.Time   `json:"added"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CheckSlug validates the short name of a local data set or geography:
// lower-case letters, digits and hyphens, up to 63 characters.
func CheckSlug(slug string) error {
	if !slugRE.MatchString(slug) {
		return oml.Errorf(oml.EINVALID, "nome breve %q non valido / invalid short name", slug).
			WithHint("lettere minuscole, cifre e trattini, fino a 63 caratteri (es. distretti-industriali)")
	}
	return nil
}

// RowError is one rejected row of a local file.
type RowError struct {
	Line   int    // line of the file, from 1 (the header)
	Reason string // in Italian
}

// RowErrors are the rejected rows of a file, all of them: the file is
// refused as a whole, since a partial table would publish wrong totals.
type RowErrors []RowError

func (e RowErrors) Error() string {
	var b strings.Builder
	for i, r := range e {
		if i == 10 {
			fmt.Fprintf(&b, "; ... e altre %d", len(e)-10)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "riga %d: %s", r.Line, r.Reason)
	}
	return b.String()
}

// eachRecord calls fn with every well-formed record of r and its line, and
// returns the malformed ones. A record with the wrong number of fields is
// skipped; any other error of the reader ends the reading.
func eachRecord(r *csv.Reader, fn func(line int, rec []string)) RowErrors {
	var errs RowErrors
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return errs
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			errs = append(errs, RowError{line, fmt.Sprintf("CSV non valido (%v)", err)})
			if pe == nil || pe.Err != csv.ErrFieldCount {
				return errs
			}
			continue
		}
		fn(line, rec)
	}
}

// merge returns the errors of e and more, by line.
func (e RowErrors) merge(more RowErrors) RowErrors {
	out := append(slices.Clone(e), more...)
	slices.SortStableFunc(out, func(a, b RowError) int { return a.Line - b.Line })
	return out
}

// rejected wraps row errors into the user's error.
func rejected(what string, errs RowErrors) error {
	return &oml.Error{Code: oml.EINVALID,
		Message: fmt.Sprintf("%s: %d righe non valide, nulla è stato salvato / %d invalid rows, nothing saved: %s", what, len(errs), len(errs), errs.Error()),
		Hint:    "correggere le righe indicate e ripetere il comando"}
}

// Check validates a data set: metadata complete, CSV readable, every
// column the metadata names present, count columns holding non-negative
// numbers (or nothing). It returns the number of data rows.
func (m *DatasetMeta) Check(content []byte) (int, error) {
	bad := func(it, en string) *oml.Error {
		return oml.Errorf(oml.EINVALID, "dati locali non validi: %s / invalid local data set: %s", it, en)
	}
	m.Title = strings.TrimSpace(m.Title)
	switch {
	case m.Title == "" || len(m.Title) > 200:
		return 0, bad("titolo mancante o troppo lungo", "title missing or too long")
	case strings.TrimSpace(m.Source) == "" || strings.TrimSpace(m.Licence) == "":
		return 0, bad("i metadati richiedono fonte e licenza", "the metadata need source and licence").
			WithHint(`metadati JSON: {"title": "...", "source": "...", "licence": "CC-BY 4.0", "dimensions": [...], "counts": [...]}`)
	case len(content) == 0 || len(content) > MaxDataset:
		return 0, bad("file vuoto o oltre 8 MiB", "empty file or over 8 MiB")
	case !utf8.Valid(content):
		return 0, bad("il file non è UTF-8", "the file is not UTF-8")
	}
	r := csv.NewReader(bytes.NewReader(content))
	header, err := r.Read()
	if err != nil {
		return 0, bad(fmt.Sprintf("intestazione illeggibile (%v)", err), "unreadable header")
	}
	var counts []int
	for _, c := range append(slices.Clone(m.Dimensions), m.Counts...) {
		i := slices.Index(header, c)
		if i < 0 {
			return 0, bad(fmt.Sprintf("la colonna %q dei metadati manca nel CSV (colonne: %s)", c, strings.Join(header, ", ")), "a column of the metadata is missing from the CSV")
		}
		if slices.Contains(m.Counts, c) {
			counts = append(counts, i)
		}
	}
	var errs RowErrors
	rows := 0
	malformed := eachRecord(r, func(line int, rec []string) {
		rows++
		for _, i := range counts {
			v := strings.TrimSpace(rec[i])
			if v == "" {
				continue
			}
			if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 {
				errs = append(errs, RowError{line, fmt.Sprintf("colonna %s: %q non è un conteggio (numero non negativo)", header[i], v)})
			}
		}
	})
	errs = malformed.merge(errs)
	if len(errs) > 0 {
		return rows, rejected("dati locali", errs)
	}
	if rows == 0 {
		return 0, bad("il CSV non ha righe di dati", "the CSV has no data rows")
	}
	return rows, nil
}

// AddDataset validates a data set and stores it under slug in dataDir,
// atomically: a data set of that name is replaced only once the new one
// is complete.
func AddDataset(dataDir, slug string, meta DatasetMeta, content []byte, now time.Time) (Dataset, error) {
	if err := CheckSlug(slug); err != nil {
		return Dataset{}, err
	}
	rows, err := meta.Check(content)
	if err != nil {
		return Dataset{}, err
	}
	d := Dataset{Slug: slug, Meta: meta, Rows: rows, Added: now.UTC().Truncate(time.Second)}
	return d, install(filepath.Join(dataDir, Dir, datasetsDir, slug), map[string][]byte{dataFile: content}, d)
}

// install writes files and meta into a new folder and renames it to dest,
// replacing what was there.
func install(dest string, files map[string][]byte, meta any) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dest), ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return err
		}
	}
	mb, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, metaFile), append(mb, '\n'), 0o644); err != nil {
		return err
	}
	old := dest + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dest, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Rename(old, dest)
		return err
	}
	return os.RemoveAll(old)
}

// Datasets lists the local data sets of dataDir by slug.
func Datasets(dataDir string) ([]Dataset, error) {
	var out []Dataset
	err := each(filepath.Join(dataDir, Dir, datasetsDir), func(dir string) error {
		var d Dataset
		if err := readJSON(filepath.Join(dir, metaFile), &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// OpenDataset returns a data set and its rows as published: header first,
// every count from 1 to k-1 withheld ("c").
func OpenDataset(dataDir, slug string, k int) (Dataset, [][]string, error) {
	var d Dataset
	if CheckSlug(slug) != nil {
		return d, nil, notFound("dati locali", slug)
	}
	dir := filepath.Join(dataDir, Dir, datasetsDir, slug)
	if err := readJSON(filepath.Join(dir, metaFile), &d); err != nil {
		return d, nil, notFound("dati locali", slug)
	}
	b, err := os.ReadFile(filepath.Join(dir, dataFile))
	if err != nil {
		return d, nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return d, nil, err
	}
	Disclose(rows, d.Meta.Counts, k)
	return d, rows, nil
}

// Disclose withholds, in place, every value from 1 to k-1 of the count
// columns of rows (header first), writing "c"; it returns how many.
func Disclose(rows [][]string, counts []string, k int) int {
	if len(rows) == 0 {
		return 0
	}
	var cols []int
	for i, h := range rows[0] {
		if slices.Contains(counts, h) {
			cols = append(cols, i)
		}
	}
	withheld := 0
	for _, r := range rows[1:] {
		for _, i := range cols {
			if i >= len(r) {
				continue
			}
			if v, err := strconv.ParseFloat(strings.TrimSpace(r[i]), 64); err == nil && v > 0 && v < float64(k) {
				r[i] = "c"
				withheld++
			}
		}
	}
	return withheld
}

// Remove deletes a local data set or geography.
func Remove(dataDir, slug string) error {
	if CheckSlug(slug) != nil {
		return notFound("dati locali", slug)
	}
	for _, kind := range []string{datasetsDir, geographiesDir} {
		dir := filepath.Join(dataDir, Dir, kind, slug)
		if _, err := os.Stat(dir); err == nil {
			return os.RemoveAll(dir)
		}
	}
	return notFound("dati locali", slug)
}

func notFound(what, slug string) error {
	return oml.Errorf(oml.ENOTFOUND, "%s %q inesistenti / no such local data %q", what, slug, slug).
		WithHint("oml local list li elenca")
}

// each calls fn on every complete folder under root, by name.
func each(root string, fn func(dir string) error) error {
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.HasSuffix(e.Name(), ".old") {
			continue
		}
		if err := fn(filepath.Join(root, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
