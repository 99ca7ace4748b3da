package synth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

var (
	listsOnce sync.Once
	lists     *classif.Lists
	listsErr  error
)

func testLists(t testing.TB) *classif.Lists {
	t.Helper()
	listsOnce.Do(func() { lists, listsErr = classif.Load() })
	if listsErr != nil {
		t.Fatal(listsErr)
	}
	return lists
}

func month(y, m int) time.Time { return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }

func generate(t testing.TB, cfg Config) (string, Summary) {
	t.Helper()
	dir := t.TempDir()
	s, err := Generate(context.Background(), cfg, testLists(t), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// hashDir returns the sha256 of every file of dir.
func hashDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	for _, format := range []string{FormatCanonical, FormatOpenData} {
		t.Run(format, func(t *testing.T) {
			cfg := Config{Seed: 42, From: month(2019, 11), To: month(2020, 4), Scale: 0.01, Format: format, Dirty: 0.05}
			var hashes [2]map[string][32]byte
			for i, procs := range []int{1, 4} {
				old := runtime.GOMAXPROCS(procs)
				dir, _ := generate(t, cfg)
				runtime.GOMAXPROCS(old)
				hashes[i] = hashDir(t, dir)
			}
			if len(hashes[0]) == 0 || len(hashes[0]) != len(hashes[1]) {
				t.Fatalf("file sets differ: %d vs %d", len(hashes[0]), len(hashes[1]))
			}
			for name, h := range hashes[0] {
				if hashes[1][name] != h {
					t.Errorf("%s differs between GOMAXPROCS 1 and 4", name)
				}
			}
			cfg.Seed = 43
			dir, _ := generate(t, cfg)
			other := hashDir(t, dir)
			if other[ManifestName] == hashes[0][ManifestName] {
				t.Errorf("seed 43 gives the same manifest as seed 42")
			}
		})
	}
}

// TestCanonicalFiles checks the canonical files against the manifest: row
// counts, malformed rows, and the validity of every clean row.
func TestCanonicalFiles(t *testing.T) {
	l := testLists(t)
	cfg := Config{Seed: 7, From: month(2022, 1), To: month(2023, 6), Scale: 0.01, Dirty: 0.05}
	dir, sum := generate(t, cfg)
	if len(sum.Files) != 2 || sum.Files[0].Path != "co_2022.csv" || sum.Files[1].Path != "co_2023.csv" {
		t.Fatalf("files %+v", sum.Files)
	}
	var rows, malformed int64
	for _, fs := range sum.Files {
		b, err := os.ReadFile(filepath.Join(dir, fs.Path))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("\r")) || bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			t.Errorf("%s: canonical files have no BOM and \\n line ends", fs.Path)
		}
		lines := int64(bytes.Count(b, []byte("\n"))) - 1
		if lines != fs.Rows {
			t.Errorf("%s: %d physical rows, manifest says %d", fs.Path, lines, fs.Rows)
		}
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		n := int64(-1)
		var bad int64
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			n++
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe):
				bad++
			case err != nil:
				t.Fatal(err)
			case len(rec) != nCanon:
				bad++
			}
		}
		if n != fs.Rows {
			t.Errorf("%s: encoding/csv reads %d rows, manifest says %d", fs.Path, n, fs.Rows)
		}
		if want := fs.DirtyByReason[oml.RowMalformed]; bad != want {
			t.Errorf("%s: %d rows do not parse to %d fields, manifest says %d malformed", fs.Path, bad, nCanon, want)
		}
		rows += fs.Rows
		malformed += bad
	}
	if rows != sum.Rows || malformed == 0 {
		t.Errorf("rows %d (manifest %d), malformed %d", rows, sum.Rows, malformed)
	}
	var accepted int64
	for _, n := range sum.Events {
		accepted += n
	}
	if accepted+sum.Dirty+sum.Duplicates != sum.Rows {
		t.Errorf("accepted %d + dirty %d + duplicates %d != rows %d", accepted, sum.Dirty, sum.Duplicates, sum.Rows)
	}
	if share := float64(sum.Dirty) / float64(sum.Rows); math.Abs(share-cfg.Dirty) > 0.006 {
		t.Errorf("dirty share %.4f, configured %.2f", share, cfg.Dirty)
	}

	// Clean rows: the dirty ones are found by the decoder test; here all
	// defects are skipped by regenerating without them.
	clean := cfg
	clean.Dirty = 0
	dir, sum = generate(t, clean)
	st := collectCanonical(t, dir, l, dayOf(month(2023, 7))-1, nil)
	for _, msg := range st.badCodes {
		t.Error(msg)
	}
	if st.badCF > 0 {
		t.Errorf("%d clean rows with an invalid fiscal code", st.badCF)
	}
	if st.fixedNoEnd > 0 {
		t.Errorf("%d fixed-term hires without data_fine_prevista", st.fixedNoEnd)
	}
	if st.beyondTo > 0 {
		t.Errorf("%d events after To", st.beyondTo)
	}
	if st.malformed > 0 || sum.Dirty > 0 || sum.Duplicates > 0 {
		t.Errorf("Dirty 0 wrote %d malformed, %d dirty, %d duplicate rows", st.malformed, sum.Dirty, sum.Duplicates)
	}
	for _, typ := range []string{"A", "C", "P", "T"} {
		if got, want := st.byType[typ], sum.Effective[oml.EventType(typ[0])]; got != want {
			t.Errorf("effective %s: files %d, manifest %d", typ, got, want)
		}
	}
	if sum.Events[oml.Rettifica] == 0 || sum.Events[oml.Annullamento] == 0 {
		t.Errorf("no R or X rows: %v", sum.Events)
	}
	if st.relWithoutA == 0 || st.relWithoutA != sum.PreWindow || st.relWithA+st.relWithoutA != sum.Relationships {
		t.Errorf("relationships: %d with A, %d without; manifest %d, pre-window %d", st.relWithA, st.relWithoutA,
			sum.Relationships, sum.PreWindow)
	}
}

// TestWindow checks that nothing is written before From or after To, even
// R and X rows, whose own dates are a few days after what they act on.
func TestWindow(t *testing.T) {
	dir, sum := generate(t, Config{Seed: 3, From: month(2023, 3), To: month(2023, 5), Scale: 0.02})
	if len(sum.Files) != 1 {
		t.Fatalf("files %+v", sum.Files)
	}
	f, err := os.Open(filepath.Join(dir, "co_2023.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Read()
	lo, hi := "2023-03-01", "2023-05-31"
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if d := rec[fDate]; rec[fTipo] != "X" && (d < lo || d > hi) {
			t.Fatalf("row dated %s outside %s..%s: %v", d, lo, hi, rec)
		}
	}
}

// TestCalibration checks the volumes and mixes of docs/sintetico.md on a
// clean run of the default window.
func TestCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration run skipped in short mode")
	}
	l := testLists(t)
	const scale = 0.01
	cfg := Config{Seed: 1, From: month(2017, 1), To: month(2024, 12), Scale: scale}
	dir, sum := generate(t, cfg)
	st := collectCanonical(t, dir, l, dayOf(month(2025, 1))-1, nil)
	if testing.Verbose() {
		t.Logf("calibration report:\n%s", st.report(l, 8))
	}
	a := float64(st.byType["A"])
	perYear := a / 8 / scale
	if perYear < 1.6e6 || perYear > 1.95e6 {
		t.Errorf("%.0f hires a year at scale 1, want about 1.8 million", perYear)
	}
	if rows := float64(sum.Rows) / scale; rows < 30e6 || rows > 40e6 {
		t.Errorf("%.1f million rows 2017-2024 at scale 1, want about 35", rows/1e6)
	}
	ratio := func(typ string) float64 { return 40 * float64(st.byType[typ]) / a }
	within := func(name string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.2f, want %.2f..%.2f", name, got, lo, hi)
		}
	}
	// Sondrio's published flows are 40 : 39 : 18 : 6; their C counts every
	// termination, which the methodology rebuilds as communicated plus
	// imputed ones (see docs/sintetico.md).
	within("C communicated per 40 A", ratio("C"), 27, 33)
	within("C communicated + imputed per 40 A", ratio("C")+40*float64(sum.ImputedEnds)/a, 36, 42)
	// Most fixed-term contracts that reach their planned end get no C.
	within("share of natural ends of fixed-term contracts not communicated",
		float64(sum.ImputedEnds)/float64(sum.ImputedEnds+st.endTermFT), 0.5, 0.7)
	within("P per 40 A", ratio("P"), 16, 20)
	within("T per 40 A", ratio("T"), 4.8, 7.2)
	for _, p := range provinces {
		share := 100 * float64(st.byProvType[p.code]["A"]) / a
		within("share of hires of province "+p.code, share, p.share*0.88-0.3, p.share*1.12+0.3)
	}
	// Sondrio's observatory published 35,934 to 41,232 hires a year in
	// 2017-2024 (2020: 28,604), workplace perimeter.
	var so float64
	for y := 2017; y <= 2024; y++ {
		n := float64(st.provYearA["014"][y]) / scale
		if y != 2020 {
			within("Sondrio hires in "+strconv.Itoa(y)+" at scale 1", n, 30000, 50000)
			so += n / 7
		}
	}
	within("Sondrio mean yearly hires at scale 1 (2020 excluded)", so, 35000, 45000)
	y19, y20 := float64(st.byYearType[2019]["A"]), float64(st.byYearType[2020]["A"])
	within("hires 2020 / 2019", y20/y19, 0.68, 0.82)
	group := func(g oml.ContractGroup) float64 { return 100 * float64(st.groupA[g]) / a }
	within("fixed-term % of hires", group(oml.GroupFixedTerm), 53, 60)
	within("permanent % of hires", group(oml.GroupPermanent), 13, 17.5)
	within("apprenticeship % of hires", group(oml.GroupApprenticeship), 3, 5.5)
	within("temp agency % of hires", group(oml.GroupTempAgency), 11.5, 15)
	within("intermittent % of hires", group(oml.GroupIntermittent), 4, 6.5)
	within("domestic % of hires", group(oml.GroupDomestic), 3, 5)
	within("part-time % of hires", 100*float64(st.ptA)/float64(st.orarioA), 26, 34)
	within("part-time % of women's hires minus men's", 100*(float64(st.ptAF)/float64(st.orarioAF)-
		float64(st.ptA-st.ptAF)/float64(st.orarioA-st.orarioAF)), 15, 40)
	within("Italian % of hires", 100*float64(st.italianA)/a, 74, 80)
	within("15-24 % of hires", 100*float64(st.ageA[0])/a, 16, 26)
	// Seasonality: school hires in September, Sondrio's tourist peaks in
	// summer and December, terminations in December, the 2020 lockdown.
	within("September / mean of education hires", 12*float64(st.monthAEdu[8])/sum12(st.monthAEdu), 2.5, 6)
	som := st.monthA["014"]
	within("Sondrio: July / April hires", float64(som[6])/float64(som[3]), 1.2, 3)
	within("Sondrio: December / November hires", float64(som[11])/float64(som[10]), 1.05, 2)
	within("December / mean terminations", 12*float64(st.monthC[11])/sum12(st.monthC), 1.05, 1.6)
}

func sum12(v [12]int64) float64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return float64(s)
}

// TestOpenDataFiles checks the four open-data files: BOM, CRLF, header,
// titles that decode with the code lists, row counts.
func TestOpenDataFiles(t *testing.T) {
	l := testLists(t)
	dir, sum := generate(t, Config{Seed: 5, From: month(2021, 1), To: month(2021, 12), Scale: 0.01, Format: FormatOpenData})
	if len(sum.Files) != 4 {
		t.Fatalf("files %+v", sum.Files)
	}
	for i, fs := range sum.Files {
		if fs.Path != OpenDataFiles[i] {
			t.Errorf("file %d is %s", i, fs.Path)
		}
		b, err := os.ReadFile(filepath.Join(dir, fs.Path))
		if err != nil {
			t.Fatal(err)
		}
		want := "\xef\xbb\xbf" + strings.Join(OpenDataHeader[:], ",") + "\r\n"
		if !bytes.HasPrefix(b, []byte(want)) {
			t.Fatalf("%s: header %q", fs.Path, b[:min(len(b), 120)])
		}
		if bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
			t.Errorf("%s: bare \\n line ends", fs.Path)
		}
		r := csv.NewReader(bytes.NewReader(b[3:]))
		r.Read()
		var n int64
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			d, err := time.Parse("02/01/2006", rec[oData])
			if err != nil || d.Year() != 2021 {
				t.Fatalf("%s: date %q", fs.Path, rec[oData])
			}
			if _, ok := l.AtecoByTitle(rec[oSettore]); !ok {
				t.Errorf("%s: unknown ATECO title %q", fs.Path, rec[oSettore])
			}
			if k, ok := l.ContractByTitle(rec[oContratto], d); !ok || !k.ValidAt(d) {
				t.Errorf("%s: contract %q not valid at %s", fs.Path, rec[oContratto], rec[oData])
			}
			if _, ok := l.ProvinceByName(rec[oProvincia]); !ok {
				t.Errorf("%s: unknown province %q", fs.Path, rec[oProvincia])
			}
			if _, ok := l.CitizenshipByName(rec[oItaliano]); !ok {
				t.Errorf("%s: unknown citizenship %q", fs.Path, rec[oItaliano])
			}
			if _, ok := l.WorkingTimeByTitle(rec[oModalita]); !ok {
				t.Errorf("%s: unknown working time %q", fs.Path, rec[oModalita])
			}
			if rec[oTitolo] != "" {
				if _, ok := l.EducationByTitle(rec[oTitolo]); !ok {
					t.Errorf("%s: unknown education %q", fs.Path, rec[oTitolo])
				}
			}
		}
		if n != fs.Rows || n == 0 {
			t.Errorf("%s: %d rows, manifest %d", fs.Path, n, fs.Rows)
		}
		if typ := oml.EventType("ACPT"[i]); sum.Events[typ] != n || sum.Effective[typ] != n {
			t.Errorf("%s: %d rows, events %d, effective %d", fs.Path, n, sum.Events[typ], sum.Effective[typ])
		}
	}
}

// TestEveryReason checks that a dirty run carries every reason its format
// can express, and nothing else.
func TestEveryReason(t *testing.T) {
	all := map[oml.Reason]bool{}
	for _, r := range CanonicalReasons() {
		all[r] = true
	}
	for _, r := range OpenDataReasons() {
		all[r] = true
	}
	for r := range oml.ReasonText {
		if !all[r] {
			t.Errorf("reason %s is produced by no format", r)
		}
	}
	for _, tc := range []struct {
		format string
		want   []oml.Reason
	}{{FormatCanonical, CanonicalReasons()}, {FormatOpenData, OpenDataReasons()}} {
		_, sum := generate(t, Config{Seed: 9, From: month(2024, 1), To: month(2024, 6), Scale: 0.01, Format: tc.format, Dirty: 0.3})
		for _, r := range tc.want {
			if sum.DirtyByReason[r] == 0 {
				t.Errorf("%s: no row with reason %s", tc.format, r)
			}
		}
		if len(sum.DirtyByReason) != len(tc.want) {
			t.Errorf("%s: reasons %v, want %v", tc.format, sum.DirtyByReason, tc.want)
		}
	}
}

func TestManifest(t *testing.T) {
	dir, sum := generate(t, Config{Seed: 11, From: month(2020, 6), To: month(2021, 2), Scale: 0.005, Dirty: 0.02})
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum, got) {
		t.Errorf("manifest round trip:\n%+v\n%+v", sum, got)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(sum, back) {
		t.Errorf("JSON round trip: %v\n%s", err, b)
	}
	if !bytes.Contains(b, []byte(`"events":{"A":`)) {
		t.Errorf("Summary JSON keys are not event letters: %s", b)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	for _, key := range []string{`"seed": 11`, `"from": "2020-06"`, `"to": "2021-02"`, `"path": "co_2020.csv"`, `"A": `} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("manifest lacks %s", key)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{From: month(2007, 12)},
		{From: month(2020, 1), To: month(2019, 12)},
		{To: month(2091, 1)},
		{Scale: -1},
		{Scale: 1000},
		{Dirty: 0.6},
		{Format: "xml"},
	} {
		_, err := Generate(context.Background(), cfg, testLists(t), t.TempDir(), nil)
		if oml.ErrorCode(err) != oml.EINVALID {
			t.Errorf("%+v: error %v, want invalid", cfg, err)
		}
	}
}

// TestCancel cancels a full-scale run at its first progress report (it
// would take many seconds) and a run whose context is already done.
func TestCancel(t *testing.T) {
	for _, early := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		if early {
			cancel()
		}
		dir := t.TempDir()
		_, err := Generate(ctx, Config{Seed: 1, From: month(2017, 1), To: month(2024, 12), Scale: 1}, testLists(t), dir,
			func(done, total int64) { cancel() })
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("files left after cancellation: %v", entries)
		}
	}
}

func TestProgress(t *testing.T) {
	var last, total int64
	_, err := Generate(context.Background(), Config{Seed: 1, From: month(2024, 1), To: month(2024, 3), Scale: 0.01},
		testLists(t), t.TempDir(), func(d, tot int64) { last, total = d, tot })
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || last != total {
		t.Errorf("last progress %d/%d", last, total)
	}
}

func BenchmarkGenerate(b *testing.B) {
	l := testLists(b)
	cfg := Config{Seed: 1, From: month(2023, 1), To: month(2023, 12), Scale: 0.02, Dirty: 0.02}
	var rows int64
	for b.Loop() {
		dir := b.TempDir()
		s, err := Generate(context.Background(), cfg, l, dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		rows = s.Rows
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
