package web

import (
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml/internal/itfmt"
)

// TestAnalysisCharts renders an analysis with charts and checks that every
// bar states the value the API returns for the chart's query, that a query
// the API refuses becomes a notice with the API's message, and that raw
// HTML is left out.
func TestAnalysisCharts(t *testing.T) {
	_, s, ts := sharedTS(t)
	query := "indicator=attivazioni&territory=016,017&freq=Y&from=2023"
	md := "# Analisi\n\nTesto <script>alert(1)</script>.\n\n```grafico\ntitolo: Attivazioni annuali\n/api/v1/data?" + query +
		"\n```\n\n```grafico\nindicator=nessuno\n```\n\n```grafico\ntipo: torta\nindicator=saldo\n```\n"
	out, err := s.renderAnalysis(context.Background(), []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	html := string(out)
	if strings.Contains(html, "<script") {
		t.Error("raw HTML of the analysis reaches the page")
	}
	if strings.Count(html, "<svg") != 1 || !strings.Contains(html, "Attivazioni annuali") || !strings.Contains(html, "format=csv") {
		t.Fatalf("chart missing:\n%s", html)
	}
	for _, want := range []string{"Grafico 2 non disponibile: indicatore", "Grafico 3 non disponibile: grafico 3 dell&#39;analisi: tipo"} {
		if !strings.Contains(html, want) {
			t.Errorf("no notice %q in\n%s", want, html)
		}
	}
	resp := get(t, ts, "/api/v1/data?"+query+"&format=csv")
	rows, err := csv.NewReader(strings.NewReader(string(resp.body))).ReadAll()
	if err != nil || len(rows) < 3 {
		t.Fatalf("API: %v %d rows", err, len(rows))
	}
	shown := 0
	for _, r := range rows[1:] {
		name, period, val, st := r[1], r[2], r[3], r[4]
		if st == "C" || st == "M" {
			if strings.Contains(html, "<title>"+name+", "+period+":") {
				t.Errorf("withheld %s %s drawn", name, period)
			}
			continue
		}
		v, _ := strconv.ParseFloat(val, 64)
		want := "<title>" + name + ", " + period + ": " + itfmt.Number(v, 0) + "</title>"
		if !strings.Contains(html, want) {
			t.Errorf("chart lacks %s", want)
		}
		shown++
	}
	if shown < 4 {
		t.Fatalf("only %d values compared", shown)
	}
}
