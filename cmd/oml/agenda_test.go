package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/metastore"
)

func TestAgendaCommand(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	stdout, stderr, code := run(t, "agenda", "add", "--data", data, "--date", "2025-06-30", "--title", "Rapporto territoriale 2024")
	if code != 0 || !strings.Contains(stdout, "Voce 1 aggiunta") {
		t.Fatalf("agenda add: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = run(t, "agenda", "add", "--data", data, "--date", "2025-04-15", "--title", "Flussi del I trimestre 2025",
		"--content", "Attivazioni e cessazioni", "--release", "20250331-1", "--embargo", "2025-04-15 11:00")
	if code != 0 || !strings.Contains(stderr, "la release 20250331-1 non è (ancora) pubblicata") {
		t.Fatalf("agenda add with embargo: exit %d\n%s%s", code, stdout, stderr)
	}

	// The server's view: the release is under embargo until 11:00 in Rome.
	s := openStore(t, data)
	embargo := time.Date(2025, 4, 15, 9, 0, 0, 0, time.UTC)
	m, err := s.EmbargoedReleases(ctx, cliNow)
	if err != nil || len(m) != 1 || !m["20250331-1"].Equal(embargo) {
		t.Fatalf("EmbargoedReleases = %v, %v", m, err)
	}

	stdout, _, _ = run(t, "agenda", "list", "--data", data)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "2   2025-04-15") || !strings.HasPrefix(lines[2], "1   2025-06-30") {
		t.Errorf("agenda list not by date:\n%s", stdout)
	}
	wantLine(t, stdout, "Flussi", "20250331-1", "2025-04-15 11:00 (in corso)")

	runCases(t, []cliCase{
		{"no title", "", []string{"agenda", "add", "--data", data, "--date", "2025-01-01"}, exitUsage, "richiede --date e --title"},
		{"bad date", "", []string{"agenda", "add", "--data", data, "--date", "15/04/2025", "--title", "x"}, exitUsage, "--date \"15/04/2025\" non valida"},
		{"bad embargo", "", []string{"agenda", "add", "--data", data, "--date", "2025-01-01", "--title", "x", "--release", "r1", "--embargo", "domani"}, exitUsage, "--embargo \"domani\" non valido"},
		{"embargo without release", "", []string{"agenda", "add", "--data", data, "--date", "2025-01-01", "--title", "x", "--embargo", "2025-01-01 10:00"}, exitUsage, "--embargo senza --release"},
		{"release taken", "", []string{"agenda", "add", "--data", data, "--date", "2025-01-01", "--title", "x", "--release", "20250331-1"}, exitFail, "è già nella voce 2"},
		{"bad release id", "", []string{"agenda", "add", "--data", data, "--date", "2025-01-01", "--title", "x", "--release", "a b"}, exitFail, "identificativo di release \"a b\" non valido"},
		{"set unknown", "", []string{"agenda", "set", "--data", data, "9", "--title", "x"}, exitFail, "voce dell'agenda \"9\" inesistente"},
		{"set nothing", "", []string{"agenda", "set", "--data", data, "1"}, exitUsage, "niente da modificare"},
		{"set bad id", "", []string{"agenda", "set", "--data", data, "uno", "--title", "x"}, exitUsage, "non è l'id"},
		{"remove unknown", "", []string{"agenda", "remove", "--data", data, "9"}, exitFail, "inesistente"},
		{"no action", "", []string{"agenda", "--data", data}, exitUsage, "Uso / usage"},
		{"list without store", "", []string{"agenda", "list", "--data", filepath.Join(data, "nope")}, exitFail, "nessun archivio dei metadati"},
	})

	// set changes only the options given; an empty --embargo lifts it.
	stdout, stderr, code = run(t, "agenda", "set", "2", "--data", data, "--embargo", "2025-04-15T12:00:00+02:00")
	if code != 0 || !strings.Contains(stdout, "Voce 2 modificata") || !strings.Contains(stdout, "embargo fino al / until 2025-04-15 12:00") {
		t.Fatalf("agenda set --embargo: exit %d\n%s%s", code, stdout, stderr)
	}
	p, _ := s.Planned(ctx, 2)
	if p.Title != "Flussi del I trimestre 2025" || p.Content != "Attivazioni e cessazioni" || !p.EmbargoUntil.Equal(embargo.Add(time.Hour)) {
		t.Errorf("after set: %+v", p)
	}
	if _, stderr, code := run(t, "agenda", "set", "--data", data, "2", "--embargo", ""); code != 0 {
		t.Fatalf("lift embargo: %s", stderr)
	}
	if m, _ := s.EmbargoedReleases(ctx, cliNow); len(m) != 0 {
		t.Errorf("embargo not lifted: %v", m)
	}
	if _, stderr, code := run(t, "agenda", "set", "--data", data, "1", "--release", "20250630-1", "--embargo", "2025-06-30 10:00"); code != 0 {
		t.Fatalf("set release and embargo: %s", stderr)
	}
	if m, _ := s.EmbargoedReleases(ctx, cliNow); len(m) != 1 || m["20250630-1"].IsZero() {
		t.Errorf("embargo of entry 1: %v", m)
	}
	if stdout, stderr, code := run(t, "agenda", "remove", "--data", data, "2"); code != 0 || !strings.Contains(stdout, "Voce 2 tolta") {
		t.Fatalf("agenda remove: exit %d\n%s%s", code, stdout, stderr)
	}

	stdout, _, _ = run(t, "agenda", "list", "--data", data, "--json")
	var list []metastore.Planned
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 1 || list[0].Release != "20250630-1" {
		t.Errorf("agenda list --json: %+v, %v\n%s", list, err, stdout)
	}
	es, _ := s.Audit(ctx, metastore.AuditFilter{Action: metastore.ActionAgendaChange})
	if len(es) != 6 || es[0].Actor != "cli" {
		t.Errorf("agenda_change entries: %d, first %+v", len(es), es[0])
	}
}
