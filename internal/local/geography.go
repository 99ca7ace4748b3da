package local

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/method"
)

// ResultFile is the CSV of the indicators computed on a geography's areas.
const ResultFile = "indicatori.csv"

// GeographyMeta describes a custom geography.
type GeographyMeta struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source"`
	Licence     string `json:"licence"`
}

// Geography is a stored custom geography: areas made of comuni of the
// observatory's territory, and the last computation of the common
// indicators on them.
type Geography struct {
	Slug      string         `json:"slug"`
	Meta      GeographyMeta  `json:"meta"`
	Territory string         `json:"territory"` // the province the areas lie in; the region code for the hub
	Areas     []classif.Area `json:"areas"`
	Added     time.Time      `json:"added"`
	Computed  *Computation   `json:"computed,omitempty"`
}

// Computation records how a geography's indicators were computed.
type Computation struct {
	Release       string    `json:"release"`        // the release whose methodology and vintage were used
	Vintage       string    `json:"vintage"`        // data as at
	MethodVersion string    `json:"method_version"` // catalogue version
	At            time.Time `json:"at"`
	Cells         int       `json:"cells"`    // rows of indicatori.csv
	Withheld      int       `json:"withheld"` // values withheld by disclosure control
}

var areaCodeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// ParseAreas reads a comune -> area table: a CSV with the columns comune
// (ISTAT code, or cadastral code), area (a code) and nome_area (its name;
// the same on every row of an area). Every comune must be a comune of 2025
// of territory (a province's code; the region's code allows all of
// Lombardy) and belong to one area only. All invalid rows are reported,
// with their line.
func ParseAreas(content []byte, lists *classif.Lists, territory string) ([]classif.Area, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, oml.Errorf(oml.EINVALID, "tabella comuni-aree illeggibile / unreadable comune-area table").WithHint("%v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ci, okc := col["comune"]
	ai, oka := col["area"]
	ni, okn := col["nome_area"]
	if !okc || !oka || !okn {
		return nil, oml.Errorf(oml.EINVALID, "la tabella comuni-aree deve avere le colonne comune, area, nome_area / the table needs the columns comune, area, nome_area").
			WithHint("colonne trovate / columns found: %s", strings.Join(header, ", "))
	}
	var errs RowErrors
	var areas []classif.Area
	index := map[string]int{}
	seen := map[string]int{} // comune -> line
	malformed := eachRecord(r, func(line int, rec []string) {
		if len(rec) <= max(ci, ai, ni) {
			errs = append(errs, RowError{line, fmt.Sprintf("%d colonne invece di %d", len(rec), len(header))})
			return
		}
		code, area, name := strings.TrimSpace(rec[ci]), strings.TrimSpace(rec[ai]), strings.TrimSpace(rec[ni])
		c, ok := lists.Comune(code)
		switch {
		case !ok:
			errs = append(errs, RowError{line, fmt.Sprintf("comune %q sconosciuto", code)})
			return
		case !c.Lombardy || c.Suppressed:
			errs = append(errs, RowError{line, fmt.Sprintf("il comune %s (%s) non è un comune lombardo attuale", c.Istat, c.Name)})
			return
		case territory != oml.RegionCode && c.Province != territory:
			errs = append(errs, RowError{line, fmt.Sprintf("il comune %s (%s) non è nel territorio %s dell'osservatorio", c.Istat, c.Name, territory)})
			return
		case !areaCodeRE.MatchString(area):
			errs = append(errs, RowError{line, fmt.Sprintf("codice area %q non valido (lettere, cifre, - e _, fino a 32)", area)})
			return
		case name == "":
			errs = append(errs, RowError{line, "nome_area vuoto"})
			return
		}
		if l, dup := seen[c.Istat]; dup {
			errs = append(errs, RowError{line, fmt.Sprintf("il comune %s (%s) è già nella riga %d: un comune sta in una sola area", c.Istat, c.Name, l)})
			return
		}
		seen[c.Istat] = line
		i, ok := index[area]
		if !ok {
			i = len(areas)
			index[area] = i
			areas = append(areas, classif.Area{Code: area, Name: name, Province: c.Province})
		}
		a := &areas[i]
		if a.Name != name {
			errs = append(errs, RowError{line, fmt.Sprintf("l'area %s ha già il nome %q", area, a.Name)})
			return
		}
		if a.Province != c.Province {
			a.Province = territory // an area across provinces belongs to the region
		}
		a.Comuni = append(a.Comuni, c.Istat)
	})
	errs = malformed.merge(errs)
	if len(errs) > 0 {
		return nil, rejected("tabella comuni-aree", errs)
	}
	if len(areas) == 0 {
		return nil, oml.Errorf(oml.EINVALID, "la tabella comuni-aree non ha righe / the comune-area table has no rows")
	}
	for i := range areas {
		slices.Sort(areas[i].Comuni)
	}
	return areas, nil
}

// AddGeography validates a comune -> area table and stores it under slug,
// replacing a geography of that name atomically. Its indicators are
// computed by Compute.
func AddGeography(dataDir, slug string, meta GeographyMeta, content []byte, lists *classif.Lists, territory string, now time.Time) (Geography, error) {
	if err := CheckSlug(slug); err != nil {
		return Geography{}, err
	}
	if meta.Title = strings.TrimSpace(meta.Title); meta.Title == "" || meta.Source == "" || meta.Licence == "" {
		return Geography{}, oml.Errorf(oml.EINVALID, "la geografia richiede titolo, fonte e licenza / a geography needs title, source and licence")
	}
	areas, err := ParseAreas(content, lists, territory)
	if err != nil {
		return Geography{}, err
	}
	g := Geography{Slug: slug, Meta: meta, Territory: territory, Areas: areas, Added: now.UTC().Truncate(time.Second)}
	return g, install(filepath.Join(dataDir, Dir, geographiesDir, slug), map[string][]byte{"comuni-aree.csv": content}, g)
}

// Geographies lists the custom geographies of dataDir by slug.
func Geographies(dataDir string) ([]Geography, error) {
	var out []Geography
	err := each(filepath.Join(dataDir, Dir, geographiesDir), func(dir string) error {
		var g Geography
		if err := readJSON(filepath.Join(dir, metaFile), &g); err != nil {
			return err
		}
		out = append(out, g)
		return nil
	})
	return out, err
}

// OpenGeography returns a geography and the path of its indicators' CSV
// ("" when not computed yet).
func OpenGeography(dataDir, slug string) (Geography, string, error) {
	var g Geography
	if CheckSlug(slug) != nil {
		return g, "", notFound("geografia", slug)
	}
	dir := filepath.Join(dataDir, Dir, geographiesDir, slug)
	if err := readJSON(filepath.Join(dir, metaFile), &g); err != nil {
		return g, "", notFound("geografia", slug)
	}
	if g.Computed == nil {
		return g, "", nil
	}
	return g, filepath.Join(dir, ResultFile), nil
}

// Basis is what a computation rests on: the data bank, and the methodology
// and vintage of a release of the same data.
type Basis struct {
	Store     method.Store
	Lists     *classif.Lists
	Catalogue *method.Catalogue
	Vintage   time.Time
	Release   string
}

// Compute computes the common indicators on the areas of geography slug
// with the methodology of basis: the catalogue runs unchanged, with the
// areas in place of the Centri per l'Impiego. The cube goes through the
// release's disclosure control, then its area cells are written to
// indicatori.csv, which replaces the previous one atomically.
func Compute(ctx context.Context, dataDir, slug string, basis Basis, now time.Time, progress func(string)) (Geography, error) {
	g, _, err := OpenGeography(dataDir, slug)
	if err != nil {
		return g, err
	}
	lists, err := basis.Lists.WithAreas(g.Areas)
	if err != nil {
		return g, oml.Errorf(oml.EINVALID, "geografia %s non valida / invalid geography", slug).WithHint("%v", err)
	}
	cube, err := basis.Catalogue.Compute(ctx, basis.Store, lists, basis.Vintage, progress)
	if err != nil {
		return g, err
	}
	cube.Disclose()
	csvb, cells, withheld, err := areaCSV(cube, g)
	if err != nil {
		return g, err
	}
	sum, err := json.MarshalIndent(summarise(cube, g), "", " ")
	if err != nil {
		return g, err
	}
	g.Computed = &Computation{Release: basis.Release, Vintage: basis.Vintage.Format(time.DateOnly),
		MethodVersion: basis.Catalogue.Version, At: now.UTC().Truncate(time.Second), Cells: cells, Withheld: withheld}
	dir := filepath.Join(dataDir, Dir, geographiesDir, slug)
	table, err := os.ReadFile(filepath.Join(dir, "comuni-aree.csv"))
	if err != nil {
		return g, err
	}
	return g, install(dir, map[string][]byte{"comuni-aree.csv": table, ResultFile: csvb, SummaryFile: sum}, g)
}

// SummaryFile holds the yearly headline figures of every area, for the
// portal.
const SummaryFile = "sintesi.json"

// SummaryIndicators are the indicators of the summary, in its order.
var SummaryIndicators = []string{"attivazioni", "cessazioni", "saldo", "lavoratori_attivati", "quota_ti"}

// Summary is the yearly headline figures of a geography's areas: workplace
// perimeter, all relationships, no breakdown, as published (a withheld
// value is null with status C).
type Summary struct {
	Indicators []string      `json:"indicators"`
	Years      []string      `json:"years"`
	Areas      []AreaSummary `json:"areas"`
}

// AreaSummary is one area's row of a Summary: Values[i][y] is indicator i
// in year y.
type AreaSummary struct {
	Code   string       `json:"code"`
	Name   string       `json:"name"`
	Comuni int          `json:"comuni"`
	Values [][]*float64 `json:"values"`
	Status [][]string   `json:"status"`
}

// ReadSummary returns the summary of a computed geography.
func ReadSummary(dataDir, slug string) (Summary, error) {
	var s Summary
	if CheckSlug(slug) != nil {
		return s, notFound("geografia", slug)
	}
	err := readJSON(filepath.Join(dataDir, Dir, geographiesDir, slug, SummaryFile), &s)
	if err != nil {
		return s, notFound("geografia", slug)
	}
	return s, nil
}

func summarise(cube *method.Cube, g Geography) Summary {
	s := Summary{Indicators: SummaryIndicators}
	idx := make([]int, len(SummaryIndicators))
	for i, id := range SummaryIndicators {
		idx[i] = slices.IndexFunc(cube.Catalogue.Indicators, func(ind method.Indicator) bool { return ind.ID == id })
	}
	for y := cube.From.Year; y <= cube.To.Year; y++ {
		s.Years = append(s.Years, strconv.Itoa(y))
	}
	for _, a := range g.Areas {
		as := AreaSummary{Code: a.Code, Name: a.Name, Comuni: len(a.Comuni)}
		for i := range SummaryIndicators {
			as.Values = append(as.Values, make([]*float64, len(s.Years)))
			as.Status = append(as.Status, make([]string, len(s.Years)))
			for yi := range s.Years {
				cell, ok := cube.Lookup(method.CellKey{Perimeter: oml.Workplace, Scope: oml.ScopeFull, Freq: oml.Yearly,
					Period: cube.From.Year + yi, Level: oml.LevelCPI, Territory: oml.CPIPrefix + a.Code})
				if !ok || idx[i] < 0 {
					as.Status[i][yi] = oml.StatusUnavailable.String()
					continue
				}
				as.Status[i][yi] = cell.Status[idx[i]].String()
				if v := cell.Values[idx[i]]; !math.IsNaN(v) {
					as.Values[i][yi] = &v
				}
			}
		}
		s.Areas = append(s.Areas, as)
	}
	return s
}

// ResultHeader is the header of indicatori.csv.
var ResultHeader = []string{"indicatore", "perimetro", "ambito", "frequenza", "periodo", "area", "nome_area", "dimensioni", "codici", "valore", "stato"}

// areaCSV writes the cells of the areas, in the cube's order, one row per
// indicator that has a value or a withheld value.
func areaCSV(cube *method.Cube, g Geography) ([]byte, int, int, error) {
	names := map[string]string{}
	for _, a := range g.Areas {
		names[oml.CPIPrefix+a.Code] = a.Name
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(ResultHeader)
	rows, withheld := 0, 0
	for _, cell := range cube.Cells {
		name, ok := names[cell.Territory]
		if !ok || cell.Level != oml.LevelCPI {
			continue
		}
		period := oml.PeriodAt(cell.Freq, cell.Period).String()
		for i, ind := range cube.Catalogue.Indicators {
			st := cell.Status[i]
			if st == oml.StatusUnavailable {
				continue
			}
			v := ""
			if st == oml.StatusConfidential {
				withheld++
			} else if !math.IsNaN(cell.Values[i]) {
				v = strconv.FormatFloat(cell.Values[i], 'f', -1, 64)
			} else {
				continue
			}
			w.Write([]string{ind.ID, string(cell.Perimeter), string(cell.Scope), cell.Freq.String(), period,
				strings.TrimPrefix(cell.Territory, oml.CPIPrefix), name, cell.Dims, cell.Codes, v, st.String()})
			rows++
		}
	}
	w.Flush()
	return b.Bytes(), rows, withheld, w.Error()
}
