package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/local"
	"github.com/regione-lombardia/oml/internal/method"
)

// runNode is `oml node init`.
func (m *Main) runNode(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "init" {
		return usageError{oml.Errorf(oml.EINVALID, "uso / usage: oml node init --data NODO --hub URL --territory CODICE --token TOKEN")}
	}
	fs := m.newFlagSet("node init", "node init [--data NODO] --hub URL --territory CODICE --token TOKEN",
		`Registra la cartella dati come nodo della federazione: verifica il token presso l'hub, fissa la chiave
pubblica dell'hub (ogni release e ogni estratto dovranno essere firmati con quella) e salva la configurazione
(0600). Registers the data dir as a node of the hub.`)
	data := fs.String("data", "", "cartella dati del nodo / node data directory (default $OML_DATA o ./oml-data)")
	hub := fs.String("hub", "", "indirizzo dell'hub / hub URL (http://host:porta)")
	terr := fs.String("territory", "", "codice ISTAT della provincia del nodo / the node's province")
	token := fs.String("token", "", "token stampato da oml token create sull'hub (- lo legge dallo standard input)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *hub == "" || *terr == "" || *token == "" {
		fs.Usage()
		return errUsage
	}
	if *token == "-" {
		b, err := io.ReadAll(io.LimitReader(m.Stdin, 4096))
		if err != nil {
			return err
		}
		*token = string(b)
	}
	dir := m.dataDir(*data)
	n, hello, err := federation.Init(ctx, dir, *hub, *terr, *token, nil, m.Now)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Nodo %s registrato presso / node registered with %s (token %s, valido fino al %s).\n",
		n.Config().Territory, n.Config().Hub, hello.Token.ID, hello.Token.Expires.Format(time.DateOnly))
	fmt.Fprintf(m.Stdout, "Prossimo passo / next: oml sync --data %s\n", dir)
	return nil
}

// runSync is `oml sync`.
func (m *Main) runSync(ctx context.Context, args []string) error {
	fs := m.newFlagSet("sync", "sync [--data NODO] [--json]",
		`Scarica dall'hub le release che il nodo non ha e l'estratto pseudonimizzato del suo territorio: ogni file
è verificato (sha256, firma dell'hub) prima dell'uso, una release compare intera o non compare, un
trasferimento interrotto riprende dal punto in cui era; i file già presenti in release precedenti non si
riscaricano. Pulls the node's releases and territory extract from the hub.`)
	data := fs.String("data", "", "cartella dati del nodo / node data directory (default $OML_DATA o ./oml-data)")
	jsonOut := fs.Bool("json", false, "riepilogo JSON / JSON summary")
	if err := parse(fs, args); err != nil {
		return err
	}
	n, err := federation.OpenNode(m.dataDir(*data), nil, m.Now)
	if err != nil {
		return err
	}
	if !*jsonOut {
		n.Progress = func(format string, a ...any) { fmt.Fprintf(m.Stderr, format+"\n", a...) }
	}
	start := time.Now()
	rep, err := n.Sync(ctx)
	if err != nil {
		return err
	}
	if *jsonOut {
		if err := json.NewEncoder(m.Stdout).Encode(rep); err != nil {
			return err
		}
		return m.recomputeLocal(ctx, n, rep, m.Stderr)
	}
	fmt.Fprintf(m.Stdout, "Sincronizzato / synced in %.1f s: %d release nuove / new %v, %d già presenti / up to date; %d file scaricati / files fetched, %d riusati / reused, %s.\n",
		time.Since(start).Seconds(), len(rep.Releases), rep.Releases, len(rep.UpToDate), rep.Files, rep.Reused, byteSize(int(rep.Downloaded)))
	state := "invariato / unchanged"
	if rep.Extract {
		state = "aggiornato / updated"
	}
	fmt.Fprintf(m.Stdout, "Estratto del territorio %s %s: %d comunicazioni / communications.\n", n.Config().Territory, state, rep.Communication)
	return m.recomputeLocal(ctx, n, rep, m.Stdout)
}

// recomputeLocal computes the node's local geographies again when a sync
// brought new data or a new release.
func (m *Main) recomputeLocal(ctx context.Context, n *federation.Node, rep federation.SyncReport, out io.Writer) error {
	gs, err := local.Geographies(n.Dir())
	if err != nil || len(gs) == 0 || (!rep.Extract && len(rep.Releases) == 0) {
		return err
	}
	lists, err := classif.Load()
	if err != nil {
		return err
	}
	return m.computeLocal(ctx, n.Dir(), lists, nil, true, out)
}

// runVerify is `oml verify`.
func (m *Main) runVerify(ctx context.Context, args []string) error {
	fs := m.newFlagSet("verify", "verify [--data NODO] [--json]",
		`Ricalcola gli indicatori comuni del territorio del nodo dal suo estratto, con il catalogo e la data della
release dell'hub ricavata dagli stessi dati, e confronta l'impronta delle celle (provincia, CPI, comuni, prima
della riservatezza) con quella firmata dall'hub: esce con 0 solo se sono identiche byte per byte.
Recomputes the node's territory and exits 0 only if byte-identical to the hub's release.`)
	data := fs.String("data", "", "cartella dati del nodo / node data directory (default $OML_DATA o ./oml-data)")
	jsonOut := fs.Bool("json", false, "risultato JSON / JSON result")
	if err := parse(fs, args); err != nil {
		return err
	}
	n, err := federation.OpenNode(m.dataDir(*data), nil, m.Now)
	if err != nil {
		return err
	}
	lists, err := classif.Load()
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := n.Verify(ctx, lists, nil)
	if err != nil {
		return err
	}
	if *jsonOut {
		if err := json.NewEncoder(m.Stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(m.Stdout, "Release %s, territorio %s: %d celle ricalcolate in %.1f s / cells recomputed.\n  hub:  %s\n  nodo: %s\n",
			rep.Release, rep.Territory, rep.Cells, time.Since(start).Seconds(), rep.Hub, rep.Node)
	}
	if !rep.Identical {
		return oml.Errorf(oml.EINTEGRITY, "il ricalcolo del nodo differisce dalla release %s dell'hub / the node's recomputation differs from the hub's release", rep.Release).
			WithHint("stessi dati e stessa metodologia dovrebbero dare celle identiche: segnalarlo all'hub con l'output di questo comando")
	}
	if !*jsonOut {
		fmt.Fprintln(m.Stdout, "Identico byte per byte alla release dell'hub / byte-identical to the hub's release.")
	}
	return nil
}

// runContribute is `oml contribute`.
func (m *Main) runContribute(ctx context.Context, args []string) error {
	fs := m.newFlagSet("contribute", "contribute [--data NODO] [--kind introduzione|analisi|dati] [--title TITOLO] [--metadata FILE.json] FILE",
		`Invia all'hub un contributo del nodo, che l'hub rivede prima di pubblicarlo nella sezione della provincia:
l'introduzione al capitolo del Rapporto territoriale (testo, .txt), un'analisi (Markdown, .md) o un insieme
di dati locali (CSV con i metadati JSON: title, source, licence, dimensions, counts; sulle colonne counts
l'hub applica di nuovo la riservatezza). Sends a contribution to the hub for review.`)
	data := fs.String("data", "", "cartella dati del nodo / node data directory (default $OML_DATA o ./oml-data)")
	kind := fs.String("kind", "", "introduzione, analisi o dati (default: dall'estensione .txt, .md, .csv)")
	title := fs.String("title", "", "titolo (default: la prima riga del testo o il titolo dei metadati)")
	metaFile := fs.String("metadata", "", "metadati di un CSV (default FILE.json accanto al CSV)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	content, err := os.ReadFile(path)
	if err != nil {
		return oml.Errorf(oml.ENOTFOUND, "file %s non leggibile / cannot read %s", path, path).WithHint("%v", err)
	}
	s := federation.Submission{Kind: *kind, Title: *title, File: filepath.Base(path), Content: content}
	if s.Kind == "" {
		s.Kind = map[string]string{".txt": federation.KindIntro, ".md": federation.KindAnalysis, ".csv": federation.KindDataset}[strings.ToLower(filepath.Ext(path))]
	}
	if s.Kind == federation.KindDataset {
		mf := *metaFile
		if mf == "" {
			mf = strings.TrimSuffix(path, filepath.Ext(path)) + ".json"
		}
		b, err := os.ReadFile(mf)
		if err != nil {
			return usageError{oml.Errorf(oml.EINVALID, "metadati %s mancanti / metadata missing", mf).WithHint("un CSV va con i metadati JSON: title, source, licence, dimensions, counts")}
		}
		s.Metadata = &federation.DatasetMeta{}
		if err := json.Unmarshal(b, s.Metadata); err != nil {
			return oml.Errorf(oml.EINVALID, "metadati %s illeggibili / unreadable metadata: %v", mf, err)
		}
		if s.Title == "" {
			s.Title = s.Metadata.Title
		}
	}
	if s.Title == "" {
		first, _, _ := strings.Cut(strings.TrimSpace(string(content)), "\n")
		s.Title = strings.TrimSpace(strings.TrimLeft(first, "# "))
		if s.Kind == federation.KindIntro {
			s.Title = "Introduzione al capitolo"
		}
	}
	n, err := federation.OpenNode(m.dataDir(*data), nil, m.Now)
	if err != nil {
		return err
	}
	c, err := n.Contribute(ctx, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Contributo %s (%s, %q) inviato: in revisione presso l'hub / sent, awaiting review.\n", c.ID, c.Kind, c.Title)
	return nil
}

// runContributions is `oml contributions` on the hub.
func (m *Main) runContributions(ctx context.Context, args []string) error {
	fs := m.newFlagSet("contributions", "contributions [--data HUB] list [--status S] | approve ID | reject ID --reason TESTO",
		`Revisione dei contributi dei nodi sull'hub: list li elenca (in_revisione, approvato, respinto); approve li
pubblica nella sezione Contributi del portale (un'introduzione diventa la nuova versione dell'introduzione del
capitolo; i dati sono pubblicati con la riservatezza applicata); reject li respinge con un motivo.
Reviews the nodes' contributions on the hub.`)
	data := fs.String("data", "", "cartella dati dell'hub / hub data directory (default $OML_DATA o ./oml-data)")
	status := fs.String("status", "", "solo questo stato (list) / only this status")
	reason := fs.String("reason", "", "motivo (reject) / reason")
	jsonOut := fs.Bool("json", false, "elenco JSON / JSON list")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	lists, err := classif.Load()
	if err != nil {
		return err
	}
	hub := federation.NewHub(m.dataDir(*data), lists)
	switch {
	case len(pos) == 1 && pos[0] == "list":
		list, err := hub.Contributions(*status)
		if err != nil {
			return err
		}
		if *jsonOut {
			if list == nil {
				list = []federation.Contribution{}
			}
			return json.NewEncoder(m.Stdout).Encode(list)
		}
		if len(list) == 0 {
			fmt.Fprintln(m.Stdout, "Nessun contributo / no contributions.")
		}
		for _, c := range list {
			fmt.Fprintf(m.Stdout, "%-10s %-13s %-12s %s  %q (%s, %d byte)\n", c.ID, c.Status, c.Kind, c.Received.Format(time.DateOnly), c.Title, c.Author, c.Bytes)
		}
		return nil
	case len(pos) == 2 && (pos[0] == "approve" || pos[0] == "reject"):
		approve := pos[0] == "approve"
		if !approve && strings.TrimSpace(*reason) == "" {
			return usageError{oml.Errorf(oml.EINVALID, "reject richiede --reason / reject needs --reason")}
		}
		cat, err := method.Load()
		if err != nil {
			return err
		}
		c, err := hub.Review(pos[1], approve, *reason, cat.Disclosure.K, m.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Contributo %s: %s", c.ID, c.Status)
		if c.Reason != "" {
			fmt.Fprintf(m.Stdout, " (%s)", c.Reason)
		}
		fmt.Fprintln(m.Stdout)
		return nil
	}
	fs.Usage()
	return errUsage
}
