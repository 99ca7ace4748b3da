package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release"
)

const agendaSynopsis = `agenda add [--data DIR] --date AAAA-MM-GG --title TITOLO [--content TESTO] [--release ID] [--embargo QUANDO]
       oml agenda list [--data DIR] [--json]
       oml agenda set [--data DIR] ID [--release ID] [--embargo QUANDO] [--date ..] [--title ..] [--content ..]
       oml agenda remove [--data DIR] ID`

// runAgenda is `oml agenda`.
func (m *Main) runAgenda(ctx context.Context, args []string) error {
	fs := m.newFlagSet("agenda", agendaSynopsis,
		`Il calendario delle pubblicazioni (archivio dei metadati, DIR/meta.db):
  add     annuncia una pubblicazione per una data
  list    elenca le voci per data
  set     modifica una voce: solo le opzioni date cambiano; --release '' o --embargo '' le tolgono
  remove  toglie una voce
Con --release e --embargo una release già pubblicata resta riservata ad analisti, redattori e
amministratori fino all'istante dell'embargo, poi il portale la mostra a tutti. QUANDO è
'AAAA-MM-GG HH:MM' in ora italiana oppure RFC 3339. Ogni modifica è scritta nel registro di audit.
The release agenda; a release under embargo is shown only to analysts, editors and admins until then.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	date := fs.String("date", "", "giorno previsto della pubblicazione, AAAA-MM-GG / planned day")
	title := fs.String("title", "", "titolo / title")
	content := fs.String("content", "", "descrizione / description")
	rel := fs.String("release", "", "identificativo della release (oml release list) / release id")
	embargo := fs.String("embargo", "", "fine dell'embargo: 'AAAA-MM-GG HH:MM' (ora italiana) o RFC 3339 / embargo until")
	asJSON := fs.Bool("json", false, "elenco JSON (list) / JSON list")
	pos, err := parsePositional(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(pos) == 0 {
		fs.Usage()
		return errUsage
	}
	dir := m.dataDir(*data)
	ctx = m.actorContext(ctx)

	// apply copies the options given onto p.
	apply := func(p *metastore.Planned) error {
		var err error
		if set["date"] {
			if p.Date, err = parseDay("--date", *date); err != nil {
				return err
			}
		}
		if set["title"] {
			p.Title = *title
		}
		if set["content"] {
			p.Content = *content
		}
		if set["release"] {
			p.Release = *rel
		}
		if set["embargo"] {
			p.EmbargoUntil = time.Time{}
			if *embargo != "" {
				if p.EmbargoUntil, err = parseWhen("--embargo", *embargo); err != nil {
					return err
				}
			}
		}
		if !p.EmbargoUntil.IsZero() && p.Release == "" {
			return usageError{oml.Errorf(oml.EINVALID, "--embargo senza --release / --embargo needs --release").
				WithHint("l'embargo vale per una release pubblicata: indicarne l'identificativo (oml release list)")}
		}
		return nil
	}
	switch {
	case pos[0] == "add" && len(pos) == 1:
		if !set["date"] || !set["title"] {
			return usageError{oml.Errorf(oml.EINVALID, "oml agenda add richiede --date e --title / needs --date and --title").
				WithHint("per esempio: oml agenda add --date 2025-04-15 --title 'Flussi del I trimestre 2025'")}
		}
		var p metastore.Planned
		if err := apply(&p); err != nil {
			return err
		}
		m.warnUnpublished(dir, p.Release)
		s, err := m.openMeta(ctx, dir, true)
		if err != nil {
			return err
		}
		defer s.Close()
		if p, err = s.AddPlanned(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Voce %d aggiunta all'agenda / agenda entry added: %s %s\n", p.ID, p.Date.Format(time.DateOnly), p.Title)
		return nil
	case pos[0] == "list" && len(pos) == 1:
		s, err := m.openMeta(ctx, dir, false)
		if err != nil {
			return err
		}
		defer s.Close()
		list, err := s.Agenda(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []metastore.Planned{}
			}
			return json.NewEncoder(m.Stdout).Encode(list)
		}
		if len(list) == 0 {
			fmt.Fprintln(m.Stdout, "Agenda vuota / empty agenda: oml agenda add aggiunge una voce.")
			return nil
		}
		now := m.Now()
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "id\tdata\trelease\tembargo fino a (Italia)\ttitolo")
		for _, p := range list {
			rel, emb := p.Release, localTime(p.EmbargoUntil)
			if rel == "" {
				rel = "-"
			}
			if p.Embargoed(now) {
				emb += " (in corso)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.Date.Format(time.DateOnly), rel, emb, oneLine(p.Title))
		}
		return tw.Flush()
	case pos[0] == "set" && len(pos) == 2, pos[0] == "remove" && len(pos) == 2:
		id, err := strconv.ParseInt(pos[1], 10, 64)
		if err != nil || id <= 0 {
			return usageError{oml.Errorf(oml.EINVALID, "%q non è l'id di una voce dell'agenda / not an agenda entry id", pos[1]).
				WithHint("il numero nella prima colonna di oml agenda list")}
		}
		s, err := m.openMeta(ctx, dir, false)
		if err != nil {
			return err
		}
		defer s.Close()
		if pos[0] == "remove" {
			if err := s.DeletePlanned(ctx, id); err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Voce %d tolta dall'agenda / agenda entry removed.\n", id)
			return nil
		}
		if !slices.ContainsFunc([]string{"date", "title", "content", "release", "embargo"}, func(f string) bool { return set[f] }) {
			return usageError{oml.Errorf(oml.EINVALID, "niente da modificare / nothing to change").
				WithHint("oml agenda set ID --release ID, --embargo QUANDO, --date, --title o --content")}
		}
		p, err := s.Planned(ctx, id)
		if err != nil {
			return err
		}
		if err := apply(&p); err != nil {
			return err
		}
		if set["release"] {
			m.warnUnpublished(dir, p.Release)
		}
		if p, err = s.UpdatePlanned(ctx, p); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Voce %d modificata / agenda entry changed: %s %s", p.ID, p.Date.Format(time.DateOnly), p.Title)
		if p.Release != "" {
			fmt.Fprintf(m.Stdout, ", release %s", p.Release)
		}
		if !p.EmbargoUntil.IsZero() {
			fmt.Fprintf(m.Stdout, ", embargo fino al / until %s", localTime(p.EmbargoUntil))
		}
		fmt.Fprintln(m.Stdout)
		return nil
	}
	fs.Usage()
	return errUsage
}

// warnUnpublished warns when id is not a release of dir: the agenda may
// name a release before it is published, but a typo would embargo nothing.
func (m *Main) warnUnpublished(dir, id string) {
	if id == "" {
		return
	}
	infos, _ := release.List(dir)
	if !slices.ContainsFunc(infos, func(i release.Info) bool { return i.ID == id }) {
		fmt.Fprintf(m.Stderr, "attenzione / warning: la release %s non è (ancora) pubblicata in %s / release not published (yet)\n", id, dir)
	}
}
