package release

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/method"
)

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("second LoadKey returned another key")
	}
	for path, mode := range map[string]os.FileMode{KeyFile: 0o600, "keys": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("garbage"), 0o600)
	if _, err := LoadKey(dir); oml.ErrorCode(err) != oml.EINTEGRITY {
		t.Errorf("garbage key: %v", err)
	}
}

func TestPublishLayout(t *testing.T) {
	dataDir, info := publishHand(t, cubeOptions{})
	if info.ID != "20230630-1" || info.Vintage != "2023-06-30" || info.First != "2020-01" || info.Last != "2023-06" || !info.HasIDs || info.MethodVersion != oml.MethodVersion {
		t.Errorf("info %+v", info)
	}
	dir := filepath.Join(dataDir, "releases", info.ID)
	var files []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, rel)
			if fi, _ := d.Info(); fi.Mode().Perm() != 0o444 {
				t.Errorf("%s: mode %v", rel, fi.Mode().Perm())
			}
		}
		return nil
	})
	if len(files) != 16 { // 12 cells files, catalogue, manifest, signature, key
		t.Errorf("%d files: %v", len(files), files)
	}
	// A second publish of the same vintage takes the next number.
	info2, _, err := Publish(dataDir, handCube(t, cubeOptions{}), method.JSON(), testMeta(), testKey())
	if err != nil {
		t.Fatal(err)
	}
	if info2.ID != "20230630-2" {
		t.Errorf("second id %s", info2.ID)
	}
	list, err := List(dataDir)
	if err != nil || len(list) != 2 || list[0].ID != "20230630-2" || list[1].ID != "20230630-1" {
		t.Errorf("List = %v, %v", list, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dataDir, "releases"))
	if len(entries) != 2 {
		t.Errorf("releases dir holds %d entries: temporary left behind?", len(entries))
	}
}

// TestPublishDeterministic: the same cube gives byte-identical files,
// whatever the order of its cells.
func TestPublishDeterministic(t *testing.T) {
	d1, i1 := publishHand(t, cubeOptions{})
	cube := handCube(t, cubeOptions{})
	// Shuffle deterministically.
	for i := range cube.Cells {
		j := (i * 7919) % len(cube.Cells)
		cube.Cells[i], cube.Cells[j] = cube.Cells[j], cube.Cells[i]
	}
	d2 := t.TempDir()
	i2, sha, err := Publish(d2, cube, method.JSON(), testMeta(), testKey())
	if err != nil {
		t.Fatal(err)
	}
	assertSameRelease(t, filepath.Join(d1, "releases", i1.ID), filepath.Join(d2, "releases", i2.ID))
	body, _ := os.ReadFile(filepath.Join(d2, "releases", i2.ID, ManifestFile))
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != sha {
		t.Errorf("returned sha256 %s is not the manifest's", sha)
	}
}

// assertSameRelease fails unless the two release directories hold the
// same files with the same bytes.
func assertSameRelease(t *testing.T, a, b string) {
	t.Helper()
	n := 0
	filepath.WalkDir(a, func(path string, d os.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(a, path)
		x, _ := os.ReadFile(path)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs (%d and %d bytes)", rel, len(x), len(y))
		}
		n++
		return nil
	})
	if n < 4 {
		t.Errorf("only %d files compared", n)
	}
}

func TestManifest(t *testing.T) {
	dataDir, info := publishHand(t, cubeOptions{confidential: map[string]bool{"016||2021-03": true}})
	r, err := Open(dataDir, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(r.ManifestJSON(), &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != FormatVersion || m.Release != info || m.Disclosure.K != 3 || m.Events != 1234 ||
		strings.Join(m.Inputs, ",") != "aa,bb" || len(m.Indicators) != len(r.Catalogue().Indicators) {
		t.Errorf("manifest %+v", m)
	}
	if got := strings.Join(m.Codes["contratto"], ","); got != "TI,TD,AP,ND" {
		t.Errorf("contratto codes in manifest %s, want natural order TI,TD,AP,ND", got)
	}
	var cellsM *ManifestEntry
	for i := range m.Files {
		if m.Files[i].Path == "cells/workplace-full-M.parquet" {
			cellsM = &m.Files[i]
		}
	}
	if cellsM == nil {
		t.Fatal("no cells/workplace-full-M.parquet in the manifest")
	}
	// 12 series of 42 months, 016's 8 series... all present: 12*42 rows.
	if cellsM.Rows != 12*42 || cellsM.Status["attivazioni"]["C"] != 1 || cellsM.Status["attivazioni"]["P"] != 12*3 {
		t.Errorf("cells M: rows %d, status %v", cellsM.Rows, cellsM.Status["attivazioni"])
	}
}

func TestVerifyTampering(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(dir string) error
		want   string
	}{
		{"byte flipped", func(dir string) error {
			p := filepath.Join(dir, "cells", "workplace-full-M.parquet")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 1
			os.Chmod(p, 0o644)
			return os.WriteFile(p, b, 0o444)
		}, "file cells/workplace-full-M.parquet alterato"},
		{"extra file", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "cells", "extra.parquet"), []byte("x"), 0o644)
		}, "file cells/extra.parquet estraneo"},
		{"missing file", func(dir string) error {
			return os.Remove(filepath.Join(dir, "cells", "residence-core-Y.parquet"))
		}, "file cells/residence-core-Y.parquet mancante"},
		{"manifest edited", func(dir string) error {
			p := filepath.Join(dir, ManifestFile)
			b, _ := os.ReadFile(p)
			b = bytes.Replace(b, []byte(`"events": 1234`), []byte(`"events": 1235`), 1)
			os.Chmod(p, 0o644)
			return os.WriteFile(p, b, 0o444)
		}, "firma di manifest.json non valida"},
		{"public key replaced", func(dir string) error {
			p := filepath.Join(dir, PublicKeyFile)
			os.Chmod(p, 0o644)
			pub, _, _ := ed25519.GenerateKey(nil)
			return os.WriteFile(p, encodePublicKey(pub), 0o444)
		}, "firma di manifest.json non valida"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dataDir, info := publishHand(t, cubeOptions{})
			if err := Verify(dataDir, info.ID); err != nil {
				t.Fatalf("fresh release: %v", err)
			}
			if err := c.tamper(filepath.Join(dataDir, "releases", info.ID)); err != nil {
				t.Fatal(err)
			}
			err := Verify(dataDir, info.ID)
			if oml.ErrorCode(err) != oml.EINTEGRITY || !strings.Contains(oml.ErrorMessage(err), c.want) {
				t.Fatalf("Verify = %v, want EINTEGRITY %q", err, c.want)
			}
			if _, err := Open(dataDir, info.ID); oml.ErrorCode(err) != oml.EINTEGRITY {
				t.Errorf("Open = %v", err)
			}
		})
	}
	t.Run("data dir key differs", func(t *testing.T) {
		dataDir, info := publishHand(t, cubeOptions{})
		if _, err := LoadKey(dataDir); err != nil { // a new, different key
			t.Fatal(err)
		}
		err := Verify(dataDir, info.ID)
		if oml.ErrorCode(err) != oml.EINTEGRITY || !strings.Contains(oml.ErrorMessage(err), "chiave diversa") {
			t.Fatalf("Verify = %v", err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		dataDir, _ := publishHand(t, cubeOptions{})
		for _, id := range []string{"20991231-1", "../releases", ".tmp-x", ""} {
			if err := Verify(dataDir, id); oml.ErrorCode(err) != oml.ENOTFOUND {
				t.Errorf("Verify(%q) = %v", id, err)
			}
		}
	})
}

// TestDuckDBReadsParquet reads the cells files with DuckDB, through the
// data bank package.
func TestDuckDBReadsParquet(t *testing.T) {
	dataDir, info := publishHand(t, cubeOptions{confidential: map[string]bool{"016||2021-03": true}})
	ctx := context.Background()
	db, err := duckdb.Open(ctx, t.TempDir(), duckdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(dataDir, "releases", info.ID, "cells", "*.parquet")
	var rows int64
	var att float64
	var status string
	q := `SELECT count(*) FILTER (WHERE freq = 'M'), sum(attivazioni) FILTER (WHERE period = '2021-02' AND territory = '016' AND dims = '' AND perimeter = 'workplace'),
		max(attivazioni_status) FILTER (WHERE period = '2021-03' AND territory = '016' AND dims = '' AND freq = 'M' AND perimeter = 'workplace')
		FROM read_parquet('` + glob + `')`
	err = db.Query(ctx, q, func(scan func(...any) error) error { return scan(&rows, &att, &status) })
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2*12*42 || att != 100+2+10 || status != "C" {
		t.Errorf("DuckDB read %d monthly rows, attivazioni %v, status %q", rows, att, status)
	}
	// Column order and types, as documented.
	var cols []string
	err = db.Query(ctx, "SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet('"+glob+"'))",
		func(scan func(...any) error) error {
			var c string
			err := scan(&c)
			cols = append(cols, c)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	want := "perimeter VARCHAR,scope VARCHAR,freq VARCHAR,level VARCHAR,territory VARCHAR,dims VARCHAR,codes VARCHAR,period VARCHAR,attivazioni DOUBLE,attivazioni_status VARCHAR"
	if got := strings.Join(cols[:10], ","); got != want {
		t.Errorf("columns\n%s\nwant\n%s", got, want)
	}
}
