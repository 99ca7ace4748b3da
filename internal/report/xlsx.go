package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
)

// table is one table of a chapter, for the workbook.
type table struct {
	name  string // sheet name, at most 31 characters
	title string
	head  []string
	rows  [][]any // string, int or Value
}

// tables lists the tables of a chapter, in the order of the HTML.
func (c *Chapter) tables(prefix string) []table {
	var out []table
	sum := table{name: prefix + "Sintesi", title: "Ultimi 12 mesi (" + itfmt.Period(c.From) + " – " + itfmt.Period(c.To) + ") e 12 mesi precedenti",
		head: []string{"Indicatore", "Ultimi 12 mesi", "12 mesi precedenti"}}
	for _, h := range c.Headlines {
		sum.rows = append(sum.rows, []any{h.Label, h.Cur, h.Prev})
	}
	out = append(out, sum)
	m := table{name: prefix + "Mensile", title: "Flussi mensili degli ultimi 18 mesi, grezzi e destagionalizzati", head: []string{"Mese"}}
	for _, s := range c.Monthly {
		m.head = append(m.head, s.Label)
		if s.SA != nil {
			m.head = append(m.head, s.Label+" destagionalizzate")
		}
	}
	for i, p := range c.Months {
		row := []any{p.String()}
		for _, s := range c.Monthly {
			row = append(row, s.Raw[i])
			if s.SA != nil {
				row = append(row, s.SA[i])
			}
		}
		m.rows = append(m.rows, row)
	}
	out = append(out, m)
	y := table{name: prefix + "Annuale", title: "Saldo di ogni anno e saldo cumulato a fine anno", head: []string{"Anno", "Saldo dell'anno", "Saldo cumulato"}}
	for i, yr := range c.Years {
		y.rows = append(y.rows, []any{yr, c.Balance[i], c.Cumulated[i]})
	}
	out = append(out, y)
	bs := c.Breakdowns[:len(c.Breakdowns):len(c.Breakdowns)]
	if c.Provinces != nil {
		bs = append(bs, *c.Provinces)
	}
	if c.CPIs != nil {
		bs = append(bs, *c.CPIs)
	}
	for _, b := range bs {
		t := table{name: prefix + sheetName(b.Dim), title: b.Label + ", ultimi 12 mesi e 12 mesi precedenti", head: []string{b.Label}}
		for _, id := range b.Indicators {
			t.head = append(t.head, labels[id]+", ultimi 12 mesi")
		}
		for _, id := range b.Indicators {
			t.head = append(t.head, labels[id]+", 12 mesi precedenti")
		}
		for _, r := range b.Rows {
			row := []any{r.Label}
			for _, v := range r.Cur {
				row = append(row, v)
			}
			for _, v := range r.Prev {
				row = append(row, v)
			}
			t.rows = append(t.rows, row)
		}
		out = append(out, t)
	}
	if v := c.Versus; v != nil {
		t := table{name: prefix + "Province", title: "Attivazioni per provincia, ultimi 12 mesi e 12 mesi precedenti",
			head: []string{"Provincia", "Ultimi 12 mesi", "12 mesi precedenti"}}
		for _, r := range append(v.Provinces, v.Region) {
			t.rows = append(t.rows, []any{r.Label, r.Cur[0], r.Prev[0]})
		}
		out = append(out, t)
	}
	return out
}

var sheetNames = map[string]string{
	"contratto": "Contratto", "ateco_sezione": "Settore", "professione": "Professione", "genere": "Genere",
	"classe_eta": "Età", "cittadinanza": "Cittadinanza", "titolo_studio": "Titolo di studio", "target": "Gruppi target", "cpi": "CPI", "provincia": "Province",
}

func sheetName(dim string) string {
	if n, ok := sheetNames[dim]; ok {
		return n
	}
	return dim
}

// XLSX writes the report as a workbook: one sheet per table (prefixed by
// the territory's code in the regional report), Italian headers, numbers
// as numbers (a withheld figure is the text "c" or "n.d."), and a
// methodology sheet first.
func (r *Report) XLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	meta := "Metodologia"
	f.SetSheetName("Sheet1", meta)
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	lines := []string{
		r.Title,
		"Rilascio " + r.Release.ID + ", dati al " + itfmt.Date(r.Release.Vintage) + ", metodologia v" + r.Release.MethodVersion + ".",
		"Fonte: Comunicazioni Obbligatorie, pseudonimizzate. Territorio: sede di lavoro. Ambito: tutti i rapporti.",
	}
	if len(r.Chapters) > 0 {
		c := r.Chapters[0]
		for _, ind := range c.Definitions() {
			lines = append(lines, ind.Label+": "+ind.Definition)
		}
		lines = append(lines, "Destagionalizzazione: STL sulla serie mensile pubblicata.",
			fmt.Sprintf("Riservatezza: un valore che poggia su meno di %d rapporti, persone o datori non è pubblicato (c), né i valori da cui si ricaverebbe per differenza. Gli ultimi %d mesi sono provvisori (p, colonna stato). n.d.: non disponibile.",
				c.Method.Disclosure.K, c.Method.ProvisionalMonths))
	}
	lines = append(lines, "Ogni cifra è quella pubblicata dall'API /api/v1/data per lo stesso rilascio.")
	for i, l := range lines {
		f.SetCellValue(meta, fmt.Sprintf("A%d", i+1), l)
	}
	f.SetCellStyle(meta, "A1", "A1", bold)
	for _, c := range r.Chapters {
		prefix := ""
		if len(r.Chapters) > 1 {
			prefix = c.Territory.Code + " "
		}
		for _, t := range c.tables(prefix) {
			name := t.name
			if len([]rune(name)) > 31 {
				name = string([]rune(name)[:31])
			}
			if _, err := f.NewSheet(name); err != nil {
				return fmt.Errorf("report: xlsx: %w", err)
			}
			f.SetCellValue(name, "A1", c.Territory.Name+": "+t.title)
			f.SetCellStyle(name, "A1", "A1", bold)
			head := append(t.head, "stato")
			for j, h := range head {
				cell, _ := excelize.CoordinatesToCellName(j+1, 3)
				f.SetCellValue(name, cell, h)
				f.SetCellStyle(name, cell, cell, bold)
			}
			for i, row := range t.rows {
				flags := map[string]bool{}
				for j, v := range row {
					cell, _ := excelize.CoordinatesToCellName(j+1, i+4)
					switch x := v.(type) {
					case Value:
						switch {
						case x.Status == oml.StatusConfidential:
							f.SetCellValue(name, cell, "c")
						case !x.Shown():
							f.SetCellValue(name, cell, "n.d.")
						default:
							f.SetCellValue(name, cell, x.V)
							if x.Status == oml.StatusProvisional {
								flags["provvisorio"] = true
							}
						}
					default:
						f.SetCellValue(name, cell, x)
					}
				}
				if flags["provvisorio"] {
					cell, _ := excelize.CoordinatesToCellName(len(head), i+4)
					f.SetCellValue(name, cell, "p (provvisorio)")
				}
			}
			f.SetColWidth(name, "A", "A", 42)
			last, _ := excelize.ColumnNumberToName(len(head))
			f.SetColWidth(name, "B", last, 18)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("report: xlsx: %w", err)
	}
	return nil
}
