package export

import (
	"encoding/csv"
	"io"

	"github.com/regione-lombardia/oml"
)

// encodeCSV writes one header row and one row per observation, UTF-8
// without byte-order mark, comma-separated, quoted only where needed
// (encoding/csv). The columns are
//
//	territorio,nome_territorio,periodo,
//	<dim>,nome_<dim> (for each dimension of By, in order),
//	valore,stato,
//	indicatore,unita,trasformazione,perimetro,ambito,release,vintage,versione_metodologia
//
// The metadata come last and repeat on every row, so that a spreadsheet
// user sees the data first and every row still says what it is. valore is
// empty when the status withholds the value; numbers use a dot as decimal
// separator, as a CSV meant for software does (the XLSX is the format for
// spreadsheets in an Italian locale).
func encodeCSV(w io.Writer, d *oml.Dataset) error {
	cw := csv.NewWriter(w)
	nby := len(d.By)
	rec := make([]string, 0, 3+2*nby+2+8)
	rec = append(rec, "territorio", "nome_territorio", "periodo")
	for _, dim := range d.By {
		rec = append(rec, dim, "nome_"+dim)
	}
	rec = append(rec, "valore", "stato",
		"indicatore", "unita", "trasformazione", "perimetro", "ambito", "release", "vintage", "versione_metodologia")
	cw.Write(rec)

	// The trailing metadata columns are the same on every row.
	meta := []string{d.Indicator, d.Unit, d.Transform, string(d.Perimeter), string(d.Scope),
		d.Release, d.Vintage, d.MethodVersion}
	var num []byte
	for _, o := range d.Observations {
		rec = rec[:0]
		rec = append(rec, o.Territory, territoryName(d, o.Territory), o.Period)
		for j, code := range o.Codes {
			rec = append(rec, code, codeName(d, d.By[j], code))
		}
		value := ""
		if o.HasValue() {
			num = appendValue(num[:0], o.Value)
			value = string(num)
		}
		rec = append(rec, value, o.Status.String())
		rec = append(rec, meta...)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
