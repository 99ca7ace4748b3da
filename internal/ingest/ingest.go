// Package ingest runs an ingest: it decodes CO files in parallel, stages
// the accepted and rejected rows, and commits them to the data bank in one
// transaction. A failure or a kill before the commit leaves the data bank as
// it was.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/bloom"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

// Options configure an ingest.
type Options struct {
	Format cofile.Format
	Event  oml.EventType // open data: event type of every file; zero infers it from each file name
	Lists  *classif.Lists
	Key    *pseudo.Key
	Now    func() time.Time // event dates after Now's day are rejected as future
	// Workers is the number of decoding goroutines; default GOMAXPROCS.
	Workers int
	// Progress, if set, is called about five times a second while files
	// are read, and once at each phase change.
	Progress func(Progress)
	Version  string
	Logger   *slog.Logger // default: discard
}

// Progress reports how far an ingest has gone.
type Progress struct {
	Phase      string // "lettura" (reading files) or "caricamento" (committing)
	File       string
	Bytes      int64 // bytes read so far, all files
	TotalBytes int64
	Rows       int64 // rows decoded so far
}

// batchRows is the number of rows handed to a decoding goroutine at once.
const batchRows = 2048

// Run ingests the files into db. It returns the report of INTERFACE.md; the
// error is an *oml.Error for problems of the input (missing file, wrong
// header), and nothing is stored when it is non-nil.
func Run(ctx context.Context, db *duckdb.DB, paths []string, opt Options) (oml.IngestReport, error) {
	var report oml.IngestReport
	report.RejectedByReason = map[oml.Reason]int64{}
	if len(paths) == 0 {
		return report, oml.Errorf(oml.EINVALID, "nessun file da caricare / no file to ingest").WithHint("oml ingest --format canonical FILE...")
	}
	if node, err := db.UsesExtract(ctx); err != nil || node {
		if err == nil {
			err = oml.Errorf(oml.EINVALID, "questa cartella dati è un nodo della federazione: i suoi dati sono l'estratto dell'hub / this data dir is a federation node").
				WithHint("le Comunicazioni Obbligatorie si caricano sull'hub; il nodo le riceve con oml sync")
		}
		return report, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	started := opt.Now()
	wall := time.Now()
	var total int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return report, oml.Errorf(oml.EINVALID, "file non trovato: %s / file not found: %s", p, p)
		}
		if err != nil {
			return report, oml.Errorf(oml.EINVALID, "file non leggibile: %s / cannot read file: %s", p, p).WithHint("%v", err)
		}
		if fi.IsDir() {
			return report, oml.Errorf(oml.EINVALID, "%s è una cartella, non un file / %s is a directory", p, p).WithHint("indicare i file, ad esempio %s/*.csv", p)
		}
		total += fi.Size()
	}
	if err := db.CheckKey(ctx, opt.Key.ID()); err != nil {
		return report, err
	}

	tmp := filepath.Join(db.Dir(), "tmp")
	removeStale(tmp)
	stageDir, err := os.MkdirTemp(tmp, "ingest-")
	if err != nil {
		return report, fmt.Errorf("create stage dir: %w", err)
	}
	defer os.RemoveAll(stageDir)

	writers := make([]*duckdb.StageWriter, opt.Workers)
	for i := range writers {
		if writers[i], err = duckdb.NewStageWriter(stageDir, i); err != nil {
			return report, fmt.Errorf("create stage file: %w", err)
		}
	}
	closeWriters := func() error {
		var first error
		for _, w := range writers {
			if w != nil {
				if err := w.Close(); err != nil && first == nil {
					first = err
				}
			}
		}
		return first
	}

	nextID, err := db.NextFileID(ctx)
	if err != nil {
		closeWriters()
		return report, fmt.Errorf("read file ids: %w", err)
	}
	// The filter of the ids stored, to which each decoded id is added: an
	// id it has never seen is certainly new. CO rows take about 120 bytes.
	filter, err := db.IDFilter(ctx, total/100)
	if err != nil {
		closeWriters()
		return report, err
	}
	ids := &idFilter{f: filter}
	var bytesDone, rowsDone atomic.Int64
	stopTicker := startTicker(opt.Progress, &bytesDone, &rowsDone, total)

	load := duckdb.Load{KeyID: opt.Key.ID(), StartedAt: started, Version: opt.Version, IDFilter: filter}
	type fileState struct {
		report oml.FileReport
		fileID int // 0 when the file is left out as already ingested
	}
	var states []fileState
	seen := map[string]bool{}
	for _, path := range paths {
		fileID := nextID
		nextID++
		sf, fr, err := decodeFile(ctx, path, fileID, opt, writers, ids, &bytesDone, &rowsDone)
		if err != nil {
			stopTicker()
			closeWriters()
			return report, err
		}
		// A file already stored (same sha256) changes nothing: its staged
		// rows are left out of the commit.
		prev, at, done, err := db.IngestedFile(ctx, sf.SHA256)
		if err != nil {
			stopTicker()
			closeWriters()
			return report, err
		}
		if done || seen[sf.SHA256] {
			msg := "file già caricato in questa esecuzione / file given twice"
			if done {
				msg = fmt.Sprintf("file già caricato il %s come %s: nessuna modifica / already ingested on %s as %s: nothing changed",
					at.Format("2006-01-02 15:04"), prev, at.Format("2006-01-02 15:04"), prev)
			}
			states = append(states, fileState{report: oml.FileReport{Path: path, SHA256: sf.SHA256, AlreadyIngested: true, Warnings: []string{msg}}})
			load.SkipFileIDs = append(load.SkipFileIDs, fileID)
			continue
		}
		seen[sf.SHA256] = true
		load.Files = append(load.Files, *sf)
		states = append(states, fileState{report: fr, fileID: fileID})
	}
	stopTicker()
	if err := closeWriters(); err != nil {
		return report, fmt.Errorf("write stage files: %w", err)
	}
	opt.Logger.Debug("files decoded", "rows", rowsDone.Load(), "bytes", total, "duration", time.Since(wall).Round(time.Millisecond))
	for _, w := range writers {
		e, sp, r := w.Paths()
		load.EventFiles = append(load.EventFiles, e)
		load.SpecialFiles = append(load.SpecialFiles, sp)
		load.RejectFiles = append(load.RejectFiles, r)
	}
	if len(load.Files) > 0 {
		if opt.Progress != nil {
			opt.Progress(Progress{Phase: "caricamento", Bytes: total, TotalBytes: total, Rows: rowsDone.Load()})
		}
		t0 := time.Now()
		results, err := db.Commit(ctx, load)
		if err != nil {
			return report, err
		}
		opt.Logger.Debug("ingest committed", "duration", time.Since(t0).Round(time.Millisecond))
		for i := range states {
			if states[i].fileID == 0 {
				continue
			}
			r := results[states[i].fileID]
			fr := &states[i].report
			fr.Accepted, fr.Rejected, fr.Duplicates = r.Accepted, r.Rejected, r.Duplicates
			fr.RejectedByReason = r.ByReason
		}
	}
	for _, s := range states {
		report.Add(s.report)
	}
	return report, nil
}

// idFilter is the Bloom filter of ids shared by the decoding goroutines.
type idFilter struct {
	mu sync.Mutex
	f  *bloom.Filter
}

// mark adds the ids of the accepted rows of recs to the filter and sets
// special[i] for the rows that must go through the store's checks: R and
// X, and rows whose id the filter may have seen before. Since the test and
// the insert are one step under the lock, of all the rows of an ingest that
// share an id exactly one, the first to get here, is not special.
func (x *idFilter) mark(recs []cofile.Record, hashes []uint64, special []bool) {
	for i := range recs {
		e := &recs[i].Event
		special[i] = e.Type == oml.Rettifica || e.Type == oml.Annullamento
		hashes[i] = bloom.Hash(e.CommID)
	}
	x.mu.Lock()
	for i := range recs {
		if recs[i].Accepted() && recs[i].Event.CommID != "" && x.f.Add(hashes[i]) {
			special[i] = true
		}
	}
	x.mu.Unlock()
}

// decodeFile reads one file with a reader goroutine feeding opt.Workers
// validators, each writing to its own stage writer.
func decodeFile(ctx context.Context, path string, fileID int, opt Options, writers []*duckdb.StageWriter, ids *idFilter, bytesDone, rowsDone *atomic.Int64) (*duckdb.StagedFile, oml.FileReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, oml.FileReport{}, oml.Errorf(oml.EINVALID, "file non leggibile: %s / cannot read file: %s", path, path).WithHint("%v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, oml.FileReport{}, err
	}
	h := sha256.New()
	dopt := cofile.Options{Format: opt.Format, Event: opt.Event, Name: path, Lists: opt.Lists, Key: opt.Key, Today: opt.Now()}
	rd, err := cofile.NewReader(io.TeeReader(f, h), dopt)
	if err != nil {
		return nil, oml.FileReport{}, err
	}
	base := bytesDone.Load()

	batches := make(chan *cofile.Batch, 2*len(writers))
	free := make(chan *cofile.Batch, 4*len(writers))
	for i := 0; i < cap(free); i++ {
		free <- new(cofile.Batch)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var read, rejected, fresh atomic.Int64
	errs := make([]error, len(writers))
	for w := range writers {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			v := cofile.NewValidator(rd.Header(), dopt)
			recs := make([]cofile.Record, batchRows)
			hashes := make([]uint64, batchRows)
			special := make([]bool, batchRows)
			for b := range batches {
				if errs[w] == nil {
					n := b.Len()
					for i := 0; i < n; i++ {
						line, ln := b.Row(i)
						v.Decode(line, ln, &recs[i])
					}
					ids.mark(recs[:n], hashes[:n], special[:n])
					var nrej, nfresh int64
					for i := 0; i < n; i++ {
						rec := &recs[i]
						var err error
						if rec.Accepted() {
							if !special[i] {
								nfresh++
							}
							err = writers[w].WriteEvent(fileID, rec.Line, &rec.Event, special[i])
						} else {
							nrej++
							err = writers[w].WriteReject(fileID, &rec.Reject)
						}
						if err != nil {
							errs[w] = fmt.Errorf("write stage file: %w", err)
							cancel()
							break
						}
					}
					read.Add(int64(n))
					rejected.Add(nrej)
					fresh.Add(nfresh)
					rowsDone.Add(int64(n))
				}
				free <- b
			}
		}(w)
	}
	var readErr error
	for {
		var b *cofile.Batch
		select {
		case b = <-free:
		case <-ctx.Done():
		}
		if b == nil {
			readErr = ctx.Err()
			break
		}
		err := rd.ReadBatch(b, batchRows)
		bytesDone.Store(base + rd.BytesRead())
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = oml.Errorf(oml.EINVALID, "errore di lettura di %s / read error", path).WithHint("%v", err)
			break
		}
		batches <- b
	}
	close(batches)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, oml.FileReport{}, err
		}
	}
	if readErr != nil {
		return nil, oml.FileReport{}, readErr
	}
	// The tee saw only what the reader consumed; hash any unread tail too
	// (there is none after a full read, but the hash must be of the file).
	if _, err := io.Copy(h, f); err != nil {
		return nil, oml.FileReport{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	et := ""
	if opt.Format == cofile.OpenData {
		et = rd.Header().Event.String()
	}
	sf := &duckdb.StagedFile{FileID: fileID, Path: path, SHA256: sum, Format: string(opt.Format), EventType: et,
		Size: fi.Size(), Read: read.Load(), Rejected: rejected.Load(), Fresh: fresh.Load()}
	fr := oml.FileReport{Path: path, SHA256: sum, Read: sf.Read, Warnings: rd.Header().Warnings}
	return sf, fr, nil
}

// startTicker calls progress five times a second until the returned stop
// function is called.
func startTicker(progress func(Progress), bytesDone, rowsDone *atomic.Int64, total int64) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				progress(Progress{Phase: "lettura", Bytes: bytesDone.Load(), TotalBytes: total, Rows: rowsDone.Load()})
				return
			case <-t.C:
				progress(Progress{Phase: "lettura", Bytes: bytesDone.Load(), TotalBytes: total, Rows: rowsDone.Load()})
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// removeStale deletes stage folders left by an ingest that was killed. The
// caller holds the data bank's lock, so no other ingest can be using them.
func removeStale(tmp string) {
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "ingest-") {
			os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
}
