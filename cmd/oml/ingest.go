package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/ingest"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

func (m *Main) runIngest(ctx context.Context, args []string) error {
	fs := m.newFlagSet("ingest", "ingest [--data DIR] --format canonical|lombardia-opendata [--event A|C|P|T] [--json] FILE...",
		`Carica file delle Comunicazioni Obbligatorie nella banca dati: ogni riga è validata,
i codici fiscali sono pseudonimizzati, le righe scartate sono conservate con il motivo.
Un file già caricato (stesso sha256) non cambia nulla. Il caricamento è atomico.
Ingests CO files: every row validated, fiscal codes pseudonymised, rejected rows kept
with their reason; a file already ingested changes nothing; the ingest is atomic.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	format := fs.String("format", "", "formato dei file / file format: canonical | lombardia-opendata")
	event := fs.String("event", "", "open data: tipo di evento A|C|P|T (altrimenti dal nome del file) / event type")
	asJSON := fs.Bool("json", false, "stampa il riepilogo in JSON su stdout / print the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *format == "" {
		fmt.Fprintln(m.Stderr, "oml ingest: manca --format / --format is required")
		fs.Usage()
		return errUsage
	}
	f, err := cofile.ParseFormat(*format)
	if err != nil {
		return usageError{err.(*oml.Error)}
	}
	var et oml.EventType
	if *event != "" {
		t, ok := oml.ParseEventType(*event)
		if !ok || !t.IsFlow() {
			return usageError{oml.Errorf(oml.EINVALID, "--event %q non valido / invalid --event", *event).WithHint("usare A, C, P o T")}
		}
		if f != cofile.OpenData {
			return usageError{oml.Errorf(oml.EINVALID, "--event vale solo per --format lombardia-opendata / --event only applies to open data")}
		}
		et = t
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(m.Stderr, "oml ingest: nessun file indicato / no file given")
		fs.Usage()
		return errUsage
	}
	report, err := m.ingest(ctx, m.dataDir(*data), f, et, fs.Args(), !*asJSON)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	printReport(m.Stdout, report)
	return nil
}

// ingest opens the data bank in dir and ingests files, with a progress bar
// on a terminal.
func (m *Main) ingest(ctx context.Context, dir string, f cofile.Format, et oml.EventType, files []string, progress bool) (oml.IngestReport, error) {
	lists, err := classif.Load()
	if err != nil {
		return oml.IngestReport{}, fmt.Errorf("load code lists: %w", err)
	}
	key, err := pseudo.LoadKey(dir, m.Getenv)
	if err != nil {
		return oml.IngestReport{}, err
	}
	db, err := duckdb.Open(ctx, dir, duckdb.Options{MemoryLimit: m.Getenv("OML_DUCKDB_MEMORY"), Logger: m.logger()})
	if err != nil {
		return oml.IngestReport{}, err
	}
	defer db.Close()
	opt := ingest.Options{Format: f, Event: et, Lists: lists, Key: key, Now: m.Now, Version: oml.Version, Logger: m.logger()}
	if progress && m.StderrIsTerminal {
		opt.Progress = m.progressBar()
	}
	return ingest.Run(ctx, db, files, opt)
}

// progressBar returns a Progress callback drawing a bar with rate and ETA on
// stderr while files are read, then a line for the commit phase.
func (m *Main) progressBar() func(ingest.Progress) {
	var bar *progressbar.ProgressBar
	var committing bool
	var start time.Time
	return func(p ingest.Progress) {
		if bar == nil {
			start = time.Now()
			bar = progressbar.NewOptions64(p.TotalBytes,
				progressbar.OptionSetWriter(m.Stderr),
				progressbar.OptionSetDescription("lettura / reading"),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionSetWidth(30),
			)
		}
		switch {
		case p.Phase == "caricamento" && !committing:
			committing = true
			bar.Set64(p.TotalBytes)
			bar.Finish()
			rate := float64(p.Rows) / time.Since(start).Seconds()
			fmt.Fprintf(m.Stderr, "\n%d righe lette (%.0f righe/s); scrittura nella banca dati... / %d rows read; committing...\n", p.Rows, rate, p.Rows)
		case !committing:
			bar.Set64(p.Bytes)
		}
	}
}

// printReport prints the human summary of an ingest.
func printReport(w io.Writer, r oml.IngestReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "file\tlette/read\taccettate/accepted\tscartate/rejected\tduplicate/duplicates\t")
	for _, f := range r.Files {
		name := f.Path
		if f.AlreadyIngested {
			name += " (già caricato / already ingested)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", name, f.Read, f.Accepted, f.Rejected, f.Duplicates)
	}
	fmt.Fprintf(tw, "TOTALE / TOTAL\t%d\t%d\t%d\t%d\t\n", r.Read, r.Accepted, r.Rejected, r.Duplicates)
	tw.Flush()
	for _, f := range r.Files {
		for _, warn := range f.Warnings {
			fmt.Fprintf(w, "avviso / warning: %s: %s\n", f.Path, warn)
		}
	}
	if len(r.RejectedByReason) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Righe scartate per motivo / rejected rows by reason:")
		reasons := make([]oml.Reason, 0, len(r.RejectedByReason))
		for k := range r.RejectedByReason {
			reasons = append(reasons, k)
		}
		sort.Slice(reasons, func(i, j int) bool {
			a, b := r.RejectedByReason[reasons[i]], r.RejectedByReason[reasons[j]]
			if a != b {
				return a > b
			}
			return reasons[i] < reasons[j]
		})
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, k := range reasons {
			fmt.Fprintf(tw, "  %d\t%s\t%s\n", r.RejectedByReason[k], k, k.Text())
		}
		tw.Flush()
		fmt.Fprintln(w, "Dettaglio riga per riga nella tabella rejects della banca dati / details in the rejects table.")
	}
	if r.Read > 0 && r.Read != r.Accepted+r.Rejected+r.Duplicates {
		fmt.Fprintln(w, strings.Repeat("!", 3), "i conteggi non quadrano / counts do not reconcile")
	}
}
