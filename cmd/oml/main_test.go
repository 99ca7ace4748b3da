package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/synth"
)

// run runs the oml command line in-process through Main, as the binary does.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
		Now: func() time.Time { return time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC) }}
	code = m.Run(context.Background(), args)
	return out.String(), errb.String(), code
}

// synthIngest generates synthetic files with the given synth options,
// ingests them through the command line and checks that the ingest report
// reconciles with the generator's manifest, reason by reason. It returns
// the data dir and the input files.
func synthIngest(t *testing.T, format, glob string, synthArgs ...string) (data string, files []string, rep oml.IngestReport) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	args := append([]string{"synth", "--out", in, "--format", format}, synthArgs...)
	if _, stderr, code := run(t, args...); code != 0 {
		t.Fatalf("synth exit %d: %s", code, stderr)
	}
	man, err := synth.ReadManifest(in)
	if err != nil {
		t.Fatal(err)
	}
	files, _ = filepath.Glob(filepath.Join(in, glob))
	data = filepath.Join(dir, "data")
	stdout, stderr, code := run(t, append([]string{"ingest", "--data", data, "--format", format, "--json"}, files...)...)
	if code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if rep.Read != man.Rows || rep.Rejected != man.Dirty || rep.Duplicates != man.Duplicates {
		t.Errorf("read %d rejected %d duplicates %d; generator wrote %d rows, %d defective, %d resends",
			rep.Read, rep.Rejected, rep.Duplicates, man.Rows, man.Dirty, man.Duplicates)
	}
	if rep.Read != rep.Accepted+rep.Rejected+rep.Duplicates {
		t.Errorf("read %d != accepted %d + rejected %d + duplicates %d", rep.Read, rep.Accepted, rep.Rejected, rep.Duplicates)
	}
	for reason, n := range man.DirtyByReason {
		if rep.RejectedByReason[reason] != n {
			t.Errorf("reason %s: %d rejected, %d injected", reason, rep.RejectedByReason[reason], n)
		}
	}
	for reason, n := range rep.RejectedByReason {
		if _, ok := man.DirtyByReason[reason]; !ok {
			t.Errorf("reason %s: %d rejected, none injected", reason, n)
		}
	}
	// The JSON has the keys of INTERFACE.md.
	var raw map[string]json.RawMessage
	json.Unmarshal([]byte(stdout), &raw)
	for _, k := range []string{"files", "read", "accepted", "rejected", "duplicates", "rejected_by_reason"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	return data, files, rep
}

func TestSynthIngestReconciles(t *testing.T) {
	dir, files, rep := synthIngest(t, "canonical", "co_*.csv", "--seed", "7", "--scale", "0.004", "--from", "2023-01", "--to", "2024-12", "--dirty", "0.03")
	if len(rep.RejectedByReason) < len(oml.ReasonText)-2 {
		t.Errorf("only %d reasons exercised of %d", len(rep.RejectedByReason), len(oml.ReasonText))
	}

	// No fiscal code of the input is stored in clear, in any text column
	// of any table, whole or inside a longer value.
	db, err := duckdb.Open(context.Background(), dir, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var quoted []string
	for _, f := range files {
		quoted = append(quoted, "'"+f+"'")
	}
	src := "read_csv([" + strings.Join(quoted, ",") + "], all_varchar = true, ignore_errors = true, null_padding = true)"
	if _, err := db.SQL().Exec(`CREATE TEMP TABLE cfs AS SELECT DISTINCT upper(trim(cf)) AS cf FROM (
		SELECT cf_lavoratore AS cf FROM ` + src + ` UNION ALL SELECT cf_datore FROM ` + src + `) WHERE length(trim(cf)) >= 11`); err != nil {
		t.Fatal(err)
	}
	var ncf int
	db.SQL().QueryRow("SELECT count(*) FROM cfs").Scan(&ncf)
	if ncf < 1000 {
		t.Fatalf("only %d fiscal codes read from the input", ncf)
	}
	rows, err := db.SQL().Query(`SELECT table_name, column_name FROM information_schema.columns
		WHERE data_type = 'VARCHAR' AND table_schema = 'main' AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		rows.Scan(&c[0], &c[1])
		cols = append(cols, c)
	}
	rows.Close()
	for _, c := range cols {
		q := "SELECT count(*) FROM " + c[0] + " WHERE upper(" + c[1] + ") IN (SELECT cf FROM cfs)"
		if c[0] == "rejects" {
			q = "SELECT count(*) FROM rejects r, cfs WHERE contains(upper(r." + c[1] + "), cfs.cf)"
		}
		var n int
		if err := db.SQL().QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("%s.%s holds %d fiscal codes in clear", c[0], c[1], n)
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("foo;bar\n1;2\n"), 0o644)
	od := filepath.Join(dir, "od.csv")
	os.WriteFile(od, []byte("DATA,GENERE,ETA,SETTOREECONOMICODETTAGLIO,TITOLOSTUDIO,CONTRATTO,MODALITALAVORO,PROVINCIAIMPRESA,ITALIANO\n"), 0o644)
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte("id_comunicazione,tipo_evento,data_evento\nc1,A,2024-01-01\n"), 0o644)
	data := filepath.Join(dir, "data")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitUsage, "Uso / usage"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "comando sconosciuto"},
		{"no format", []string{"ingest", "--data", data, bad}, exitUsage, "--format"},
		{"wrong format", []string{"ingest", "--data", data, "--format", "xml", bad}, exitUsage, "formato \"xml\" sconosciuto"},
		{"no files", []string{"ingest", "--data", data, "--format", "canonical"}, exitUsage, "nessun file"},
		{"missing file", []string{"ingest", "--data", data, "--format", "canonical", filepath.Join(dir, "nope.csv")}, exitFail, "file non trovato"},
		{"semicolons", []string{"ingest", "--data", data, "--format", "canonical", bad}, exitFail, "punto e virgola"},
		{"missing columns", []string{"ingest", "--data", data, "--format", "canonical", short}, exitFail, "mancano le colonne rif_comunicazione, id_rapporto"},
		{"open data as canonical", []string{"ingest", "--data", data, "--format", "canonical", od}, exitFail, "--format lombardia-opendata"},
		{"open data without event", []string{"ingest", "--data", data, "--format", "lombardia-opendata", od}, exitFail, "--event"},
		{"event on canonical", []string{"ingest", "--data", data, "--format", "canonical", "--event", "A", bad}, exitUsage, "--event vale solo"},
		{"help", []string{"ingest", "-h"}, exitOK, "Opzioni / options"},
		{"synth without out", []string{"synth"}, exitUsage, "--out"},
		{"bad month", []string{"synth", "--out", dir, "--from", "2017"}, exitUsage, "non è un mese"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, stdout, stderr)
			}
		})
	}
}

func TestVersionSources(t *testing.T) {
	stdout, _, code := run(t, "version", "--sources")
	if code != 0 || !strings.Contains(stdout, "ANPAL") || !strings.Contains(stdout, "ISTAT") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}

// TestKilledIngestLeavesDataUsable kills `oml ingest` processes with
// SIGKILL, once while files are read and once while the data bank is being
// written, and checks that the data bank still holds exactly the earlier
// ingest and accepts the same files again.
func TestKilledIngestLeavesDataUsable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and ingests a large file")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "oml")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	in := filepath.Join(dir, "in")
	if out, err := exec.Command(bin, "synth", "--out", in, "--scale", "0.06", "--from", "2019-01", "--to", "2023-12").CombinedOutput(); err != nil {
		t.Fatalf("synth: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(in, "co_*.csv"))
	data := filepath.Join(dir, "data")
	ingest := func(files ...string) oml.IngestReport {
		cmd := exec.Command(bin, append([]string{"ingest", "--data", data, "--format", "canonical", "--json"}, files...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ingest: %v\n%s", err, stderr.String())
		}
		var r oml.IngestReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The first ingest of a new data dir, killed while reading: the data
	// bank was just created and migrated, and must open empty.
	fresh := filepath.Join(dir, "fresh")
	cmd := exec.Command(bin, "ingest", "--data", fresh, "--format", "canonical", files[0])
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && stagedBytes(fresh) <= 1<<20; {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if out, err := exec.Command(bin, "ingest", "--data", fresh, "--format", "canonical", "--json", filepath.Join("..", "..", "internal", "ingest", "testdata", "first.csv")).CombinedOutput(); err != nil {
		t.Fatalf("ingest into the data dir whose first ingest was killed: %v\n%s", err, out)
	}

	if first := ingest(files[0]); first.Accepted == 0 {
		t.Fatalf("first file: %+v", first)
	}
	rest := files[1:]

	for _, phase := range []string{"reading", "committing"} {
		t.Run(phase, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"ingest", "--data", data, "--format", "canonical", "--json"}, rest...)...)
			cmd.Env = append(os.Environ(), "OML_LOG=debug")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Minute)
			for time.Now().Before(deadline) {
				if phase == "committing" && strings.Contains(stderr.String(), "ingest step") {
					break
				}
				if phase == "reading" && stagedBytes(data) > 1<<20 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if strings.Contains(stderr.String(), "ingest committed") {
				t.Fatal("the ingest finished before it could be killed: the test needs a larger input")
			}
			// The data bank holds the first file only, and opens fine.
			again := ingest(files[0])
			if !again.Files[0].AlreadyIngested {
				t.Fatalf("first file forgotten after the kill: %+v", again.Files[0])
			}
		})
	}
	// The killed ingests left nothing behind: the files go in in full.
	r := ingest(rest...)
	var want int64
	for _, f := range r.Files {
		if f.AlreadyIngested {
			t.Errorf("%s counted as ingested by a killed process", f.Path)
		}
		want += f.Read
	}
	if r.Read == 0 || r.Read != r.Accepted+r.Rejected+r.Duplicates || r.Accepted != want {
		t.Errorf("after the kills: %+v", r)
	}
	if entries, _ := filepath.Glob(filepath.Join(data, "tmp", "ingest-*")); len(entries) != 0 {
		t.Errorf("stage folders left behind: %v", entries)
	}
}

// stagedBytes returns the bytes written so far into stage folders.
func stagedBytes(data string) int64 {
	var n int64
	filepath.Walk(filepath.Join(data, "tmp"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(p, "ingest-") {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// TestOpenDataIngest ingests the four open-data files the generator
// writes (BOM, CRLF, titles instead of codes) and reconciles the counts.
func TestOpenDataIngest(t *testing.T) {
	_, files, _ := synthIngest(t, "lombardia-opendata", "*.csv", "--scale", "0.003", "--from", "2024-01", "--to", "2024-12", "--dirty", "0.02")
	if len(files) != 4 {
		t.Errorf("%d open-data files, want 4", len(files))
	}
}
