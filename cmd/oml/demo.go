package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/synth"
)

// demoScales are the sizes `oml demo --scale` offers.
var demoScales = map[string]float64{
	"small":     0.02, // about 36 thousand hires a year: the demo runs in well under two minutes
	"lombardia": 1,    // the full region, about 1.8 million hires a year
}

func (m *Main) runDemo(ctx context.Context, args []string) error {
	fs := m.newFlagSet("demo", "demo [--data DIR] [--scale small|lombardia] [--seed N]",
		`Mostra la piattaforma da capo a fondo su dati sintetici realistici: genera le Comunicazioni
Obbligatorie delle 12 province lombarde dal gennaio 2017 all'ultimo mese concluso, le carica
nella banca dati (validazione, pseudonimizzazione, rettifiche e annullamenti), calcola gli
indicatori della metodologia comune, pubblica una release firmata e la serve nel portale (/) e su /api/v1.
Runs the platform end to end on realistic synthetic data: generates and ingests the CO files,
computes the common indicators, publishes a signed release and serves it in the portal (/) and on /api/v1.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	scale := fs.String("scale", "small", "small (pochi secondi / seconds) oppure lombardia (scala reale, circa 35 milioni di righe / full scale)")
	seed := fs.Uint64("seed", 1, "seme del generatore / random seed")
	addr := fs.String("addr", "127.0.0.1:8080", "indirizzo dell'API / listen address of the API")
	serve := fs.Bool("serve", true, "al termine pubblica il portale e l'API (false: esce) / serve the portal and the API at the end")
	if err := parse(fs, args); err != nil {
		return err
	}
	f, ok := demoScales[*scale]
	if !ok {
		return usageError{oml.Errorf(oml.EINVALID, "--scale %q sconosciuta / unknown --scale", *scale).WithHint("usare small oppure lombardia")}
	}
	dir := m.dataDir(*data)
	start := time.Now()
	cfg := synth.Config{Seed: *seed, Scale: f, From: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), To: lastCompleteMonth(m.Now()), Dirty: 0.002}
	input := filepath.Join(dir, "demo-input")
	fmt.Fprintf(m.Stdout, "1/4 Generazione dei dati sintetici (%s, %s - %s) in %s / generating synthetic data\n",
		*scale, cfg.From.Format("2006-01"), cfg.To.Format("2006-01"), input)
	sum, err := m.synth(ctx, cfg, input, true)
	if err != nil {
		return err
	}
	files := make([]string, 0, len(sum.Files))
	for _, f := range sum.Files {
		files = append(files, filepath.Join(input, f.Path))
	}
	fmt.Fprintf(m.Stdout, "    %d righe in %d file / rows in files\n", sum.Rows, len(files))

	fmt.Fprintf(m.Stdout, "2/4 Caricamento nella banca dati %s / ingesting\n", filepath.Join(dir, duckdb.FileName))
	rep, err := m.ingest(ctx, dir, cofile.Canonical, 0, files, true)
	if err != nil {
		return err
	}
	printReport(m.Stdout, rep)

	db, err := duckdb.Open(ctx, dir, duckdb.Options{Logger: m.logger()})
	if err != nil {
		return err
	}
	o, err := db.Overview(ctx)
	db.Close()
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout)
	fmt.Fprintln(m.Stdout, "Eventi correnti per anno, Lombardia (dopo rettifiche e annullamenti) / current events by year:")
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "anno\tattivazioni\tcessazioni comunicate\tproroghe\ttrasformazioni\tsaldo A-C\t")
	for _, y := range o.Years {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%+d\t\n", y.Year, y.A, y.C, y.P, y.T, y.A-y.C)
	}
	tw.Flush()
	fmt.Fprintf(m.Stdout, "\n%d comunicazioni, %d rapporti di lavoro, %d righe scartate, %d reinvii; pronto in %s.\n",
		o.Communications, o.Relationships, o.Rejects, o.Duplicates, time.Since(start).Round(time.Second))
	fmt.Fprintln(m.Stdout, "(Il saldo qui non conta le cessazioni imputate dei contratti a termine: lo fa la metodologia.)")
	fmt.Fprintln(m.Stdout)
	fmt.Fprintln(m.Stdout, "3/4 Indicatori, riservatezza e release firmata / indicators, disclosure control, signed release")
	info, sha, err := m.release(ctx, dir, time.Time{}, true, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "    release %s (dati al / data as of %s, metodologia / methodology %s), manifest sha256 %s\n", info.ID, info.Vintage, info.MethodVersion, sha)
	if _, err := os.Stat(filepath.Join(dir, "pseudo.key")); err == nil {
		fmt.Fprintf(m.Stdout, "\nLa chiave di pseudonimizzazione è in %s: conservarla al sicuro / keep the key safe.\n", filepath.Join(dir, "pseudo.key"))
	}
	fmt.Fprintln(m.Stdout)
	fmt.Fprintln(m.Stdout, "Prossimi passi / next steps:")
	fmt.Fprintf(m.Stdout, "  http://%s/   il portale / the portal\n", *addr)
	fmt.Fprintf(m.Stdout, "  http://%s/rapporti   il Rapporto territoriale (HTML, PDF, XLSX) / the territorial reports\n", *addr)
	fmt.Fprintf(m.Stdout, "  curl 'http://%s/api/v1/data?indicator=saldo&territory=ITC4,016&freq=Y'   l'API / the API\n", *addr)
	fmt.Fprintf(m.Stdout, "  oml ingest --data %s --format canonical FILE...   carica i vostri file CO / ingest your CO files\n", dir)
	fmt.Fprintf(m.Stdout, "  oml release --data %s                              nuova release / new release\n", dir)
	fmt.Fprintf(m.Stdout, "  oml report --data %s --territory all --format pdf  il rapporto regionale / the regional report\n", dir)
	fmt.Fprintln(m.Stdout, "  docs/guida.md, docs/api.md, docs/metodologia.md    guida, API, metodologia / user guide, API, methodology")
	if !*serve {
		return nil
	}
	fmt.Fprintln(m.Stdout)
	fmt.Fprintf(m.Stdout, "4/4 ")
	so := defaultServeOptions()
	so.addr = *addr
	return m.serve(ctx, dir, so)
}
