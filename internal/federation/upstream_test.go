package federation_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/release/releasetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	releasetest.Cleanup()
	os.Exit(code)
}

// receive sends every file of the fixture's release to hub as member tok,
// applying alter to each body first.
func receive(t *testing.T, hub *federation.Hub, tok federation.Token, f *releasetest.Fixture, alter func(name string, b []byte) []byte) {
	t.Helper()
	dir := filepath.Join(f.DataDir, release.ReleasesDir, f.Info.ID)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return hub.ReceiveAggregate(tok, f.Info.ID, filepath.ToSlash(rel), alter(filepath.ToSlash(rel), b))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInstallAggregate checks what a higher hub does with a member's
// release: installs it when signature, sha256 and disclosure control hold;
// refuses it, keeping nothing, when a file is altered, when it is signed
// with a key other than the member's pinned one, or when it publishes
// counts below the hub's threshold.
func TestInstallAggregate(t *testing.T) {
	f := releasetest.Build(t)
	tok := federation.Token{Territory: "ITC4", Role: "node:ITC4", ID: "t1"}
	same := func(_ string, b []byte) []byte { return b }
	installed := func(hub *federation.Hub) bool {
		st, err := hub.Aggregate(tok, f.Info.ID)
		return err == nil && st.Installed
	}
	for _, tc := range []struct {
		name  string
		alter func(string, []byte) []byte
		k     int
		pin   bool // pin another key before the release arrives
		want  string
	}{
		{"altered cells", func(name string, b []byte) []byte {
			if strings.HasPrefix(name, "cells/") {
				b = append([]byte(nil), b...)
				b[len(b)/2] ^= 0xff
			}
			return b
		}, 3, false, "sha256"},
		{"another key", same, 3, true, "chiave diversa"},
		{"small counts for the hub's threshold", same, 1000, false, "conteggi tra 1 e 999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := federation.NewHub(t.TempDir(), f.Lists)
			if tc.pin {
				pub, _, _ := ed25519.GenerateKey(nil)
				os.MkdirAll(filepath.Join(hub.Dir(), "federation", "network", "ITC4"), 0o755)
				os.WriteFile(filepath.Join(hub.Dir(), "federation", "network", "ITC4", "pubkey"), release.EncodePublicKey(pub), 0o644)
			}
			receive(t, hub, tok, f, tc.alter)
			_, err := hub.InstallAggregate(tok, f.Info.ID, tc.k)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if installed(hub) {
				t.Fatal("a refused release was installed")
			}
			if st, _ := hub.Aggregate(tok, f.Info.ID); len(st.Files) != 0 {
				t.Errorf("the refused files were kept: %v", st.Files)
			}
		})
	}
	hub := federation.NewHub(t.TempDir(), f.Lists)
	receive(t, hub, tok, f, same)
	info, err := hub.InstallAggregate(tok, f.Info.ID, 3)
	if err != nil || info.ID != f.Info.ID || !installed(hub) {
		t.Fatalf("install: %+v %v", info, err)
	}
	if _, err := hub.InstallAggregate(tok, f.Info.ID, 3); oml.ErrorCode(err) != oml.ECONFLICT {
		t.Errorf("second install: %v", err)
	}
	members, err := hub.Members()
	if err != nil || len(members) != 1 || members[0].Territory != "ITC4" || members[0].Releases[0].ID != f.Info.ID {
		t.Fatalf("members %+v %v", members, err)
	}
	for _, bad := range [][2]string{{"../x", "manifest.json"}, {f.Info.ID, "../manifest.json"}, {f.Info.ID, "cells/../../x.parquet"}, {f.Info.ID, "notes.txt"}} {
		if err := hub.ReceiveAggregate(tok, bad[0], bad[1], []byte("x")); oml.ErrorCode(err) != oml.EINVALID {
			t.Errorf("ReceiveAggregate(%q, %q): %v", bad[0], bad[1], err)
		}
	}
}

// TestSmallCounts: a disclosure-controlled release has no shown count
// below its threshold, and the check finds them above it.
func TestSmallCounts(t *testing.T) {
	f := releasetest.Build(t)
	r := f.Open(t)
	k := r.Catalogue().Disclosure.K
	if n, first := r.SmallCounts(k); n != 0 {
		t.Errorf("%d counts below k=%d, e.g. %s", n, k, first)
	}
	if n, first := r.SmallCounts(50); n == 0 || first == "" {
		t.Error("no count below 50 found")
	}
}
