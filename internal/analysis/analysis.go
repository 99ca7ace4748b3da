// Package analysis reads the analyses observatories write: Markdown in
// which a fenced block whose info string is "grafico" embeds a chart drawn
// from a query of the data API, so that its figures come from a release
// and are never typed by hand:
//
//	```grafico
//	titolo: Saldo annuale di Bergamo e Brescia
//	/api/v1/data?indicator=saldo&territory=016,017&freq=Y&from=2019
//	```
//
// The query is that of GET /api/v1/data (the path may be left out); with
// no release=ID it shows the latest release. "tipo: barre" or "tipo:
// linee" chooses the drawing (default: lines beyond 12 periods, else
// bars). The portal draws the charts (internal/web); the hub checks the
// blocks when a node sends an analysis.
package analysis

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/regione-lombardia/oml"
)

// DataPath is the API path chart queries address.
const DataPath = "/api/v1/data"

// Chart kinds.
const (
	Bars  = "barre"
	Lines = "linee"
)

var block = regexp.MustCompile("(?ms)^```[ \t]*grafico[ \t]*\r?\n(.*?)^```[ \t]*$")

// Chart is one chart block of an analysis.
type Chart struct {
	Title string
	Kind  string     // Bars, Lines or "" (automatic)
	Query url.Values // parameters of /api/v1/data, without format
}

// Charts returns the chart blocks of an analysis, in order, and an
// *oml.Error naming the first that is malformed.
func Charts(md []byte) ([]Chart, error) {
	var out []Chart
	for i, m := range block.FindAllSubmatch(md, -1) {
		c, err := parse(string(m[1]))
		if err != nil {
			return out, chartError(i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func chartError(n int, err error) error {
	return oml.Errorf(oml.EINVALID, "grafico %d dell'analisi: %s / chart %d of the analysis: %s", n, err, n, err).
		WithHint("un blocco ```grafico contiene una riga con la richiesta %s?indicator=...&territory=... e, facoltative, le righe titolo: e tipo: barre|linee", DataPath)
}

// Render returns md with each chart block replaced by a placeholder
// paragraph, and the HTML of each chart from draw (given the chart, or the
// error that makes it malformed). Fill puts the HTML in place once the
// Markdown is converted.
func Render(md []byte, draw func(n int, c Chart, err error) string) ([]byte, []string) {
	var html []string
	out := block.ReplaceAllFunc(md, func(b []byte) []byte {
		m := block.FindSubmatch(b)
		n := len(html) + 1
		c, err := parse(string(m[1]))
		if err != nil {
			err = chartError(n, err)
		}
		html = append(html, draw(n, c, err))
		return []byte(fmt.Sprintf("\n\n%s\n\n", placeholder(len(html)-1)))
	})
	return out, html
}

// Fill replaces the placeholders Render left, once converted to
// paragraphs, with the charts' HTML.
func Fill(converted string, html []string) string {
	for i, h := range html {
		converted = strings.Replace(converted, "<p>"+placeholder(i)+"</p>", h, 1)
	}
	return converted
}

func placeholder(i int) string { return fmt.Sprintf("OMLGRAFICO%dOMLGRAFICO", i) }

func parse(body string) (Chart, error) {
	var c Chart
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		key, val, ok := strings.Cut(line, ":")
		key = strings.ToLower(strings.TrimSpace(key))
		switch {
		case line == "":
		case ok && key == "titolo":
			c.Title = strings.TrimSpace(val)
		case ok && key == "tipo":
			c.Kind = strings.ToLower(strings.TrimSpace(val))
			if c.Kind != Bars && c.Kind != Lines {
				return c, fmt.Errorf("tipo %q: barre o linee", c.Kind)
			}
		default:
			if c.Query != nil {
				return c, fmt.Errorf("più di una richiesta")
			}
			q := line
			if p, rest, found := strings.Cut(line, "?"); found {
				if !strings.HasSuffix(p, DataPath) {
					return c, fmt.Errorf("la richiesta deve essere %s", DataPath)
				}
				q = rest
			}
			v, err := url.ParseQuery(q)
			if err != nil {
				return c, fmt.Errorf("richiesta illeggibile (%v)", err)
			}
			if v.Get("indicator") == "" {
				return c, fmt.Errorf("la richiesta non ha indicator")
			}
			v.Del("format")
			c.Query = v
		}
	}
	if c.Query == nil {
		return c, fmt.Errorf("manca la richiesta %s?...", DataPath)
	}
	return c, nil
}
