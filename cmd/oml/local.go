package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/local"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// runLocal is `oml local`: the observatory's own data sets and geographies.
func (m *Main) runLocal(ctx context.Context, args []string) error {
	const synopsis = `local [--data DIR] AZIONE ...
  add --name NOME [--metadata FILE.json] FILE.csv     aggiunge un insieme di dati locali
  geography --name NOME --title T --source F --licence L FILE.csv
                                                      aggiunge una geografia comune -> area e ne calcola gli indicatori
  compute [--name NOME]                               ricalcola gli indicatori comuni sulle geografie
  list [--json]                                       elenca dati e geografie locali
  remove --name NOME                                  elimina dati o geografia`
	fs := m.newFlagSet("local", synopsis,
		`Dati locali dell'osservatorio, pubblicati nella sezione "Dati locali" del suo portale e distinti dalle
statistiche comuni della rete. Un insieme di dati è un CSV con i metadati JSON (title, source, licence,
dimensions, counts: sulle colonne counts si applica la riservatezza). Una geografia è un CSV con le colonne
comune, area, nome_area (es. distretti industriali): sui suoi comuni, che devono stare nel territorio
dell'osservatorio, gli indicatori comuni sono calcolati con la metodologia e la data della release in uso,
come per i CPI, e passano la stessa riservatezza. Un nodo le ricalcola a ogni oml sync che porta nuovi dati.
The observatory's local data sets and custom geographies (comune -> area), with the common indicators
computed on them.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	name := fs.String("name", "", "nome breve: minuscole, cifre, trattini / short name")
	metaPath := fs.String("metadata", "", "metadati del CSV (add; default FILE.json accanto al CSV)")
	title := fs.String("title", "", "titolo (geography)")
	source := fs.String("source", "", "fonte (geography)")
	licence := fs.String("licence", "", "licenza (geography), es. CC-BY 4.0")
	jsonOut := fs.Bool("json", false, "elenco JSON (list)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return errUsage
	}
	dir := m.dataDir(*data)
	need := func(ok bool, what string) error {
		if !ok {
			return usageError{oml.Errorf(oml.EINVALID, "oml local %s: %s", pos[0], what)}
		}
		return nil
	}
	switch pos[0] {
	case "add":
		if err := need(len(pos) == 2 && *name != "", "servono --name e il file CSV / give --name and the CSV file"); err != nil {
			return err
		}
		content, err := readInput(pos[1])
		if err != nil {
			return err
		}
		meta, err := readDatasetMeta(pos[1], *metaPath)
		if err != nil {
			return err
		}
		d, err := local.AddDataset(dir, *name, meta, content, m.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Dati locali %q aggiunti: %d righe / local data set added: %d rows.\n", d.Meta.Title, d.Rows, d.Rows)
		return nil
	case "geography":
		if err := need(len(pos) == 2 && *name != "" && *title != "" && *source != "" && *licence != "",
			"servono --name, --title, --source, --licence e il file CSV / give --name, --title, --source, --licence and the CSV"); err != nil {
			return err
		}
		content, err := readInput(pos[1])
		if err != nil {
			return err
		}
		lists, err := classif.Load()
		if err != nil {
			return err
		}
		g, err := local.AddGeography(dir, *name, local.GeographyMeta{Title: *title, Source: *source, Licence: *licence}, content, lists, localTerritory(dir), m.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Geografia %q aggiunta: %d aree / geography added: %d areas.\n", g.Meta.Title, len(g.Areas), len(g.Areas))
		return m.computeLocal(ctx, dir, lists, []string{g.Slug}, true, m.Stdout)
	case "compute":
		lists, err := classif.Load()
		if err != nil {
			return err
		}
		var slugs []string
		if *name != "" {
			slugs = []string{*name}
		}
		return m.computeLocal(ctx, dir, lists, slugs, false, m.Stdout)
	case "list":
		ds, err := local.Datasets(dir)
		if err != nil {
			return err
		}
		gs, err := local.Geographies(dir)
		if err != nil {
			return err
		}
		if *jsonOut {
			return json.NewEncoder(m.Stdout).Encode(map[string]any{"datasets": ds, "geographies": gs})
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIPO\tNOME\tTITOLO\tCONTENUTO\tCALCOLATA SU")
		for _, d := range ds {
			fmt.Fprintf(tw, "dati\t%s\t%s\t%d righe\t-\n", d.Slug, d.Meta.Title, d.Rows)
		}
		for _, g := range gs {
			on := "da calcolare (oml local compute)"
			if g.Computed != nil {
				on = "release " + g.Computed.Release
			}
			fmt.Fprintf(tw, "geografia\t%s\t%s\t%d aree\t%s\n", g.Slug, g.Meta.Title, len(g.Areas), on)
		}
		return tw.Flush()
	case "remove":
		if err := need(*name != "", "serve --name / give --name"); err != nil {
			return err
		}
		if err := local.Remove(dir, *name); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "%s eliminato / removed.\n", *name)
		return nil
	}
	fs.Usage()
	return usageError{oml.Errorf(oml.EINVALID, "azione %q sconosciuta / unknown action", pos[0]).WithHint("add, geography, compute, list, remove")}
}

// readInput reads a file named on the command line.
func readInput(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, oml.Errorf(oml.ENOTFOUND, "file %s non leggibile / cannot read %s", path, path).WithHint("%v", err)
	}
	return b, nil
}

// readDatasetMeta reads the metadata of a CSV: path, else the CSV's name
// with .json.
func readDatasetMeta(csvPath, path string) (local.DatasetMeta, error) {
	var meta local.DatasetMeta
	if path == "" {
		path = strings.TrimSuffix(csvPath, filepath.Ext(csvPath)) + ".json"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return meta, usageError{oml.Errorf(oml.EINVALID, "metadati %s mancanti / metadata missing", path).
			WithHint("un CSV va con i metadati JSON: title, source, licence, dimensions, counts")}
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, oml.Errorf(oml.EINVALID, "metadati %s illeggibili / unreadable metadata: %v", path, err)
	}
	return meta, nil
}

// localTerritory is the territory of the observatory of dir: a node's
// province, else the region.
func localTerritory(dir string) string {
	if n, err := federation.OpenNode(dir, nil, time.Now); err == nil {
		return n.Config().Territory
	}
	return oml.RegionCode
}

// computeLocal computes the common indicators on the geographies slugs
// (all when empty). With soft set, a data dir with no release yet is not
// an error: the geography waits for one.
func (m *Main) computeLocal(ctx context.Context, dir string, lists *classif.Lists, slugs []string, soft bool, out io.Writer) error {
	if len(slugs) == 0 {
		gs, err := local.Geographies(dir)
		if err != nil {
			return err
		}
		for _, g := range gs {
			slugs = append(slugs, g.Slug)
		}
		if len(slugs) == 0 {
			fmt.Fprintln(out, "Nessuna geografia locale / no local geography (oml local geography la aggiunge).")
			return nil
		}
	}
	relDir, id, err := localBasisRelease(dir)
	if err != nil {
		if soft && oml.ErrorCode(err) == oml.ENOTFOUND {
			fmt.Fprintf(out, "Indicatori da calcolare quando ci sarà una release / to compute once a release exists: %s\n", oml.ErrorMessage(err))
			return nil
		}
		return err
	}
	catJSON, err := os.ReadFile(filepath.Join(relDir, release.CatalogueFile))
	if err != nil {
		return err
	}
	cat, err := method.Parse(catJSON)
	if err != nil {
		return err
	}
	var man release.Manifest
	if b, err := os.ReadFile(filepath.Join(relDir, release.ManifestFile)); err != nil || json.Unmarshal(b, &man) != nil {
		return oml.Errorf(oml.EINTEGRITY, "manifesto della release %s illeggibile / unreadable manifest", id)
	}
	vintage, err := time.Parse(time.DateOnly, man.Release.Vintage)
	if err != nil {
		return err
	}
	db, err := duckdb.Open(ctx, dir, duckdb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	basis := local.Basis{Store: db, Lists: lists, Catalogue: cat, Vintage: vintage, Release: id}
	for _, slug := range slugs {
		start := time.Now()
		g, err := local.Compute(ctx, dir, slug, basis, m.Now(), nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Geografia %s: %d valori calcolati (release %s, dati al %s, %d riservati) in %.1f s / values computed.\n",
			slug, g.Computed.Cells, id, g.Computed.Vintage, g.Computed.Withheld, time.Since(start).Seconds())
	}
	return nil
}

// localBasisRelease returns the folder and id of the release whose
// methodology and vintage local computations use: on a node, the synced
// release of the same data as its extract; elsewhere the latest release.
func localBasisRelease(dir string) (string, string, error) {
	if _, err := os.Stat(filepath.Join(dir, federation.NodeFile)); err == nil {
		n, err := federation.OpenNode(dir, nil, time.Now)
		if err != nil {
			return "", "", err
		}
		man, relDir, err := n.Release()
		if err != nil {
			return "", "", err
		}
		return relDir, man.Release.ID, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	infos, err := release.List(dir)
	if err != nil {
		return "", "", err
	}
	if len(infos) == 0 {
		return "", "", oml.Errorf(oml.ENOTFOUND, "nessuna release in %s / no release", dir).WithHint("pubblicarne una con oml release")
	}
	return filepath.Join(dir, release.ReleasesDir, infos[0].ID), infos[0].ID, nil
}
