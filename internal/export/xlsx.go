package export

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/xuri/excelize/v2"
)

// The sheets of the XLSX download.
const (
	sheetData  = "Dati"
	sheetNotes = "Note"
)

// statusLegend explains the status codes in the "Note" sheet, in the order
// of the oml.Status constants.
var statusLegend = [][2]string{
	{"A", "normale"},
	{"P", "provvisorio: le comunicazioni tardive possono ancora modificarlo"},
	{"C", "riservato: soppresso per la tutela della riservatezza (cella vuota)"},
	{"M", "non disponibile: i dati di partenza non consentono di calcolarlo (cella vuota)"},
}

// encodeXLSX writes a workbook of two sheets.
//
// "Dati" holds the table, one row per observation under a frozen header
// row in Italian: territory code and name, period, code and label of each
// dimension of By, the value (a number cell, headed with the unit) and the
// status. Codes and periods are text cells, so that "016" keeps its zero
// and "2024-06" is not taken for a date; a value the status withholds is an
// empty cell, not a zero.
//
// "Note" says what the table is: indicator and its label, unit,
// transformation, frequency, perimeter, scope, breakdowns, release,
// vintage, methodology version, convention, source, and the legend of the
// status codes.
//
// The document properties (title, subject, author, dates) are derived from
// the dataset only, the dates from the vintage, so two downloads of the
// same figures carry the same properties.
func encodeXLSX(w io.Writer, d *oml.Dataset) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := writeXLSX(f, d); err != nil {
		return fmt.Errorf("build xlsx: %w", err)
	}
	return f.Write(w)
}

func writeXLSX(f *excelize.File, d *oml.Dataset) error {
	if err := f.SetSheetName("Sheet1", sheetData); err != nil {
		return err
	}
	if _, err := f.NewSheet(sheetNotes); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := writeXLSXData(f, d, bold); err != nil {
		return err
	}
	if err := writeXLSXNotes(f, d, bold); err != nil {
		return err
	}
	// "Dati", the first sheet, is the active one of a new workbook; calling
	// SetActiveSheet would make excelize parse the streamed sheet back.

	stamp := "2000-01-01T00:00:00Z"
	if t, err := time.Parse(time.DateOnly, d.Vintage); err == nil {
		stamp = t.Format(time.RFC3339)
	}
	return f.SetDocProps(&excelize.DocProperties{
		Title:          title(d),
		Subject:        d.Indicator,
		Creator:        Source,
		LastModifiedBy: Source,
		Description:    fmt.Sprintf("Release %s, vintage %s, metodologia %s", d.Release, d.Vintage, d.MethodVersion),
		Identifier:     d.Release + "/" + d.Indicator,
		Keywords:       "mercato del lavoro; Lombardia; " + d.Indicator,
		Category:       "Statistiche sul mercato del lavoro",
		Language:       "it-IT",
		Created:        stamp,
		Modified:       stamp,
		Revision:       "1",
		Version:        d.MethodVersion,
	})
}

func writeXLSXData(f *excelize.File, d *oml.Dataset, bold int) error {
	sw, err := f.NewStreamWriter(sheetData)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	// Column widths, in characters: codes narrow, names wide.
	widths := []float64{12, 32, 10}
	for range d.By {
		widths = append(widths, 12, 32)
	}
	widths = append(widths, 16, 8)
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}

	head := []any{
		excelize.Cell{StyleID: bold, Value: "Codice territorio"},
		excelize.Cell{StyleID: bold, Value: "Territorio"},
		excelize.Cell{StyleID: bold, Value: "Periodo"},
	}
	for _, dim := range d.By {
		name := dimensionName(d, dim)
		head = append(head,
			excelize.Cell{StyleID: bold, Value: "Codice " + name},
			excelize.Cell{StyleID: bold, Value: name})
	}
	value := "Valore"
	if d.Unit != "" {
		value += " (" + d.Unit + ")"
	}
	head = append(head,
		excelize.Cell{StyleID: bold, Value: value},
		excelize.Cell{StyleID: bold, Value: "Stato"})
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}

	row := make([]any, len(head))
	for i, o := range d.Observations {
		row = row[:0]
		row = append(row, o.Territory, territoryName(d, o.Territory), o.Period)
		for j, code := range o.Codes {
			row = append(row, code, codeName(d, d.By[j], code))
		}
		if o.HasValue() {
			v := o.Value
			if v == 0 {
				v = 0 // no negative zero
			}
			row = append(row, v)
		} else {
			row = append(row, nil)
		}
		row = append(row, o.Status.String())
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func writeXLSXNotes(f *excelize.File, d *oml.Dataset, bold int) error {
	freq := map[oml.Freq]string{oml.Monthly: "mensile", oml.Quarterly: "trimestrale", oml.Yearly: "annuale"}[d.Freq]
	var by []string
	for _, dim := range d.By {
		by = append(by, dimensionName(d, dim))
	}
	rows := [][2]string{
		{"Titolo", title(d)},
		{"Indicatore", d.Indicator},
		{"Unità di misura", d.Unit},
	}
	if d.Transform != "" {
		rows = append(rows, [2]string{"Trasformazione", d.Transform})
	}
	rows = append(rows,
		[2]string{"Frequenza", freq + " (" + d.Freq.String() + ")"},
		[2]string{"Perimetro", perimeterNote(d.Perimeter)},
		[2]string{"Ambito", scopeNote(d.Scope)},
	)
	if len(by) > 0 {
		rows = append(rows, [2]string{"Disaggregazioni", strings.Join(by, ", ")})
	}
	rows = append(rows,
		[2]string{"Release", d.Release},
		[2]string{"Vintage (data di estrazione dei dati)", d.Vintage},
		[2]string{"Versione della metodologia", d.MethodVersion},
	)
	if d.Convention != "" {
		rows = append(rows, [2]string{"Convenzione", d.Convention})
	}
	rows = append(rows, [2]string{"Fonte", Source})

	r := 1
	put := func(a, b any) error {
		cell, err := excelize.CoordinatesToCellName(1, r)
		if err != nil {
			return err
		}
		r++
		return f.SetSheetRow(sheetNotes, cell, &[]any{a, b})
	}
	for _, kv := range rows {
		if err := put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	r++ // a blank line before the legend
	if err := put("Legenda dello stato", nil); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheetNotes, "A1", fmt.Sprintf("A%d", r-1), bold); err != nil {
		return err
	}
	for _, kv := range statusLegend {
		if err := put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sheetNotes, "A", "A", 38); err != nil {
		return err
	}
	return f.SetColWidth(sheetNotes, "B", "B", 90)
}

// title is the human title of the dataset: the indicator's label, with the
// transformation in brackets for a derived series.
func title(d *oml.Dataset) string {
	t := d.Label
	if t == "" {
		t = d.Indicator
	}
	if d.Transform != "" {
		t += " [" + d.Transform + "]"
	}
	return t
}

// perimeterNote and scopeNote gloss the codes for the "Note" sheet.
func perimeterNote(p oml.Perimeter) string {
	switch p {
	case oml.Workplace:
		return "workplace: comune del luogo di lavoro"
	case oml.Residence:
		return "residence: comune di residenza del lavoratore"
	}
	return string(p)
}

func scopeNote(s oml.Scope) string {
	switch s {
	case oml.ScopeFull:
		return "full: tutti i rapporti di lavoro dipendente e parasubordinato"
	case oml.ScopeCore:
		return "core: rapporti a tempo indeterminato, a termine e di apprendistato del settore privato"
	}
	return string(s)
}
