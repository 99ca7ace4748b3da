package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

const releaseSynopsis = `release [--data DIR] [--vintage AAAA-MM-GG] [--embargo-until "AAAA-MM-GG HH:MM" [--agenda N | --title TESTO]] [--json]
       oml release list [--data DIR] [--json]
       oml release verify [--data DIR] ID
       oml release diff [--data DIR] A B`

func (m *Main) runRelease(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return m.runReleaseList(args[1:])
		case "verify":
			return m.runReleaseVerify(args[1:])
		case "diff":
			return m.runReleaseDiff(args[1:])
		}
	}
	fs := m.newFlagSet("release", releaseSynopsis,
		`Calcola gli indicatori della metodologia comune dalla banca dati, applica il controllo della
riservatezza e pubblica una release: un'istantanea immutabile in Parquet con manifest.json firmato
(ed25519, chiave in DIR/keys). Stessi dati e stessa metodologia, stessi file byte per byte.
  list    elenca le release / lists the releases
  verify  ricontrolla sha256 e firma di una release / verifies a release
  diff    mostra le revisioni tra due release / shows the revisions between two releases
Computes the common indicators, applies disclosure control and publishes an immutable Parquet
release whose manifest.json is signed (ed25519, key in DIR/keys); the same data and methodology
give byte-identical files.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	vintage := fs.String("vintage", "", "data di riferimento AAAA-MM-GG (default: data dell'ultimo evento) / data vintage")
	asJSON := fs.Bool("json", false, `stampa {"release","manifest_sha256"} in JSON / print the result as JSON`)
	embargo := fs.String("embargo-until", "", `pubblica sotto embargo fino a "AAAA-MM-GG HH:MM" (ora italiana): la release entra nell'agenda prima di diventare visibile / publish under embargo until`)
	agendaID := fs.Int64("agenda", 0, "con --embargo-until: la voce dell'agenda (oml agenda list) a cui legare la release / agenda entry to attach the release to")
	title := fs.String("title", "", "con --embargo-until: titolo della nuova voce dell'agenda (predefinito: Rilascio ID) / title of the new agenda entry")
	if err := parse(fs, args); err != nil {
		return err
	}
	var before func(string) error
	if *embargo != "" {
		until, err := parseWhen("--embargo-until", *embargo)
		if err != nil {
			return err
		}
		if !until.After(m.Now()) {
			return usageError{oml.Errorf(oml.EINVALID, "--embargo-until %s è già passata / is in the past", *embargo)}
		}
		before = m.embargoRelease(ctx, m.dataDir(*data), until, *agendaID, *title)
	} else if *agendaID != 0 || *title != "" {
		return usageError{oml.Errorf(oml.EINVALID, "--agenda e --title vanno con --embargo-until / --agenda and --title need --embargo-until").
			WithHint("per legare una release già pubblicata all'agenda: oml agenda set")}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	var vint time.Time
	if *vintage != "" {
		t, err := time.Parse(time.DateOnly, *vintage)
		if err != nil {
			return usageError{oml.Errorf(oml.EINVALID, "--vintage %q non valida / invalid --vintage", *vintage).WithHint("formato AAAA-MM-GG, per esempio 2024-12-31")}
		}
		vint = t
	}
	dir := m.dataDir(*data)
	info, sha, err := m.release(ctx, dir, vint, !*asJSON, before)
	if err != nil {
		return err
	}
	if err := m.auditPublish(ctx, dir, info, sha); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(map[string]string{"release": info.ID, "manifest_sha256": sha})
	}
	fmt.Fprintf(m.Stdout, "Release %s pubblicata: dati al %s, metodologia %s, mesi %s - %s.\n", info.ID, info.Vintage, info.MethodVersion, info.First, info.Last)
	fmt.Fprintf(m.Stdout, "Release %s published; manifest sha256 %s\n", info.ID, sha)
	return nil
}

// embargoRelease returns the hook that puts a release under embargo until
// the given time before it becomes visible: on the agenda entry id, or on
// a new entry titled title (or "Rilascio ID") dated the embargo's day.
func (m *Main) embargoRelease(ctx context.Context, dir string, until time.Time, id int64, title string) func(string) error {
	return func(release string) error {
		s, err := m.openMeta(ctx, dir, true)
		if err != nil {
			return err
		}
		defer s.Close()
		ctx := m.actorContext(ctx)
		if id != 0 {
			p, err := s.Planned(ctx, id)
			if err != nil {
				return err
			}
			p.Release, p.EmbargoUntil = release, until
			_, err = s.UpdatePlanned(ctx, p)
			return err
		}
		if title == "" {
			title = "Rilascio " + release
		}
		_, err = s.AddPlanned(ctx, metastore.Planned{Release: release, Title: title, Date: until, EmbargoUntil: until})
		return err
	}
}

// auditPublish appends release_publish for info to the audit log of dir.
func (m *Main) auditPublish(ctx context.Context, dir string, info release.Info, sha string) error {
	s, err := m.openMeta(ctx, dir, true)
	if err == nil {
		_, err = s.Append(m.actorContext(ctx), metastore.Entry{Action: metastore.ActionReleasePublish, Object: info.ID,
			Detail: fmt.Sprintf("dati al / vintage %s, metodologia / methodology %s, manifest sha256 %s", info.Vintage, info.MethodVersion, sha)})
		s.Close()
	}
	if err != nil {
		return &oml.Error{Code: oml.ErrorCode(err), Message: fmt.Sprintf("release %s pubblicata, ma la voce del registro di audit non è stata scritta: %s / release published, audit entry not written", info.ID, oml.ErrorMessage(err)),
			Hint: "la release è valida (oml release verify); annotare la pubblicazione a mano", Err: err}
	}
	return nil
}

// release computes, discloses and publishes the cube of the data bank in
// dir at vintage (the last event's date when zero). With progress, each
// step is reported on stderr with its time.
func (m *Main) release(ctx context.Context, dir string, vintage time.Time, progress bool, beforeVisible func(id string) error) (release.Info, string, error) {
	start := time.Now()
	// step reports the step that ends (its name and time) as the next
	// one begins; step("") closes the last.
	step := func(string) {}
	if progress {
		last, name := start, ""
		step = func(s string) {
			now := time.Now()
			if name != "" {
				fmt.Fprintf(m.Stderr, "  %6.1fs  %s\n", now.Sub(last).Seconds(), name)
			}
			last, name = now, s
		}
	}
	lists, err := classif.Load()
	if err != nil {
		return release.Info{}, "", fmt.Errorf("load code lists: %w", err)
	}
	cat, err := method.Load()
	if err != nil {
		return release.Info{}, "", err
	}
	db, err := duckdb.Open(ctx, dir, duckdb.Options{Logger: m.logger(), MemoryLimit: m.memoryLimit()})
	if err != nil {
		return release.Info{}, "", err
	}
	defer db.Close()
	if vintage.IsZero() {
		last, ok, err := db.LastEventDate(ctx)
		if err != nil {
			return release.Info{}, "", err
		}
		if !ok {
			return release.Info{}, "", oml.Errorf(oml.EINVALID, "la banca dati %s non contiene eventi / the data bank holds no events", dir).
				WithHint("caricare prima i file CO con oml ingest, oppure provare oml demo")
		}
		vintage = last
	}
	cube, err := cat.Compute(ctx, db, lists, vintage, step)
	if err != nil {
		return release.Info{}, "", err
	}
	step("impronte dei territori per la federazione / territory digests")
	digests := federation.Digests(cube, lists)
	step("riservatezza / disclosure control")
	cube.Disclose()
	step("scrittura e firma / writing and signing")
	inputs, events, err := db.InputFiles(ctx)
	if err != nil {
		return release.Info{}, "", err
	}
	key, err := release.LoadKey(dir)
	if err != nil {
		return release.Info{}, "", err
	}
	info, sha, err := release.Publish(dir, cube, method.JSON(), release.Meta{PublishedAt: m.Now().UTC(), Inputs: inputs, Events: events, TerritoryDigests: digests, BeforeVisible: beforeVisible}, key)
	if err != nil {
		return release.Info{}, "", err
	}
	step("")
	if progress {
		fmt.Fprintf(m.Stderr, "  %6.1fs  in tutto / in all: %d celle / cells\n", time.Since(start).Seconds(), len(cube.Cells))
	}
	return info, sha, nil
}

// memoryLimit is DuckDB's memory limit for the heavy commands: $OML_MEMORY
// or 8GB.
func (m *Main) memoryLimit() string {
	if v := m.Getenv("OML_MEMORY"); v != "" {
		return v
	}
	return "8GB"
}

func (m *Main) runReleaseList(args []string) error {
	fs := m.newFlagSet("release list", "release list [--data DIR] [--json]", "Elenca le release pubblicate, dalla più recente. / Lists the releases, newest first.")
	data := fs.String("data", "", "cartella dati / data directory")
	asJSON := fs.Bool("json", false, "stampa in JSON / print as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	infos, err := release.List(m.dataDir(*data))
	if err != nil {
		return err
	}
	if *asJSON {
		if infos == nil {
			infos = []release.Info{}
		}
		return json.NewEncoder(m.Stdout).Encode(infos)
	}
	if len(infos) == 0 {
		fmt.Fprintln(m.Stdout, "Nessuna release / no release: oml release la pubblica.")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "release\tvintage\tmetodologia\tmesi\tpubblicata")
	for _, i := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s - %s\t%s\n", i.ID, i.Vintage, i.MethodVersion, i.First, i.Last, i.PublishedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

func (m *Main) runReleaseVerify(args []string) error {
	fs := m.newFlagSet("release verify", "release verify [--data DIR] ID",
		"Ricalcola lo sha256 di ogni file della release e verifica la firma del manifest. / Verifies a release.")
	data := fs.String("data", "", "cartella dati / data directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if err := release.Verify(m.dataDir(*data), fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Release %s integra: sha256 e firma verificati / verified.\n", fs.Arg(0))
	return nil
}

func (m *Main) runReleaseDiff(args []string) error {
	fs := m.newFlagSet("release diff", "release diff [--data DIR] A B",
		"Mostra le revisioni tra due release: le cifre pubblicate che cambiano da A a B. / Shows the revisions from A to B.")
	data := fs.String("data", "", "cartella dati / data directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errUsage
	}
	dir := m.dataDir(*data)
	a, err := release.Open(dir, fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := release.Open(dir, fs.Arg(1))
	if err != nil {
		return err
	}
	revs, err := release.Diff(a, b)
	if err != nil {
		return err
	}
	return release.WriteDiff(m.Stdout, revs, a.Info(), b.Info())
}
