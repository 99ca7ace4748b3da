package classif_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// sharedData is the project's shared reference folder, as seen from this
// package; the go:generate line uses the same path.
const sharedData = "../../../shared/data"

// TestGeneratedDataUpToDate regenerates the embedded files into a temporary
// folder and compares them with the checked-in ones. It is skipped where the
// shared folder is absent (a checkout of the module alone) or in -short mode.
func TestGeneratedDataUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go command not found: %v", err)
	}
	out := t.TempDir()
	cmd := exec.Command(goBin, "run", "./internal/gen", "-shared", sharedData, "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, b)
	}
	want, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range have {
		names[e.Name()] = true
	}
	for _, e := range want {
		delete(names, e.Name())
		gen, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		cur, err := os.ReadFile(filepath.Join("data", e.Name()))
		if err != nil {
			t.Errorf("data/%s missing: run go generate ./internal/classif", e.Name())
			continue
		}
		if !bytes.Equal(gen, cur) {
			t.Errorf("data/%s is stale: run go generate ./internal/classif", e.Name())
		}
	}
	for n := range names {
		t.Errorf("data/%s is not written by the generator: remove it", n)
	}
}
