package geo

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml/internal/classif"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func load(t *testing.T) *Atlas {
	t.Helper()
	a, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// The maps cover exactly the territories of the code lists: the 12
// provinces, and in each province its comuni of 2025.
func TestAtlasMatchesCodeLists(t *testing.T) {
	a := load(t)
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range lists.Provinces() {
		want = append(want, p.Code)
	}
	var got []string
	for _, s := range a.Provinces().Shapes {
		got = append(got, s.Code)
		if !strings.HasPrefix(s.Path, "M") || !strings.HasSuffix(s.Path, "Z") {
			t.Errorf("province %s: path %.40q", s.Code, s.Path)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("provinces of the map %v, of the code lists %v", got, want)
	}
	total := 0
	for _, p := range want {
		m, ok := a.Comuni(p)
		if !ok {
			t.Fatalf("no comuni map for %s", p)
		}
		var mapped, listed []string
		for _, s := range m.Shapes {
			mapped = append(mapped, s.Code)
		}
		for _, c := range lists.ComuniOf(p) {
			if c.Lombardy && !c.Suppressed {
				listed = append(listed, c.Istat)
			}
		}
		slices.Sort(listed)
		if !slices.Equal(mapped, listed) {
			t.Errorf("province %s: %d comuni on the map, %d in the code lists", p, len(mapped), len(listed))
		}
		total += len(mapped)
	}
	if total != 1502 {
		t.Errorf("%d comuni on the maps, want 1502", total)
	}
	if _, ok := a.Comuni("999"); ok {
		t.Error("a map for province 999")
	}
}

// The province map is small enough to inline in every page, and its
// drawing is stable: a golden file shows any change of the projection or
// of the simplification (go test ./internal/geo -update rewrites it).
func TestProvinceMapGolden(t *testing.T) {
	m := load(t).Provinces()
	var b bytes.Buffer
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=%q>\n", m.ViewBox())
	for _, s := range m.Shapes {
		fmt.Fprintf(&b, "<path id=%q fill=\"#cde\" stroke=\"#fff\" d=%q><title>%s</title></path>\n", "p"+s.Code, s.Path, s.Name)
	}
	b.WriteString("</svg>\n")
	if b.Len() > 60_000 {
		t.Errorf("province map is %d bytes, want under 60 kB", b.Len())
	}
	if m.Height < 400 || m.Height > 900 {
		t.Errorf("height %.0f for width %d: the projection is off", m.Height, Width)
	}
	golden := filepath.Join("testdata", "province.svg")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("province map differs from %s (rerun with -update if the change is wanted)", golden)
	}
}

func TestSimplify(t *testing.T) {
	tests := []struct {
		name string
		in   [][2]float64
		want [][2]float64
	}{
		{"short line kept", [][2]float64{{0, 0}, {1, 1}, {2, 0}}, [][2]float64{{0, 0}, {1, 1}, {2, 0}}},
		{"collinear points dropped", [][2]float64{{0, 0}, {1, 0.1}, {2, 0}, {3, 0.1}, {4, 0}}, [][2]float64{{0, 0}, {4, 0}}},
		{"corner kept", [][2]float64{{0, 0}, {1, 0}, {2, 0}, {2, 1}, {2, 2}}, [][2]float64{{0, 0}, {2, 0}, {2, 2}}},
		{"closed square", [][2]float64{{0, 0}, {1, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}, [][2]float64{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := simplify(tt.in, 0.35); !slices.Equal(got, tt.want) {
				t.Errorf("simplify = %v, want %v", got, tt.want)
			}
		})
	}
}
