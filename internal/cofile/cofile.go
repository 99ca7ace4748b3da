// Package cofile decodes files of Comunicazioni Obbligatorie: the canonical
// CSV format and the Lombardy open-data exports (INTERFACE.md, sections 1
// and 2). Decoding streams: memory does not grow with the file.
//
// Every row becomes a Record: either an accepted oml.Event, with codes
// normalised and fiscal codes replaced by pseudonyms, or an oml.Reject with
// line, column, reason and the raw row (fiscal codes pseudonymised there
// too). Rows are never dropped silently. Duplicate communications and the
// rectifications and cancellations between rows are resolved by the store,
// which sees every file ingested so far.
package cofile

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

// Format is an input file format.
type Format string

// The formats of INTERFACE.md.
const (
	Canonical Format = "canonical"
	OpenData  Format = "lombardia-opendata"
)

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(strings.TrimSpace(s))) {
	case Canonical:
		return Canonical, nil
	case OpenData:
		return OpenData, nil
	}
	return "", oml.Errorf(oml.EINVALID, "formato %q sconosciuto / unknown format %q", s, s).
		WithHint("usare --format canonical oppure --format lombardia-opendata")
}

// Canonical columns, in the order of INTERFACE.md section 1.
const (
	colIDComunicazione = iota
	colTipoEvento
	colRifComunicazione
	colIDRapporto
	colDataEvento
	colCFLavoratore
	colCFDatore
	colGenere
	colAnnoNascita
	colCittadinanza
	colTitoloStudio
	colComuneLavoro
	colComuneResidenza
	colAteco
	colProfessione
	colTipoContratto
	colOrario
	colDataFinePrevista
	colTipoTrasformazione
	colMotivoCessazione
	colCategoriaProtetta
	numCanonical
)

// CanonicalColumns are the column names of the canonical format, in the
// order the synthetic generator writes them.
var CanonicalColumns = [numCanonical]string{
	"id_comunicazione", "tipo_evento", "rif_comunicazione", "id_rapporto", "data_evento",
	"cf_lavoratore", "cf_datore", "genere", "anno_nascita", "cittadinanza", "titolo_studio",
	"comune_lavoro", "comune_residenza", "ateco", "professione", "tipo_contratto", "orario",
	"data_fine_prevista", "tipo_trasformazione", "motivo_cessazione", "categoria_protetta",
}

// canonicalRequired are the columns a canonical header must have.
var canonicalRequired = []int{
	colIDComunicazione, colTipoEvento, colRifComunicazione, colIDRapporto, colDataEvento,
	colCFLavoratore, colCFDatore, colGenere, colAnnoNascita, colCittadinanza, colComuneLavoro,
	colAteco, colTipoContratto, colDataFinePrevista, colTipoTrasformazione, colMotivoCessazione,
}

// Open-data columns.
const (
	odData = iota
	odGenere
	odEta
	odSettore
	odTitoloStudio
	odContratto
	odModalita
	odProvincia
	odItaliano
	numOpenData
)

// OpenDataColumns are the column names of the Region's open-data exports.
var OpenDataColumns = [numOpenData]string{
	"DATA", "GENERE", "ETA", "SETTOREECONOMICODETTAGLIO", "TITOLOSTUDIO", "CONTRATTO",
	"MODALITALAVORO", "PROVINCIAIMPRESA", "ITALIANO",
}

// Header maps a file's columns to the format's columns.
type Header struct {
	Format    Format
	Event     oml.EventType // open data: the event type of every row
	Warnings  []string      // unknown columns, ignored
	idx       []int         // format column -> position in the row, -1 absent
	width     int           // number of fields in the header
	names     []string      // the header as read
	cfColumns []int         // positions holding fiscal codes, pseudonymised in raw rows
	idColumns []int         // positions of communication and relationship ids, kept as read
}

// Columns returns the header as read.
func (h *Header) Columns() []string { return h.names }

// parseHeader reads the header line of a file.
func parseHeader(line []byte, f Format, name string) (*Header, error) {
	fields, _, ok := splitLine(nil, nil, line)
	if ok && len(fields) < 2 && bytes.Count(line, []byte(";")) > 0 {
		return nil, oml.Errorf(oml.EINVALID, "%s: intestazione illeggibile, il separatore sembra il punto e virgola / unreadable header, the separator looks like a semicolon", name).
			WithHint("i file CO vanno separati da virgole (RFC 4180): riesportarli con la virgola / export the file comma-separated")
	}
	if !ok || len(fields) < 2 {
		return nil, oml.Errorf(oml.EINVALID, "%s: intestazione illeggibile / unreadable header", name).
			WithHint("la prima riga deve elencare i nomi delle colonne separati da virgole / the first line must name the columns, comma-separated")
	}
	var want []string
	switch f {
	case Canonical:
		want = CanonicalColumns[:]
	case OpenData:
		want = OpenDataColumns[:]
	}
	h := &Header{Format: f, idx: make([]int, len(want)), width: len(fields)}
	for i := range h.idx {
		h.idx[i] = -1
	}
	for pos, raw := range fields {
		n := strings.TrimSpace(string(raw))
		h.names = append(h.names, n)
		found := false
		for i, w := range want {
			if strings.EqualFold(n, w) {
				if h.idx[i] >= 0 {
					return nil, oml.Errorf(oml.EINVALID, "%s: colonna %q ripetuta nell'intestazione / column %q repeated in the header", name, n, n)
				}
				h.idx[i] = pos
				found = true
				break
			}
		}
		if !found {
			h.Warnings = append(h.Warnings, fmt.Sprintf("colonna %q ignorata / unknown column %q ignored", n, n))
		}
	}
	required := canonicalRequired
	if f == OpenData {
		required = []int{odData, odGenere, odEta, odSettore, odTitoloStudio, odContratto, odModalita, odProvincia, odItaliano}
	}
	var missing []string
	for _, c := range required {
		if h.idx[c] < 0 {
			missing = append(missing, want[c])
		}
	}
	if len(missing) > 0 {
		e := oml.Errorf(oml.EINVALID, "%s: mancano le colonne %s / missing columns %s", name, strings.Join(missing, ", "), strings.Join(missing, ", "))
		if f == Canonical && looksLikeOpenData(h.names) {
			return nil, e.WithHint("il file sembra un export open data della Regione: usare --format lombardia-opendata / the file looks like an open-data export")
		}
		if f == OpenData && looksLikeCanonical(h.names) {
			return nil, e.WithHint("il file sembra nel formato canonico: usare --format canonical / the file looks canonical")
		}
		return nil, e.WithHint("vedere docs/formato-input.md per le colonne attese / see docs/formato-input.md")
	}
	if f == Canonical {
		h.cfColumns = []int{h.idx[colCFLavoratore], h.idx[colCFDatore]}
		h.idColumns = []int{h.idx[colIDComunicazione], h.idx[colRifComunicazione], h.idx[colIDRapporto]}
	}
	return h, nil
}

func looksLikeOpenData(names []string) bool {
	for _, n := range names {
		if strings.EqualFold(n, "SETTOREECONOMICODETTAGLIO") || strings.EqualFold(n, "PROVINCIAIMPRESA") {
			return true
		}
	}
	return false
}

func looksLikeCanonical(names []string) bool {
	for _, n := range names {
		if strings.EqualFold(n, "id_comunicazione") {
			return true
		}
	}
	return false
}

// EventFromFileName infers the event type of an open-data file from its name
// ("...attivati...", "...cessati...", "...prorogati...", "...trasformati...").
func EventFromFileName(path string) (oml.EventType, bool) {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(base, "attivat"):
		return oml.Attivazione, true
	case strings.Contains(base, "cessat"):
		return oml.Cessazione, true
	case strings.Contains(base, "prorogat"):
		return oml.Proroga, true
	case strings.Contains(base, "trasformat"):
		return oml.Trasformazione, true
	}
	return 0, false
}

// Options configure decoding.
type Options struct {
	Format Format
	// Event is the event type of an open-data file; zero infers it from Name.
	Event oml.EventType
	// Name identifies the file in rejects and messages.
	Name  string
	Lists *classif.Lists
	Key   *pseudo.Key
	// Today bounds event dates: later dates are rejected as future.
	Today time.Time
}

// Record is the outcome of one row. Reject.Reason is empty for an accepted
// row; then Event holds the communication.
type Record struct {
	Line   int64
	Event  oml.Event
	Reject oml.Reject
}

// Accepted reports whether the row was accepted.
func (r *Record) Accepted() bool { return r.Reject.Reason == "" }

// Decoder reads a file row by row: header first, then Next until io.EOF.
// It is the sequential form of Reader plus Validator.
type Decoder struct {
	r *Reader
	v *Validator
}

// NewDecoder reads the header of r and returns a decoder for its rows.
func NewDecoder(r io.Reader, opt Options) (*Decoder, error) {
	rd, err := NewReader(r, opt)
	if err != nil {
		return nil, err
	}
	return &Decoder{r: rd, v: NewValidator(rd.Header(), opt)}, nil
}

// Header returns the file's header.
func (d *Decoder) Header() *Header { return d.r.Header() }

// Next decodes the next row into rec. It returns io.EOF after the last row
// and any other error only for a failure to read the input.
func (d *Decoder) Next(rec *Record) error {
	line, n, err := d.r.next()
	if err != nil {
		return err
	}
	d.v.Decode(line, n, rec)
	return nil
}

// Reader splits a file into raw rows after reading its header. Batches of
// raw rows can be validated in parallel by several Validators.
type Reader struct {
	lr     *lineReader
	header *Header
}

// NewReader reads and checks the header.
func NewReader(r io.Reader, opt Options) (*Reader, error) {
	lr := newLineReader(r)
	line, err := lr.next()
	if err == io.EOF {
		return nil, oml.Errorf(oml.EINVALID, "%s: file vuoto, manca l'intestazione / empty file, no header", opt.Name)
	}
	if err != nil {
		return nil, oml.Errorf(oml.EINVALID, "%s: intestazione illeggibile / unreadable header", opt.Name).WithHint("%v", err)
	}
	h, err := parseHeader(line, opt.Format, opt.Name)
	if err != nil {
		return nil, err
	}
	if opt.Format == OpenData {
		h.Event = opt.Event
		if h.Event == 0 {
			t, ok := EventFromFileName(opt.Name)
			if !ok {
				return nil, oml.Errorf(oml.EINVALID, "%s: tipo di evento non indicato / event type not given", opt.Name).
					WithHint("usare --event A|C|P|T oppure un nome file con attivati, cessati, prorogati o trasformati")
			}
			h.Event = t
		}
	}
	return &Reader{lr: lr, header: h}, nil
}

// Header returns the file's header.
func (r *Reader) Header() *Header { return r.header }

// BytesRead returns the number of bytes consumed so far, for progress.
func (r *Reader) BytesRead() int64 { return r.lr.read }

func (r *Reader) next() ([]byte, int64, error) {
	for {
		line, err := r.lr.next()
		if err == errLineTooLong {
			return line, r.lr.n, nil // empty: rejected as malformed by the validator
		}
		if err != nil {
			return nil, 0, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines, often at the end of exports, are not rows
		}
		return line, r.lr.n, nil
	}
}

// Batch is a block of raw rows copied out of the reader.
type Batch struct {
	buf   []byte
	ends  []int
	lines []int64
}

// Len returns the number of rows in the batch.
func (b *Batch) Len() int { return len(b.lines) }

// Row returns row i and its line number.
func (b *Batch) Row(i int) ([]byte, int64) {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]], b.lines[i]
}

// ReadBatch fills b with up to max rows. It returns io.EOF when no row is
// left; a final partial batch comes with a nil error.
func (r *Reader) ReadBatch(b *Batch, max int) error {
	b.buf, b.ends, b.lines = b.buf[:0], b.ends[:0], b.lines[:0]
	for len(b.lines) < max {
		line, n, err := r.next()
		if err == io.EOF {
			if len(b.lines) == 0 {
				return io.EOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		b.buf = append(b.buf, line...)
		b.ends = append(b.ends, len(b.buf))
		b.lines = append(b.lines, n)
	}
	return nil
}
