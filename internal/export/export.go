// Package export encodes an oml.Dataset in the download formats of the data
// API (/api/v1/data?format=...): the API's own JSON, CSV, XLSX, SDMX-CSV 2.0
// and JSON-stat 2.0.
//
// Every format carries the same cells and the same metadata: release,
// vintage, methodology version, perimeter, scope and a status per cell. A
// cell whose status withholds its value (confidential, or unavailable from
// the input) is written empty, or null in the JSON formats, whatever Value
// holds, so that a suppressed figure never leaves the server by mistake.
// Labels come from the dataset's label maps and fall back to the code when
// a map is nil or lacks the entry.
//
// Encode checks the dataset before it writes anything, so an invalid
// dataset never produces half a file. The text formats are streamed and
// their output is byte-for-byte deterministic for a given dataset; XLSX is
// built in memory, since a spreadsheet is a zip archive. The decisions on
// the SDMX status codes and on the JSON-stat cube are recorded in
// docs/adr/0007-formati-di-scaricamento.md.
package export

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
)

// Format is a download format, named as the API's format parameter names it.
type Format string

// The download formats.
const (
	JSON     Format = "json"      // the API's JSON (INTERFACE.md, section 4)
	CSV      Format = "csv"       // one row per observation, Italian headers
	XLSX     Format = "xlsx"      // sheet "Dati" with the table, sheet "Note" with the metadata
	SDMXCSV  Format = "sdmx-csv"  // SDMX-CSV 2.0 (SDMX 3.0)
	JSONStat Format = "json-stat" // JSON-stat 2.0, one dataset
)

// Formats lists the formats in the order the API documents them.
var Formats = []Format{JSON, CSV, XLSX, SDMXCSV, JSONStat}

// ParseFormat returns the format named s, in any case and with surrounding
// spaces ignored. The empty string is JSON, the API's default. Any other
// name is an *oml.Error with code oml.EINVALID whose hint lists the formats.
func ParseFormat(s string) (Format, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return JSON, nil
	}
	for _, f := range Formats {
		if string(f) == t {
			return f, nil
		}
	}
	return "", errFormat(s)
}

func errFormat(s string) error {
	return oml.Errorf(oml.EINVALID, "formato %q non valido / invalid format %q", s, s).
		WithHint("usare json, csv, xlsx, sdmx-csv o json-stat / use json, csv, xlsx, sdmx-csv or json-stat")
}

// ContentType returns the media type to send in the Content-Type header, or
// "" for an unknown format.
func (f Format) ContentType() string {
	switch f {
	case JSON, JSONStat:
		return "application/json; charset=utf-8"
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case SDMXCSV:
		return "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8"
	}
	return ""
}

// Extension returns the file-name extension of a download, with its leading
// dot, or "" for an unknown format. The two formats that share a syntax with
// another get a double extension (".sdmx.csv", ".jsonstat.json"), so that
// downloads of one query in several formats do not overwrite each other and
// still open with the application of their syntax.
func (f Format) Extension() string {
	switch f {
	case JSON:
		return ".json"
	case CSV:
		return ".csv"
	case XLSX:
		return ".xlsx"
	case SDMXCSV:
		return ".sdmx.csv"
	case JSONStat:
		return ".jsonstat.json"
	}
	return ""
}

// Encode writes d to w in format f.
//
// It checks d before writing anything. These are errors, and nothing is
// written: a nil dataset; a frequency other than M, Q or Y; an empty or
// repeated id in By; an observation whose Codes do not match By, whose
// status is not A, P, C or M, or whose shown value is NaN or infinite;
// and, for JSON-stat only, two observations of one cell, a By id that
// JSON-stat reserves, or a cube of more than MaxCubeCells cells (an
// *oml.Error with code oml.EINVALID, since the query was too wide). An
// unknown format is an *oml.Error with code oml.EINVALID. The other
// errors are faults of the server, not of the caller. Once writing has
// begun, the only error returned is one of w.
func Encode(w io.Writer, f Format, d *oml.Dataset) error {
	if f.ContentType() == "" {
		return errFormat(string(f))
	}
	if err := check(d); err != nil {
		return err
	}
	switch f {
	case JSON:
		return encodeJSON(w, d)
	case CSV:
		return encodeCSV(w, d)
	case XLSX:
		return encodeXLSX(w, d)
	case SDMXCSV:
		return encodeSDMX(w, d)
	default: // JSONStat
		return encodeJSONStat(w, d)
	}
}

// check reports what would make d impossible to encode faithfully. The
// dataset is built by the server, so these are faults of the software, not
// of the caller: plain errors, which users see as an internal error.
func check(d *oml.Dataset) error {
	if d == nil {
		return fmt.Errorf("encode dataset: nil dataset")
	}
	switch d.Freq {
	case oml.Monthly, oml.Quarterly, oml.Yearly:
	default:
		return fmt.Errorf("encode dataset %s: invalid frequency %q", d.Indicator, d.Freq.String())
	}
	for i, dim := range d.By {
		if dim == "" {
			return fmt.Errorf("encode dataset %s: empty dimension id in By", d.Indicator)
		}
		for _, prev := range d.By[:i] {
			if prev == dim {
				return fmt.Errorf("encode dataset %s: dimension %s twice in By", d.Indicator, dim)
			}
		}
	}
	for i, o := range d.Observations {
		if len(o.Codes) != len(d.By) {
			return fmt.Errorf("encode dataset %s: observation %d (%s %s) has %d codes for %d dimensions",
				d.Indicator, i, o.Territory, o.Period, len(o.Codes), len(d.By))
		}
		switch o.Status {
		case oml.StatusNormal, oml.StatusProvisional, oml.StatusConfidential, oml.StatusUnavailable:
		default:
			return fmt.Errorf("encode dataset %s: observation %d (%s %s) has invalid status %q",
				d.Indicator, i, o.Territory, o.Period, o.Status.String())
		}
		if o.HasValue() && (math.IsNaN(o.Value) || math.IsInf(o.Value, 0)) {
			return fmt.Errorf("encode dataset %s: observation %d (%s %s) has value %v",
				d.Indicator, i, o.Territory, o.Period, o.Value)
		}
	}
	return nil
}

// territoryName, codeName and dimensionName return the label of a code,
// or the code itself where the dataset has none.
func territoryName(d *oml.Dataset, code string) string {
	if s, ok := d.Territories[code]; ok && s != "" {
		return s
	}
	return code
}

func codeName(d *oml.Dataset, dim, code string) string {
	if s, ok := d.Codes[dim][code]; ok && s != "" {
		return s
	}
	return code
}

func dimensionName(d *oml.Dataset, dim string) string {
	if s, ok := d.Dimensions[dim]; ok && s != "" {
		return s
	}
	return dim
}

// appendValue appends v in the form every text format uses: the shortest
// decimal that reads back as v, without exponent, so whole numbers have no
// decimals ("1234") and others as many as they need ("12.5"). Negative
// zero is written as 0.
func appendValue(b []byte, v float64) []byte {
	if v == 0 {
		v = 0
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// formatValue is appendValue for callers that need a string.
func formatValue(v float64) string {
	var buf [32]byte
	return string(appendValue(buf[:0], v))
}

// appendField appends `,"name":"value"` to a JSON object being written.
func appendField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. It escapes what JSON
// requires (quote, backslash, control characters), the line separators
// U+2028 and U+2029 that break JavaScript, and replaces each byte of
// invalid UTF-8 with U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
