package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
)

// runAudit is `oml audit`.
func (m *Main) runAudit(ctx context.Context, args []string) error {
	fs := m.newFlagSet("audit", "audit [--data DIR] [--json] [--action AZIONE] [--actor CHI] [--since DATA] [--limit N] | --verify",
		`Mostra il registro di audit: accessi, token, utenti e ruoli, letture di microdati, pubblicazioni, agenda.
Il registro è una catena: ogni voce contiene l'impronta SHA-256 della precedente, così una voce cambiata,
tolta, aggiunta o spostata si scopre. --verify ricontrolla tutta la catena: esce con 1 e nomina la prima
voce alterata; altrimenti stampa l'ultima voce e la sua impronta, da conservare altrove.
Shows the audit log; --verify checks its hash chain (exit 1 naming the first broken entry).
Azioni / actions: `+strings.Join(metastore.Actions, ", "))
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	asJSON := fs.Bool("json", false, "una voce JSON per riga / JSON lines")
	action := fs.String("action", "", "solo questa azione / only this action")
	actor := fs.String("actor", "", "solo chi ha agito così (utente, token:ID, cli:utente) / only this actor")
	since := fs.String("since", "", "dal giorno AAAA-MM-GG (ora italiana) o dall'istante RFC 3339 / since")
	limit := fs.Int("limit", 0, "solo le ultime N voci / only the last N entries")
	verify := fs.Bool("verify", false, "verifica la catena delle impronte / verify the hash chain")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *limit < 0 {
		fs.Usage()
		return errUsage
	}
	f := metastore.AuditFilter{Action: *action, Actor: *actor, Limit: *limit}
	if f.Action != "" && !slices.Contains(metastore.Actions, f.Action) {
		return usageError{oml.Errorf(oml.EINVALID, "azione %q sconosciuta / unknown action", f.Action).
			WithHint("azioni: %s", strings.Join(metastore.Actions, ", "))}
	}
	if *since != "" {
		t, err := time.ParseInLocation(time.DateOnly, *since, rome())
		if err != nil {
			if t, err = time.Parse(time.RFC3339, *since); err != nil {
				return usageError{oml.Errorf(oml.EINVALID, "--since %q non valida / invalid --since", *since).
					WithHint("AAAA-MM-GG (dalla mezzanotte, ora italiana) oppure RFC 3339 (2025-03-10T09:00:00Z)")}
			}
		}
		f.Since = t
	}
	s, err := m.openMeta(ctx, m.dataDir(*data), false)
	if err != nil {
		return err
	}
	defer s.Close()

	if *verify {
		n, err := s.VerifyAudit(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(m.Stdout, "Registro di audit vuoto / audit log empty.")
			return nil
		}
		head, err := s.AuditHead(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Registro di audit integro: %d voci / audit log intact: %d entries.\n", n, n)
		fmt.Fprintf(m.Stdout, "Ultima voce / last entry: %d, %s, sha256 %s\n", head.Seq, localTime(head.Time), head.Hash)
		return nil
	}

	entries, err := s.Audit(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(entries) == 0 {
		fmt.Fprintln(m.Stdout, "Nessuna voce / no entries.")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "n.\tora (Italia)\tchi\tazione\toggetto\trighe\tdettaglio")
	for _, e := range entries {
		rows := ""
		if e.Rows != 0 {
			rows = fmt.Sprint(e.Rows)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.In(rome()).Format(time.DateTime), oneLine(e.Actor), e.Action, oneLine(e.Object), rows, oneLine(e.Detail))
	}
	return tw.Flush()
}

// oneLine keeps a table cell on one line and the terminal safe: control
// characters (a name tried at login is anyone's input) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
