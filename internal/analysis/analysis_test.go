package analysis

import (
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
)

func TestCharts(t *testing.T) {
	for _, tc := range []struct {
		name, md string
		n        int
		query    string // of the last chart
		err      string
	}{
		{"none", "# Titolo\n\ntesto\n", 0, "", ""},
		{"full path", "a\n\n```grafico\ntitolo: Saldo\ntipo: linee\n/api/v1/data?indicator=saldo&territory=016&freq=Y\n```\n", 1, "freq=Y&indicator=saldo&territory=016", ""},
		{"absolute URL, format dropped", "```grafico\nhttps://oml.regione.lombardia.it/api/v1/data?indicator=saldo&format=csv\n```\n", 1, "indicator=saldo", ""},
		{"query only, two charts", "```grafico\nindicator=saldo\n```\n\n```grafico\nindicator=attivazioni&by=genere\n```\n", 2, "by=genere&indicator=attivazioni", ""},
		{"other code blocks are text", "```sql\nSELECT 1\n```\n", 0, "", ""},
		{"bad kind", "```grafico\ntipo: torta\nindicator=saldo\n```\n", 0, "", "grafico 1 dell'analisi: tipo \"torta\""},
		{"no query", "```grafico\ntitolo: x\n```\n", 0, "", "manca la richiesta"},
		{"two queries", "```grafico\nindicator=saldo\nindicator=attivazioni\n```\n", 0, "", "più di una richiesta"},
		{"other API path", "```grafico\n/api/v1/territories?level=cpi\n```\n", 0, "", "deve essere /api/v1/data"},
		{"no indicator", "```grafico\nterritory=016\n```\n", 0, "", "non ha indicator"},
		{"second is bad", "```grafico\nindicator=saldo\n```\n```grafico\n%zz\n```\n", 1, "indicator=saldo", "grafico 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := Charts([]byte(tc.md))
			if tc.err != "" {
				if err == nil || oml.ErrorCode(err) != oml.EINVALID || !strings.Contains(oml.ErrorMessage(err), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if len(cs) != tc.n {
				t.Fatalf("%d charts, want %d", len(cs), tc.n)
			}
			if tc.n > 0 && cs[tc.n-1].Query.Encode() != tc.query {
				t.Errorf("query %q, want %q", cs[tc.n-1].Query.Encode(), tc.query)
			}
		})
	}
}

func TestRenderFill(t *testing.T) {
	md := "# A\n\n```grafico\nindicator=saldo\n```\n\ntesto\n\n```grafico\ntipo: x\n```\n"
	src, html := Render([]byte(md), func(n int, c Chart, err error) string {
		if err != nil {
			return "<err" + string(rune('0'+n)) + ">"
		}
		return "<chart" + string(rune('0'+n)) + " " + c.Query.Get("indicator") + ">"
	})
	if strings.Contains(string(src), "grafico") || len(html) != 2 {
		t.Fatalf("src %q html %q", src, html)
	}
	// As a Markdown converter would leave the placeholders.
	conv := strings.ReplaceAll(strings.ReplaceAll(string(src), "\n\nOMLGRAFICO", "<p>OMLGRAFICO"), "OMLGRAFICO\n\n", "OMLGRAFICO</p>")
	out := Fill(conv, html)
	if !strings.Contains(out, "<chart1 saldo>") || !strings.Contains(out, "<err2>") || strings.Contains(out, "OMLGRAFICO") {
		t.Fatalf("filled %q", out)
	}
}
