package release

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// Release is an open release: verified, then loaded into memory for
// serving. It is immutable and safe for concurrent use.
//
// # In-memory index
//
// The cells are grouped in tables, one per perimeter, scope, frequency,
// level and breakdown (the key of a map). A table holds its rows in file
// order (territory, codes in natural order, period), as parallel columns:
// the period index of each row (int32) and, per indicator, the values and
// the statuses (one byte). A column whose every value is integral is kept
// as int32 (a sentinel marks the withheld values), else as float64; an
// indicator with no value in the whole table (not published there) keeps
// no column at all. The rows of one territory and codes are a series, a
// contiguous row range sorted by period; a table maps each territory to
// its range of series. A query thus costs a map lookup per territory, then
// a walk over the rows it returns. Strings (territories, codes, periods)
// are interned once, and observations share them.
type Release struct {
	dir      string
	man      *Manifest
	cat      *method.Catalogue
	manifest []byte
	sig      []byte
	pub      ed25519.PublicKey
	indIdx   map[string]int
	tables   map[tableKey]*table
	// span is the first and last period index of each frequency;
	// provisional the first period with a provisional cell (MaxInt: none).
	span        map[oml.Freq][2]int
	provisional map[oml.Freq]int
	periodNames map[oml.Freq][]string // by period index - span[f][0]
	order       codeOrder             // natural order of the codes, from the manifest
	codes       map[string]map[string][]string
	territories map[oml.Level]map[string][]string
	sa          struct {
		mu sync.Mutex
		m  map[saKey]saEntry
	}
}

// tableKey identifies a table of cells.
type tableKey struct {
	perimeter oml.Perimeter
	scope     oml.Scope
	freq      oml.Freq
	level     oml.Level
	dims      string
}

// table is the cells of one tableKey; see Release.
type table struct {
	key       tableKey
	dims      []string
	series    []series
	territory map[string][2]int32 // series range [lo, hi) of each territory
	period    []int32             // period index of each row
	cols      []column            // one per indicator of the catalogue
}

// series is the rows of one territory and codes, sorted by period.
type series struct {
	territory string
	codes     string
	split     []string // codes, one per dimension of the table; shared by observations
	lo, hi    int32
}

// column is one indicator's values in a table. A column without statuses
// means the indicator is not published in the table (status M throughout).
type column struct {
	ints   []int32 // values, when all are integral; withheldInt when withheld
	floats []float64
	status []oml.Status
}

// withheldInt marks a withheld value in an int32 column.
const withheldInt = math.MinInt32

func (c *column) present() bool { return c.status != nil }

// at returns the value and status of row i.
func (c *column) at(i int32) (float64, oml.Status) {
	if c.status == nil {
		return math.NaN(), oml.StatusUnavailable
	}
	st := c.status[i]
	if c.ints != nil {
		v := c.ints[i]
		if v == withheldInt {
			return math.NaN(), st
		}
		return float64(v), st
	}
	return c.floats[i], st
}

// Open verifies release id of dataDir (see Verify) and loads it. Loading a
// full-scale release (millions of cells) takes seconds; keep the *Release
// and share it.
func Open(dataDir, id string) (*Release, error) {
	if err := Verify(dataDir, id); err != nil {
		return nil, err
	}
	dir, _ := releaseDir(dataDir, id)
	r, err := load(dir)
	if err != nil {
		return nil, fmt.Errorf("open release %s: %w", id, err)
	}
	return r, nil
}

// load reads a verified release directory.
func load(dir string) (*Release, error) {
	man, body, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	r := &Release{dir: dir, man: man, manifest: body, tables: map[tableKey]*table{},
		span: map[oml.Freq][2]int{}, provisional: map[oml.Freq]int{}, periodNames: map[oml.Freq][]string{}}
	if r.sig, err = os.ReadFile(filepath.Join(dir, SignatureFile)); err != nil {
		return nil, err
	}
	if r.pub, err = readPublicKey(dir); err != nil {
		return nil, err
	}
	catJSON, err := os.ReadFile(filepath.Join(dir, CatalogueFile))
	if err != nil {
		return nil, err
	}
	if r.cat, err = method.Parse(catJSON); err != nil {
		return nil, err
	}
	r.indIdx = map[string]int{}
	for i, ind := range r.cat.Indicators {
		r.indIdx[ind.ID] = i
	}
	if !slices.Equal(man.Indicators, slices.Collect(func(yield func(string) bool) {
		for _, ind := range r.cat.Indicators {
			if !yield(ind.ID) {
				return
			}
		}
	})) {
		return nil, tampered(ManifestFile, "elenca indicatori diversi dal catalogo / lists indicators other than the catalogue's", nil)
	}
	from, err := oml.ParsePeriod(man.Release.First)
	if err != nil {
		return nil, err
	}
	to, err := oml.ParsePeriod(man.Release.Last)
	if err != nil {
		return nil, err
	}
	for _, f := range oml.Freqs {
		a, b := from.Of(f).Index(), to.Of(f).Index()
		r.span[f] = [2]int{a, b}
		names := make([]string, b-a+1)
		for i := range names {
			names[i] = oml.PeriodAt(f, a+i).String()
		}
		r.periodNames[f] = names
		r.provisional[f] = math.MaxInt
	}
	r.order = codeOrder{}
	for dim, codes := range man.Codes {
		m := map[string]int{}
		for i, c := range codes {
			m[c] = i
		}
		r.order[dim] = m
	}

	schema := cellSchema(r.cat)
	in := newInterner()
	type result struct {
		tables []*table
		err    error
	}
	var entries []ManifestEntry
	for _, f := range man.Files {
		if strings.HasPrefix(f.Path, CellsDir+"/") {
			entries = append(entries, f)
		}
	}
	results := make([]result, len(entries))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, f := range entries {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var fk fileKey
			if len(f.Freq) == 1 {
				fk = fileKey{oml.Perimeter(f.Perimeter), oml.Scope(f.Scope), oml.Freq(f.Freq[0])}
			}
			if fk.path() != f.Path || !slices.Contains(fileKeys(), fk) {
				results[i].err = tampered(f.Path, "non corrisponde a perimetro, ambito e frequenza del manifest / does not match its manifest entry", nil)
				return
			}
			ts, err := r.loadFile(filepath.Join(dir, filepath.FromSlash(f.Path)), fk, schema, in, f.Rows)
			if err != nil {
				err = fmt.Errorf("%s: %w", f.Path, err)
			}
			results[i] = result{ts, err}
		})
	}
	wg.Wait()
	for _, res := range results {
		if res.err != nil {
			return nil, res.err
		}
		for _, t := range res.tables {
			r.tables[t.key] = t
			for _, c := range t.cols {
				for i, st := range c.status {
					if st == oml.StatusProvisional && int(t.period[i]) < r.provisional[t.key.freq] {
						r.provisional[t.key.freq] = int(t.period[i])
					}
				}
			}
		}
	}
	r.codes, r.territories = r.present()
	return r, nil
}

// interner makes one copy of each distinct string, shared by all files.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func newInterner() *interner { return &interner{m: map[string]string{}} }

// intern returns the shared copy of b. The map lookup with string(b) does
// not allocate.
func (in *interner) intern(b []byte) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	in.m[s] = s
	return s
}

// loadFile reads one cells file into tables.
func (r *Release) loadFile(path string, fk fileKey, schema *parquet.Schema, in *interner, rows int64) ([]*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, err
	}
	if err := checkColumns(pf.Schema(), schema); err != nil {
		return nil, err
	}
	n := int(pf.NumRows())
	if int64(n) != rows {
		return nil, fmt.Errorf("%d rows, the manifest says %d", n, rows)
	}
	// Key columns: each value interned, local ids per row.
	want := [3]string{string(fk.perimeter), string(fk.scope), fk.freq.String()}
	for c := range 3 {
		err := readColumn(pf, c, n, func(i int, v parquet.Value) error {
			if string(v.ByteArray()) != want[c] {
				return fmt.Errorf("row %d: %s %q in the file of %s", i, keyColumns[c], v.ByteArray(), want[c])
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	keys := make([][]string, 4) // level, territory, dims, codes
	for c := range 4 {
		keys[c] = make([]string, n)
		last := ""
		err := readColumn(pf, 3+c, n, func(i int, v parquet.Value) error {
			b := v.ByteArray()
			if string(b) != last {
				last = in.intern(b)
			}
			keys[c][i] = last
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	period := make([]int32, n)
	perIdx := map[string]int32{}
	span := r.span[fk.freq]
	err = readColumn(pf, 7, n, func(i int, v parquet.Value) error {
		b := v.ByteArray()
		p, ok := perIdx[string(b)]
		if !ok {
			pp, err := oml.ParsePeriod(string(b))
			if err != nil || pp.Freq != fk.freq || pp.Index() < span[0] || pp.Index() > span[1] {
				return fmt.Errorf("row %d: period %q outside the release", i, b)
			}
			p = int32(pp.Index())
			perIdx[string(b)] = p
		}
		period[i] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	levels, terrs, dimss, codess := keys[0], keys[1], keys[2], keys[3]
	keys = nil

	// Tables and series, checking that each is one contiguous run.
	var tables []*table
	var tlo []int // first row of each table
	seenT := map[tableKey]bool{}
	var seenS map[[2]string]bool
	for i := range n {
		tk := tableKey{fk.perimeter, fk.scope, fk.freq, oml.Level(levels[i]), dimss[i]}
		if i == 0 || tk != tables[len(tables)-1].key {
			if seenT[tk] {
				return nil, fmt.Errorf("row %d: rows of %s %s not contiguous", i, tk.level, tk.dims)
			}
			if !slices.Contains(oml.Levels, tk.level) {
				return nil, fmt.Errorf("row %d: unknown level %q", i, tk.level)
			}
			seenT[tk] = true
			seenS = map[[2]string]bool{}
			tables = append(tables, &table{key: tk, dims: splitList(tk.dims), territory: map[string][2]int32{}})
			tlo = append(tlo, i)
		}
		t := tables[len(tables)-1]
		row := int32(i - tlo[len(tlo)-1])
		sk := [2]string{terrs[i], codess[i]}
		if len(t.series) == 0 || t.series[len(t.series)-1].territory != sk[0] || t.series[len(t.series)-1].codes != sk[1] {
			if seenS[sk] {
				return nil, fmt.Errorf("row %d: rows of %s %s not contiguous", i, sk[0], sk[1])
			}
			seenS[sk] = true
			split := splitList(sk[1])
			if len(split) != len(t.dims) {
				return nil, fmt.Errorf("row %d: codes %q for dimensions %q", i, sk[1], tk.dims)
			}
			if len(t.series) > 0 && t.series[len(t.series)-1].territory != sk[0] {
				if _, ok := t.territory[sk[0]]; ok {
					return nil, fmt.Errorf("row %d: rows of territory %s not contiguous", i, sk[0])
				}
			}
			t.series = append(t.series, series{territory: sk[0], codes: sk[1], split: split, lo: row, hi: row})
			rg := t.territory[sk[0]]
			if rg[1] == 0 {
				rg[0] = int32(len(t.series) - 1)
			}
			rg[1] = int32(len(t.series))
			t.territory[sk[0]] = rg
		} else if period[i] <= period[i-1] {
			return nil, fmt.Errorf("row %d: periods of %s %s not increasing", i, sk[0], sk[1])
		}
		t.series[len(t.series)-1].hi = row + 1
	}
	levels, terrs, dimss, codess = nil, nil, nil, nil
	tlo = append(tlo, n)
	for j, t := range tables {
		t.period = slices.Clone(period[tlo[j]:tlo[j+1]])
		t.cols = make([]column, len(r.cat.Indicators))
	}
	period = nil

	// Indicator columns, one at a time: read the whole file's column,
	// then cut it into the tables' compact columns.
	vals := make([]float64, n)
	stat := make([]oml.Status, n)
	for k, ind := range r.cat.Indicators {
		col := len(keyColumns) + 2*k
		err := readColumn(pf, col, n, func(i int, v parquet.Value) error {
			if v.IsNull() {
				vals[i] = math.NaN()
			} else {
				vals[i] = v.Double()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		err = readColumn(pf, col+1, n, func(i int, v parquet.Value) error {
			b := v.ByteArray()
			if len(b) != 1 {
				return fmt.Errorf("row %d: %s %q", i, ind.ID+statusSuffix, b)
			}
			st := oml.Status(b[0])
			switch {
			case st == oml.StatusNormal || st == oml.StatusProvisional:
				if math.IsNaN(vals[i]) || math.IsInf(vals[i], 0) {
					return fmt.Errorf("row %d: %s status %c without a value", i, ind.ID, st)
				}
			case st == oml.StatusConfidential || st == oml.StatusUnavailable:
				if !math.IsNaN(vals[i]) {
					// A withheld value is never served, even if a file holds one.
					return fmt.Errorf("row %d: %s status %c with a value", i, ind.ID, st)
				}
			default:
				return fmt.Errorf("row %d: %s status %q", i, ind.ID, b)
			}
			stat[i] = st
			return nil
		})
		if err != nil {
			return nil, err
		}
		for j, t := range tables {
			t.cols[k] = compactColumn(vals[tlo[j]:tlo[j+1]], stat[tlo[j]:tlo[j+1]])
		}
	}
	return tables, nil
}

// compactColumn returns the column of values vals and statuses stat: none
// when all are unavailable, int32 when every value is integral, else
// float64.
func compactColumn(vals []float64, stat []oml.Status) column {
	allM, integral := true, true
	for i, st := range stat {
		if st != oml.StatusUnavailable {
			allM = false
		}
		if v := vals[i]; !math.IsNaN(v) && (v != math.Trunc(v) || v <= withheldInt || v > math.MaxInt32) {
			integral = false
		}
	}
	if allM {
		return column{}
	}
	c := column{status: slices.Clone(stat)}
	if integral {
		c.ints = make([]int32, len(vals))
		for i, v := range vals {
			if math.IsNaN(v) {
				c.ints[i] = withheldInt
			} else {
				c.ints[i] = int32(v)
			}
		}
	} else {
		c.floats = slices.Clone(vals)
	}
	return c
}

// readColumn calls each with every value of column col, in row order.
// Byte-array values are valid only during the call.
func readColumn(pf *parquet.File, col, n int, each func(i int, v parquet.Value) error) error {
	buf := make([]parquet.Value, 1024)
	i := 0
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[col].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return err
			}
			vr := p.Values()
			for {
				k, err := vr.ReadValues(buf)
				for _, v := range buf[:k] {
					if i >= n {
						pages.Close()
						parquet.Release(p)
						return fmt.Errorf("column %d: more values than rows", col)
					}
					if err := each(i, v); err != nil {
						pages.Close()
						parquet.Release(p)
						return err
					}
					i++
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					pages.Close()
					parquet.Release(p)
					return err
				}
				if k == 0 {
					break
				}
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	if i != n {
		return fmt.Errorf("column %d: %d values for %d rows", col, i, n)
	}
	return nil
}

// present returns, for every dimension, the codes with at least one
// published value, and for every level the territories with at least one
// published value in the tables of totals; by indicator id and under ""
// for any indicator. Codes are in natural order, territories in code
// order.
func (r *Release) present() (map[string]map[string][]string, map[oml.Level]map[string][]string) {
	type set map[string]map[string]bool // indicator -> code -> present
	add := func(sets map[string]set, group, ind, code string) {
		if sets[group] == nil {
			sets[group] = set{}
		}
		for _, i := range []string{ind, ""} {
			if sets[group][i] == nil {
				sets[group][i] = map[string]bool{}
			}
			sets[group][i][code] = true
		}
	}
	codeSets, terrSets := map[string]set{}, map[string]set{}
	for _, t := range r.tables {
		for _, s := range t.series {
			for k := range t.cols {
				c := &t.cols[k]
				if !c.present() || !slices.ContainsFunc(c.status[s.lo:s.hi], published) {
					continue
				}
				id := r.cat.Indicators[k].ID
				if len(t.dims) == 0 {
					add(terrSets, string(t.key.level), id, s.territory)
				}
				for j, d := range t.dims {
					add(codeSets, d, id, s.split[j])
				}
			}
		}
	}
	lists := func(byInd set, cmp func(a, b string) int) map[string][]string {
		out := map[string][]string{}
		for ind, codes := range byInd {
			list := make([]string, 0, len(codes))
			for c := range codes {
				list = append(list, c)
			}
			slices.SortFunc(list, cmp)
			out[ind] = list
		}
		return out
	}
	codes := map[string]map[string][]string{}
	for dim, byInd := range codeSets {
		codes[dim] = lists(byInd, func(a, b string) int { return r.order.compareCode(dim, a, b) })
	}
	terrs := map[oml.Level]map[string][]string{}
	for l, byInd := range terrSets {
		terrs[oml.Level(l)] = lists(byInd, strings.Compare)
	}
	return codes, terrs
}

// Info returns what the release is.
func (r *Release) Info() Info { return r.man.Release }

// Manifest returns the decoded manifest. Callers must not modify it.
func (r *Release) Manifest() *Manifest { return r.man }

// Catalogue returns the catalogue the release was computed with, read from
// its own catalogo.json, so that old releases stay readable when the
// methodology changes.
func (r *Release) Catalogue() *method.Catalogue { return r.cat }

// ManifestJSON returns manifest.json as signed.
func (r *Release) ManifestJSON() []byte { return bytes.Clone(r.manifest) }

// Signature returns manifest.sig: the ed25519 signature of ManifestJSON.
func (r *Release) Signature() []byte { return bytes.Clone(r.sig) }

// PublicKey returns the key the release is signed with.
func (r *Release) PublicKey() ed25519.PublicKey { return slices.Clone(r.pub) }

// Dir returns the release's directory, for serving its files.
func (r *Release) Dir() string { return r.dir }

// Periods returns the first and last period of frequency f the release
// covers. The last quarter or year may be incomplete: it ends with the
// vintage's month.
func (r *Release) Periods(f oml.Freq) (first, last oml.Period) {
	s, ok := r.span[f]
	if !ok {
		s = r.span[oml.Monthly]
		f = oml.Monthly
	}
	return oml.PeriodAt(f, s[0]), oml.PeriodAt(f, s[1])
}

// Codes returns the codes of dimension dim that have at least one
// published value (status A or P) for indicator in the release, in natural
// order (the code lists' order, the unknown code ND last). indicator ""
// means any indicator. An unknown dimension is oml.EINVALID, an unknown
// indicator oml.ENOTFOUND; a known dimension without codes gives an empty
// list.
func (r *Release) Codes(dim, indicator string) ([]string, error) {
	if _, ok := r.cat.Dimension(dim); !ok {
		return nil, oml.Errorf(oml.EINVALID, "dimensione %q sconosciuta / unknown dimension %q", dim, dim).
			WithHint("dimensioni / dimensions: %s", strings.Join(r.dimensionIDs(), ", "))
	}
	if indicator != "" {
		if _, err := r.indicator(indicator); err != nil {
			return nil, err
		}
	}
	return slices.Clone(r.codes[dim][indicator]), nil
}

// Territories returns the territories of level l that have at least one
// published value (status A or P) of indicator in the release's tables of
// totals, in code order; indicator "" means any indicator. An unknown
// indicator is oml.ENOTFOUND, an unknown level oml.EINVALID.
func (r *Release) Territories(l oml.Level, indicator string) ([]string, error) {
	if !slices.Contains(oml.Levels, l) {
		levels := make([]string, len(oml.Levels))
		for i, l := range oml.Levels {
			levels[i] = string(l)
		}
		return nil, oml.Errorf(oml.EINVALID, "livello %q sconosciuto / unknown level %q", l, l).
			WithHint("livelli / levels: %s", strings.Join(levels, ", "))
	}
	if indicator != "" {
		if _, err := r.indicator(indicator); err != nil {
			return nil, err
		}
	}
	return slices.Clone(r.territories[l][indicator]), nil
}

// dimensionIDs lists the catalogue's dimensions.
func (r *Release) dimensionIDs() []string {
	var out []string
	for _, d := range r.cat.Dimensions {
		out = append(out, d.ID)
	}
	return out
}

// indicator returns the index and definition of indicator id.
func (r *Release) indicator(id string) (int, error) {
	k, ok := r.indIdx[id]
	if !ok {
		ids := make([]string, len(r.cat.Indicators))
		for i, ind := range r.cat.Indicators {
			ids[i] = ind.ID
		}
		return 0, oml.Errorf(oml.ENOTFOUND, "indicatore %q sconosciuto / unknown indicator %q", id, id).
			WithHint("indicatori / indicators: %s", strings.Join(ids, ", "))
	}
	return k, nil
}
