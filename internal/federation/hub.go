package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// Extract files besides the tables: the description and its signature.
const (
	ExtractManifest  = "extract.json"
	ExtractSignature = "extract.sig"
	extractsDir      = "federation/extracts"
)

// Extract describes a territory's extract: the data bank it was cut from
// (the sha256 of its input files, as a release manifest lists them) and
// its files. The hub signs its JSON with the release key.
type Extract struct {
	Territory      string                  `json:"territory"`
	Inputs         []string                `json:"inputs"`
	Communications int64                   `json:"communications"`
	Created        time.Time               `json:"created"`
	Files          []release.ManifestEntry `json:"files"`
}

// ProvinceOf returns the province a cell belongs to for the federation:
// the province itself, or the province of its CPI or comune; "" for the
// region's cells.
func ProvinceOf(names *method.Names) func(method.CellKey) string {
	return func(k method.CellKey) string {
		switch k.Level {
		case oml.LevelProvince:
			return k.Territory
		case oml.LevelCPI, oml.LevelComune:
			if t, ok := names.Territory(k.Territory); ok {
				return t.Parent
			}
		}
		return ""
	}
}

// Digests returns the digest of every province's cells of cube (computed,
// before disclosure control), for the release manifest.
func Digests(cube *method.Cube, lists *classif.Lists) map[string]string {
	out := map[string]string{}
	for p, d := range cube.Digests(ProvinceOf(method.NewNames(lists))) {
		out[p] = d.SHA256
	}
	return out
}

// ComuniOf lists the comuni whose cells a province's node recomputes:
// those of the province and those served by its CPIs (a CPI may serve
// comuni of a neighbouring province).
func ComuniOf(lists *classif.Lists, province string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(cs []classif.Comune) {
		for _, c := range cs {
			if !seen[c.Istat] {
				seen[c.Istat] = true
				out = append(out, c.Istat)
			}
		}
	}
	add(lists.ComuniOf(province))
	for _, cpi := range lists.CPIs() {
		if cpi.Province == province {
			add(lists.ComuniOfCPI(cpi.Code))
		}
	}
	return out
}

// Hub prepares what the hub's data dir serves to nodes.
type Hub struct {
	dir   string
	lists *classif.Lists
	mu    sync.Mutex // one extract is cut at a time
}

// NewHub returns the hub of a data dir; lists are the code lists.
func NewHub(dataDir string, lists *classif.Lists) *Hub { return &Hub{dir: dataDir, lists: lists} }

// Dir returns the hub's data dir.
func (h *Hub) Dir() string { return h.dir }

// ExtractDir returns the directory of the current extract of a province,
// cutting it from the data bank when the data bank has changed since the
// last one (the extract is named by the data bank's input files). The
// directory holds the two tables, extract.json and its signature.
func (h *Hub) ExtractDir(ctx context.Context, province string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	db, err := duckdb.Open(ctx, h.dir, duckdb.Options{ReadOnly: true})
	if err != nil {
		return "", err
	}
	defer db.Close()
	inputs, _, err := db.InputFiles(ctx)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.Join(inputs, "\n")))
	dir := filepath.Join(h.dir, extractsDir, province+"-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, ExtractSignature)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	n, err := db.ExportTerritory(ctx, province, ComuniOf(h.lists, province), tmp)
	if err != nil {
		return "", err
	}
	ex := Extract{Territory: province, Inputs: inputs, Communications: n, Created: time.Now().UTC().Truncate(time.Second)}
	for _, f := range []string{duckdb.ExtractCommunications, duckdb.ExtractRelationships} {
		e, err := entryOf(tmp, f)
		if err != nil {
			return "", err
		}
		ex.Files = append(ex.Files, e)
	}
	body, _ := json.MarshalIndent(ex, "", " ")
	key, err := release.LoadKey(h.dir)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ExtractManifest), body, 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, ExtractSignature), ed25519.Sign(key, body), 0o600); err != nil {
		return "", err
	}
	os.RemoveAll(dir) // an incomplete earlier attempt
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, nil
}

// entryOf returns the manifest entry (sha256 and size) of a file of dir.
func entryOf(dir, name string) (release.ManifestEntry, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return release.ManifestEntry{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return release.ManifestEntry{}, err
	}
	return release.ManifestEntry{Path: name, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

// ReleaseFile returns the path of a file of a release that may be sent to
// a node: its manifest, signature, public key, catalogue and cells.
func (h *Hub) ReleaseFile(id, name string) (string, error) {
	notFound := oml.Errorf(oml.ENOTFOUND, "file %s della release %s inesistente / no such release file", name, id).
		WithHint("i file sono elencati nel manifest della release")
	if strings.Contains(id, "/") || strings.HasPrefix(id, ".") || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return "", notFound
	}
	ok := name == release.ManifestFile || name == release.SignatureFile || name == release.PublicKeyFile || name == release.CatalogueFile ||
		(strings.HasPrefix(name, release.CellsDir+"/") && strings.Count(name, "/") == 1 && strings.HasSuffix(name, ".parquet"))
	path := filepath.Join(h.dir, release.ReleasesDir, id, filepath.FromSlash(name))
	if fi, err := os.Stat(path); !ok || err != nil || !fi.Mode().IsRegular() {
		return "", notFound
	}
	return path, nil
}

// ExtractFile returns the path of a file of a province's current extract.
func (h *Hub) ExtractFile(ctx context.Context, province, name string) (string, error) {
	switch name {
	case ExtractManifest, ExtractSignature, duckdb.ExtractCommunications, duckdb.ExtractRelationships:
	default:
		return "", oml.Errorf(oml.ENOTFOUND, "file %s dell'estratto inesistente / no such extract file", name)
	}
	dir, err := h.ExtractDir(ctx, province)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// PublicKey returns the hub's release public key.
func (h *Hub) PublicKey() (ed25519.PublicKey, error) {
	key, err := release.LoadKey(h.dir)
	if err != nil {
		return nil, err
	}
	return key.Public().(ed25519.PublicKey), nil
}
