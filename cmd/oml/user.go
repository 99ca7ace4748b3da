package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
)

const userSynopsis = `user add [--data DIR] --name NOME --role RUOLO[,RUOLO]   (password dallo standard input)
       oml user list [--data DIR] [--json]
       oml user disable [--data DIR] --name NOME
       oml user roles [--data DIR] --name NOME --role RUOLO[,RUOLO]`

const userDescription = `Gestisce gli utenti locali del portale nell'archivio dei metadati (DIR/meta.db):
  add      crea un utente; la password (almeno 12 caratteri) si legge dalla prima riga dello standard
           input, oppure si digita due volte se lo standard input è un terminale
  list     elenca gli utenti con ruoli e stato
  disable  disabilita un utente e chiude le sue sessioni (l'utente e il suo registro restano)
  roles    sostituisce i ruoli di un utente
Ruoli: admin, analyst:TERRITORIO, editor:TERRITORIO (TERRITORIO: codice ISTAT della provincia, 016,
oppure ITC4 per la Lombardia); public = nessun ruolo. Ogni modifica è scritta nel registro di audit.
Manages the portal's local accounts; every change is written to the audit log.`

// runUser is `oml user`.
func (m *Main) runUser(ctx context.Context, args []string) error {
	fs := m.newFlagSet("user", userSynopsis, userDescription)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	name := fs.String("name", "", "nome utente (lettere, cifre, . _ - @ +) / user name")
	role := fs.String("role", "", "ruoli separati da virgole (add, roles) / comma-separated roles")
	asJSON := fs.Bool("json", false, "elenco JSON (list) / JSON list")
	pos, err := parsePositional(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	needName := func() error {
		if *name == "" {
			return usageError{oml.Errorf(oml.EINVALID, "oml user %s richiede --name / needs --name", pos[0])}
		}
		return nil
	}
	dir := m.dataDir(*data)
	ctx = m.actorContext(ctx)
	switch pos[0] {
	case "add":
		if err := needName(); err != nil {
			return err
		}
		roles, err := parseRoles(*role)
		if err != nil {
			return err
		}
		password, err := m.readPassword()
		if err != nil {
			return err
		}
		s, err := m.openMeta(ctx, dir, true)
		if err != nil {
			return err
		}
		defer s.Close()
		u, err := s.AddUser(ctx, *name, password, roles)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Utente %s creato / user created (ruoli / roles: %s).\n", u.Name, rolesOrNone(u.Roles))
		return nil
	case "list":
		s, err := m.openMeta(ctx, dir, false)
		if err != nil {
			return err
		}
		defer s.Close()
		users, err := s.ListUsers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if users == nil {
				users = []metastore.User{}
			}
			return json.NewEncoder(m.Stdout).Encode(users)
		}
		if len(users) == 0 {
			fmt.Fprintln(m.Stdout, "Nessun utente / no users: oml user add ne crea uno.")
			return nil
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "utente\truoli\tstato\taccesso\tcreato")
		for _, u := range users {
			state, login := "attivo", "password"
			if u.Disabled {
				state = "disabilitato"
			}
			if u.OIDCIssuer != "" {
				login = "OpenID Connect " + u.OIDCIssuer
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, rolesOrNone(u.Roles), state, login, localTime(u.Created))
		}
		return tw.Flush()
	case "disable":
		if err := needName(); err != nil {
			return err
		}
		s, err := m.openMeta(ctx, dir, false)
		if err != nil {
			return err
		}
		defer s.Close()
		if err := s.DisableUser(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Utente %s disabilitato, sessioni chiuse / user disabled, sessions ended.\n", *name)
		return nil
	case "roles":
		if err := needName(); err != nil {
			return err
		}
		roles, err := parseRoles(*role)
		if err != nil {
			return err
		}
		s, err := m.openMeta(ctx, dir, false)
		if err != nil {
			return err
		}
		defer s.Close()
		u, err := s.SetRoles(ctx, *name, roles)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "Ruoli di %s / roles of %s: %s\n", u.Name, u.Name, rolesOrNone(u.Roles))
		return nil
	}
	fs.Usage()
	return errUsage
}

func rolesOrNone(r oml.Roles) string {
	if len(r) == 0 {
		return "public (nessuno / none)"
	}
	return r.String()
}

// readPassword reads a new password: typed twice without echo when
// standard input is a terminal, else the first line of standard input
// (for scripts: printf '%s\n' "$PW" | oml user add ...).
func (m *Main) readPassword() (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(m.Stderr, "Password (almeno 12 caratteri / at least 12 characters): ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(m.Stderr, "Di nuovo / again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", oml.Errorf(oml.EINVALID, "le due password non coincidono / the passwords differ")
		}
		return checkNewPassword(string(a))
	}
	line, err := bufio.NewReader(io.LimitReader(m.Stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return checkNewPassword(strings.TrimRight(line, "\r\n"))
}

// checkNewPassword refuses an empty or short password before the store
// does, with the hint for the command line.
func checkNewPassword(p string) (string, error) {
	if p == "" {
		return "", oml.Errorf(oml.EINVALID, "password vuota / empty password").
			WithHint("la password si legge dalla prima riga dello standard input: printf '%%s\\n' \"$PASSWORD\" | oml user add ...")
	}
	if n := len([]rune(p)); n < metastore.MinPasswordLength {
		return "", oml.Errorf(oml.EINVALID, "password troppo corta: %d caratteri, ne servono almeno %d / password too short: at least %d characters", n, metastore.MinPasswordLength, metastore.MinPasswordLength).
			WithHint("una frase di quattro o cinque parole è lunga e facile da ricordare")
	}
	return p, nil
}
