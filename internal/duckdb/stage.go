package duckdb

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
)

// Accepted rows travel from the decoders to DuckDB as CSV files in the
// data directory's tmp folder, one per decoding goroutine: DuckDB's parallel
// CSV reader loads them far faster than row-at-a-time appends, and the files
// hold pseudonyms only. They are removed when the ingest ends, and any left
// by a killed ingest are removed by the next one.

// stageColumns is the layout of a stage file, as DuckDB reads it.
var stageColumns = []struct{ name, typ string }{
	{"seq", "BIGINT"}, {"comm_id", "VARCHAR"}, {"tipo", "VARCHAR"}, {"rif", "VARCHAR"}, {"rel_id", "VARCHAR"},
	{"data", "DATE"}, {"worker", "VARCHAR"}, {"employer", "VARCHAR"}, {"genere", "VARCHAR"},
	{"anno_nascita", "SMALLINT"}, {"eta", "SMALLINT"}, {"cittadinanza", "VARCHAR"},
	{"titolo_studio", "TINYINT"}, {"comune_lavoro", "VARCHAR"}, {"prov_lavoro", "VARCHAR"},
	{"comune_residenza", "VARCHAR"}, {"prov_residenza", "VARCHAR"}, {"ateco", "VARCHAR"},
	{"professione", "VARCHAR"}, {"contratto", "VARCHAR"}, {"orario", "VARCHAR"},
	{"data_fine_prevista", "DATE"}, {"tipo_trasformazione", "VARCHAR"},
	{"motivo_cessazione", "VARCHAR"}, {"categoria_protetta", "VARCHAR"}, {"hash", "UBIGINT"},
}

// rejectColumns is the layout of a rejects stage file.
var rejectColumns = []struct{ name, typ string }{
	{"file_id", "INTEGER"}, {"line", "BIGINT"}, {"col", "VARCHAR"}, {"reason", "VARCHAR"},
	{"detail", "VARCHAR"}, {"raw", "VARCHAR"},
}

// Seq orders communications: by file (in ingest order) then line. A later
// rectification of the same communication has a larger seq.
func Seq(fileID int, line int64) int64 { return int64(fileID)<<32 | line }

// StageWriter writes accepted and rejected rows for one decoding goroutine.
// Accepted rows go to one of two files: the fresh ones (an A, C, P or T
// whose id was certainly never seen before, or an open-data row, which has
// no id) go straight into communications; the special ones (R and X, and
// rows whose id may repeat one stored or staged) are checked first.
// It is not safe for concurrent use.
type StageWriter struct {
	files                              [3]*os.File // events, special, rejects
	ew, sw, rw                         *bufio.Writer
	buf                                []byte
	eventPath, specialPath, rejectPath string
}

// NewStageWriter creates the stage files events-<n>.csv, special-<n>.csv
// and rejects-<n>.csv in dir.
func NewStageWriter(dir string, n int) (*StageWriter, error) {
	s := &StageWriter{
		eventPath:   dir + "/events-" + strconv.Itoa(n) + ".csv",
		specialPath: dir + "/special-" + strconv.Itoa(n) + ".csv",
		rejectPath:  dir + "/rejects-" + strconv.Itoa(n) + ".csv",
	}
	for i, p := range []string{s.eventPath, s.specialPath, s.rejectPath} {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			for _, g := range s.files[:i] {
				g.Close()
			}
			return nil, err
		}
		s.files[i] = f
	}
	s.ew = bufio.NewWriterSize(s.files[0], 1<<20)
	s.sw = bufio.NewWriterSize(s.files[1], 64<<10)
	s.rw = bufio.NewWriterSize(s.files[2], 64<<10)
	return s, nil
}

// WriteEvent stages an accepted communication, in the special file if
// special is set.
func (s *StageWriter) WriteEvent(fileID int, line int64, e *oml.Event, special bool) error {
	b := s.buf[:0]
	// The file and line are not written: seq holds both.
	b = strconv.AppendInt(b, Seq(fileID, line), 10)
	b = append(b, ',')

	b = appendCSV(b, e.CommID)
	b = append(b, ',')
	hashFrom := len(b)
	b = append(b, byte(e.Type), ',')
	b = appendCSV(b, e.RefID)
	b = append(b, ',')
	b = appendCSV(b, e.RelID)
	b = append(b, ',')
	b = appendDate(b, e.Date)
	b = append(b, ',')
	b = append(b, e.Worker...)
	b = append(b, ',')
	b = append(b, e.Employer...)
	b = append(b, ',')
	if e.Gender != 0 {
		b = append(b, e.Gender)
	}
	b = append(b, ',')
	if e.BirthYear != 0 {
		b = strconv.AppendInt(b, int64(e.BirthYear), 10)
	}
	b = append(b, ',')
	if e.Type.IsFlow() || e.Type == oml.Rettifica {
		b = strconv.AppendInt(b, int64(e.Age), 10)
	}
	b = append(b, ',')
	b = append(b, e.Citizenship...)
	b = append(b, ',')
	if e.Education >= 0 && (e.Type.IsFlow() || e.Type == oml.Rettifica) {
		b = strconv.AppendInt(b, int64(e.Education), 10)
	}
	b = append(b, ',')
	b = append(b, e.WorkComune...)
	b = append(b, ',')
	b = append(b, e.WorkProvince...)
	b = append(b, ',')
	b = append(b, e.ResComune...)
	b = append(b, ',')
	b = append(b, e.ResProvince...)
	b = append(b, ',')
	b = append(b, e.Ateco...)
	b = append(b, ',')
	b = append(b, e.Profession...)
	b = append(b, ',')
	b = append(b, e.Contract...)
	b = append(b, ',')
	if e.WorkingTime != 0 {
		b = append(b, e.WorkingTime)
	}
	b = append(b, ',')
	b = appendDate(b, e.PlannedEnd)
	b = append(b, ',')
	b = append(b, e.Transformation...)
	b = append(b, ',')
	b = append(b, e.EndReason...)
	b = append(b, ',')
	if e.ProtectedCat != 0 {
		b = append(b, e.ProtectedCat)
	}
	// The content hash covers every field but the communication's own id,
	// so that a resend (same id, same content) is recognised as such.
	h := uint64(14695981039346656037) // FNV-1a, as hash/fnv, without its allocation
	for _, c := range b[hashFrom:] {
		h ^= uint64(c)
		h *= 1099511628211
	}

	b = append(b, ',')
	b = strconv.AppendUint(b, h, 10)
	b = append(b, '\n')
	s.buf = b
	w := s.ew
	if special {
		w = s.sw
	}
	_, err := w.Write(b)
	return err
}

// WriteReject stages a rejected row.
func (s *StageWriter) WriteReject(fileID int, r *oml.Reject) error {
	b := s.buf[:0]
	b = strconv.AppendInt(b, int64(fileID), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Line, 10)
	b = append(b, ',')
	b = appendCSV(b, r.Column)
	b = append(b, ',')
	b = appendCSV(b, string(r.Reason))
	b = append(b, ',')
	b = appendCSV(b, r.Detail)
	b = append(b, ',')
	b = appendCSV(b, r.Raw)
	b = append(b, '\n')
	s.buf = b
	_, err := s.rw.Write(b)
	return err
}

// Close flushes and closes the files.
func (s *StageWriter) Close() error {
	var first error
	for i, w := range []*bufio.Writer{s.ew, s.sw, s.rw} {
		if err := w.Flush(); err != nil && first == nil {
			first = err
		}
		if err := s.files[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Paths returns the stage files of fresh events, special events and rejects.
func (s *StageWriter) Paths() (events, special, rejects string) {
	return s.eventPath, s.specialPath, s.rejectPath
}

// appendCSV appends s quoted if needed. An empty string stays empty, which
// DuckDB reads as NULL.
func appendCSV(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func appendDate(b []byte, d time.Time) []byte {
	if d.IsZero() {
		return b
	}
	y, m, dd := d.Date()
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+dd/10), byte('0'+dd%10))
	return b
}
