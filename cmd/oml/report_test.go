package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	releasetest.Cleanup()
	os.Exit(code)
}

// TestReportCommand produces reports through the command line and stores
// two versions of an introduction, which the next report shows.
func TestReportCommand(t *testing.T) {
	f := releasetest.Build(t)
	data := f.Copy(t)
	out := t.TempDir()

	intro := filepath.Join(out, "intro.txt")
	for i, text := range []string{"Prima versione.", "Seconda versione dell'introduzione."} {
		os.WriteFile(intro, []byte(text), 0o644)
		stdout, stderr, code := run(t, "report", "intro", "--data", data, "--territory", "016", intro)
		if code != 0 || !strings.Contains(stdout, "versione "+string(rune('1'+i))) {
			t.Fatalf("intro: exit %d: %s%s", code, stdout, stderr)
		}
	}
	for _, v := range []string{"0001.txt", "0002.txt"} {
		if _, err := os.Stat(filepath.Join(data, "rapporti", "introduzioni", "016", v)); err != nil {
			t.Errorf("version %s: %v", v, err)
		}
	}

	html := filepath.Join(out, "r.html")
	if _, stderr, code := run(t, "report", "--data", data, "--territory", "016", "--format", "html", "--out", html); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(html)
	if !strings.Contains(string(b), "Seconda versione dell&#39;introduzione.") || strings.Contains(string(b), "Prima versione") {
		t.Error("the report does not show the latest introduction alone")
	}
	if st, _ := os.Stat(html); st.Mode().Perm() != 0o644 {
		t.Errorf("report file mode %v", st.Mode().Perm())
	}
	xlsx := filepath.Join(out, "r.xlsx")
	if _, stderr, code := run(t, "report", "--data", data, "--territory", "all", "--release", f.Info.ID, "--format", "xlsx", "--out", xlsx); code != 0 {
		t.Fatalf("xlsx: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(xlsx); !strings.HasPrefix(string(b), "PK") {
		t.Error("xlsx is not a zip file")
	}

	split := filepath.Join(out, "split")
	if _, stderr, code := run(t, "report", "--data", data, "--split", "--format", "html", "--out", split); code != 0 || !strings.Contains(stderr, "[13/13]") {
		t.Fatalf("split: exit %d: %s", code, stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(split, "rapporto-*-"+f.Info.ID+".html")); len(files) != 13 {
		t.Errorf("split wrote %d files, want 13", len(files))
	}

	empty := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"format", []string{"report", "--data", data, "--format", "doc"}, exitUsage, "--format \"doc\" non valido"},
		{"territory", []string{"report", "--data", data, "--territory", "016001", "--out", html}, exitFail, "territorio \"016001\" non previsto"},
		{"release", []string{"report", "--data", data, "--release", "20000101-1", "--out", html}, exitFail, "20000101-1"},
		{"no release", []string{"report", "--data", empty, "--out", html}, exitFail, "nessuna release"},
		{"intro of a CPI", []string{"report", "intro", "--data", data, "--territory", "C016001", intro}, exitUsage, "senza capitolo"},
		{"split to stdout", []string{"report", "--data", data, "--split", "--out", "-"}, exitUsage, "--split"},
		{"intro file", []string{"report", "intro", "--data", data, "--territory", "016", filepath.Join(out, "nope.txt")}, exitFail, "nope.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}
