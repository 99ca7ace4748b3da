package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release"
)

// runUpstream is `oml upstream`: a hub as a member of a higher hub.
func (m *Main) runUpstream(ctx context.Context, args []string) error {
	fs := m.newFlagSet("upstream", "upstream [--data HUB] init --hub URL --token TOKEN | push [--release ID] [--json]",
		`Un hub regionale partecipa a una rete superiore (nazionale) con lo stesso protocollo dei nodi: init lo
registra presso l'hub superiore con il token che questo ha emesso (oml token create --role node:ITC4);
push invia una release (predefinita: l'ultima). Salgono soltanto gli aggregati delle release, già sottoposti
alla riservatezza e firmati; l'hub superiore verifica firma, impronte e riservatezza prima di pubblicarli,
e nessun microdato lascia l'hub. Un invio interrotto riprende dai file mancanti.
A hub as a member of a higher (national) hub: it sends its releases, aggregates only.`)
	data := fs.String("data", "", "cartella dati dell'hub / hub data directory (default $OML_DATA o ./oml-data)")
	hub := fs.String("hub", "", "URL dell'hub superiore (init) / higher hub URL")
	token := fs.String("token", "", "token emesso dall'hub superiore (init) / token")
	id := fs.String("release", "", "release da inviare (push; predefinita l'ultima) / release to send")
	jsonOut := fs.Bool("json", false, "riepilogo JSON (push) / JSON summary")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	dir := m.dataDir(*data)
	switch {
	case len(pos) == 1 && pos[0] == "init":
		if *hub == "" || *token == "" {
			return usageError{oml.Errorf(oml.EINVALID, "servono --hub e --token / give --hub and --token")}
		}
		n, h, err := federation.InitUpstream(ctx, dir, *hub, *token, nil, m.Now)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Hub registrato come membro %s di %s (token %s, scade il %s) / registered as a member.\n",
			n.Config().Territory, n.Config().Hub, h.Token.ID, h.Token.Expires.Format(time.DateOnly))
		return nil
	case len(pos) == 1 && pos[0] == "push":
		n, err := federation.OpenUpstream(dir, nil, m.Now)
		if err != nil {
			return err
		}
		// A release under embargo stays home until its time: the higher
		// hub publishes what it receives.
		embargoed := map[string]time.Time{}
		if _, err := os.Stat(filepath.Join(dir, metastore.File)); err == nil {
			st, err := m.openMeta(ctx, dir, false)
			if err != nil {
				return err
			}
			embargoed, err = st.EmbargoedReleases(ctx, m.Now())
			st.Close()
			if err != nil {
				return err
			}
		}
		if *id == "" {
			infos, err := release.List(dir)
			if err != nil {
				return err
			}
			for _, in := range infos {
				if _, ok := embargoed[in.ID]; !ok {
					*id = in.ID
					break
				}
			}
			if *id == "" {
				return oml.Errorf(oml.ENOTFOUND, "nessuna release da inviare / no release to send").WithHint("pubblicarne una con oml release --data %s (le release sotto embargo partono alla fine dell'embargo)", dir)
			}
		}
		if until, ok := embargoed[*id]; ok {
			return oml.Errorf(oml.EFORBIDDEN, "la release %s è sotto embargo fino al %s / release under embargo", *id, localTime(until)).
				WithHint("l'hub superiore la pubblicherebbe subito: inviarla dopo la fine dell'embargo")
		}
		if !*jsonOut {
			n.Progress = func(format string, a ...any) { fmt.Fprintf(m.Stderr, format+"\n", a...) }
		}
		rep, err := n.Push(ctx, *id)
		if err != nil {
			return err
		}
		if *jsonOut {
			return json.NewEncoder(m.Stdout).Encode(rep)
		}
		if rep.Already {
			fmt.Fprintf(m.Stdout, "La release %s è già presso l'hub superiore / already there.\n", rep.Release)
			return nil
		}
		fmt.Fprintf(m.Stdout, "Release %s inviata e pubblicata dall'hub superiore: %d file (%s), %d già presenti / sent and installed.\n",
			rep.Release, rep.Files, byteSize(int(rep.Bytes)), rep.Skipped)
		return nil
	}
	fs.Usage()
	return errUsage
}
