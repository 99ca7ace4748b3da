package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/metastore"
)

// runIn runs the oml command line like run, with stdin as standard input,
// the clock at now and the environment env (USER=alice, ...).
func runIn(t *testing.T, stdin string, now time.Time, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
		Now: func() time.Time { return now }}
	code = m.Run(context.Background(), args)
	return out.String(), errb.String(), code
}

// cliNow is the clock of run.
var cliNow = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// cliCase is a command line and what it must give.
type cliCase struct {
	name  string
	stdin string
	args  []string
	code  int
	want  string // in stdout or stderr
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runIn(t, tt.stdin, cliNow, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, stdout, stderr)
			}
		})
	}
}

// openStore opens the metadata store of data, as the web layer will.
func openStore(t *testing.T, data string) *metastore.Store {
	t.Helper()
	s, err := metastore.Open(context.Background(), data, metastore.Options{Now: func() time.Time { return cliNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUserCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"USER": "alice"}
	const pw = "una frase lunga abbastanza"
	stdout, stderr, code := runIn(t, pw+"\r\nsecond line ignored\n", cliNow, env, "user", "add", "--data", data, "--name", "mario.rossi", "--role", "analyst:016,editor:ITC4")
	if code != 0 || !strings.Contains(stdout, "Utente mario.rossi creato") || !strings.Contains(stdout, "analyst:016,editor:ITC4") {
		t.Fatalf("user add: exit %d\n%s%s", code, stdout, stderr)
	}
	// The password works, read as the first line without its line end.
	s := openStore(t, data)
	if u, err := s.Authenticate(context.Background(), "mario.rossi", pw); err != nil || !u.Roles.CanReadMicrodata("016") {
		t.Fatalf("Authenticate after user add: %+v, %v", u, err)
	}
	// Options may follow the action; a password without line end is read too.
	if _, stderr, code := runIn(t, pw, cliNow, env, "user", "add", "--name", "gino", "--role", "public", "--data", data); code != 0 {
		t.Fatalf("user add without roles: %s", stderr)
	}

	runCases(t, []cliCase{
		{"short password", "corta\n", []string{"user", "add", "--data", data, "--name", "luca", "--role", "admin"}, exitFail, "password troppo corta: 5 caratteri, ne servono almeno 12"},
		{"empty stdin", "", []string{"user", "add", "--data", data, "--name", "luca", "--role", "admin"}, exitFail, "password vuota"},
		{"empty first line", "\n" + pw + "\n", []string{"user", "add", "--data", data, "--name", "luca", "--role", "admin"}, exitFail, "password vuota"},
		{"no name", pw, []string{"user", "add", "--data", data, "--role", "admin"}, exitUsage, "richiede --name"},
		{"no role", pw, []string{"user", "add", "--data", data, "--name", "luca"}, exitUsage, "--role mancante"},
		{"region as LOM", pw, []string{"user", "add", "--data", data, "--name", "luca", "--role", "editor:LOM"}, exitUsage, "la Lombardia si scrive ITC4"},
		{"not in Lombardy", pw, []string{"user", "add", "--data", data, "--name", "luca", "--role", "analyst:001"}, exitUsage, "001 non è una provincia lombarda"},
		{"node role", pw, []string{"user", "add", "--data", data, "--name", "luca", "--role", "node:014"}, exitFail, "non si assegna a un utente"},
		{"bad name", pw, []string{"user", "add", "--data", data, "--name", "luca bianchi", "--role", "admin"}, exitFail, "nome utente \"luca bianchi\" non valido"},
		{"taken", pw, []string{"user", "add", "--data", data, "--name", "Mario.Rossi", "--role", "admin"}, exitFail, "esiste già"},
		{"unknown action", "", []string{"user", "delete", "--data", data, "--name", "x"}, exitUsage, "Uso / usage"},
		{"no action", "", []string{"user", "--data", data}, exitUsage, "Uso / usage"},
		{"disable unknown", "", []string{"user", "disable", "--data", data, "--name", "nobody"}, exitFail, "utente \"nobody\" inesistente"},
		{"roles unknown", "", []string{"user", "roles", "--data", data, "--name", "nobody", "--role", "admin"}, exitFail, "inesistente"},
		{"list without store", "", []string{"user", "list", "--data", filepath.Join(data, "nope")}, exitFail, "nessun archivio dei metadati"},
		{"help", "", []string{"user", "-h"}, exitOK, "password (almeno 12 caratteri)"},
	})

	stdout, stderr, code = runIn(t, "", cliNow, env, "user", "roles", "--data", data, "--name", "mario.rossi", "--role", "analyst:ITC4")
	if code != 0 || !strings.Contains(stdout, "Ruoli di mario.rossi / roles of mario.rossi: analyst:ITC4") {
		t.Fatalf("user roles: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code := runIn(t, "", cliNow, env, "user", "disable", "--data", data, "--name", "gino"); code != 0 {
		t.Fatalf("user disable: %s", stderr)
	}
	_, stderr, code = runIn(t, "", cliNow, env, "user", "disable", "--data", data, "--name", "gino")
	if code != exitFail || !strings.Contains(stderr, "già disabilitato") {
		t.Errorf("disable twice: exit %d: %s", code, stderr)
	}

	stdout, _, _ = run(t, "user", "list", "--data", data)
	for _, want := range []string{"gino         public (nessuno / none)  disabilitato", "mario.rossi  analyst:ITC4             attivo"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("user list lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, _ = run(t, "user", "list", "--data", data, "--json")
	var users []metastore.User
	if err := json.Unmarshal([]byte(stdout), &users); err != nil || len(users) != 2 || users[1].Roles.String() != "analyst:ITC4" || !users[0].Disabled {
		t.Errorf("user list --json: %+v, %v\n%s", users, err, stdout)
	}
	if strings.Contains(stdout, "argon2") || strings.Contains(stdout, pw) {
		t.Error("user list shows password hashes")
	}

	// Every change is in the audit log, by the OS user.
	es, err := s.Audit(context.Background(), metastore.AuditFilter{Actor: "cli:alice"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Object)
	}
	want := "user_add mario.rossi,user_add gino,role_change mario.rossi,user_disable gino"
	if strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
	if _, err := s.Authenticate(context.Background(), "gino", pw); oml.ErrorCode(err) != oml.EUNAUTHORIZED {
		t.Errorf("disabled user logs in: %v", err)
	}
}
