package report

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/svgchart"
)

// Report is a set of chapters of one release: the regional report (the
// region, then the 12 provinces) or a single territory's.
type Report struct {
	Title    string
	Release  release.Info
	Last     oml.Period
	Chapters []*Chapter
}

// Territories lists the codes of "all": the region, then the provinces.
func Territories(names *method.Names) []string {
	out := []string{oml.RegionCode}
	for _, p := range names.Territories(oml.LevelProvince) {
		out = append(out, p.Code)
	}
	return out
}

// New builds the report of territories (codes; "all" for the regional
// report) from a release. intros gives an observatory's introduction by
// territory code (may be nil).
func New(rel *release.Release, names *method.Names, codes []string, intros map[string]string) (*Report, error) {
	if len(codes) == 1 && codes[0] == "all" {
		codes = Territories(names)
	}
	r := &Report{Release: rel.Info()}
	for _, code := range codes {
		c, err := Build(rel, names, code)
		if err != nil {
			return nil, err
		}
		c.Intro = intros[c.Territory.Code]
		r.Chapters = append(r.Chapters, c)
		r.Last = c.Last
	}
	r.Title = "Rapporto territoriale — Lombardia"
	if len(r.Chapters) == 1 {
		r.Title = "Rapporto territoriale — " + r.Chapters[0].Territory.Name
	}
	return r, nil
}

// Formats are the formats a report is written in.
var Formats = []string{"html", "pdf", "xlsx"}

// Write writes r in format (one of Formats) to w. A PDF is printed by
// printer, or by a Chromium of its own when printer is nil.
func (r *Report) Write(ctx context.Context, format string, w io.Writer, printer *Printer) error {
	switch format {
	case "html":
		return r.HTML(w)
	case "xlsx":
		return r.XLSX(w)
	case "pdf":
		if printer != nil {
			return printer.Print(r, w)
		}
		return r.PDF(ctx, w)
	}
	return oml.Errorf(oml.EINVALID, "formato %q non previsto / unknown format %q", format, format).WithHint("html, pdf o xlsx")
}

// Split returns one report per chapter of r, in order.
func (r *Report) Split() []*Report {
	out := make([]*Report, len(r.Chapters))
	for i, c := range r.Chapters {
		out[i] = &Report{Title: "Rapporto territoriale — " + c.Territory.Name, Release: r.Release, Last: r.Last, Chapters: []*Chapter{c}}
	}
	return out
}

//go:embed templates/report.html
var templateFS embed.FS

var labels = map[string]string{
	"attivazioni": "Attivazioni", "cessazioni": "Cessazioni", "saldo": "Saldo", "trasformazioni": "Trasformazioni",
}

var tmpl = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"num":    num,
	"diff":   diffOf,
	"pct":    pctOf,
	"share":  func(v Value) template.HTML { return withFlag(v, 1, "%") },
	"period": itfmt.Period,
	"date":   itfmt.Date,
	"label":  func(id string) string { return labels[id] },
	"paragraphs": func(s string) []string {
		var out []string
		for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	"chart18":        chart18,
	"chartYears":     chartYears,
	"chartBreakdown": chartBreakdown,
	"chartIndex":     chartIndex,
}).ParseFS(templateFS, "templates/report.html"))

// HTML writes the report as one self-contained HTML file (styles and SVG
// charts inline), fit to be printed on A4.
func (r *Report) HTML(w io.Writer) error {
	if err := tmpl.Execute(w, r); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// num writes a value with its flags: "41.232" and a "p" when provisional,
// "c" when confidential, "n.d." when unavailable.
func num(v Value) template.HTML { return withFlag(v, 0, "") }

func withFlag(v Value, dec int, unit string) template.HTML {
	switch v.Status {
	case oml.StatusConfidential:
		return `<abbr title="dato riservato">c</abbr>`
	case oml.StatusUnavailable:
		return `<abbr title="non disponibile">n.d.</abbr>`
	}
	if math.IsNaN(v.V) {
		return "n.d."
	}
	s := template.HTMLEscapeString(itfmt.Number(v.V, dec) + unit)
	if v.Status == oml.StatusProvisional {
		s += `<span class="flag">p</span>`
	}
	return template.HTML(s)
}

func diffOf(cur, prev Value) template.HTML {
	d, _, ok := Headline{Cur: cur, Prev: prev}.Change()
	if !ok {
		return "n.d."
	}
	return template.HTML(template.HTMLEscapeString(itfmt.Signed(d, 0)))
}

func pctOf(cur, prev Value) template.HTML {
	_, p, ok := Headline{Cur: cur, Prev: prev}.Change()
	if !ok || math.IsNaN(p) {
		return "n.d."
	}
	return template.HTML(template.HTMLEscapeString(itfmt.Signed(p, 1) + "%"))
}

// point is a value for a chart: nil when it may not be shown.
func point(v Value) *float64 {
	if !v.Shown() || math.IsNaN(v.V) {
		return nil
	}
	return svgchart.V(v.V)
}

func svg(c svgchart.Chart) template.HTML { return template.HTML(c.SVG()) }

func chart18(c *Chapter) template.HTML {
	ch := svgchart.Chart{Title: "Attivazioni, cessazioni e saldo mensili: " + c.Territory.Name,
		Desc: "Barre: attivazioni e cessazioni; linea: saldo. I valori sono nella tabella."}
	for _, p := range c.Months {
		ch.Categories = append(ch.Categories, itfmt.ShortPeriod(p))
	}
	for _, m := range c.Monthly {
		s := svgchart.Series{Name: m.Label}
		if m.Indicator == "saldo" {
			s.Kind = svgchart.Line
		}
		for _, v := range m.Raw {
			s.Values = append(s.Values, point(v))
		}
		ch.Series = append(ch.Series, s)
	}
	return svg(ch)
}

func chartYears(c *Chapter) template.HTML {
	ch := svgchart.Chart{Title: "Saldo di ogni anno: " + c.Territory.Name, Desc: "Saldo tra attivazioni e cessazioni per anno.", Height: 260}
	s := svgchart.Series{Name: "Saldo dell'anno"}
	for i, y := range c.Years {
		ch.Categories = append(ch.Categories, fmt.Sprint(y))
		s.Values = append(s.Values, point(c.Balance[i]))
	}
	ch.Series = []svgchart.Series{s}
	return svg(ch)
}

func chartBreakdown(b Breakdown) template.HTML {
	ch := svgchart.Chart{Title: b.Label + ": attivazioni e cessazioni degli ultimi 12 mesi", Horizontal: true,
		Desc: "Barre orizzontali per modalità; i valori sono nella tabella.", Height: 60 + 22*len(b.Rows)}
	a, c := svgchart.Series{Name: "Attivazioni"}, svgchart.Series{Name: "Cessazioni"}
	ci := 2
	for j, id := range b.Indicators {
		if id == "cessazioni" {
			ci = j
		}
	}
	for _, r := range b.Rows {
		ch.Categories = append(ch.Categories, r.Label)
		a.Values = append(a.Values, point(r.Cur[0]))
		c.Values = append(c.Values, point(r.Cur[ci]))
	}
	ch.Series = []svgchart.Series{a, c}
	return svg(ch)
}

func chartIndex(c *Chapter) template.HTML {
	v := c.Versus
	ch := svgchart.Chart{Title: "Attivazioni mensili, numero indice (" + itfmt.Period(c.Months[0]) + " = 100)",
		Desc: "La provincia e la Lombardia: attivazioni di ogni mese in rapporto al primo mese.", Height: 260}
	for _, p := range c.Months {
		ch.Categories = append(ch.Categories, itfmt.ShortPeriod(p))
	}
	for i, name := range []string{c.Territory.Name, "Lombardia"} {
		s := svgchart.Series{Name: name, Kind: svgchart.Line}
		vals := v.Index[i]
		for _, x := range vals {
			var p *float64
			if len(vals) > 0 && vals[0].Shown() && x.Shown() && vals[0].V > 0 {
				p = svgchart.V(100 * x.V / vals[0].V)
			}
			s.Values = append(s.Values, p)
		}
		ch.Series = append(ch.Series, s)
	}
	return svg(ch)
}
