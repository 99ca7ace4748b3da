package method

import (
	"slices"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// TestFamilies checks how the breakdowns are spread over the partial
// tables: each breakdown in the first family holding all its dimensions,
// once; a breakdown no family holds in a family of its own; each family at
// the finest level any of its breakdowns is published at.
func TestFamilies(t *testing.T) {
	cat, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	// The catalogue plus a breakdown no family holds, published at CPI level.
	cpi := string(oml.LevelCPI)
	cat.Breakdowns[cpi] = append(slices.Clone(cat.Breakdowns[cpi]), []string{"contratto", "cittadinanza"})
	fams := cat.families()

	got := map[string]string{} // breakdown -> "dims of its family @ grain"
	for _, f := range fams {
		for _, b := range f.breakdowns {
			k := strings.Join(b, ",")
			if _, dup := got[k]; dup {
				t.Errorf("breakdown %q in two families", k)
			}
			got[k] = strings.Join(f.dims, ",") + " @ " + string(f.grain)
		}
	}
	tests := []struct{ breakdown, family string }{
		{"", " @ comune"},
		{"contratto", "contratto,orario,genere,tipo_trasformazione @ cpi"},
		{"genere", "contratto,orario,genere,tipo_trasformazione @ cpi"},
		{"classe_eta", "classe_eta,genere,target @ cpi"},
		{"genere,classe_eta", "classe_eta,genere,target @ cpi"},
		{"target", "classe_eta,genere,target @ cpi"},
		{"cittadinanza", "cittadinanza,titolo_studio @ cpi"},
		{"professione_2", "professione,professione_2 @ province"},
		{"ateco_divisione", "ateco_sezione,ateco_divisione @ cpi"},
		{"contratto,cittadinanza", "contratto,cittadinanza @ cpi"},
	}
	for _, tc := range tests {
		if got[tc.breakdown] != tc.family {
			t.Errorf("breakdown %q: family %q, want %q", tc.breakdown, got[tc.breakdown], tc.family)
		}
	}
	if n := len(got); n != len(cat.allBreakdowns()) {
		t.Errorf("%d breakdowns in families, the catalogue has %d", n, len(cat.allBreakdowns()))
	}
	// Every aggregate reads the partial table of its breakdown's family.
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	plan := cat.Compile(lists, Options{})
	for _, a := range plan.Aggregates {
		if !strings.Contains(a.SQL, "FROM part_") {
			t.Errorf("aggregate %v does not read a partial table:\n%s", a.Breakdown, a.SQL)
		}
	}
	if want := 2 * len(fams); len(plan.Partials) != want {
		t.Errorf("%d partial tables, want %d", len(plan.Partials), want)
	}
}
