package release

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/method"
)

// File names inside a release directory.
const (
	CatalogueFile = "catalogo.json"
	ManifestFile  = "manifest.json"
	SignatureFile = "manifest.sig"
	PublicKeyFile = "pubkey"
	CellsDir      = "cells"
)

// releasesDir is the directory of the releases inside a data dir.
const releasesDir = ReleasesDir

// ReleasesDir is the directory of a data dir that holds its releases, one
// directory each.
const ReleasesDir = "releases"

// tmpPrefix starts the name of a release being written; List skips it.
const tmpPrefix = ".tmp-"

// rowGroupRows is the row count of a Parquet row group: small enough for
// engines to read a file in parallel, large enough to compress well.
const rowGroupRows = 1 << 17

// Publish writes cube as a new release of dataDir and returns its Info and
// the sha256 (hex) of its manifest.json.
//
// The id is the vintage as YYYYMMDD, a hyphen and 1 + the number of
// releases of the same vintage already there. Everything is written in a
// temporary directory under <dataDir>/releases/, flushed to disk, verified
// (hashes, signature, Parquet footers) and only then renamed to
// <dataDir>/releases/<id>/, so a release directory is either complete or
// absent. Files are read-only (0444).
//
// catalogueJSON must be the catalogue the cube was computed with (its
// indicators in the same order); it is stored as catalogo.json. The cube
// is not modified. Given the same cube, catalogue, Meta and key, Publish
// writes byte-identical files.
func Publish(dataDir string, cube *method.Cube, catalogueJSON []byte, meta Meta, key ed25519.PrivateKey) (Info, string, error) {
	if cube == nil || cube.Catalogue == nil {
		return Info{}, "", errors.New("publish: nil cube")
	}
	if len(key) != ed25519.PrivateKeySize {
		return Info{}, "", errors.New("publish: invalid signing key")
	}
	cat, err := method.Parse(catalogueJSON)
	if err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	if !slices.EqualFunc(cat.Indicators, cube.Catalogue.Indicators, func(a, b method.Indicator) bool { return a.ID == b.ID }) {
		return Info{}, "", oml.Errorf(oml.EINVALID, "il catalogo non è quello con cui è stato calcolato il cubo / the catalogue is not the one the cube was computed with")
	}
	lists, err := classif.Load()
	if err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	plan, err := planRows(cube, cat, method.NewNames(lists))
	if err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	publishedAt := meta.PublishedAt
	if publishedAt.IsZero() {
		publishedAt = time.Now()
	}
	inputs := slices.Clone(meta.Inputs)
	slices.Sort(inputs)
	if inputs == nil {
		inputs = []string{}
	}
	man := Manifest{
		Format: FormatVersion,
		Release: Info{
			Vintage:       cube.Vintage.Format(time.DateOnly),
			MethodVersion: cat.Version,
			PublishedAt:   publishedAt.UTC(),
			First:         cube.From.String(),
			Last:          cube.To.String(),
			HasIDs:        cube.HasIDs,
		},
		Disclosure:        cat.Disclosure,
		ProvisionalMonths: cat.ProvisionalMonths,
		Inputs:            inputs,
		Events:            meta.Events,
		TerritoryDigests:  meta.TerritoryDigests,
		Indicators:        make([]string, len(cat.Indicators)),
		Codes:             plan.codes,
	}
	for i, ind := range cat.Indicators {
		man.Indicators[i] = ind.ID
	}

	root := filepath.Join(dataDir, releasesDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	removeStale(root)
	tmp, err := os.MkdirTemp(root, tmpPrefix)
	if err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	if err := os.Mkdir(filepath.Join(tmp, CellsDir), 0o755); err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	mf, err := writeFile(tmp, CatalogueFile, func(w io.Writer) error { _, err := w.Write(catalogueJSON); return err })
	if err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	man.Files = append(man.Files, mf)
	schema := cellSchema(cat)
	// The files are independent: write them in parallel, one per core.
	fks := fileKeys()
	entries := make([]ManifestEntry, len(fks))
	errs := make([]error, len(fks))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, fk := range fks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cells := plan.files[fk]
			var counts map[string]map[string]int64
			mf, err := writeFile(tmp, fk.path(), func(w io.Writer) error {
				var err error
				counts, err = writeCells(w, schema, cat, fk, cells)
				return err
			})
			if err != nil {
				errs[i] = fmt.Errorf("publish %s: %w", fk.path(), err)
				return
			}
			mf.Rows = int64(len(cells))
			mf.Perimeter, mf.Scope, mf.Freq = string(fk.perimeter), string(fk.scope), fk.freq.String()
			mf.Status = counts
			entries[i] = mf
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Info{}, "", err
	}
	man.Files = append(man.Files, entries...)
	pub := key.Public().(ed25519.PublicKey)
	if _, err := writeFile(tmp, PublicKeyFile, func(w io.Writer) error { _, err := w.Write(encodePublicKey(pub)); return err }); err != nil {
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
	// Check the Parquet files as a reader will see them before signing.
	for _, f := range man.Files[1:] {
		if err := checkParquet(filepath.Join(tmp, f.Path), schema, f.Rows); err != nil {
			return Info{}, "", fmt.Errorf("publish %s: %w", f.Path, err)
		}
	}

	vintage := cube.Vintage.Format("20060102")
	for attempt := 0; ; attempt++ {
		n, err := nextNumber(root, vintage)
		if err != nil {
			return Info{}, "", fmt.Errorf("publish: %w", err)
		}
		man.Release.ID = vintage + "-" + strconv.Itoa(n+attempt)
		body, err := man.encode()
		if err != nil {
			return Info{}, "", fmt.Errorf("publish: %w", err)
		}
		for _, name := range []string{ManifestFile, SignatureFile} {
			if err := os.Remove(filepath.Join(tmp, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return Info{}, "", fmt.Errorf("publish: %w", err)
			}
		}
		if _, err := writeFile(tmp, ManifestFile, func(w io.Writer) error { _, err := w.Write(body); return err }); err != nil {
			return Info{}, "", fmt.Errorf("publish: %w", err)
		}
		sig := ed25519.Sign(key, body)
		if _, err := writeFile(tmp, SignatureFile, func(w io.Writer) error { _, err := w.Write(sig); return err }); err != nil {
			return Info{}, "", fmt.Errorf("publish: %w", err)
		}
		syncDir(filepath.Join(tmp, CellsDir))
		syncDir(tmp)
		if _, err := verifyDir(tmp, pub); err != nil {
			return Info{}, "", fmt.Errorf("publish: verify before rename: %w", err)
		}
		final := filepath.Join(root, man.Release.ID)
		if meta.BeforeVisible != nil {
			if _, err := os.Stat(final); err == nil {
				continue // taken meanwhile: the next id
			}
			if err := meta.BeforeVisible(man.Release.ID); err != nil {
				return Info{}, "", err
			}
		}
		err = os.Rename(tmp, final)
		if err == nil {
			done = true
			syncDir(root)
			sum := sha256.Sum256(body)
			return man.Release, hex.EncodeToString(sum[:]), nil
		}
		// A concurrent publisher took the id: take the next one.
		if attempt < 100 && (errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTEMPTY)) {
			continue
		}
		return Info{}, "", fmt.Errorf("publish: %w", err)
	}
}

// nextNumber returns 1 + the highest n of the releases <vintage>-<n> in root.
func nextNumber(root, vintage string) (int, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), vintage+"-")
		if !ok || !e.IsDir() {
			continue
		}
		if k, err := strconv.Atoi(rest); err == nil && k > n {
			n = k
		}
	}
	return n + 1, nil
}

// removeStale removes the temporary directories of publishes that died
// more than a day ago.
func removeStale(root string) {
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

// writeFile creates dir/name with the content write produces, flushes it
// to disk, makes it read-only and returns its manifest entry.
func writeFile(dir, name string, write func(io.Writer) error) (ManifestEntry, error) {
	path := filepath.Join(dir, filepath.FromSlash(name))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return ManifestEntry{}, err
	}
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	cw := &countingWriter{w: bw}
	if err := write(cw); err != nil {
		return ManifestEntry{}, err
	}
	if err := bw.Flush(); err != nil {
		return ManifestEntry{}, err
	}
	if err := f.Sync(); err != nil {
		return ManifestEntry{}, err
	}
	if err := f.Chmod(0o444); err != nil {
		return ManifestEntry{}, err
	}
	if err := f.Close(); err != nil {
		return ManifestEntry{}, err
	}
	return ManifestEntry{Path: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: cw.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileKey identifies a Parquet file of cells.
type fileKey struct {
	perimeter oml.Perimeter
	scope     oml.Scope
	freq      oml.Freq
}

// path is the file's path inside the release, "cells/workplace-full-M.parquet".
func (k fileKey) path() string {
	return CellsDir + "/" + string(k.perimeter) + "-" + string(k.scope) + "-" + k.freq.String() + ".parquet"
}

// fileKeys lists every file of a release, in manifest order. Every release
// has all of them, empty or not, so that readers find a fixed layout.
func fileKeys() []fileKey {
	var out []fileKey
	for _, p := range oml.Perimeters {
		for _, s := range oml.Scopes {
			for _, f := range oml.Freqs {
				out = append(out, fileKey{p, s, f})
			}
		}
	}
	return out
}

// keyColumns are the leading columns of every cells file.
var keyColumns = [...]string{"perimeter", "scope", "freq", "level", "territory", "dims", "codes", "period"}

// statusSuffix ends the name of an indicator's status column.
const statusSuffix = "_status"

// cellSchema is the wide schema of the cells files of catalogue cat: the
// key columns, then value and status of every indicator.
func cellSchema(cat *method.Catalogue) *parquet.Schema {
	g := parquet.Group{}
	var order []string
	str := parquet.Encoded(parquet.String(), &parquet.RLEDictionary)
	for _, c := range keyColumns {
		g[c] = str
		order = append(order, c)
	}
	for _, ind := range cat.Indicators {
		g[ind.ID] = parquet.Optional(parquet.Leaf(parquet.DoubleType))
		g[ind.ID+statusSuffix] = str
		order = append(order, ind.ID, ind.ID+statusSuffix)
	}
	return parquet.NewSchema("oml_cells", orderedGroup{Group: g, order: order})
}

// orderedGroup is a parquet.Group whose columns come in a chosen order
// instead of the alphabetical one of parquet.Group.
type orderedGroup struct {
	parquet.Group
	order []string
}

func (g orderedGroup) Fields() []parquet.Field {
	fields := g.Group.Fields()
	out := make([]parquet.Field, 0, len(fields))
	for _, name := range g.order {
		for _, f := range fields {
			if f.Name() == name {
				out = append(out, f)
			}
		}
	}
	return out
}

// writerOptions are the fixed settings of every cells file: fixed
// CreatedBy (the default embeds the library's build), zstd, row groups of
// rowGroupRows rows, data pages v2.
func writerOptions(schema *parquet.Schema) []parquet.WriterOption {
	return []parquet.WriterOption{
		schema,
		parquet.CreatedBy("oml", "release-format-"+strconv.Itoa(FormatVersion), ""),
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(rowGroupRows),
		parquet.DataPageVersion(2),
		parquet.PageBufferSize(256 << 10),
	}
}

// writeCells writes cells (already in row order) as a Parquet file and
// returns the row count per indicator and status.
func writeCells(w io.Writer, schema *parquet.Schema, cat *method.Catalogue, fk fileKey, cells []*method.Cell) (map[string]map[string]int64, error) {
	pw := parquet.NewWriter(w, writerOptions(schema)...)
	nInd := len(cat.Indicators)
	ncol := len(keyColumns) + 2*nInd
	counts := make([][4]int64, nInd)
	// Strings repeat: convert each once.
	bs := map[string][]byte{}
	b := func(s string) []byte {
		v, ok := bs[s]
		if !ok {
			v = []byte(s)
			bs[s] = v
		}
		return v
	}
	periods := map[int][]byte{}
	var statusBytes [256][]byte // by status; nil: not a status
	for _, st := range allStatuses {
		statusBytes[st] = []byte(st.String())
	}
	const batch = 256
	rows := make([]parquet.Row, 0, batch)
	buf := make([]parquet.Value, batch*ncol)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if _, err := pw.WriteRows(rows); err != nil {
			return err
		}
		rows = rows[:0]
		return nil
	}
	for _, c := range cells {
		if len(c.Values) != nInd || len(c.Status) != nInd {
			return nil, fmt.Errorf("cell %v: %d values, %d statuses for %d indicators", c.CellKey, len(c.Values), len(c.Status), nInd)
		}
		row := buf[len(rows)*ncol : (len(rows)+1)*ncol : (len(rows)+1)*ncol]
		per, ok := periods[c.Period]
		if !ok {
			per = []byte(oml.PeriodAt(fk.freq, c.Period).String())
			periods[c.Period] = per
		}
		for i, s := range [][]byte{b(string(fk.perimeter)), b(string(fk.scope)), b(fk.freq.String()),
			b(string(c.Level)), b(c.Territory), b(c.Dims), b(c.Codes), per} {
			row[i] = parquet.ByteArrayValue(s).Level(0, 0, i)
		}
		for k := range nInd {
			col := len(keyColumns) + 2*k
			st := c.Status[k]
			sb := statusBytes[st]
			if sb == nil {
				return nil, fmt.Errorf("cell %v: indicator %s: invalid status %q", c.CellKey, cat.Indicators[k].ID, st)
			}
			v := c.Values[k]
			switch {
			case published(st) && (math.IsNaN(v) || math.IsInf(v, 0)):
				return nil, fmt.Errorf("cell %v: indicator %s: status %c with value %v", c.CellKey, cat.Indicators[k].ID, st, v)
			case published(st):
				row[col] = parquet.DoubleValue(v).Level(0, 1, col)
			default:
				// A withheld value never reaches the file, whatever the cell holds.
				row[col] = parquet.NullValue().Level(0, 0, col)
			}
			row[col+1] = parquet.ByteArrayValue(sb).Level(0, 0, col+1)
			counts[k][statusIndex(st)]++
		}
		rows = append(rows, row)
		if len(rows) == batch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for k, ind := range cat.Indicators {
		m := map[string]int64{}
		for i, n := range counts[k] {
			if n > 0 {
				m[string(allStatuses[i])] = n
			}
		}
		if len(m) > 0 {
			out[ind.ID] = m
		}
	}
	return out, nil
}

// allStatuses lists the statuses in the order of statusIndex.
var allStatuses = [4]oml.Status{oml.StatusNormal, oml.StatusProvisional, oml.StatusConfidential, oml.StatusUnavailable}

func statusIndex(s oml.Status) int {
	switch s {
	case oml.StatusNormal:
		return 0
	case oml.StatusProvisional:
		return 1
	case oml.StatusConfidential:
		return 2
	}
	return 3
}

// checkParquet opens a written file as a reader would and checks its
// schema and row count.
func checkParquet(path string, schema *parquet.Schema, rows int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, fi.Size(), parquet.SkipBloomFilters(true))
	if err != nil {
		return err
	}
	if pf.NumRows() != rows {
		return fmt.Errorf("%d rows written, %d read back", rows, pf.NumRows())
	}
	return checkColumns(pf.Schema(), schema)
}

// checkColumns checks that got has the columns of want, in order.
func checkColumns(got, want *parquet.Schema) error {
	g, w := got.Columns(), want.Columns()
	if len(g) != len(w) {
		return fmt.Errorf("%d columns, expected %d", len(g), len(w))
	}
	for i := range g {
		if !slices.Equal(g[i], w[i]) {
			return fmt.Errorf("column %d is %s, expected %s", i, strings.Join(g[i], "."), strings.Join(w[i], "."))
		}
	}
	return nil
}

// rowPlan is the content of a release's cells files: the cells of each
// file in row order, and the codes present by dimension.
type rowPlan struct {
	files map[fileKey][]*method.Cell
	codes map[string][]string
}

// planRows sorts the cells of cube into the files and rows of a release:
// level (region first), breakdown (in the catalogue's order for the level,
// the total first), territory code, codes (in natural order: the order of
// the code lists, ND last), period. It rejects cells a release cannot hold.
func planRows(cube *method.Cube, cat *method.Catalogue, names *method.Names) (*rowPlan, error) {
	order := newCodeOrder(cat, names)
	type combo struct{ dims, codes string }
	seen := map[combo]bool{}
	byDims := map[string][]string{}
	type levelDims struct {
		level oml.Level
		dims  string
	}
	ld := map[levelDims]bool{}
	files := map[fileKey][]*method.Cell{}
	for i := range cube.Cells {
		c := &cube.Cells[i]
		fk := fileKey{c.Perimeter, c.Scope, c.Freq}
		if !slices.Contains(oml.Perimeters, fk.perimeter) || !slices.Contains(oml.Scopes, fk.scope) || !slices.Contains(oml.Freqs, fk.freq) {
			return nil, fmt.Errorf("cell %v: unknown perimeter, scope or frequency", c.CellKey)
		}
		if !slices.Contains(oml.Levels, c.Level) {
			return nil, fmt.Errorf("cell %v: unknown level", c.CellKey)
		}
		if (c.Dims == "") != (c.Codes == "") || strings.Count(c.Dims, ",") != strings.Count(c.Codes, ",") {
			return nil, fmt.Errorf("cell %v: codes do not match dimensions", c.CellKey)
		}
		files[fk] = append(files[fk], c)
		if k := (combo{c.Dims, c.Codes}); !seen[k] {
			seen[k] = true
			byDims[c.Dims] = append(byDims[c.Dims], c.Codes)
		}
		ld[levelDims{c.Level, c.Dims}] = true
	}
	// Ordinals of the codes within each breakdown, and of the breakdowns
	// within each level.
	codeOrd := map[combo]int{}
	present := map[string]map[string]bool{}
	for dims, codes := range byDims {
		ds := splitList(dims)
		slices.SortFunc(codes, func(a, b string) int { return order.compare(ds, splitList(a), splitList(b)) })
		for i, c := range codes {
			codeOrd[combo{dims, c}] = i
			for j, code := range splitList(c) {
				if present[ds[j]] == nil {
					present[ds[j]] = map[string]bool{}
				}
				present[ds[j]][code] = true
			}
		}
	}
	dimsOrd := map[levelDims]int{}
	perLevel := map[oml.Level][]string{}
	for k := range ld {
		perLevel[k.level] = append(perLevel[k.level], k.dims)
	}
	for l, dl := range perLevel {
		rank := func(d string) int {
			for i, b := range cat.Breakdowns[string(l)] {
				if strings.Join(b, ",") == d {
					return i
				}
			}
			return math.MaxInt
		}
		slices.SortFunc(dl, func(a, b string) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b)) })
		for i, d := range dl {
			dimsOrd[levelDims{l, d}] = i
		}
	}
	for fk, cells := range files {
		type sortKey struct {
			level, dims, codes int
			c                  *method.Cell
		}
		keys := make([]sortKey, len(cells))
		for i, c := range cells {
			keys[i] = sortKey{slices.Index(oml.Levels, c.Level), dimsOrd[levelDims{c.Level, c.Dims}], codeOrd[combo{c.Dims, c.Codes}], c}
		}
		slices.SortFunc(keys, func(a, b sortKey) int {
			return cmp.Or(cmp.Compare(a.level, b.level), cmp.Compare(a.dims, b.dims),
				strings.Compare(a.c.Territory, b.c.Territory), cmp.Compare(a.codes, b.codes), cmp.Compare(a.c.Period, b.c.Period))
		})
		for i, k := range keys {
			if i > 0 && k.c.CellKey == keys[i-1].c.CellKey {
				return nil, fmt.Errorf("cell %v appears twice", k.c.CellKey)
			}
			cells[i] = k.c
		}
		files[fk] = cells
	}
	codes := map[string][]string{}
	for dim, set := range present {
		list := make([]string, 0, len(set))
		for c := range set {
			list = append(list, c)
		}
		slices.SortFunc(list, func(a, b string) int { return order.compareCode(dim, a, b) })
		codes[dim] = list
	}
	return &rowPlan{files: files, codes: codes}, nil
}

// codeOrder ranks the codes of each dimension in their natural order.
type codeOrder map[string]map[string]int

func newCodeOrder(cat *method.Catalogue, names *method.Names) codeOrder {
	o := codeOrder{}
	for _, d := range cat.Dimensions {
		m := map[string]int{}
		for i, c := range names.Codes(d.ID) {
			m[c[0]] = i
		}
		o[d.ID] = m
	}
	return o
}

// compareCode orders two codes of dim: the code lists' order first, then
// codes missing from the lists in byte order, the unknown code ND last.
func (o codeOrder) compareCode(dim, a, b string) int {
	rank := func(c string) (group, r int) {
		if c == method.Unknown {
			return 2, 0
		}
		if r, ok := o[dim][c]; ok {
			return 0, r
		}
		return 1, 0
	}
	ga, ra := rank(a)
	gb, rb := rank(b)
	return cmp.Or(cmp.Compare(ga, gb), cmp.Compare(ra, rb), strings.Compare(a, b))
}

// compare orders two code tuples of dimensions dims.
func (o codeOrder) compare(dims, a, b []string) int {
	for i := range dims {
		if i >= len(a) || i >= len(b) {
			return cmp.Compare(len(a), len(b))
		}
		if r := o.compareCode(dims[i], a[i], b[i]); r != 0 {
			return r
		}
	}
	return 0
}

// splitList splits a comma-separated list; "" is the empty list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// encode returns the manifest as written: indented JSON, keys of maps
// sorted, a final newline.
func (m *Manifest) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
