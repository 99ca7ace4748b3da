// Command gen builds the code lists embedded by package classif.
//
// It reads the public reference data collected in the project's shared
// folder (ANPAL/MLPS CO code lists, ISTAT ATECO and SITUAS, the Lombardy
// province table), keeps only the columns classif needs, applies the joins
// that must be decided once (comune -> CPI, superseded codes) and writes
// trimmed, deterministic CSV files plus SOURCES.md with the attribution of
// every source. Run it from package classif with go generate; the output is
// checked in, so building oml never needs the shared folder.
//
//	go run ./internal/gen -shared ../../../shared/data -out data
//
// The generator refuses to write anything when a check fails (1502 Lombardy
// comuni in 2025, each with exactly one CPI, 12 provinces, 63 CPI, ...): a
// new vintage of the sources must be looked at by a person, not absorbed.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	shared := flag.String("shared", "../../../shared/data", "the shared data folder (read only)")
	out := flag.String("out", "data", "the folder to write the embedded files into")
	flag.Parse()
	files, err := generate(*shared)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(*out, name), files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// Input paths, relative to the shared data folder.
const (
	anpalDir      = "classificazioni/anpal_standard_tecnici/"
	contractsCSV  = "classificazioni/co_tipologie_contrattuali/co_tipologie_contrattuali.csv"
	orarioCSV     = "classificazioni/co_tipologie_contrattuali/co_tipo_orario.csv"
	istatAtecoCSV = "classificazioni/ateco_istat/ateco_2007_agg2022_struttura.csv"
	situasCSV     = "territorio/istat_situas_2025/comuni_italia_20250101_situas.csv"
	provincesCSV  = "territorio/lombardia_province_riferimento.csv"
	cpiSitusCSV   = "territorio/cpi_lombardia/comuni_lombardia_cpi.csv"
)

// generator holds the inputs read so far, with their checksums for
// SOURCES.md.
type generator struct {
	dir    string
	sha    map[string]string // input path -> sha256
	output map[string][]byte
	notes  []string // decisions taken on the data, written to SOURCES.md
}

func generate(dir string) (map[string][]byte, error) {
	g := &generator{dir: dir, sha: map[string]string{}, output: map[string][]byte{}}
	steps := []func() error{
		g.territory,
		g.ateco,
		g.professions,
		g.contracts,
		g.workingTime,
		g.citizenships,
		g.education,
		g.sources,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return g.output, nil
}

// table is a CSV file read whole, with columns addressed by header name.
type table struct {
	path string
	cols map[string]int
	rows [][]string
}

func (t *table) get(row []string, col string) string {
	i, ok := t.cols[col]
	if !ok {
		panic(fmt.Sprintf("%s: no column %q", t.path, col)) // a programming error, caught on the first run
	}
	return strings.TrimSpace(row[i])
}

func (g *generator) read(path string) (*table, error) {
	b, err := os.ReadFile(filepath.Join(g.dir, path))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	g.sha[path] = hex.EncodeToString(sum[:])
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(b))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("read %s: empty file", path)
	}
	t := &table{path: path, cols: map[string]int{}, rows: recs[1:]}
	for i, h := range recs[0] {
		t.cols[strings.TrimSpace(h)] = i
	}
	return t, nil
}

// write stores a CSV file for the output folder.
func (g *generator) write(name string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return err
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	g.output[name] = buf.Bytes()
	return nil
}

func (g *generator) note(format string, args ...any) {
	g.notes = append(g.notes, fmt.Sprintf(format, args...))
}

// lombardyProvinces are the historical ISTAT codes of the 12 provinces.
var lombardyProvinces = map[string]bool{
	"012": true, "013": true, "014": true, "015": true, "016": true, "017": true,
	"018": true, "019": true, "020": true, "097": true, "098": true, "108": true,
}

// mergers lists the Lombardy comuni of 2025 that ANPAL's comune -> CPI table
// (a 2022 snapshot, itself partly older) does not know, each with the
// Belfiore codes of the comuni it was formed from. Such a comune takes the
// CPI of its predecessors when they all share one; otherwise (Sermide e
// Felonica: neither Sermide nor Felonica is in the ANPAL table) it takes the
// CPI of the SITUAS comune -> CPI table in territorio/cpi_lombardia. Either
// way the result must agree with that table, or the generator stops.
var mergers = []struct {
	istat, name  string
	predecessors []string
}{
	{"012143", "Cadrezzate con Osmate", []string{"B347", "E529"}},
	{"012144", "Bardello con Malgesso e Bregano", []string{"A645", "E856", "B131"}},
	{"013255", "Solbiate con Cagno", []string{"I792", "B359"}},
	{"013256", "Uggiate con Ronago", []string{"L487", "H521"}},
	{"015251", "Vermezzo con Zelo", []string{"L768", "M160"}},
	{"018193", "Colli Verdi", []string{"B599", "H637", "L659"}},
	{"019116", "Piadena Drizzona", []string{"G536", "D370"}},
	{"020061", "Sermide e Felonica", []string{"I632", "D529"}},
	{"020073", "Borgocarbonara", []string{"B013", "B739"}},
}

// Expected totals; a source with other totals is a new vintage to review.
const (
	wantLombardyComuni = 1502
	wantProvinces      = 12
	wantCPI            = 63
	wantContracts      = 58
)

type comuneRow struct {
	istat, belfiore, name, province, region, nuts3, cpi string
	suppressed                                          bool
}

func (g *generator) territory() error {
	sit, err := g.read(situasCSV)
	if err != nil {
		return err
	}
	tc, err := g.read(anpalDir + "TAB_COMUNI.csv")
	if err != nil {
		return err
	}
	tci, err := g.read(anpalDir + "TAB_COMUNE_INTERMEDIARI.csv")
	if err != nil {
		return err
	}
	tcpi, err := g.read(anpalDir + "TAB_INTERMEDIARI_CPI.csv")
	if err != nil {
		return err
	}
	tprov, err := g.read(anpalDir + "TAB_PROVINCE.csv")
	if err != nil {
		return err
	}
	ref, err := g.read(provincesCSV)
	if err != nil {
		return err
	}
	scpi, err := g.read(cpiSitusCSV)
	if err != nil {
		return err
	}

	// ANPAL comune -> CPI, rows still valid (no end date). A Lombardy comune
	// must have exactly one.
	anpalCPI := map[string][]string{}
	for _, r := range tci.rows {
		if tci.get(r, "dat_fine") != "" {
			continue
		}
		b := tci.get(r, "cod_comune")
		anpalCPI[b] = append(anpalCPI[b], tci.get(r, "cod_intermediario"))
	}
	cpiRow := map[string][]string{}
	for _, r := range tcpi.rows {
		cpiRow[tcpi.get(r, "cod_intermediario")] = r
	}
	situasCPI := map[string]map[string]bool{}
	for _, r := range scpi.rows {
		k := scpi.get(r, "PRO_COM_T")
		if situasCPI[k] == nil {
			situasCPI[k] = map[string]bool{}
		}
		situasCPI[k][scpi.get(r, "cpi")] = true
	}

	// The 2025 comuni.
	var comuni []comuneRow
	byBelfiore := map[string]int{}
	byIstat := map[string]int{}
	provNUTS := map[string]map[string]bool{}
	for _, r := range sit.rows {
		c := comuneRow{
			istat:    sit.get(r, "PRO_COM_T"),
			belfiore: sit.get(r, "COD_CATASTO"),
			name:     sit.get(r, "COMUNE"),
			province: sit.get(r, "COD_PROV_STORICO"),
			region:   sit.get(r, "COD_REG"),
			nuts3:    sit.get(r, "COM_NUTS3_2024"),
		}
		if len(c.istat) != 6 || len(c.belfiore) != 4 || len(c.province) != 3 {
			return fmt.Errorf("%s: malformed comune %v", situasCSV, r)
		}
		if _, dup := byIstat[c.istat]; dup {
			return fmt.Errorf("%s: duplicate ISTAT code %s", situasCSV, c.istat)
		}
		if _, dup := byBelfiore[c.belfiore]; dup {
			return fmt.Errorf("%s: duplicate Belfiore code %s", situasCSV, c.belfiore)
		}
		byIstat[c.istat] = len(comuni)
		byBelfiore[c.belfiore] = len(comuni)
		if provNUTS[c.province] == nil {
			provNUTS[c.province] = map[string]bool{}
		}
		provNUTS[c.province][c.nuts3] = true
		comuni = append(comuni, c)
	}

	// CPI of the 2025 Lombardy comuni.
	mergerOf := map[string]int{}
	for i, m := range mergers {
		mergerOf[m.istat] = i
	}
	nLombardy := 0
	perProvince := map[string]int{}
	for i := range comuni {
		c := &comuni[i]
		if c.region != "03" {
			continue
		}
		nLombardy++
		perProvince[c.province]++
		if !lombardyProvinces[c.province] {
			return fmt.Errorf("comune %s %s: province %s is not Lombard", c.istat, c.name, c.province)
		}
		cpis := anpalCPI[c.belfiore]
		if mi, ok := mergerOf[c.istat]; ok {
			if len(cpis) != 0 {
				return fmt.Errorf("comune %s %s: listed as a merger but ANPAL gives CPI %v", c.istat, c.name, cpis)
			}
			m := mergers[mi]
			seen := map[string]bool{}
			for _, p := range m.predecessors {
				for _, x := range anpalCPI[p] {
					seen[x] = true
				}
			}
			switch len(seen) {
			case 1:
				for x := range seen {
					c.cpi = x
				}
				g.note("%s %s (%s): CPI %s, quello dei comuni da cui è nato (%s).", c.istat, c.name, c.belfiore, c.cpi, strings.Join(m.predecessors, ", "))
			case 0:
				s := situasCPI[c.istat]
				if len(s) != 1 {
					return fmt.Errorf("comune %s %s: no CPI from predecessors nor a single one from SITUAS (%v)", c.istat, c.name, s)
				}
				for x := range s {
					c.cpi = x
				}
				g.note("%s %s (%s): i comuni da cui è nato (%s) non sono nella tabella ANPAL; CPI %s dalla tabella SITUAS comuni -> CPI.", c.istat, c.name, c.belfiore, strings.Join(m.predecessors, ", "), c.cpi)
			default:
				return fmt.Errorf("comune %s %s: predecessors have several CPI %v", c.istat, c.name, seen)
			}
		} else {
			if len(cpis) != 1 {
				return fmt.Errorf("comune %s %s (%s): %d valid CPI rows in ANPAL, want 1", c.istat, c.name, c.belfiore, len(cpis))
			}
			c.cpi = cpis[0]
		}
		if s := situasCPI[c.istat]; s != nil && !s[c.cpi] {
			return fmt.Errorf("comune %s %s: CPI %s disagrees with the SITUAS table %v", c.istat, c.name, c.cpi, s)
		}
	}
	if nLombardy != wantLombardyComuni {
		return fmt.Errorf("%d Lombardy comuni in SITUAS, want %d", nLombardy, wantLombardyComuni)
	}

	// Superseded codes and suppressed comuni from ANPAL TAB_COMUNI.
	anpalRegion := map[string]string{}
	for _, r := range tprov.rows {
		anpalRegion[tprov.get(r, "cod_provincia")] = tprov.get(r, "cod_regione")
	}
	type alias struct{ code, istat, note string }
	var aliases []alias
	aliasSeen := map[string]bool{}
	addAlias := func(code, istat, note string) error {
		if _, taken := byIstat[code]; taken {
			return fmt.Errorf("alias %s -> %s: the code is a 2025 ISTAT code", code, istat)
		}
		if _, taken := byBelfiore[code]; taken {
			return fmt.Errorf("alias %s -> %s: the code is a 2025 Belfiore code", code, istat)
		}
		if aliasSeen[code] {
			return fmt.Errorf("alias %s: listed twice", code)
		}
		aliasSeen[code] = true
		aliases = append(aliases, alias{code, istat, note})
		return nil
	}
	var suppressed []comuneRow
	for _, r := range tc.rows {
		belfiore := tc.get(r, "cod_comune")
		istat := tc.get(r, "cod_istat")
		if istat == "" {
			continue // suppressed before 2000: no CO record can name it
		}
		if len(istat) < 6 {
			istat = strings.Repeat("0", 6-len(istat)) + istat // a few ANPAL rows lost the leading zero
		}
		if i, ok := byBelfiore[belfiore]; ok {
			// The comune exists in 2025. A different ANPAL ISTAT code is the
			// code it had before changing province (Torre de' Busi, Sappada,
			// Montecopiolo, Sassofeltrio): keep it as an alias.
			cur := comuni[i]
			if istat != cur.istat {
				if j, inUse := byIstat[istat]; inUse {
					// Not an old code but a typo in ANPAL (ALLUVIONI PIOVERA
					// has "06102", which is Montacuto's): ignore it.
					g.note("ANPAL %s %s: codice ISTAT %q errato (è di %s), ignorato; vale %s da SITUAS.", belfiore, tc.get(r, "des_comune"), tc.get(r, "cod_istat"), comuni[j].name, cur.istat)
					continue
				}
				if err := addAlias(istat, cur.istat, fmt.Sprintf("codice ISTAT precedente di %s", cur.name)); err != nil {
					return err
				}
			}
			continue
		}
		if i, ok := byIstat[istat]; ok {
			// Same ISTAT code, another Belfiore code: the comune was renamed
			// and recoded (Lonato -> Lonato del Garda).
			if err := addAlias(belfiore, istat, fmt.Sprintf("codice Belfiore precedente di %s (%s)", comuni[i].name, tc.get(r, "des_comune"))); err != nil {
				return err
			}
			continue
		}
		c := comuneRow{
			istat:      istat,
			belfiore:   belfiore,
			name:       tc.get(r, "des_comune"),
			province:   tc.get(r, "cod_provincia"),
			region:     anpalRegion[tc.get(r, "cod_provincia")],
			suppressed: true,
		}
		if n := provNUTS[c.province]; len(n) == 1 {
			for x := range n {
				c.nuts3 = x
			}
		}
		if c.region == "03" {
			cpis := anpalCPI[belfiore]
			if len(cpis) > 1 {
				return fmt.Errorf("suppressed comune %s %s: several CPI %v", istat, c.name, cpis)
			}
			if len(cpis) == 1 {
				c.cpi = cpis[0]
			}
		}
		suppressed = append(suppressed, c)
	}
	// A predecessor of a merger without its own CPI row takes the CPI of the
	// comune it merged into (Felonica).
	for i := range suppressed {
		s := &suppressed[i]
		if s.cpi != "" || s.region != "03" {
			continue
		}
		for _, m := range mergers {
			for _, p := range m.predecessors {
				if p == s.belfiore {
					s.cpi = comuni[byIstat[m.istat]].cpi
					g.note("%s %s (%s), soppresso: CPI %s del comune in cui è confluito (%s %s).", s.istat, s.name, s.belfiore, s.cpi, m.istat, m.name)
				}
			}
		}
	}
	// In a province served by a single CPI (Lodi) a suppressed comune can
	// only have had that one.
	provCPI := map[string]map[string]bool{}
	for _, c := range comuni {
		if c.region == "03" {
			if provCPI[c.province] == nil {
				provCPI[c.province] = map[string]bool{}
			}
			provCPI[c.province][c.cpi] = true
		}
	}
	for i := range suppressed {
		s := &suppressed[i]
		if s.cpi != "" || s.region != "03" || len(provCPI[s.province]) != 1 {
			continue
		}
		for x := range provCPI[s.province] {
			s.cpi = x
		}
		g.note("%s %s (%s), soppresso: CPI %s, l'unico della provincia %s.", s.istat, s.name, s.belfiore, s.cpi, s.province)
	}
	for _, s := range suppressed {
		if _, dup := byIstat[s.istat]; dup {
			return fmt.Errorf("suppressed comune %s %s: ISTAT code listed twice", s.istat, s.name)
		}
		if aliasSeen[s.istat] {
			return fmt.Errorf("suppressed comune %s %s: ISTAT code is also an alias", s.istat, s.name)
		}
		byIstat[s.istat] = -1
	}
	nSuppLomb, nSuppLombNoCPI := 0, 0
	for _, s := range suppressed {
		if s.region == "03" {
			nSuppLomb++
			if s.cpi == "" {
				nSuppLombNoCPI++
			}
		}
	}
	g.note("Comuni soppressi (codice ISTAT in TAB_COMUNI ANPAL, assenti da SITUAS 2025): %d, di cui %d lombardi; %d di questi non hanno un CPI (la tabella ANPAL non li riporta e le fonti non dicono in quale comune sono confluiti).", len(suppressed), nSuppLomb, nSuppLombNoCPI)
	var noCPI []string
	for _, s := range suppressed {
		if s.region == "03" && s.cpi == "" {
			noCPI = append(noCPI, s.istat+" "+s.name)
		}
	}
	sort.Strings(noCPI)
	g.note("Comuni lombardi soppressi senza CPI: %s.", strings.Join(noCPI, "; "))
	for _, a := range aliases {
		g.note("Codice %s -> %s: %s.", a.code, a.istat, a.note)
	}

	// Lombardy CPI: those named by a 2025 Lombardy comune; the province is
	// the one of the CPI's seat.
	cpiUsed := map[string]bool{}
	for _, c := range comuni {
		if c.region == "03" {
			cpiUsed[c.cpi] = true
		}
	}
	if len(cpiUsed) != wantCPI {
		return fmt.Errorf("%d Lombardy CPI, want %d", len(cpiUsed), wantCPI)
	}
	for _, s := range suppressed {
		if s.cpi != "" && !cpiUsed[s.cpi] {
			return fmt.Errorf("suppressed comune %s: CPI %s serves no 2025 comune", s.istat, s.cpi)
		}
	}
	var cpiRows [][]string
	cpiPerProvince := map[string]int{}
	for code := range cpiUsed {
		r, ok := cpiRow[code]
		if !ok {
			return fmt.Errorf("CPI %s missing from TAB_INTERMEDIARI_CPI", code)
		}
		seat := tcpi.get(r, "cod_comune_recapito")
		if seat == "" {
			seat = code[:4]
		}
		i, ok := byBelfiore[seat]
		if !ok {
			return fmt.Errorf("CPI %s: seat %s is not a 2025 comune", code, seat)
		}
		prov := comuni[i].province
		if !lombardyProvinces[prov] {
			return fmt.Errorf("CPI %s: seat %s outside Lombardy", code, seat)
		}
		cpiPerProvince[prov]++
		cpiRows = append(cpiRows, []string{code, tcpi.get(r, "des_intermediario"), prov})
	}
	sort.Slice(cpiRows, func(i, j int) bool { return cpiRows[i][0] < cpiRows[j][0] })

	// Comuni whose CPI sits in another province.
	cpiProv := map[string]string{}
	for _, r := range cpiRows {
		cpiProv[r[0]] = r[2]
	}
	for _, c := range comuni {
		if c.region == "03" && cpiProv[c.cpi] != c.province {
			g.note("%s %s (provincia %s): il CPI ANPAL %s ha sede in provincia %s (il comune ha cambiato provincia dopo la tabella ANPAL); si tiene il dato ANPAL.", c.istat, c.name, c.province, c.cpi, cpiProv[c.cpi])
		}
	}

	// Provinces.
	if len(ref.rows) != wantProvinces {
		return fmt.Errorf("%s: %d provinces, want %d", provincesCSV, len(ref.rows), wantProvinces)
	}
	var provRows [][]string
	for _, r := range ref.rows {
		code := ref.get(r, "cod_prov_storico_istat")
		if !lombardyProvinces[code] {
			return fmt.Errorf("%s: province %s is not Lombard", provincesCSV, code)
		}
		n, _ := strconv.Atoi(ref.get(r, "n_comuni_20250101"))
		if perProvince[code] != n {
			return fmt.Errorf("province %s: %d comuni in SITUAS, %d in the reference table", code, perProvince[code], n)
		}
		ncpi, _ := strconv.Atoi(ref.get(r, "n_cpi_anpal_2022"))
		if cpiPerProvince[code] != ncpi {
			return fmt.Errorf("province %s: %d CPI with a seat there, %d in the reference table", code, cpiPerProvince[code], ncpi)
		}
		nuts := provNUTS[code]
		if len(nuts) != 1 || !nuts[ref.get(r, "nuts3_2024")] {
			return fmt.Errorf("province %s: NUTS3 %v in SITUAS, %s in the reference table", code, nuts, ref.get(r, "nuts3_2024"))
		}
		provRows = append(provRows, []string{
			code, ref.get(r, "cod_uts_istat"), ref.get(r, "denominazione_uts"), ref.get(r, "sigla"),
			ref.get(r, "nuts3_2024"), ref.get(r, "des_provincia_anpal"),
		})
	}
	sort.Slice(provRows, func(i, j int) bool { return provRows[i][0] < provRows[j][0] })

	all := append(append([]comuneRow(nil), comuni...), suppressed...)
	sort.Slice(all, func(i, j int) bool { return all[i].istat < all[j].istat })
	rows := make([][]string, 0, len(all))
	for _, c := range all {
		s := "0"
		if c.suppressed {
			s = "1"
		}
		rows = append(rows, []string{c.istat, c.belfiore, c.name, c.province, c.region, c.nuts3, c.cpi, s})
	}
	sort.Slice(aliases, func(i, j int) bool { return aliases[i].code < aliases[j].code })
	var aliasRows [][]string
	for _, a := range aliases {
		aliasRows = append(aliasRows, []string{a.code, a.istat, a.note})
	}
	if err := g.write("comuni.csv", []string{"istat", "belfiore", "nome", "provincia", "regione", "nuts3", "cpi", "soppresso"}, rows); err != nil {
		return err
	}
	if err := g.write("comuni_alias.csv", []string{"codice", "istat", "nota"}, aliasRows); err != nil {
		return err
	}
	if err := g.write("cpi.csv", []string{"codice", "nome", "provincia"}, cpiRows); err != nil {
		return err
	}
	return g.write("province.csv", []string{"codice", "uts", "nome", "sigla", "nuts3", "nome_anpal"}, provRows)
}

func (g *generator) ateco() error {
	type entry struct {
		code, section, title, title2022 string
		level                           int
	}
	entries := map[string]*entry{}
	parent := map[string]string{}
	for lv := 0; lv <= 4; lv++ {
		t, err := g.read(fmt.Sprintf("%sTAB_ATECOLIV%d.csv", anpalDir, lv))
		if err != nil {
			return err
		}
		for _, r := range t.rows {
			code := t.get(r, fmt.Sprintf("cod_atecoliv%d", lv))
			if atecoLevel(code) != lv {
				return fmt.Errorf("%s: code %q is not of level %d", t.path, code, lv)
			}
			if _, dup := entries[code]; dup {
				return fmt.Errorf("%s: duplicate code %s", t.path, code)
			}
			entries[code] = &entry{code: code, level: lv, title: t.get(r, fmt.Sprintf("des_atecoliv%d", lv))}
			if lv > 0 {
				parent[code] = t.get(r, fmt.Sprintf("cod_atecoliv%d", lv-1))
			}
		}
	}
	// Sections come from the parent chain.
	var sectionOf func(code string) string
	sectionOf = func(code string) string {
		if atecoLevel(code) == 0 {
			return code
		}
		return sectionOf(parent[code])
	}
	for code, e := range entries {
		e.section = sectionOf(code)
		if e.section == "" {
			return fmt.Errorf("ATECO %s: broken parent chain", code)
		}
	}
	ist, err := g.read(istatAtecoCSV)
	if err != nil {
		return err
	}
	added := 0
	for _, r := range ist.rows {
		code := ist.get(r, "codice")
		lv := atecoLevel(code)
		if lv < 0 {
			continue // the five-digit "categoria" level has no CO use
		}
		e, ok := entries[code]
		if !ok {
			e = &entry{code: code, level: lv, section: ist.get(r, "sezione")}
			entries[code] = e
			added++
		}
		if e.section != ist.get(r, "sezione") {
			return fmt.Errorf("ATECO %s: section %s in ANPAL, %s in ISTAT", code, e.section, ist.get(r, "sezione"))
		}
		e.title2022 = ist.get(r, "titolo")
	}
	g.note("ATECO: %d codici ANPAL (titoli 2009) più %d codici introdotti dall'aggiornamento 2022 (titolo ISTAT).", len(entries)-added, added)
	var rows [][]string
	for _, e := range entries {
		rows = append(rows, []string{e.code, strconv.Itoa(e.level), e.section, e.title, e.title2022})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i][0], rows[j][0]
		if (len(a) == 1) != (len(b) == 1) {
			return len(a) == 1
		}
		return a < b
	})
	return g.write("ateco.csv", []string{"codice", "livello", "sezione", "titolo", "titolo_2022"}, rows)
}

// atecoLevel returns the level of a canonical ATECO 2007 code (0 section ..
// 4 subcategory) or -1.
func atecoLevel(code string) int {
	switch {
	case len(code) == 1 && code[0] >= 'A' && code[0] <= 'Z':
		return 0
	case len(code) == 2:
		return 1
	case len(code) == 4 && code[2] == '.':
		return 2
	case len(code) == 5 && code[2] == '.':
		return 3
	case len(code) == 8 && code[2] == '.' && code[5] == '.':
		return 4
	}
	return -1
}

func (g *generator) professions() error {
	type entry struct {
		code, title, class string
	}
	entries := map[string]*entry{}
	add := func(code, title, class string) error {
		if _, dup := entries[code]; dup {
			return fmt.Errorf("profession %s listed twice", code)
		}
		entries[code] = &entry{code, title, class}
		return nil
	}
	for lv := 0; lv <= 4; lv++ {
		t, err := g.read(fmt.Sprintf("%sTAB_QUALPROFLIV%d.csv", anpalDir, lv))
		if err != nil {
			return err
		}
		for _, r := range t.rows {
			code := t.get(r, fmt.Sprintf("cod_qualprofliv%d", lv))
			want := lv + 1
			if lv == 4 {
				want = 6
			}
			if n := strings.Count(code, ".") + 1; n != want {
				return fmt.Errorf("%s: code %s has %d components, want %d", t.path, code, n, want)
			}
			title := t.get(r, fmt.Sprintf("des_qualprofliv%d", lv))
			if err := add(code, title, "CP2011"); err != nil {
				return err
			}
		}
	}
	// The 800 units (5 components) are not a table of their own: each has a
	// voce ending in ".0" that carries the unit's title.
	units := map[string]string{}
	for code, e := range entries {
		if strings.Count(code, ".") == 5 {
			unit := code[:strings.LastIndexByte(code, '.')]
			if _, ok := units[unit]; !ok {
				units[unit] = ""
			}
			if strings.HasSuffix(code, ".0") {
				units[unit] = e.title
			}
		}
	}
	for unit, title := range units {
		if title == "" {
			return fmt.Errorf("CP2011 unit %s has no .0 voce to name it", unit)
		}
		if err := add(unit, title, "CP2011"); err != nil {
			return err
		}
	}
	t, err := g.read(anpalDir + "TABELLA_QUALPROF.csv")
	if err != nil {
		return err
	}
	shadowed := 0
	for _, r := range t.rows {
		code := t.get(r, "cod_qualprof")
		if _, ok := entries[code]; ok {
			shadowed++ // the CP2011 meaning of the code wins
			continue
		}
		if err := add(code, t.get(r, "des_qualprof"), "CP2001"); err != nil {
			return err
		}
	}
	g.note("Professioni: %d unità professionali CP2011 (titolo della voce .0); %d codici di TABELLA_QUALPROF coincidono con codici CP2011 e prendono il significato CP2011.", len(units), shadowed)
	var rows [][]string
	for _, e := range entries {
		rows = append(rows, []string{e.code, strconv.Itoa(strings.Count(e.code, ".") + 1), e.title, e.class})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i][3] != rows[j][3] {
			return rows[i][3] == "CP2011"
		}
		return dottedLess(rows[i][0], rows[j][0])
	})
	return g.write("professioni.csv", []string{"codice", "livello", "titolo", "classificazione"}, rows)
}

// dottedLess orders dotted numeric codes component by component.
func dottedLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, _ := strconv.Atoi(pa[i])
		y, _ := strconv.Atoi(pb[i])
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

func (g *generator) contracts() error {
	t, err := g.read(contractsCSV)
	if err != nil {
		return err
	}
	var rows [][]string
	seen := map[string]bool{}
	for _, r := range t.rows {
		code := t.get(r, "cod_tipologia_contrattuale")
		if seen[code] {
			return fmt.Errorf("%s: duplicate %s", contractsCSV, code)
		}
		seen[code] = true
		rows = append(rows, []string{code, t.get(r, "des_tipologia_contrattuale"), t.get(r, "dat_inizio"), t.get(r, "dat_fine")})
	}
	if len(rows) != wantContracts {
		return fmt.Errorf("%s: %d contract types, want %d", contractsCSV, len(rows), wantContracts)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	return g.write("contratti.csv", []string{"codice", "titolo", "dal", "al"}, rows)
}

func (g *generator) workingTime() error {
	t, err := g.read(orarioCSV)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, r := range t.rows {
		rows = append(rows, []string{t.get(r, "cod_tipo_orario_min"), t.get(r, "des_tipo_orario")})
	}
	return g.write("orario.csv", []string{"codice", "titolo"}, rows)
}

func (g *generator) citizenships() error {
	c, err := g.read(anpalDir + "TAB_CITTADINANZE.csv")
	if err != nil {
		return err
	}
	n, err := g.read(anpalDir + "TAB_NAZIONI.csv")
	if err != nil {
		return err
	}
	nation := map[string]string{}
	for _, r := range n.rows {
		nation[n.get(r, "cod_nazione")] = n.get(r, "des_nazione")
	}
	var rows [][]string
	for _, r := range c.rows {
		code := c.get(r, "cod_cittadinanza")
		if len(code) != 3 {
			return fmt.Errorf("%s: code %q", c.path, code)
		}
		// Other names the country goes by: the nationality adjective and the
		// ANPAL country table's name(s), "A=B" meaning two names.
		name := c.get(r, "des_cittadinanza")
		var other []string
		seen := map[string]bool{name: true}
		addName := func(s string) {
			if s = strings.TrimSpace(s); s != "" && !seen[s] {
				seen[s] = true
				other = append(other, s)
			}
		}
		addName(c.get(r, "des_nazionalita"))
		for _, p := range strings.Split(nation[c.get(r, "cod_mf")], "=") {
			addName(p)
		}
		rows = append(rows, []string{code, name, c.get(r, "flg_ue"), strings.Join(other, "|")})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	return g.write("cittadinanze.csv", []string{"codice", "nome", "ue", "altri_nomi"}, rows)
}

func (g *generator) education() error {
	t, err := g.read(anpalDir + "TAB_STUDIOLIVELLO.csv")
	if err != nil {
		return err
	}
	var rows [][]string
	for _, r := range t.rows {
		rows = append(rows, []string{t.get(r, "cod_livellostudio"), t.get(r, "des_livellostudio")})
	}
	sort.Slice(rows, func(i, j int) bool {
		a, _ := strconv.Atoi(rows[i][0])
		b, _ := strconv.Atoi(rows[j][0])
		return a < b
	})
	return g.write("titoli_studio.csv", []string{"codice", "titolo"}, rows)
}

// source is the attribution of one source, copied from the SOURCE.md files
// of the shared folder. mustCite are strings (commits, paths) the generator
// checks are still in that SOURCE.md, so that a moved or re-snapshotted
// source is noticed.
type source struct {
	name, publisher, licence, origin string
	sourceMD                         string
	mustCite                         []string
	inputs                           []string
	files                            []string
}

var sources = []source{
	{
		name:      "Classificazioni standard delle Comunicazioni Obbligatorie",
		publisher: "ANPAL / Ministero del Lavoro e delle Politiche Sociali",
		licence:   "nessuna licenza dichiarata nel repository; dati di classificazione della pubblica amministrazione, usati come dati pubblici di riferimento citando la fonte",
		origin:    "github.com/AnpalSimo/DB_PLUS2022 (HEAD bc782cdea7eb6a42960d6c330eed0e8662b351c7, 2022-10-14), CLA_DIZ/dml/Classificazione/*.sql (commit c54abb3ee873f8ab021465548e5df423a6aa468e), convertiti in CSV in shared/data/classificazioni/anpal_standard_tecnici/",
		sourceMD:  "classificazioni/anpal_standard_tecnici/SOURCE.md",
		mustCite:  []string{"AnpalSimo/DB_PLUS2022", "bc782cdea7eb6a42960d6c330eed0e8662b351c7", "c54abb3ee873f8ab021465548e5df423a6aa468e"},
		inputs: []string{
			anpalDir + "TAB_ATECOLIV0.csv", anpalDir + "TAB_ATECOLIV1.csv", anpalDir + "TAB_ATECOLIV2.csv",
			anpalDir + "TAB_ATECOLIV3.csv", anpalDir + "TAB_ATECOLIV4.csv",
			anpalDir + "TAB_QUALPROFLIV0.csv", anpalDir + "TAB_QUALPROFLIV1.csv", anpalDir + "TAB_QUALPROFLIV2.csv",
			anpalDir + "TAB_QUALPROFLIV3.csv", anpalDir + "TAB_QUALPROFLIV4.csv", anpalDir + "TABELLA_QUALPROF.csv",
			anpalDir + "TAB_CITTADINANZE.csv", anpalDir + "TAB_NAZIONI.csv", anpalDir + "TAB_STUDIOLIVELLO.csv",
			anpalDir + "TAB_COMUNI.csv", anpalDir + "TAB_COMUNE_INTERMEDIARI.csv", anpalDir + "TAB_INTERMEDIARI_CPI.csv",
			anpalDir + "TAB_PROVINCE.csv",
		},
		files: []string{"ateco.csv", "professioni.csv", "cittadinanze.csv", "titoli_studio.csv", "comuni.csv", "comuni_alias.csv", "cpi.csv"},
	},
	{
		name:      "Tipologie contrattuali CO (TAB_RAPPORTILAVORO e codici introdotti dopo il 2022)",
		publisher: "ANPAL / Ministero del Lavoro e delle Politiche Sociali (Classificazioni Standard Rev.093 del 2026-04-26 per i 6 codici successivi al 2022)",
		licence:   "TAB_RAPPORTILAVORO come sopra; dei 6 codici successivi al 2022 sono ripresi solo i fatti (codice e descrizione ufficiale), nessun codice sorgente",
		origin:    "TAB_RAPPORTILAVORO da github.com/AnpalSimo/DB_PLUS2022 (HEAD bc782cdea7eb6a42960d6c330eed0e8662b351c7); A.03.15, B.04.00, H.03.00, N.01.00, N.02.00, N.03.00 da github.com/gmontaletti/ccnlcob, data-raw/tipologie_contrattuali.R (commit 7fee0418c361f71f338854f1a2b52cf6860790de)",
		sourceMD:  "classificazioni/co_tipologie_contrattuali/SOURCE.md",
		mustCite:  []string{"gmontaletti/ccnlcob", "7fee0418c361f71f338854f1a2b52cf6860790de", "Rev.093"},
		inputs:    []string{contractsCSV},
		files:     []string{"contratti.csv"},
	},
	{
		name:      "Tipo orario CO",
		publisher: "Ministero del Lavoro e delle Politiche Sociali (codici ministeriali), tramite CSI Piemonte; Regione Lombardia (valore NON DEFINITO degli open data)",
		licence:   "EUPL-1.2 (repository regione-piemonte/comonl); sono ripresi solo i codici",
		origin:    "github.com/regione-piemonte/comonl (costanti del tipo orario) e open data Regione Lombardia, colonna MODALITALAVORO",
		sourceMD:  "classificazioni/co_tipologie_contrattuali/SOURCE.md",
		mustCite:  []string{"regione-piemonte/comonl", "EUPL-1.2"},
		inputs:    []string{orarioCSV},
		files:     []string{"orario.csv"},
	},
	{
		name:      "ATECO 2007 aggiornamento 2022",
		publisher: "ISTAT",
		licence:   "CC BY 4.0 (classificazione ISTAT); repository Apache-2.0",
		origin:    "github.com/mauroIstat/ateco-playground (HEAD 19bf9a9f8f958f72e4e0a4c6b48a7263a06eaf41, 2025-07-29), classification/ateco_2022/ateco_2022_raw.csv",
		sourceMD:  "classificazioni/ateco_istat/SOURCE.md",
		mustCite:  []string{"mauroIstat/ateco-playground", "19bf9a9f8f958f72e4e0a4c6b48a7263a06eaf41", "classification/ateco_2022/ateco_2022_raw.csv"},
		inputs:    []string{istatAtecoCSV},
		files:     []string{"ateco.csv"},
	},
	{
		name:      "Comuni italiani al 1° gennaio 2025 (SITUAS, report 61)",
		publisher: "ISTAT",
		licence:   "CC BY 4.0 (dati ISTAT SITUAS); pacchetto R di provenienza GPL-3",
		origin:    "github.com/gmontaletti/situas (HEAD ef0d865b1d8d7dd9eaf8d73b32dde3d0424d0ebc, 2025-11-07), data/situa_data_comuni_61_20250101.rds",
		sourceMD:  "territorio/SOURCE.md",
		mustCite:  []string{"gmontaletti/situas", "ef0d865b1d8d7dd9eaf8d73b32dde3d0424d0ebc", "situa_data_comuni_61_20250101.rds"},
		inputs:    []string{situasCSV},
		files:     []string{"comuni.csv", "comuni_alias.csv", "cpi.csv"},
	},
	{
		name:      "Comuni lombardi e Centri per l'Impiego (SITUAS)",
		publisher: "ISTAT / ANPAL, elaborazione G. Montaletti",
		licence:   "CC BY 4.0 (dati ISTAT SITUAS); pacchetto R di provenienza GPL-3",
		origin:    "github.com/gmontaletti/situas (HEAD ef0d865b1d8d7dd9eaf8d73b32dde3d0424d0ebc), data/comuni_lom_map.rds; usato per controllo e per il CPI di Sermide e Felonica",
		sourceMD:  "territorio/SOURCE.md",
		mustCite:  []string{"data/comuni_lom_map.rds"},
		inputs:    []string{cpiSitusCSV},
		files:     []string{"comuni.csv"},
	},
	{
		name:      "Province lombarde: tabella di riferimento",
		publisher: "elaborazione del progetto da ISTAT SITUAS 2025 e tabelle ANPAL",
		licence:   "CC BY 4.0 (dati ISTAT)",
		origin:    "shared/data/territorio/lombardia_province_riferimento.csv",
		sourceMD:  "territorio/SOURCE.md",
		mustCite:  []string{"lombardia_province_riferimento.csv"},
		inputs:    []string{provincesCSV},
		files:     []string{"province.csv"},
	},
}

func (g *generator) sources() error {
	var rows [][]string
	var md strings.Builder
	md.WriteString("# Fonti degli elenchi incorporati in `internal/classif`\n\n")
	md.WriteString("File generati da `go generate ./internal/classif` (comando `internal/classif/internal/gen`) a partire da\n")
	md.WriteString("`shared/data/`. Non modificare a mano: modificare il generatore e rigenerare.\n")
	md.WriteString("Il test `TestGeneratedDataUpToDate` verifica che questi file corrispondano al generatore.\n\n")
	for _, s := range sources {
		b, err := os.ReadFile(filepath.Join(g.dir, s.sourceMD))
		if err != nil {
			return err
		}
		for _, cite := range s.mustCite {
			if !bytes.Contains(b, []byte(cite)) {
				return fmt.Errorf("source %q: %s no longer mentions %q; review the attribution", s.name, s.sourceMD, cite)
			}
		}
		for _, f := range s.files {
			if _, ok := g.output[f]; !ok {
				return fmt.Errorf("source %q: output %s not generated", s.name, f)
			}
		}
		rows = append(rows, []string{s.name, s.publisher, s.licence, s.origin, strings.Join(s.files, ";")})
		fmt.Fprintf(&md, "## %s\n\n", s.name)
		fmt.Fprintf(&md, "- Editore: %s\n", s.publisher)
		fmt.Fprintf(&md, "- Licenza: %s\n", s.licence)
		fmt.Fprintf(&md, "- Provenienza: %s\n", s.origin)
		fmt.Fprintf(&md, "- Attribuzione completa: `shared/data/%s`\n", s.sourceMD)
		fmt.Fprintf(&md, "- File incorporati: %s\n", "`"+strings.Join(s.files, "`, `")+"`")
		md.WriteString("- File letti (sha256):\n")
		for _, in := range s.inputs {
			sum, ok := g.sha[in]
			if !ok {
				return fmt.Errorf("source %q: input %s was not read", s.name, in)
			}
			fmt.Fprintf(&md, "  - `%s` `%s`\n", in, sum)
		}
		md.WriteString("\n")
	}
	md.WriteString("## Decisioni prese dal generatore\n\n")
	for _, n := range g.notes {
		fmt.Fprintf(&md, "- %s\n", n)
	}
	if err := g.write("sources.csv", []string{"nome", "editore", "licenza", "provenienza", "file"}, rows); err != nil {
		return err
	}
	g.output["SOURCES.md"] = []byte(md.String())
	return nil
}
