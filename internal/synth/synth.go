// Package synth generates realistic synthetic files of Comunicazioni
// Obbligatorie for the whole of Lombardy: the demo, the tests and the
// benchmarks of the platform run on them.
//
// The generator simulates employment relationships, not independent rows.
// Workers (gender, birth date, citizenship, education, residence) and
// employers (ATECO, workplace, size) persist across relationships; a
// relationship starts with a hire (A) and lives on with extensions (P),
// transformations (T) and a termination (C), communicated or, for the
// natural end of a fixed-term contract, not communicated at all, as the CO
// rules allow. The simulation starts decades before the first month written,
// so the files also hold the extensions and terminations of relationships
// hired earlier, as a real extraction does. Volumes, seasonality, contract
// mix and the other calibration choices are documented in docs/sintetico.md.
//
// Output is deterministic: the same Config (seed included) gives
// byte-identical files whatever the number of CPUs. Each province is
// simulated by one or more independent shards with random streams derived
// from the seed; shards write part files that are concatenated in a fixed
// order. Memory stays bounded (no event is kept after it is written).
package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// Output formats (INTERFACE.md sections 1 and 2).
const (
	FormatCanonical = "canonical"
	FormatOpenData  = "lombardia-opendata"
)

// ManifestName is the file Generate writes next to the data: the Summary in
// JSON, with stable key order.
const ManifestName = "synth_manifest.json"

// Config selects what Generate writes. The zero value of a field selects its
// default.
type Config struct {
	// Seed selects the random streams; every value, 0 included, is valid.
	Seed uint64
	// From and To are the first and last month simulated and written (the
	// day is ignored). Defaults: January 2017 and the last complete month
	// before today. From may not precede 2008, To may not pass 2090.
	From, To time.Time
	// Scale multiplies the volumes: 1.0 is about 1.8 million hires a year
	// for the whole region (0 means 1). At most 50.
	Scale float64
	// Format is FormatCanonical (default) or FormatOpenData.
	Format string
	// Dirty is the share of rows written with exactly one defect each,
	// 0 to 0.5. Besides them, Dirty/10 of the rows are exact resends of a
	// communication (duplicates, not defects).
	Dirty float64
}

// Summary tells what Generate wrote, so that an ingest of the files can be
// reconciled exactly: for every file, read rows = accepted + rejected
// (Dirty) + duplicates, where accepted = Rows - Dirty - Duplicates.
type Summary struct {
	Files []FileSummary
	// Events counts the rows a validator accepts, by tipo_evento (A, C, P,
	// T, and R and X for the canonical format).
	Events map[oml.EventType]int64
	// Effective counts the flow events (A, C, P, T) left after applying the
	// rectifications and cancellations: what the indicators count.
	Effective map[oml.EventType]int64
	// Rows counts every data row (headers excluded), Dirty the rows with a
	// defect, Duplicates the exact resends.
	Rows, Dirty, Duplicates int64
	DirtyByReason           map[oml.Reason]int64
	// Relationships counts the relationships with at least one effective
	// event in the files; PreWindow those of them hired before From (their
	// A is not in the files, their later events are).
	Relationships, PreWindow int64
	// ImputedEnds counts the fixed-term relationships of the files that
	// reached their planned end, on or before To, with no communicated
	// termination: the ends the methodology imputes. Exact when Dirty is 0;
	// with defects it ignores the rejected rows.
	ImputedEnds int64
}

// FileSummary describes one written file. Path is relative to the output
// directory.
type FileSummary struct {
	Path          string
	Rows          int64
	Dirty         int64
	DirtyByReason map[oml.Reason]int64
	Duplicates    int64
}

// maxScale bounds Scale: the employers of a shard must fit its VAT numbers.
const maxScale = 50

// normalise fills the defaults of cfg and checks it.
func (cfg Config) normalise(now time.Time) (Config, error) {
	invalid := func(format string, args ...any) *oml.Error {
		return oml.Errorf(oml.EINVALID, format, args...).WithHint("vedere `oml synth -h` / see `oml synth -h`")
	}
	if cfg.From.IsZero() {
		cfg.From = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.To.IsZero() {
		y, m, _ := now.Date()
		cfg.To = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	}
	cfg.From = time.Date(cfg.From.Year(), cfg.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	cfg.To = time.Date(cfg.To.Year(), cfg.To.Month(), 1, 0, 0, 0, 0, time.UTC)
	if cfg.Scale == 0 {
		cfg.Scale = 1
	}
	if cfg.Format == "" {
		cfg.Format = FormatCanonical
	}
	switch {
	case cfg.From.Year() < oml.FirstEventYear:
		return cfg, invalid("mese iniziale %s anteriore al %d / first month before %d", cfg.From.Format("2006-01"), oml.FirstEventYear, oml.FirstEventYear)
	case cfg.To.Before(cfg.From):
		return cfg, invalid("mese finale %s anteriore all'iniziale %s / last month before first", cfg.To.Format("2006-01"), cfg.From.Format("2006-01"))
	case cfg.To.Year() > 2090:
		return cfg, invalid("mese finale %s oltre il 2090 / last month after 2090", cfg.To.Format("2006-01"))
	case !(cfg.Scale > 0 && cfg.Scale <= maxScale):
		return cfg, invalid("scala %v fuori da (0, %d] / scale out of range", cfg.Scale, maxScale)
	case !(cfg.Dirty >= 0 && cfg.Dirty <= 0.5):
		return cfg, invalid("quota di righe difettose %v fuori da [0, 0.5] / dirty share out of range", cfg.Dirty)
	case cfg.Format != FormatCanonical && cfg.Format != FormatOpenData:
		return cfg, invalid("formato %q sconosciuto / unknown format", cfg.Format).WithHint("usare canonical oppure lombardia-opendata")
	}
	return cfg, nil
}

// runState is what every shard of a run shares, read-only.
type runState struct {
	cfg                   Config
	fromDay, toDay        int32
	firstMonth, lastMonth int
	firstYear, lastYear   int
	files                 []string

	pR, pSpurious, pPhantom float64 // per flow row: rectified, sent twice and cancelled, hire cancelled
	pDirty, pResend         float64
}

func newRunState(cfg Config) *runState {
	run := &runState{cfg: cfg}
	run.firstMonth, run.lastMonth = windowMonths(cfg.From, cfg.To)
	run.fromDay = monthStart(run.firstMonth)
	run.toDay = monthStart(run.lastMonth+1) - 1
	run.firstYear, run.lastYear = cfg.From.Year(), cfg.To.Year()
	if cfg.Format == FormatOpenData {
		run.files = OpenDataFiles[:]
	} else {
		for y := run.firstYear; y <= run.lastYear; y++ {
			run.files = append(run.files, "co_"+strconv.Itoa(y)+".csv")
		}
		// Per flow event: an R adds one row, an X two (the X and what it
		// cancels); A are about 40% of the flow rows.
		x := cancelledShare * (1 + rectifiedShare + 2*cancelledShare)
		run.pR = rectifiedShare * (1 + rectifiedShare + 2*cancelledShare)
		run.pPhantom = x * phantomShareX / 0.4
		run.pSpurious = x * (1 - phantomShareX) / 0.6
		run.pResend = cfg.Dirty * resendPerDirty
	}
	// Dirty rows are drawn among the flow rows not involved in an R or X,
	// so that they make up cfg.Dirty of all the rows.
	extra := 1 + run.pR + 2*(0.4*run.pPhantom+0.6*run.pSpurious) + run.pResend
	run.pDirty = math.Min(1, cfg.Dirty*extra/(1-run.pR-0.6*run.pSpurious))
	return run
}

// Generate simulates the labour market of Lombardy from cfg.From to cfg.To
// and writes the files of cfg.Format into outDir, plus ManifestName.
// outDir is created if needed; files of the same names are replaced, other
// files are left alone, and Summary.Files lists exactly the files written.
// A temporary directory ".synth-*" exists in outDir while Generate runs.
//
// progress, if not nil, is called from the calling goroutine with the hires
// simulated so far and the expected total, a few times a second and once at
// the end with done == total. On error (ctx cancelled included) the files
// written are removed.
func Generate(ctx context.Context, cfg Config, lists *classif.Lists, outDir string, progress func(done, total int64)) (Summary, error) {
	cfg, err := cfg.normalise(time.Now())
	if err != nil {
		return Summary{}, err
	}
	if lists == nil {
		return Summary{}, errors.New("synth: nil code lists")
	}
	m, err := newModel(lists)
	if err != nil {
		return Summary{}, err
	}
	run := newRunState(cfg)
	m.prepareInvalidContracts(run.firstMonth, run.lastMonth)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	tmp, err := os.MkdirTemp(outDir, ".synth-")
	if err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	defer os.RemoveAll(tmp)

	shards := planShards(m, run, cfg.Seed)
	var total float64
	for _, s := range shards {
		for mi := run.firstMonth; mi <= run.lastMonth; mi++ {
			for sec := 0; sec < nSectors; sec++ {
				total += s.lambda(mi, sec)
			}
		}
	}
	finals, err := createFinals(outDir, run)
	if err != nil {
		return Summary{}, err
	}
	ok := false
	defer func() {
		for _, f := range finals {
			f.Close()
		}
		if !ok {
			for _, name := range run.files {
				os.Remove(filepath.Join(outDir, name))
			}
			os.Remove(filepath.Join(outDir, ManifestName))
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var hired atomic.Int64
	jobs := make(chan int)
	done := make(chan shardResult, len(shards))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(shards))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				s := shards[i]
				s.out = newShardOut(tmp, s.idx, len(run.files), cfg.Format == FormatOpenData)
				err := s.simulate(ctx, &hired)
				done <- shardResult{i, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range shards {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()

	// Append the parts of each shard in shard order, as soon as the shards
	// before it are done.
	var tick <-chan time.Time
	if progress != nil {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	totalHires := int64(math.Round(total))
	finished := make([]bool, len(shards))
	stats := make([]fileStats, len(run.files))
	next := 0
	var firstErr error
	for received := 0; received < len(shards) && firstErr == nil; {
		select {
		case res := <-done:
			received++
			if res.err != nil {
				firstErr = res.err
				break
			}
			finished[res.i] = true
			for next < len(shards) && finished[next] {
				if err := appendParts(finals, shards[next].out, stats); err != nil {
					firstErr = err
					break
				}
				next++
			}
		case <-tick:
			progress(min(hired.Load(), totalHires), totalHires)
		case <-ctx.Done():
			firstErr = ctx.Err()
		}
	}
	if firstErr != nil {
		cancel()
		wg.Wait()
		for _, s := range shards {
			if s.out != nil {
				s.out.remove()
			}
		}
		return Summary{}, fmt.Errorf("synth: %w", firstErr)
	}
	for _, f := range finals {
		if err := f.Sync(); err != nil {
			return Summary{}, fmt.Errorf("synth: %w", err)
		}
	}
	sum := summarise(run, shards, stats)
	if err := writeManifest(filepath.Join(outDir, ManifestName), cfg, sum); err != nil {
		return Summary{}, err
	}
	if progress != nil {
		progress(totalHires, totalHires)
	}
	ok = true
	return sum, nil
}

type shardResult struct {
	i   int
	err error
}

// planShards splits every province into shards of at most about 6% of the
// region's hires, so that the work spreads over the CPUs.
func planShards(m *model, run *runState, seed uint64) []*shard {
	ag := newAgencies(seed)
	var out []*shard
	for _, p := range m.provs {
		nsub := max(1, int(math.Round(p.calib.share/6)))
		for sub := 0; sub < nsub; sub++ {
			s := &shard{m: m, run: run, idx: len(out), prov: p, sub: sub, nsub: nsub, agencies: ag}
			s.seed = hashKey(seed, 0x5eed, uint64(p.idx), uint64(sub))
			s.provSalt = hashKey(seed, 5, uint64(p.idx))
			s.r = newRNG(s.seed, hashKey(s.seed, 1))
			perYear := s.hiresPerYear()
			dom := p.sectorW[secHousehold]
			s.cohortN[segGeneral] = max(4, int(1.6*perYear*(1-dom)*0.5/45))
			s.cohortN[segDomestic] = max(4, int(1.6*perYear*dom*0.5/45))
			out = append(out, s)
		}
	}
	return out
}

// createFinals creates the output files with their header rows.
func createFinals(dir string, run *runState) ([]*os.File, error) {
	var header []byte
	if run.cfg.Format == FormatOpenData {
		header = append([]byte("\xef\xbb\xbf"), joinStrings(OpenDataHeader[:])...)
		header = append(header, "\r\n"...)
	} else {
		header = append(joinStrings(CanonicalHeader[:]), '\n')
	}
	var out []*os.File
	for _, name := range run.files {
		f, err := os.Create(filepath.Join(dir, name))
		if err == nil {
			_, err = f.Write(header)
		}
		if err != nil {
			for _, g := range out {
				g.Close()
			}
			return nil, fmt.Errorf("synth: %w", err)
		}
		out = append(out, f)
	}
	return out, nil
}

func joinStrings(s []string) []byte {
	var b []byte
	for i, x := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, x...)
	}
	return b
}

// appendParts appends a finished shard's parts to the output files and
// removes them.
func appendParts(finals []*os.File, o *shardOut, stats []fileStats) error {
	for i, p := range o.parts {
		if p == nil {
			continue
		}
		f, err := os.Open(p.path)
		if err != nil {
			return err
		}
		_, err = io.Copy(finals[i], f)
		f.Close()
		if err != nil {
			return err
		}
		os.Remove(p.path)
		stats[i].add(&p.st)
	}
	return nil
}

// summarise adds up the shards' counts.
func summarise(run *runState, shards []*shard, stats []fileStats) Summary {
	sum := Summary{
		Events:        map[oml.EventType]int64{},
		Effective:     map[oml.EventType]int64{},
		DirtyByReason: map[oml.Reason]int64{},
	}
	var all fileStats
	for i, name := range run.files {
		st := &stats[i]
		fs := FileSummary{Path: name, Rows: st.rows, Dirty: st.dirty, Duplicates: st.dups, DirtyByReason: statsReasons(st)}
		sum.Files = append(sum.Files, fs)
		all.add(st)
	}
	sum.Rows, sum.Dirty, sum.Duplicates = all.rows, all.dirty, all.dups
	sum.DirtyByReason = statsReasons(&all)
	for _, s := range shards {
		for i, t := range typeOrder {
			if n := s.acc.events[i]; n > 0 {
				sum.Events[oml.EventType(t)] += n
			}
			if i < 4 {
				sum.Effective[oml.EventType(t)] += s.acc.effective[i]
			}
		}
		sum.Relationships += s.acc.relationships
		sum.PreWindow += s.acc.preWindow
		sum.ImputedEnds += s.acc.imputable
	}
	return sum
}

func statsReasons(st *fileStats) map[oml.Reason]int64 {
	m := map[oml.Reason]int64{}
	for i, n := range st.byReason {
		if n > 0 {
			m[allReasons[i]] = n
		}
	}
	return m
}

// summaryJSON is the JSON form of a Summary: event types and reasons as
// string keys, which encoding/json writes in sorted order.
type summaryJSON struct {
	Files         []fileJSON       `json:"files"`
	Rows          int64            `json:"rows"`
	Dirty         int64            `json:"dirty"`
	Duplicates    int64            `json:"duplicates"`
	DirtyByReason map[string]int64 `json:"dirty_by_reason"`
	Events        map[string]int64 `json:"events"`
	Effective     map[string]int64 `json:"effective"`
	Relationships int64            `json:"relationships"`
	PreWindow     int64            `json:"pre_window_relationships"`
	ImputedEnds   int64            `json:"imputed_ends"`
}

type fileJSON struct {
	Path          string           `json:"path"`
	Rows          int64            `json:"rows"`
	Dirty         int64            `json:"dirty"`
	DirtyByReason map[string]int64 `json:"dirty_by_reason"`
	Duplicates    int64            `json:"duplicates"`
}

// manifest is the content of ManifestName: the Summary and the Config that
// made it.
type manifest struct {
	Generator string         `json:"generator"`
	Config    manifestConfig `json:"config"`
	summaryJSON
}

type manifestConfig struct {
	Seed   uint64  `json:"seed"`
	From   string  `json:"from"`
	To     string  `json:"to"`
	Scale  float64 `json:"scale"`
	Format string  `json:"format"`
	Dirty  float64 `json:"dirty"`
}

// generatorVersion changes whenever the same Config would give different
// files.
const generatorVersion = "oml-synth/1"

// MarshalJSON writes s as in the manifest: event types ("A") and reasons
// as keys, in sorted order.
func (s Summary) MarshalJSON() ([]byte, error) { return json.Marshal(s.toJSON()) }

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var j summaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = j.summary()
	return nil
}

func (s Summary) toJSON() summaryJSON {
	j := summaryJSON{Files: []fileJSON{}, Rows: s.Rows, Dirty: s.Dirty, Duplicates: s.Duplicates,
		DirtyByReason: reasonStrings(s.DirtyByReason), Events: eventStrings(s.Events),
		Effective: eventStrings(s.Effective), Relationships: s.Relationships, PreWindow: s.PreWindow,
		ImputedEnds: s.ImputedEnds}
	for _, f := range s.Files {
		j.Files = append(j.Files, fileJSON{Path: f.Path, Rows: f.Rows, Dirty: f.Dirty,
			DirtyByReason: reasonStrings(f.DirtyByReason), Duplicates: f.Duplicates})
	}
	return j
}

func (j summaryJSON) summary() Summary {
	s := Summary{Rows: j.Rows, Dirty: j.Dirty, Duplicates: j.Duplicates, Relationships: j.Relationships,
		PreWindow: j.PreWindow, ImputedEnds: j.ImputedEnds, DirtyByReason: reasonsOfStrings(j.DirtyByReason),
		Events: eventMap(j.Events), Effective: eventMap(j.Effective)}
	for _, f := range j.Files {
		s.Files = append(s.Files, FileSummary{Path: f.Path, Rows: f.Rows, Dirty: f.Dirty, Duplicates: f.Duplicates,
			DirtyByReason: reasonsOfStrings(f.DirtyByReason)})
	}
	return s
}

func writeManifest(path string, cfg Config, s Summary) error {
	mf := manifest{
		Generator: generatorVersion,
		Config: manifestConfig{Seed: cfg.Seed, From: cfg.From.Format("2006-01"), To: cfg.To.Format("2006-01"),
			Scale: cfg.Scale, Format: cfg.Format, Dirty: cfg.Dirty},
		summaryJSON: s.toJSON(),
	}
	b, err := json.MarshalIndent(mf, "", "  ")
	if err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

func reasonStrings(m map[oml.Reason]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func reasonsOfStrings(m map[string]int64) map[oml.Reason]int64 {
	out := map[oml.Reason]int64{}
	for k, v := range m {
		out[oml.Reason(k)] = v
	}
	return out
}

func eventStrings(m map[oml.EventType]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		out[k.String()] = v
	}
	return out
}

func eventMap(m map[string]int64) map[oml.EventType]int64 {
	out := map[oml.EventType]int64{}
	for k, v := range m {
		if t, ok := oml.ParseEventType(k); ok {
			out[t] = v
		}
	}
	return out
}

// ReadManifest reads the manifest Generate wrote in dir.
func ReadManifest(dir string) (Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return Summary{}, fmt.Errorf("synth: %w", err)
	}
	var mf manifest
	if err := json.Unmarshal(b, &mf); err != nil {
		return Summary{}, fmt.Errorf("synth: %s: %w", ManifestName, err)
	}
	return mf.summary(), nil
}
