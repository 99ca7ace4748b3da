package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/report"
)

const reportSynopsis = `report [--data DIR] [--territory CODICE|all] [--release ID] [--format html|pdf|xlsx] [--out FILE]
       oml report --split [--data DIR] [--territory CODICE,...|all] [--release ID] [--format html|pdf|xlsx] [--out CARTELLA]
       oml report intro [--data DIR] --territory CODICE FILE`

func (m *Main) runReport(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "intro" {
		return m.runReportIntro(args[1:])
	}
	fs := m.newFlagSet("report", reportSynopsis,
		`Produce il "Rapporto territoriale" da una release: per la regione e per ogni provincia (all: il
rapporto regionale, la regione e poi le 12 province con l'indice) sintesi degli ultimi 12 mesi,
serie mensili grezze e destagionalizzate, saldi annuali dal 2017, disaggregazioni, confronto con la
regione, centri per l'impiego, nota metodologica e un commento automatico in italiano. Ogni cifra è
quella dell'API per la stessa release. HTML autosufficiente, PDF (stampa dell'HTML in Chromium) o XLSX.
Con --split scrive un file per territorio (rapporto-CODICE-RELEASE.FORMATO) nella cartella --out.
  intro  salva una nuova versione dell'introduzione dell'osservatorio a un capitolo
Produces the territorial report of a release (region, a province, or all) as HTML, PDF or XLSX;
"intro" stores a new version of an observatory's introduction to its chapter.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	terr := fs.String("territory", "all", "ITC4 (regione), codice di provincia (016) o all / territory code or all")
	relID := fs.String("release", "", "release (default: l'ultima) / release id (default: the latest)")
	format := fs.String("format", "html", "html, pdf o xlsx")
	out := fs.String("out", "", "file di uscita (default rapporto-TERRITORIO-RELEASE.FORMATO; - per lo standard output); con --split la cartella (default .) / output file, or directory with --split")
	split := fs.Bool("split", false, "un file per territorio nella cartella --out / one file per territory in the --out directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if !slices.Contains(report.Formats, *format) {
		return usageError{oml.Errorf(oml.EINVALID, "--format %q non valido / invalid --format", *format).WithHint("html, pdf o xlsx")}
	}
	dir := m.dataDir(*data)
	id := *relID
	if id == "" {
		infos, err := release.List(dir)
		if err != nil {
			return err
		}
		if len(infos) == 0 {
			return oml.Errorf(oml.EINVALID, "nessuna release in %s / no release", dir).WithHint("pubblicarne una con oml release --data %s", dir)
		}
		id = infos[0].ID
	}
	start := time.Now()
	rel, err := release.Open(dir, id)
	if err != nil {
		return err
	}
	lists, err := classif.Load()
	if err != nil {
		return err
	}
	intros, err := report.Intros(dir)
	if err != nil {
		return err
	}
	names := method.NewNames(lists)
	codes := strings.Split(*terr, ",")
	rep, err := report.New(rel, names, codes, intros)
	if err != nil {
		return err
	}
	if *split {
		return m.writeSplit(ctx, rep, *format, *out, id, start)
	}
	var buf bytes.Buffer
	if err := rep.Write(ctx, *format, &buf, nil); err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = fmt.Sprintf("rapporto-%s-%s.%s", strings.ReplaceAll(*terr, ",", "_"), id, *format)
	}
	var w io.Writer = m.Stdout
	if path != "-" {
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "rapporto / report %s: %d capitoli / chapters, release %s, %s, %.1f s\n",
			path, len(rep.Chapters), id, byteSize(buf.Len()), time.Since(start).Seconds())
		return nil
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// writeSplit writes one file per chapter of rep into dir, printing each
// as it is written; the PDFs share one Chromium.
func (m *Main) writeSplit(ctx context.Context, rep *report.Report, format, dir, id string, start time.Time) error {
	if dir == "" {
		dir = "."
	}
	if dir == "-" {
		return usageError{oml.Errorf(oml.EINVALID, "--split scrive file in una cartella, non sullo standard output / --split writes files into a directory").WithHint("--out CARTELLA")}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var printer *report.Printer
	if format == "pdf" {
		p, err := report.NewPrinter(ctx)
		if err != nil {
			return err
		}
		defer p.Close()
		printer = p
	}
	parts := rep.Split()
	for i, r := range parts {
		t0 := time.Now()
		var buf bytes.Buffer
		if err := r.Write(ctx, format, &buf, printer); err != nil {
			return err
		}
		path := filepath.Join(dir, fmt.Sprintf("rapporto-%s-%s.%s", r.Chapters[0].Territory.Code, id, format))
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "[%d/%d] %s %s, %.1f s\n", i+1, len(parts), path, byteSize(buf.Len()), time.Since(t0).Seconds())
	}
	fmt.Fprintf(m.Stderr, "rapporti / reports: %d file in %s, release %s, %.1f s\n", len(parts), dir, id, time.Since(start).Seconds())
	return nil
}

func (m *Main) runReportIntro(args []string) error {
	fs := m.newFlagSet("report intro", "report intro [--data DIR] --territory CODICE FILE",
		`Salva una nuova versione dell'introduzione dell'osservatorio al capitolo di un territorio (testo
semplice, paragrafi separati da una riga vuota; - legge lo standard input). Le versioni precedenti
restano in DIR/rapporti/introduzioni/CODICE/. Stores a new version of a chapter's introduction.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	terr := fs.String("territory", "", "ITC4 o codice di provincia / territory code")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *terr == "" {
		fs.Usage()
		return errUsage
	}
	lists, err := classif.Load()
	if err != nil {
		return err
	}
	t, ok := method.NewNames(lists).Territory(*terr)
	if !ok || (t.Level != oml.LevelRegion && t.Level != oml.LevelProvince) {
		return usageError{oml.Errorf(oml.EINVALID, "territorio %q senza capitolo / no chapter for %q", *terr, *terr).WithHint("ITC4 o il codice di una provincia (016)")}
	}
	var text []byte
	if fs.Arg(0) == "-" {
		text, err = io.ReadAll(m.Stdin)
	} else {
		text, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		return err
	}
	n, err := report.SaveIntro(m.dataDir(*data), t.Code, string(text))
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "introduzione di %s salvata, versione %d / introduction saved, version %d\n", t.Name, n, n)
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".oml-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func byteSize(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/1024)
}
