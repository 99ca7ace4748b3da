package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/metastore"
)

func TestAuditCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"USER": "alice"}
	const pw = "una frase lunga abbastanza"
	steps := [][]string{
		{"user", "add", "--data", data, "--name", "mario", "--role", "analyst:016"},
		{"token", "create", "--data", data, "--role", "admin", "--label", "script"},
		{"agenda", "add", "--data", data, "--date", "2025-04-15", "--title", "Flussi"},
		{"user", "roles", "--data", data, "--name", "mario", "--role", "analyst:017"},
	}
	for i, args := range steps {
		// One hour apart: 10:00, 11:00, ... in Rome.
		if _, stderr, code := runIn(t, pw+"\n", cliNow.Add(time.Duration(i)*time.Hour), env, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}

	stdout, stderr, code := run(t, "audit", "--data", data)
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "n.  ora (Italia)") {
		t.Fatalf("audit table:\n%s", stdout)
	}
	wantLine(t, stdout, "user_add", "1", "2025-03-10 10:00:00", "cli:alice", "mario", "ruoli / roles: analyst:016")
	wantLine(t, stdout, "role_change", "4", "2025-03-10 13:00:00", "analyst:016 -> analyst:017")
	wantLine(t, stdout, "token_create", "cli:alice", "admin, scade / expires 2025-06-08T10:00:00Z, \"script\"")

	stdout, _, _ = run(t, "audit", "--data", data, "--json", "--action", "role_change")
	var e metastore.Entry
	if err := json.Unmarshal([]byte(stdout), &e); err != nil || e.Seq != 4 || e.Actor != "cli:alice" || len(e.Hash) != 64 || strings.Count(stdout, "\n") != 1 {
		t.Errorf("audit --json --action: %+v, %v\n%s", e, err, stdout)
	}
	stdout, _, _ = run(t, "audit", "--data", data, "--json", "--since", "2025-03-10T10:30:00Z")
	if n := strings.Count(stdout, "\n"); n != 2 {
		t.Errorf("--since: %d lines\n%s", n, stdout)
	}
	stdout, _, _ = run(t, "audit", "--data", data, "--since", "2025-03-11")
	if !strings.Contains(stdout, "Nessuna voce") {
		t.Errorf("--since tomorrow:\n%s", stdout)
	}
	stdout, _, _ = run(t, "audit", "--data", data, "--json", "--limit", "1", "--actor", "cli:alice")
	if !strings.Contains(stdout, `"seq":4`) || strings.Count(stdout, "\n") != 1 {
		t.Errorf("--limit 1:\n%s", stdout)
	}

	stdout, stderr, code = run(t, "audit", "--data", data, "--verify")
	if code != 0 || !strings.Contains(stdout, "Registro di audit integro: 4 voci") || !strings.Contains(stdout, "Ultima voce / last entry: 4") {
		t.Fatalf("audit --verify: exit %d\n%s%s", code, stdout, stderr)
	}

	// A name tried at login is anyone's input: control characters in it do
	// not reach the terminal.
	s := openStore(t, data)
	s.Authenticate(context.Background(), "x\x1b[2J\ny", "password")
	stdout, _, _ = run(t, "audit", "--data", data, "--action", "login_failed")
	wantLine(t, stdout, "login_failed", "x [2J y")
	if strings.Contains(stdout, "\x1b") {
		t.Error("escape sequence in the table")
	}

	runCases(t, []cliCase{
		{"unknown action", "", []string{"audit", "--data", data, "--action", "delete"}, exitUsage, "azione \"delete\" sconosciuta"},
		{"bad since", "", []string{"audit", "--data", data, "--since", "ieri"}, exitUsage, "--since \"ieri\" non valida"},
		{"negative limit", "", []string{"audit", "--data", data, "--limit", "-1"}, exitUsage, "Uso / usage"},
		{"no store", "", []string{"audit", "--data", filepath.Join(data, "nope"), "--verify"}, exitFail, "nessun archivio dei metadati"},
	})

	// Tampering through SQLite, as someone with the file would: --verify
	// fails naming the entry.
	db, err := sql.Open("sqlite", filepath.Join(data, metastore.File))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE audit SET detail = 'analyst:016 -> analyst:016' WHERE seq = 4"); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = run(t, "audit", "--data", data, "--verify")
	if code != exitFail || !strings.Contains(stderr, "registro di audit alterato alla voce 4") || !strings.Contains(stderr, "le voci fino alla 3 sono integre") {
		t.Errorf("tampered --verify: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := db.Exec("DELETE FROM audit WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = run(t, "audit", "--data", data, "--verify")
	if code != exitFail || !strings.Contains(stderr, "alla voce 2: voce mancante") {
		t.Errorf("deleted entry --verify: exit %d\n%s", code, stderr)
	}
}
