package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/synth"
)

func (m *Main) runSynth(ctx context.Context, args []string) error {
	fs := m.newFlagSet("synth", "synth --out DIR [--seed N] [--from 2017-01] [--to AAAA-MM] [--scale F] [--format canonical|lombardia-opendata] [--dirty F] [--json]",
		`Genera file CO sintetici realistici: rapporti di lavoro simulati (attivazioni, proroghe,
trasformazioni, cessazioni, rettifiche, annullamenti) per le 12 province lombarde, calibrati
sui flussi pubblicati (docs/sintetico.md). Stesso seme, stessi file, byte per byte.
Generates realistic synthetic CO files; the same seed gives byte-identical files.`)
	out := fs.String("out", "", "cartella di output (obbligatoria) / output directory (required)")
	seed := fs.Uint64("seed", 1, "seme del generatore / random seed")
	from := fs.String("from", "2017-01", "primo mese AAAA-MM / first month")
	to := fs.String("to", "", "ultimo mese AAAA-MM (default: ultimo mese concluso) / last month (default: last complete month)")
	scale := fs.Float64("scale", 1, "volume: 1 = circa 1,8 milioni di attivazioni l'anno in Lombardia / 1 = about 1.8 million hires a year")
	format := fs.String("format", "canonical", "formato / format: canonical | lombardia-opendata")
	dirty := fs.Float64("dirty", 0, "quota di righe con un difetto, 0-0.5 / share of defective rows")
	asJSON := fs.Bool("json", false, "stampa il riepilogo in JSON / print the summary as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(m.Stderr, "oml synth: manca --out / --out is required")
		fs.Usage()
		return errUsage
	}
	f, err := cofile.ParseFormat(*format)
	if err != nil {
		return usageError{err.(*oml.Error)}
	}
	cfg := synth.Config{Seed: *seed, Scale: *scale, Format: string(f), Dirty: *dirty}
	if cfg.From, err = parseMonth(*from, "--from"); err != nil {
		return err
	}
	if *to != "" {
		if cfg.To, err = parseMonth(*to, "--to"); err != nil {
			return err
		}
	} else {
		cfg.To = lastCompleteMonth(m.Now())
	}
	sum, err := m.synth(ctx, cfg, *out, !*asJSON)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(m.Stdout, "%d righe in %d file scritte in %s (%d con difetti, %d reinvii) / rows written\n", sum.Rows, len(sum.Files), *out, sum.Dirty, sum.Duplicates)
	fmt.Fprintf(m.Stdout, "eventi / events: A %d, C %d, P %d, T %d, R %d, X %d; rapporti / relationships %d\n",
		sum.Events[oml.Attivazione], sum.Events[oml.Cessazione], sum.Events[oml.Proroga], sum.Events[oml.Trasformazione],
		sum.Events[oml.Rettifica], sum.Events[oml.Annullamento], sum.Relationships)
	return nil
}

// synth runs the generator with a progress bar on a terminal.
func (m *Main) synth(ctx context.Context, cfg synth.Config, out string, progress bool) (synth.Summary, error) {
	lists, err := classif.Load()
	if err != nil {
		return synth.Summary{}, fmt.Errorf("load code lists: %w", err)
	}
	var cb func(done, total int64)
	if progress && m.StderrIsTerminal {
		var bar *progressbar.ProgressBar
		cb = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(m.Stderr),
					progressbar.OptionSetDescription("generazione / generating"), progressbar.OptionSetPredictTime(true),
					progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionSetWidth(30))
			}
			bar.Set64(done)
			if done >= total {
				bar.Finish()
				fmt.Fprintln(m.Stderr)
			}
		}
	}
	sum, err := synth.Generate(ctx, cfg, lists, out, cb)
	if err != nil {
		return sum, err
	}
	return sum, nil
}

// parseMonth parses YYYY-MM.
func parseMonth(s, flagName string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, usageError{oml.Errorf(oml.EINVALID, "%s %q non è un mese AAAA-MM / is not a month YYYY-MM", flagName, s)}
	}
	return t, nil
}

// lastCompleteMonth returns the first day of the month before now's.
func lastCompleteMonth(now time.Time) time.Time {
	y, mo, _ := now.Date()
	return time.Date(y, mo-1, 1, 0, 0, 0, 0, time.UTC)
}
