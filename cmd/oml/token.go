package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/method"
)

// tokensLog lists the tokens a hub issued (never their secrets).
const tokensLog = "federation/tokens.jsonl"

const tokenSynopsis = `token create [--data DIR] --role RUOLO [--expires 90d] [--label TESTO]
       oml token list [--data DIR] [--json]
       oml token revoke [--data DIR] ID`

// runToken is `oml token`: node tokens of the federation and API tokens.
func (m *Main) runToken(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return m.runTokenCreate(ctx, args[1:])
		case "list":
			return m.runTokenList(ctx, args[1:])
		case "revoke":
			return m.runTokenRevoke(ctx, args[1:])
		case "-h", "-help", "--help":
			fmt.Fprintf(m.Stderr, "Uso / usage: oml %s\n\n`oml token AZIONE -h` descrive le opzioni / describes the options.\n", tokenSynopsis)
			return flag.ErrHelp
		}
	}
	return usageError{oml.Errorf(oml.EINVALID, "uso / usage: oml %s", tokenSynopsis)}
}

func (m *Main) runTokenCreate(ctx context.Context, args []string) error {
	fs := m.newFlagSet("token create", "token create [--data DIR] --role RUOLO [--expires 90d] [--label TESTO]",
		`Crea un token e lo stampa una sola volta.
Con --role node:PROVINCIA è il token di un nodo della federazione: va consegnato all'osservatorio (canale
sicuro), che lo usa una volta con oml node init; il primo token rende la cartella dati un hub (oml serve
serve /federation/v1).
Con --role analyst:TERRITORIO, editor:TERRITORIO o admin è un token API (Authorization: Bearer oml_...)
per script e applicazioni: l'archivio dei metadati conserva solo la sua impronta SHA-256; si revoca con
oml token revoke ID.
Prints a node token (node:CODE) or an API bearer token (analyst, editor, admin), shown once.`)
	data := fs.String("data", "", "cartella dati (dell'hub per i nodi) / data directory (default $OML_DATA o ./oml-data)")
	role := fs.String("role", "", "node:CODICE (node:014), analyst:TERRITORIO, editor:TERRITORIO o admin / role")
	expires := fs.String("expires", "90d", "validità: giorni (90d) od ore (12h) / lifetime")
	label := fs.String("label", "", "a chi o a cosa serve il token API (per l'elenco) / what the API token is for")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(*role)), oml.RoleNode) {
		return m.createNodeToken(ctx, *data, *role, *expires)
	}
	roles, err := parseRoles(*role)
	if err != nil {
		return err
	}
	if len(roles) != 1 {
		return usageError{oml.Errorf(oml.EINVALID, "un token ha un solo ruolo / a token has one role").
			WithHint("ruoli di un token API: analyst:TERRITORIO, editor:TERRITORIO, admin; node:PROVINCIA per un nodo")}
	}
	ttl, err := parseTTL(*expires)
	if err != nil {
		return usageError{err.(*oml.Error)}
	}
	s, err := m.openMeta(ctx, m.dataDir(*data), true)
	if err != nil {
		return err
	}
	defer s.Close()
	secret, tok, err := s.CreateToken(m.actorContext(ctx), roles[0], *label, m.Now().Add(ttl))
	if err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, secret)
	fmt.Fprintf(m.Stderr, "token API %s per / for %s, valido fino al / valid until %s; non sarà più mostrato / shown only once\n",
		tok.ID, tok.Role, tok.Expires.Format(time.DateOnly))
	return nil
}

// createNodeToken prints the token of a federation node: derived from
// the hub's federation key, listed in federation/tokens.jsonl, and
// written to the audit log.
func (m *Main) createNodeToken(ctx context.Context, data, role, expires string) error {
	terr, err := federation.ParseRole(role)
	if err != nil {
		return usageError{err.(*oml.Error)}
	}
	lists, err := classif.Load()
	if err != nil {
		return err
	}
	// A region (node:ITC4) is a member hub of a higher network; a
	// province must be one of Lombardy's.
	if t, ok := method.NewNames(lists).Territory(terr); federation.IsProvince(terr) && (!ok || t.Level != oml.LevelProvince) {
		return usageError{oml.Errorf(oml.EINVALID, "%s non è una provincia lombarda / not a Lombardy province", terr).
			WithHint(provinceHint)}
	}
	ttl, err := parseTTL(expires)
	if err != nil {
		return usageError{err.(*oml.Error)}
	}
	dir := m.dataDir(data)
	key, err := federation.LoadKey(dir)
	if err != nil {
		return err
	}
	token, tok, err := federation.Issue(key, role, ttl, m.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(tokensLog)), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, tokensLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	line, _ := json.Marshal(map[string]any{"id": tok.ID, "role": tok.Role, "expires": tok.Expires, "created": m.Now().UTC()})
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	s, err := m.openMeta(ctx, dir, true)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Append(m.actorContext(ctx), metastore.Entry{Action: metastore.ActionTokenCreate, Object: tok.ID,
		Detail: fmt.Sprintf("%s, scade / expires %s, nodo della federazione / federation node", tok.Role, tok.Expires.Format(time.RFC3339))}); err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, token)
	fmt.Fprintf(m.Stderr, "token %s per / for %s, valido fino al / valid until %s\n", tok.ID, tok.Role, tok.Expires.Format(time.DateOnly))
	return nil
}

// parseTTL reads "90d" or "12h".
func parseTTL(s string) (time.Duration, error) {
	bad := oml.Errorf(oml.EINVALID, "--expires %q non valido / invalid --expires", s).WithHint("giorni (90d) od ore (12h)")
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 || d > 3650 {
			return 0, bad
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

// tokenInfo is a line of oml token list: an API token of the metadata
// store or a node token of the federation's list.
type tokenInfo struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"` // "api" or "node"
	Role     string    `json:"role"`
	Label    string    `json:"label,omitempty"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	Revoked  time.Time `json:"revoked,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// nodeTokens reads the federation's list of issued node tokens of dir.
func nodeTokens(dir string) ([]tokenInfo, error) {
	f, err := os.Open(filepath.Join(dir, tokensLog))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []tokenInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var t tokenInfo
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return nil, oml.Errorf(oml.EINTEGRITY, "%s illeggibile / unreadable: %v", tokensLog, err)
		}
		t.Kind = "node"
		out = append(out, t)
	}
	return out, sc.Err()
}

func (m *Main) runTokenList(ctx context.Context, args []string) error {
	fs := m.newFlagSet("token list", "token list [--data DIR] [--json]",
		`Elenca i token: quelli API (con stato e ultimo uso) e quelli dei nodi della federazione; mai i segreti.
Lists the API tokens and the federation's node tokens, never their secrets.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	asJSON := fs.Bool("json", false, "elenco JSON / JSON list")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	dir := m.dataDir(*data)
	var list []tokenInfo
	s, err := m.openMeta(ctx, dir, false)
	if err != nil && oml.ErrorCode(err) != oml.ENOTFOUND {
		return err
	}
	if err == nil {
		defer s.Close()
		api, err := s.ListTokens(ctx)
		if err != nil {
			return err
		}
		for _, t := range api {
			list = append(list, tokenInfo{ID: t.ID, Kind: "api", Role: t.Role.String(), Label: t.Label, Created: t.Created,
				Expires: t.Expires, Revoked: t.Revoked, LastUsed: t.LastUsed})
		}
	}
	nodes, err := nodeTokens(dir)
	if err != nil {
		return err
	}
	list = append(list, nodes...)
	slices.SortStableFunc(list, func(a, b tokenInfo) int { return a.Created.Compare(b.Created) })
	if *asJSON {
		if list == nil {
			list = []tokenInfo{}
		}
		return json.NewEncoder(m.Stdout).Encode(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(m.Stdout, "Nessun token / no tokens: oml token create ne crea uno.")
		return nil
	}
	now := m.Now()
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\ttipo\truolo\tstato\tscade\tultimo uso\tetichetta")
	for _, t := range list {
		state := "attivo"
		switch {
		case !t.Revoked.IsZero():
			state = "revocato " + t.Revoked.In(rome()).Format(time.DateOnly)
		case !now.Before(t.Expires):
			state = "scaduto"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, t.Role, state, t.Expires.In(rome()).Format(time.DateOnly), localTime(t.LastUsed), t.Label)
	}
	return tw.Flush()
}

func (m *Main) runTokenRevoke(ctx context.Context, args []string) error {
	fs := m.newFlagSet("token revoke", "token revoke [--data DIR] ID",
		`Revoca subito un token API (l'ID è in oml token list); la revoca è scritta nel registro di audit.
Revokes an API token at once.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	pos, err := parsePositional(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	dir := m.dataDir(*data)
	nodes, err := nodeTokens(dir)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(nodes, func(t tokenInfo) bool { return t.ID == pos[0] }) {
		return oml.Errorf(oml.EINVALID, "%s è il token di un nodo: non si revoca da solo / %s is a node token and cannot be revoked alone", pos[0], pos[0]).
			WithHint("i token dei nodi derivano dalla chiave di federazione (keys/federation.key): sostituirla li invalida tutti, e ai nodi vanno dati token nuovi")
	}
	s, err := m.openMeta(ctx, dir, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.RevokeToken(m.actorContext(ctx), pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Token %s revocato / revoked.\n", pos[0])
	return nil
}
