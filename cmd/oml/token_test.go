package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
)

func TestTokenCommand(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "hub")
	env := map[string]string{"SUDO_USER": "bob", "USER": "root"}

	// An API token is printed once, on stdout alone.
	stdout, stderr, code := runIn(t, "", cliNow, env, "token", "create", "--data", data, "--role", "analyst:016", "--label", "script di Bergamo", "--expires", "30d")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	secret := strings.TrimSpace(stdout)
	if !strings.HasPrefix(secret, "oml_") || strings.Count(stdout, "\n") != 1 || !strings.Contains(stderr, "valido fino al / valid until 2025-04-09") {
		t.Fatalf("token create printed %q, %q", stdout, stderr)
	}
	s := openStore(t, data)
	tok, err := s.LookupToken(ctx, secret)
	if err != nil || tok.Role.String() != "analyst:016" || tok.Label != "script di Bergamo" {
		t.Fatalf("LookupToken = %+v, %v", tok, err)
	}

	// A node token keeps the federation's form.
	stdout, stderr, code = runIn(t, "", cliNow, env, "token", "create", "--data", data, "--role", "node:014", "--expires", "12h")
	if code != 0 {
		t.Fatalf("node token: exit %d: %s", code, stderr)
	}
	cred, err := federation.ParseToken(stdout)
	if err != nil || cred.Token.Role != "node:014" || !cred.Token.Expires.Equal(cliNow.Add(12*time.Hour)) {
		t.Fatalf("node token %q: %+v, %v", stdout, cred.Token, err)
	}

	runCases(t, []cliCase{
		{"no action", "", []string{"token"}, exitUsage, "oml token list"},
		{"help", "", []string{"token", "-h"}, exitOK, "oml token revoke"},
		{"no role", "", []string{"token", "create", "--data", data}, exitUsage, "--role mancante"},
		{"bad role", "", []string{"token", "create", "--data", data, "--role", "analyst:LOM"}, exitUsage, "la Lombardia si scrive ITC4"},
		{"public", "", []string{"token", "create", "--data", data, "--role", "public"}, exitUsage, "un solo ruolo"},
		{"two roles", "", []string{"token", "create", "--data", data, "--role", "admin,analyst:016"}, exitUsage, "un solo ruolo"},
		{"node of another region's form", "", []string{"token", "create", "--data", data, "--role", "node:LOM"}, exitUsage, "ruolo \"node:LOM\" non valido"},
		{"node outside Lombardy", "", []string{"token", "create", "--data", data, "--role", "node:001"}, exitUsage, "001 non è una provincia lombarda"},
		{"bad expiry", "", []string{"token", "create", "--data", data, "--role", "admin", "--expires", "tomorrow"}, exitUsage, "--expires \"tomorrow\" non valido"},
		{"revoke without id", "", []string{"token", "revoke", "--data", data}, exitUsage, "Uso / usage"},
		{"revoke unknown", "", []string{"token", "revoke", "--data", data, "0000"}, exitFail, "token \"0000\" inesistente"},
		{"revoke node token", "", []string{"token", "revoke", "--data", data, cred.Token.ID}, exitFail, "token di un nodo"},
		{"list elsewhere", "", []string{"token", "list", "--data", t.TempDir()}, exitOK, "Nessun token"},
	})

	stdout, _, code = runIn(t, "", cliNow.Add(13*time.Hour), nil, "token", "list", "--data", data)
	if code != 0 {
		t.Fatal(stdout)
	}
	wantLine(t, stdout, tok.ID, "api", "analyst:016", "attivo", "2025-04-09", "2025-03-10 10:00", "script di Bergamo")
	wantLine(t, stdout, cred.Token.ID, "node", "node:014", "scaduto")
	if strings.Contains(stdout, secret) {
		t.Error("token list shows the secret")
	}

	// Options may follow the id.
	if stdout, stderr, code := runIn(t, "", cliNow, env, "token", "revoke", tok.ID, "--data", data); code != 0 || !strings.Contains(stdout, "revocato") {
		t.Fatalf("token revoke: exit %d: %s%s", code, stdout, stderr)
	}
	if _, err := s.LookupToken(ctx, secret); oml.ErrorCode(err) != oml.EUNAUTHORIZED {
		t.Errorf("revoked token accepted: %v", err)
	}
	_, stderr, code = runIn(t, "", cliNow, env, "token", "revoke", "--data", data, tok.ID)
	if code != exitFail || !strings.Contains(stderr, "già revocato") {
		t.Errorf("revoke twice: exit %d: %s", code, stderr)
	}

	stdout, _, _ = run(t, "token", "list", "--data", data, "--json")
	var list []struct {
		ID, Kind, Role string
		Revoked        time.Time
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 2 || list[0].Kind != "api" || list[0].Revoked.IsZero() || list[1].Kind != "node" {
		t.Errorf("token list --json: %+v, %v\n%s", list, err, stdout)
	}

	es, err := s.Audit(ctx, metastore.AuditFilter{Actor: "cli:bob"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Object)
	}
	if want := "token_create " + tok.ID + ",token_create " + cred.Token.ID + ",token_revoke " + tok.ID; strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
}

// wantLine checks that the line of out that contains key contains each of
// fields.
func wantLine(t *testing.T, out, key string, fields ...string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, key) {
			for _, f := range fields {
				if !strings.Contains(line, f) {
					t.Errorf("line %q lacks %q", line, f)
				}
			}
			return
		}
	}
	t.Errorf("no line with %q in:\n%s", key, out)
}
