package release

import (
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// Manifest is the content of manifest.json: what a release is and the
// checksum of every other file. Its signature (manifest.sig) therefore
// covers the whole release.
type Manifest struct {
	Format            int               `json:"format"` // FormatVersion
	Release           Info              `json:"release"`
	Disclosure        method.Disclosure `json:"disclosure"`
	ProvisionalMonths int               `json:"provisional_months"`
	Inputs            []string          `json:"inputs"` // sha256 of the ingested files, sorted
	Events            int64             `json:"events"` // current events in the data bank
	// TerritoryDigests gives, by province, the digest of its cells as
	// computed before disclosure control (Meta.TerritoryDigests).
	TerritoryDigests map[string]string `json:"territory_digests,omitempty"`
	// Indicators lists the indicator columns of the cells files, in order.
	Indicators []string `json:"indicators"`
	// Codes lists, for every breakdown dimension, the codes present in the
	// cells, in their natural order (the code lists' order, ND last).
	Codes map[string][]string `json:"codes"`
	Files []ManifestEntry     `json:"files"`
}

// ManifestEntry describes one file of a release.
type ManifestEntry struct {
	Path   string `json:"path"` // slash-separated, relative to the release directory
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// The cells files also carry their rows, perimeter, scope, frequency
	// and the row count per indicator and status.
	Rows      int64                       `json:"rows,omitempty"`
	Perimeter string                      `json:"perimeter,omitempty"`
	Scope     string                      `json:"scope,omitempty"`
	Freq      string                      `json:"freq,omitempty"`
	Status    map[string]map[string]int64 `json:"status,omitempty"`
}

// List returns the releases of dataDir, newest first (by vintage, then
// number). It reads the manifests without verifying them; a directory
// without a readable manifest is skipped. No release is not an error.
func List(dataDir string) ([]Info, error) {
	root := filepath.Join(dataDir, releasesDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	var out []Info
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		m, _, err := readManifest(filepath.Join(root, e.Name()))
		if err != nil || m.Release.ID != e.Name() {
			continue
		}
		out = append(out, m.Release)
	}
	slices.SortFunc(out, func(a, b Info) int { return compareIDs(b.ID, a.ID) })
	return out, nil
}

// compareIDs orders release ids by vintage, then number.
func compareIDs(a, b string) int {
	va, na := splitID(a)
	vb, nb := splitID(b)
	return cmp.Or(strings.Compare(va, vb), cmp.Compare(na, nb))
}

func splitID(id string) (vintage string, n int) {
	v, num, _ := strings.Cut(id, "-")
	fmt.Sscan(num, &n)
	return v, n
}

// Verify checks release id of dataDir: the signature of manifest.json
// against the release's public key and, when dataDir has a signing key,
// against that key too (so a release re-signed by someone else fails);
// then the sha256 and size of every file the manifest lists, and that the
// directory holds no other file. Any mismatch is an oml.EINTEGRITY error
// naming the file; an unknown id is oml.ENOTFOUND.
func Verify(dataDir, id string) error {
	dir, err := releaseDir(dataDir, id)
	if err != nil {
		return err
	}
	pub, err := readPublicKey(dir)
	if err != nil {
		return err
	}
	if own, err := readKey(filepath.Join(dataDir, KeyFile)); err == nil {
		if !pub.Equal(own.Public()) {
			return oml.Errorf(oml.EINTEGRITY, "release %s firmata con una chiave diversa da quella di questa cartella dati / release signed with a key other than this data dir's", id).
				WithHint("file %s; una release copiata da un altro nodo va verificata con la chiave di chi l'ha pubblicata / a release copied from another node must be verified with its publisher's key", PublicKeyFile)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	m, err := verifyDir(dir, pub)
	if err != nil {
		return err
	}
	if m.Release.ID != id {
		return oml.Errorf(oml.EINTEGRITY, "la release nella cartella %s dichiara l'id %s / the manifest names release %s", id, m.Release.ID, m.Release.ID)
	}
	return nil
}

// releaseDir returns the directory of release id, checking that id names
// one (and cannot escape the releases directory).
func releaseDir(dataDir, id string) (string, error) {
	notFound := func() error {
		return oml.Errorf(oml.ENOTFOUND, "release %s non trovata / release not found", id).
			WithHint("l'elenco delle release è in /api/v1/releases / the list is at /api/v1/releases")
	}
	if id == "" || strings.ContainsAny(id, `/\`) || strings.HasPrefix(id, ".") {
		return "", notFound()
	}
	dir := filepath.Join(dataDir, releasesDir, id)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", notFound()
	}
	return dir, nil
}

// readManifest reads and decodes manifest.json of dir.
func readManifest(dir string) (*Manifest, []byte, error) {
	body, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, nil, tampered(ManifestFile, "illeggibile / unreadable", err)
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, nil, tampered(ManifestFile, "non è JSON valido / invalid JSON", err)
	}
	if m.Format < 1 || m.Format > FormatVersion {
		return nil, nil, oml.Errorf(oml.EINVALID, "formato di release %d non supportato / unsupported release format %d", m.Format, m.Format).
			WithHint("aggiornare oml / upgrade oml")
	}
	return &m, body, nil
}

// readPublicKey reads the pubkey file of a release directory.
func readPublicKey(dir string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	if err != nil {
		return nil, tampered(PublicKeyFile, "mancante o illeggibile / missing or unreadable", err)
	}
	pub, err := decodePublicKey(data)
	if err != nil {
		return nil, tampered(PublicKeyFile, "non è una chiave pubblica ed25519 / not an ed25519 public key", err)
	}
	return pub, nil
}

// verifyDir checks the release in dir against public key pub and returns
// its manifest.
func verifyDir(dir string, pub ed25519.PublicKey) (*Manifest, error) {
	m, body, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	sig, err := os.ReadFile(filepath.Join(dir, SignatureFile))
	if err != nil {
		return nil, tampered(SignatureFile, "mancante o illeggibile / missing or unreadable", err)
	}
	if !ed25519.Verify(pub, body, sig) {
		return nil, oml.Errorf(oml.EINTEGRITY, "firma di %s non valida: il manifest è stato alterato o firmato con un'altra chiave / invalid signature of %s: manifest tampered or signed with another key", ManifestFile, ManifestFile).
			WithHint("non usare questa release; ripubblicarla o riscaricarla dall'hub / do not use this release; publish it again or fetch it again from the hub")
	}
	want := map[string]ManifestEntry{}
	for _, f := range m.Files {
		if f.Path == "" || strings.Contains(f.Path, "..") || strings.HasPrefix(f.Path, "/") {
			return nil, tampered(ManifestFile, fmt.Sprintf("percorso %q non valido / invalid path", f.Path), nil)
		}
		want[f.Path] = f
	}
	for _, name := range []string{ManifestFile, SignatureFile, PublicKeyFile} {
		want[name] = ManifestEntry{Path: name}
	}
	// Every file on disk must be expected.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." || rel == CellsDir {
				return nil
			}
			return oml.Errorf(oml.EINTEGRITY, "cartella %s estranea alla release / directory %s not part of the release", rel, rel)
		}
		if _, ok := want[rel]; !ok {
			return oml.Errorf(oml.EINTEGRITY, "file %s estraneo alla release / file %s not part of the release", rel, rel).
				WithHint("una release è immutabile: rimuovere il file o ripubblicare / a release is immutable: remove the file or publish again")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, f := range m.Files {
		if err := checkFile(dir, f); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// checkFile compares a file with its manifest entry.
func checkFile(dir string, f ManifestEntry) error {
	r, err := os.Open(filepath.Join(dir, filepath.FromSlash(f.Path)))
	if err != nil {
		return oml.Errorf(oml.EINTEGRITY, "file %s mancante / file %s missing", f.Path, f.Path).
			WithHint("la release è incompleta: ripubblicarla o riscaricarla / the release is incomplete: publish or fetch it again")
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return tampered(f.Path, "illeggibile / unreadable", err)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != f.SHA256 || n != f.Bytes {
		return oml.Errorf(oml.EINTEGRITY, "file %s alterato: sha256 %s (%d byte), atteso %s (%d byte) / file %s tampered: sha256 %s, expected %s",
			f.Path, got, n, f.SHA256, f.Bytes, f.Path, got, f.SHA256).
			WithHint("non usare questa release; ripubblicarla o riscaricarla dall'hub / do not use this release; publish it again or fetch it again from the hub")
	}
	return nil
}

// tampered is the EINTEGRITY error of a file that cannot be read as expected.
func tampered(file, what string, cause error) error {
	e := oml.Errorf(oml.EINTEGRITY, "file %s %s", file, what)
	e.Err = cause
	return e
}

// VerifyDir checks a release directory anywhere on disk (a download not
// yet in place) against the publisher's public key pub: the key the
// directory carries must be pub, the manifest's signature must verify, and
// every file must match its sha256 and size. It returns the manifest.
func VerifyDir(dir string, pub ed25519.PublicKey) (*Manifest, error) {
	own, err := readPublicKey(dir)
	if err != nil {
		return nil, err
	}
	if !own.Equal(pub) {
		return nil, oml.Errorf(oml.EINTEGRITY, "la release è firmata con una chiave diversa da quella dell'hub / the release is signed with a key other than the hub's").
			WithHint("la chiave dell'hub è fissata da oml node init; se l'hub ha cambiato chiave, ripetere oml node init")
	}
	return verifyDir(dir, pub)
}

// PublicKeyOf returns the public key a release directory carries.
func PublicKeyOf(dir string) (ed25519.PublicKey, error) { return readPublicKey(dir) }

// EncodePublicKey writes pub as the releases store it (PEM).
func EncodePublicKey(pub ed25519.PublicKey) []byte { return encodePublicKey(pub) }

// DecodePublicKey reads a public key written by EncodePublicKey.
func DecodePublicKey(data []byte) (ed25519.PublicKey, error) { return decodePublicKey(data) }
