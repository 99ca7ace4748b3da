package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/duckdb"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// Paths of a node's data dir.
const (
	NodeFile    = "federation/node.json" // the node's configuration, mode 0600
	extractDir  = duckdb.ExtractDir      // the extract in use: a link into receivedDir
	receivedDir = "federation/received"  // the extract in use and, during a sync, the one before
	incomingDir = "federation/incoming"  // downloads in progress, resumed by the next sync
	hubPrefix   = "/federation/v1"       // the protocol's root on the hub
	partSuffix  = ".part"                // a file being downloaded
)

// NodeConfig is what oml node init stores.
type NodeConfig struct {
	Hub       string `json:"hub"`       // base URL of the hub
	Territory string `json:"territory"` // the node's province
	Token     string `json:"token"`
	HubKey    string `json:"hub_key"` // the hub's release public key (PEM), pinned at init
}

// Hello is the hub's answer to a node's first call.
type Hello struct {
	HubTime time.Time `json:"hub_time"`
	PubKey  string    `json:"pubkey"` // PEM
	Token   Token     `json:"token"`
}

// Node is a node's side of the protocol.
type Node struct {
	dir    string
	cfg    NodeConfig
	cred   Credentials
	hubKey ed25519.PublicKey
	client *http.Client
	now    func() time.Time
	// Progress, when set, receives a line per step of a sync.
	Progress func(format string, args ...any)
}

func newNode(dir string, cfg NodeConfig, client *http.Client, now func() time.Time) (*Node, error) {
	cred, err := ParseToken(cfg.Token)
	if err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Minute}
	}
	if now == nil {
		now = time.Now
	}
	n := &Node{dir: dir, cfg: cfg, cred: cred, client: client, now: now, Progress: func(string, ...any) {}}
	if cfg.HubKey != "" {
		if n.hubKey, err = release.DecodePublicKey([]byte(cfg.HubKey)); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Init registers a data dir as the node of territory with the hub at
// hubURL: it checks the token against the hub (signature, expiry,
// territory, clocks), pins the hub's public key and stores the
// configuration. An existing configuration is replaced.
func Init(ctx context.Context, dataDir, hubURL, territory, token string, client *http.Client, now func() time.Time) (*Node, Hello, error) {
	cfg := NodeConfig{Hub: strings.TrimRight(hubURL, "/"), Territory: territory, Token: strings.TrimSpace(token)}
	n, err := newNode(dataDir, cfg, client, now)
	if err != nil {
		return nil, Hello{}, err
	}
	if n.cred.Token.Territory != territory {
		return nil, Hello{}, oml.Errorf(oml.EINVALID, "il token è del territorio %s, non di %s / the token is for territory %s", n.cred.Token.Territory, territory, n.cred.Token.Territory).
			WithHint("usare il token creato per questo nodo (oml token create --role node:%s)", territory)
	}
	h, err := n.register(ctx, NodeFile)
	if err != nil {
		return nil, Hello{}, err
	}
	return n, h, nil
}

// register greets the hub with the node's token (checking token, clocks
// and hub), pins the hub's public key and stores the configuration at
// file of the data dir.
func (n *Node) register(ctx context.Context, file string) (Hello, error) {
	var h Hello
	if err := n.getJSON(ctx, "/hello", &h); err != nil {
		return Hello{}, err
	}
	key, err := release.DecodePublicKey([]byte(h.PubKey))
	if err != nil {
		return Hello{}, oml.Errorf(oml.EINTEGRITY, "chiave pubblica dell'hub illeggibile / unreadable hub key")
	}
	n.hubKey, n.cfg.HubKey = key, h.PubKey
	return h, writeJSON(filepath.Join(n.dir, file), n.cfg)
}

// OpenNode returns the node of an initialised data dir.
func OpenNode(dataDir string, client *http.Client, now func() time.Time) (*Node, error) {
	missing := oml.Errorf(oml.ENOTFOUND, "%s non è un nodo / %s is not a node", dataDir, dataDir).
		WithHint("registrarlo con oml node init --data %s --hub URL --territory CODICE --token TOKEN", dataDir)
	return openAt(dataDir, NodeFile, missing, client, now)
}

// openAt returns the node whose registration is file of dataDir, or
// missing when there is none.
func openAt(dataDir, file string, missing error, client *http.Client, now func() time.Time) (*Node, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	var cfg NodeConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, oml.Errorf(oml.EINVALID, "%s illeggibile / unreadable: %v", file, err)
	}
	return newNode(dataDir, cfg, client, now)
}

// Dir returns the node's data dir.
func (n *Node) Dir() string { return n.dir }

// Config returns the node's configuration.
func (n *Node) Config() NodeConfig { return n.cfg }

// request sends a signed GET to the hub and returns the response when it
// is 200 or 206; any other status becomes the hub's error.
func (n *Node) request(ctx context.Context, path string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.cfg.Hub+hubPrefix+path, nil)
	if err != nil {
		return nil, oml.Errorf(oml.EINVALID, "indirizzo dell'hub %q non valido / invalid hub address", n.cfg.Hub)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	n.cred.Sign(req, nil, n.now())
	resp, err := n.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, oml.Errorf(oml.EUNAVAILABLE, "hub %s non raggiungibile / hub unreachable", n.cfg.Hub).
			WithHint("riprovare più tardi: i dati già sincronizzati restano validi e i file scaricati a metà riprendono da dove erano (%v)", err)
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, hubError(resp, b)
}

// hubError turns an error response of the hub into the hub's error,
// message prefixed by "hub: ".
func hubError(resp *http.Response, body []byte) error {
	var e struct {
		Error struct{ Code, Message, Hint string }
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return oml.Errorf(oml.EUNAVAILABLE, "l'hub ha risposto %s a %s / the hub answered %s", resp.Status, resp.Request.URL.Path, resp.Status)
	}
	return &oml.Error{Code: e.Error.Code, Message: "hub: " + e.Error.Message, Hint: e.Error.Hint}
}

func (n *Node) getJSON(ctx context.Context, path string, v any) error {
	resp, err := n.request(ctx, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return oml.Errorf(oml.EUNAVAILABLE, "risposta dell'hub illeggibile a %s / unreadable hub answer: %v", path, err)
	}
	return nil
}

func (n *Node) getBytes(ctx context.Context, path string) ([]byte, error) {
	resp, err := n.request(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// download fetches path into dest, resuming a partial download left by an
// interrupted sync, and checks its size and sha256 before it takes the
// final name. It returns the bytes transferred.
func (n *Node) download(ctx context.Context, path, dest string, want release.ManifestEntry) (int64, error) {
	if ok, _ := hasFile(dest, want); ok {
		return 0, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return 0, err
	}
	part := dest + partSuffix
	var offset int64
	if fi, err := os.Stat(part); err == nil && fi.Size() < want.Bytes {
		offset = fi.Size()
	} else {
		os.Remove(part)
	}
	var h http.Header
	if offset > 0 {
		h = http.Header{"Range": {fmt.Sprintf("bytes=%d-", offset)}}
	}
	resp, err := n.request(ctx, path, h)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if resp.StatusCode != http.StatusPartialContent {
		flags, offset = os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0
	}
	f, err := os.OpenFile(part, flags, 0o600)
	if err != nil {
		return 0, err
	}
	got, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return got, oml.Errorf(oml.EUNAVAILABLE, "scaricamento di %s interrotto dopo %d byte / download interrupted", path, offset+got).
			WithHint("ripetere oml sync: riprende da dove si è fermato (%v)", err)
	}
	if ok, err := hasFile(part, want); err != nil || !ok {
		os.Remove(part)
		return got, oml.Errorf(oml.EINTEGRITY, "%s scaricato non corrisponde allo sha256 atteso: file alterato o troncato / %s does not match its sha256", path, path).
			WithHint("il file è stato scartato; ripetere oml sync, e se l'errore si ripete avvisare l'hub")
	}
	return got, os.Rename(part, dest)
}

// hasFile reports whether path exists with the size and sha256 of want.
func hasFile(path string, want release.ManifestEntry) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != want.Bytes {
		return false, nil
	}
	sum, err := fileSHA(path)
	return err == nil && sum == want.SHA256, err
}

func fileSHA(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SyncReport tells what a sync did.
type SyncReport struct {
	Releases      []string `json:"releases"`       // releases added
	UpToDate      []string `json:"up_to_date"`     // releases already here
	Downloaded    int64    `json:"bytes"`          // bytes transferred
	Reused        int      `json:"files_reused"`   // files taken from releases already here
	Files         int      `json:"files"`          // files transferred
	Extract       bool     `json:"extract_update"` // the extract changed and was imported
	Communication int64    `json:"communications"` // communications of the extract in use
}

// Sync pulls from the hub every release the node lacks, then the current
// extract of its territory. Each release appears at once, complete and
// verified (signature with the pinned key, every sha256), or not at all;
// the extract is imported into the node's data bank in one transaction.
func (n *Node) Sync(ctx context.Context) (SyncReport, error) {
	var rep SyncReport
	if n.hubKey == nil {
		return rep, oml.Errorf(oml.EINVALID, "chiave dell'hub mancante / hub key missing").WithHint("ripetere oml node init")
	}
	var list struct{ Releases []release.Info }
	if err := n.getJSON(ctx, "/releases", &list); err != nil {
		return rep, err
	}
	local := n.localFiles()
	for _, in := range list.Releases {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if _, err := os.Stat(filepath.Join(n.dir, release.ReleasesDir, in.ID)); err == nil {
			rep.UpToDate = append(rep.UpToDate, in.ID)
			continue
		}
		if err := n.syncRelease(ctx, in.ID, local, &rep); err != nil {
			return rep, err
		}
		rep.Releases = append(rep.Releases, in.ID)
	}
	if err := n.syncExtract(ctx, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// localFiles indexes the files of the releases already here by sha256.
func (n *Node) localFiles() map[string]string {
	out := map[string]string{}
	infos, _ := release.List(n.dir)
	for _, in := range infos {
		dir := filepath.Join(n.dir, release.ReleasesDir, in.ID)
		var m release.Manifest
		if b, err := os.ReadFile(filepath.Join(dir, release.ManifestFile)); err == nil && json.Unmarshal(b, &m) == nil {
			for _, f := range m.Files {
				out[f.SHA256] = filepath.Join(dir, filepath.FromSlash(f.Path))
			}
		}
	}
	return out
}

func (n *Node) syncRelease(ctx context.Context, id string, local map[string]string, rep *SyncReport) error {
	stage := filepath.Join(n.dir, incomingDir, id)
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return err
	}
	// The manifest, its signature and the key first: nothing else is
	// fetched unless the signature verifies with the pinned key.
	meta := map[string][]byte{}
	for _, name := range []string{release.ManifestFile, release.SignatureFile, release.PublicKeyFile} {
		b, err := n.getBytes(ctx, "/releases/"+id+"/"+name)
		if err != nil {
			return err
		}
		meta[name] = b
		rep.Downloaded += int64(len(b))
	}
	if !ed25519.Verify(n.hubKey, meta[release.ManifestFile], meta[release.SignatureFile]) {
		return oml.Errorf(oml.EINTEGRITY, "la firma del manifest della release %s non è dell'hub: release alterata, scartata / the release manifest is not signed by the hub", id).
			WithHint("nessun file della release è stato usato; avvisare l'hub")
	}
	var m release.Manifest
	if err := json.Unmarshal(meta[release.ManifestFile], &m); err != nil || m.Release.ID != id {
		return oml.Errorf(oml.EINTEGRITY, "manifest della release %s illeggibile / unreadable manifest", id)
	}
	for name, b := range meta {
		if err := os.WriteFile(filepath.Join(stage, name), b, 0o644); err != nil {
			return err
		}
	}
	for _, f := range m.Files {
		dest := filepath.Join(stage, filepath.FromSlash(f.Path))
		if src, ok := local[f.SHA256]; ok {
			if err := linkOrCopy(src, dest); err == nil {
				if ok, _ := hasFile(dest, f); ok {
					rep.Reused++
					continue
				}
			}
		}
		n.Progress("  %s %s (%s)", id, f.Path, size(f.Bytes))
		got, err := n.download(ctx, "/releases/"+id+"/"+f.Path, dest, f)
		rep.Downloaded += got
		if err != nil {
			return err
		}
		rep.Files++
	}
	if _, err := release.VerifyDir(stage, n.hubKey); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(n.dir, release.ReleasesDir), 0o755); err != nil {
		return err
	}
	return os.Rename(stage, filepath.Join(n.dir, release.ReleasesDir, id))
}

// linkOrCopy makes dst a copy of src (a hard link when possible).
func linkOrCopy(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	os.Remove(dst)
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (n *Node) syncExtract(ctx context.Context, rep *SyncReport) error {
	base := "/extracts/" + n.cfg.Territory
	body, err := n.getBytes(ctx, base)
	if err != nil {
		return err
	}
	sig, err := n.getBytes(ctx, base+"/"+ExtractSignature)
	if err != nil {
		return err
	}
	rep.Downloaded += int64(len(body) + len(sig))
	if !ed25519.Verify(n.hubKey, body, sig) {
		return oml.Errorf(oml.EINTEGRITY, "la firma dell'estratto non è dell'hub: estratto scartato / the extract is not signed by the hub").
			WithHint("i dati del nodo non sono cambiati; avvisare l'hub")
	}
	var ex Extract
	if err := json.Unmarshal(body, &ex); err != nil || ex.Territory != n.cfg.Territory {
		return oml.Errorf(oml.EINTEGRITY, "estratto illeggibile o di un altro territorio / unreadable extract")
	}
	current := filepath.Join(n.dir, extractDir)
	if old, err := os.ReadFile(filepath.Join(current, ExtractManifest)); err == nil && bytes.Equal(old, body) {
		// The extract is current; the data bank reads it unless a sync
		// was interrupted between the swap and UseExtract.
		rep.Communication = ex.Communications
		return n.useExtract(ctx, ex.Communications)
	}
	stage := filepath.Join(n.dir, incomingDir, "extract")
	for _, f := range ex.Files {
		n.Progress("  estratto / extract %s %s (%s)", n.cfg.Territory, f.Path, size(f.Bytes))
		got, err := n.download(ctx, base+"/"+f.Path, filepath.Join(stage, f.Path), f)
		rep.Downloaded += got
		if err != nil {
			return err
		}
		rep.Files++
	}
	db, err := duckdb.Open(ctx, n.dir, duckdb.Options{})
	if err != nil {
		return err
	}
	rows, err := db.CheckExtract(ctx, stage)
	db.Close()
	if err != nil {
		return err
	}
	if rows != ex.Communications {
		return oml.Errorf(oml.EINTEGRITY, "estratto: %d comunicazioni nei file, %d attese / extract: %d communications in the files, %d expected", rows, ex.Communications, rows, ex.Communications)
	}
	// The staged extract, complete with its signature and description,
	// becomes the one in use by an atomic swap of the link; the data bank
	// then reads it in place (duckdb.UseExtract: nothing is copied).
	for name, b := range map[string][]byte{ExtractSignature: sig, ExtractManifest: body} {
		if err := os.WriteFile(filepath.Join(stage, name), b, 0o600); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(body)
	name := hex.EncodeToString(sum[:8])
	kept := filepath.Join(n.dir, receivedDir)
	if err := os.MkdirAll(kept, 0o700); err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(kept, name))
	if err := os.Rename(stage, filepath.Join(kept, name)); err != nil {
		return err
	}
	previous, err := swapLink(current, filepath.Join(filepath.Base(kept), name))
	if err != nil {
		return err
	}
	if err := n.useExtract(ctx, ex.Communications); err != nil {
		return err
	}
	if previous != "" && filepath.Base(previous) != name {
		os.RemoveAll(filepath.Join(kept, filepath.Base(previous)))
	}
	rep.Extract, rep.Communication = true, ex.Communications
	return nil
}

// useExtract makes the node's data bank read the extract in use and checks
// it holds the communications the hub described.
func (n *Node) useExtract(ctx context.Context, want int64) error {
	db, err := duckdb.Open(ctx, n.dir, duckdb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	got, err := db.UseExtract(ctx)
	if err != nil {
		return err
	}
	if got != want {
		return oml.Errorf(oml.EINTEGRITY, "estratto: %d comunicazioni lette, %d attese / extract: %d communications read, %d expected", got, want, got, want).
			WithHint("eseguire di nuovo oml sync")
	}
	return nil
}

// swapLink points the symbolic link link at target (relative to the
// link's folder) in one atomic rename, and returns what it pointed at
// before ("" if nothing). A folder in the link's place (the layout of
// earlier versions) is moved aside first and then removed.
func swapLink(link, target string) (previous string, err error) {
	fi, err := os.Lstat(link)
	switch {
	case err == nil && fi.Mode()&os.ModeSymlink != 0:
		previous, _ = os.Readlink(link)
	case err == nil:
		old := link + ".old"
		os.RemoveAll(old)
		if err := os.Rename(link, old); err != nil {
			return "", err
		}
		defer os.RemoveAll(old)
	}
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, link); err != nil {
		return "", err
	}
	if d, err := os.Open(filepath.Dir(link)); err == nil {
		d.Sync() // the rename survives a power cut
		d.Close()
	}
	return previous, nil
}

// VerifyReport is the outcome of a node's recomputation.
type VerifyReport struct {
	Release   string `json:"release"`
	Territory string `json:"territory"`
	Cells     int    `json:"cells"`
	Hub       string `json:"hub_digest"`
	Node      string `json:"node_digest"`
	Identical bool   `json:"identical"`
}

// Release returns the manifest and folder of the synced release computed
// from the same data bank as the node's extract: the one whose
// methodology and vintage the node's own computations must use.
func (n *Node) Release() (*release.Manifest, string, error) {
	b, err := os.ReadFile(filepath.Join(n.dir, extractDir, ExtractManifest))
	if err != nil {
		return nil, "", oml.Errorf(oml.ENOTFOUND, "nessun estratto sincronizzato / no extract synced").WithHint("eseguire prima oml sync --data %s", n.dir)
	}
	var ex Extract
	if err := json.Unmarshal(b, &ex); err != nil {
		return nil, "", err
	}
	infos, err := release.List(n.dir)
	if err != nil {
		return nil, "", err
	}
	for _, in := range infos { // newest first
		dir := filepath.Join(n.dir, release.ReleasesDir, in.ID)
		var m release.Manifest
		if b, err := os.ReadFile(filepath.Join(dir, release.ManifestFile)); err == nil && json.Unmarshal(b, &m) == nil && slices.Equal(m.Inputs, ex.Inputs) {
			return &m, dir, nil
		}
	}
	return nil, "", oml.Errorf(oml.ENOTFOUND, "nessuna release sincronizzata corrisponde ai dati dell'estratto / no synced release matches the extract's data").
		WithHint("l'hub ha caricato nuovi dati dopo l'ultima release: attendere la prossima release e ripetere oml sync")
}

// Verify recomputes the common indicators of the node's territory from
// its extract, with the catalogue and vintage of the release cut from the
// same data bank, and compares the digest of its cells (the province, its
// CPIs and comuni, before disclosure control) with the one the hub signed
// in that release's manifest.
func (n *Node) Verify(ctx context.Context, lists *classif.Lists, progress func(string)) (VerifyReport, error) {
	rep := VerifyReport{Territory: n.cfg.Territory}
	man, relDir, err := n.Release()
	if err != nil {
		return rep, err
	}
	rep.Release = man.Release.ID
	if rep.Hub = man.TerritoryDigests[n.cfg.Territory]; rep.Hub == "" {
		return rep, oml.Errorf(oml.EINVALID, "la release %s non ha l'impronta del territorio %s / the release has no digest for %s", man.Release.ID, n.cfg.Territory, n.cfg.Territory).
			WithHint("la release è stata pubblicata da una versione di oml senza federazione; pubblicarne una nuova sull'hub")
	}
	catJSON, err := os.ReadFile(filepath.Join(relDir, release.CatalogueFile))
	if err != nil {
		return rep, err
	}
	cat, err := method.Parse(catJSON)
	if err != nil {
		return rep, err
	}
	vintage, err := time.Parse(time.DateOnly, man.Release.Vintage)
	if err != nil {
		return rep, err
	}
	db, err := duckdb.Open(ctx, n.dir, duckdb.Options{})
	if err != nil {
		return rep, err
	}
	defer db.Close()
	cube, err := cat.Compute(ctx, db, lists, vintage, progress)
	if err != nil {
		return rep, err
	}
	d := cube.Digests(ProvinceOf(method.NewNames(lists)))[n.cfg.Territory]
	rep.Node, rep.Cells = d.SHA256, d.Cells
	rep.Identical = rep.Node == rep.Hub
	return rep, nil
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
