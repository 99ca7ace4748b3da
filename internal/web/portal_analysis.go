package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"

	"github.com/yuin/goldmark"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/analysis"
	"github.com/regione-lombardia/oml/internal/svgchart"
)

// maxChartSeries is the most lines or bar groups one chart draws.
const maxChartSeries = 8

// renderAnalysis turns an analysis into HTML: Markdown with raw HTML
// escaped (a node cannot inject markup into the hub's portal), and each
// chart block drawn from its query.
func (s *Server) renderAnalysis(ctx context.Context, md []byte) (template.HTML, error) {
	src, charts := analysis.Render(md, func(n int, c analysis.Chart, err error) string { return s.chartHTML(ctx, n, c, err) })
	var b bytes.Buffer
	if err := goldmark.Convert(src, &b); err != nil {
		return "", err
	}
	return template.HTML(analysis.Fill(b.String(), charts)), nil
}

// chartHTML draws chart n of an analysis, or a notice of why it cannot.
func (s *Server) chartHTML(ctx context.Context, n int, cq analysis.Chart, err error) string {
	notice := func(msg string) string {
		return `<div class="alert alert-warning" role="note">Grafico ` + fmt.Sprint(n) + ` non disponibile: ` + html.EscapeString(msg) + `</div>`
	}
	if err != nil {
		return notice(oml.ErrorMessage(err))
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, APIPrefix+"/data", nil)
	if err != nil {
		return notice(err.Error())
	}
	d, ds, err := s.queryData(hr, cq.Query)
	if err != nil {
		return notice(oml.ErrorMessage(err))
	}
	c := svgchart.Chart{Title: cq.Title}
	if c.Title == "" {
		c.Title = ds.Label
	}
	var periods []string
	pi := map[string]int{}
	type skey struct{ terr, codes string }
	var keys []skey
	si := map[skey]int{}
	for _, o := range ds.Observations {
		if _, ok := pi[o.Period]; !ok {
			pi[o.Period] = len(periods)
			periods = append(periods, o.Period)
		}
		k := skey{o.Territory, strings.Join(o.Codes, ",")}
		if _, ok := si[k]; !ok {
			si[k] = len(keys)
			keys = append(keys, k)
		}
	}
	if len(keys) > maxChartSeries {
		return notice(fmt.Sprintf("%d serie, al massimo %d: restringere territori o disaggregazioni", len(keys), maxChartSeries))
	}
	kind := svgchart.Bar
	if cq.Kind == analysis.Lines || (cq.Kind == "" && len(periods) > 12) {
		kind = svgchart.Line
	}
	for _, k := range keys {
		name := ds.Territories[k.terr]
		if k.codes != "" {
			var parts []string
			for j, code := range strings.Split(k.codes, ",") {
				parts = append(parts, ds.Codes[ds.By[j]][code])
			}
			name += " — " + strings.Join(parts, ", ")
		}
		c.Series = append(c.Series, svgchart.Series{Name: name, Kind: kind, Values: make([]*float64, len(periods))})
	}
	for _, o := range ds.Observations {
		if o.HasValue() {
			v := o.Value
			c.Series[si[skey{o.Territory, strings.Join(o.Codes, ",")}]].Values[pi[o.Period]] = &v
		}
	}
	c.Categories = periods
	in := d.rel.Info()
	c.Desc = fmt.Sprintf("%s (%s), release %s, dati al %s; i valori riservati o non disponibili mancano.", ds.Label, ds.Unit, in.ID, in.Vintage)
	csvURL := APIPrefix + "/data?" + cq.Query.Encode() + "&format=csv"
	return `<figure class="oml-figure">` + c.SVG() + `<figcaption>` + html.EscapeString(c.Title) + ` — fonte: indicatori comuni, release ` +
		html.EscapeString(in.ID) + `, dati al ` + html.EscapeString(in.Vintage) + `. <a href="` + html.EscapeString(csvURL) + `">Dati del grafico (CSV)</a></figcaption></figure>`
}
