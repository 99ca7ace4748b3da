package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
)

// The hierarchy: a hub registers as a member of a higher hub (a national
// network of observatories) with the same tokens and signed requests as a
// node, and sends it upward only its releases, which are aggregates that
// have been through disclosure control. No microdata go up. The higher hub
// checks the signature against the member's key (pinned at the first
// release it receives), every sha256, and the disclosure control again on
// the published values, before it installs the release, whole or not at
// all, under federation/network/<territory>/releases/.

// UpstreamFile is a hub's registration with its higher hub, mode 0600.
const UpstreamFile = "federation/upstream.json"

const (
	networkDir = "federation/network" // on the higher hub: the members' releases
	// MaxAggregateFile is the largest file of a release a member may send.
	MaxAggregateFile = 256 << 20
)

var releaseIDRE = regexp.MustCompile(`^[0-9]{8}-[0-9]{1,4}$`)

// InitUpstream registers the hub of dataDir as a member of the higher hub
// at hubURL, with a token the higher hub issued for the member's
// territory (node:ITC4 for the region). It checks the token against the
// higher hub and stores the registration.
func InitUpstream(ctx context.Context, dataDir, hubURL, token string, client *http.Client, now func() time.Time) (*Node, Hello, error) {
	cfg := NodeConfig{Hub: strings.TrimRight(hubURL, "/"), Token: strings.TrimSpace(token)}
	n, err := newNode(dataDir, cfg, client, now)
	if err != nil {
		return nil, Hello{}, err
	}
	n.cfg.Territory = n.cred.Token.Territory
	h, err := n.register(ctx, UpstreamFile)
	if err != nil {
		return nil, Hello{}, err
	}
	return n, h, nil
}

// OpenUpstream returns the registration of a hub with its higher hub.
func OpenUpstream(dataDir string, client *http.Client, now func() time.Time) (*Node, error) {
	missing := oml.Errorf(oml.ENOTFOUND, "%s non è membro di un hub superiore / not a member of a higher hub", dataDir).
		WithHint("registrarlo con oml upstream init --data %s --hub URL --token TOKEN", dataDir)
	return openAt(dataDir, UpstreamFile, missing, client, now)
}

// PushReport is what a push did.
type PushReport struct {
	Release string       `json:"release"`
	Files   int          `json:"files"`   // files sent
	Skipped int          `json:"skipped"` // files the higher hub already had
	Bytes   int64        `json:"bytes"`
	Already bool         `json:"already"` // the higher hub had the whole release
	Info    release.Info `json:"info"`
}

// Push sends release id of the member's data dir to the higher hub: the
// files it lacks, then the request to install it. A push interrupted
// midway resumes with the files not yet sent.
func (n *Node) Push(ctx context.Context, id string) (PushReport, error) {
	rep := PushReport{Release: id}
	if err := release.Verify(n.dir, id); err != nil {
		return rep, err
	}
	dir := filepath.Join(n.dir, release.ReleasesDir, id)
	var m release.Manifest
	b, err := os.ReadFile(filepath.Join(dir, release.ManifestFile))
	if err != nil || json.Unmarshal(b, &m) != nil {
		return rep, oml.Errorf(oml.EINTEGRITY, "manifest della release %s illeggibile / unreadable manifest", id)
	}
	var state AggregateState
	if err := n.getJSON(ctx, "/aggregates/"+id, &state); err != nil {
		return rep, err
	}
	if state.Installed {
		rep.Already, rep.Info = true, m.Release
		return rep, nil
	}
	files := []string{release.ManifestFile, release.SignatureFile, release.PublicKeyFile}
	for _, f := range m.Files {
		files = append(files, f.Path)
	}
	for _, name := range files {
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return rep, err
		}
		sum := sha256.Sum256(body)
		if state.Files[name] == hex.EncodeToString(sum[:]) {
			rep.Skipped++
			continue
		}
		n.Progress("  %s %s (%s)", id, name, size(int64(len(body))))
		if _, err := n.send(ctx, http.MethodPut, "/aggregates/"+id+"/"+name, body, http.StatusNoContent); err != nil {
			return rep, err
		}
		rep.Files++
		rep.Bytes += int64(len(body))
	}
	out, err := n.send(ctx, http.MethodPost, "/aggregates/"+id, nil, http.StatusCreated)
	if err != nil {
		return rep, err
	}
	return rep, json.Unmarshal(out, &rep.Info)
}

// send sends a signed request with body and returns the answer's body when
// its status is want.
func (n *Node) send(ctx context.Context, method, p string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, n.cfg.Hub+hubPrefix+p, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	n.cred.Sign(req, body, n.now())
	resp, err := n.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, oml.Errorf(oml.EUNAVAILABLE, "hub %s non raggiungibile / hub unreachable", n.cfg.Hub).WithHint("riprovare più tardi: i file già inviati non si rinviano (%v)", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return nil, hubError(resp, b)
	}
	return b, nil
}

// AggregateState is what the higher hub holds of a member's release: the
// sha256 of the files received so far, or the release installed.
type AggregateState struct {
	Installed bool              `json:"installed"`
	Files     map[string]string `json:"files"`
}

// memberDir is the folder of a member's releases on the higher hub.
func (h *Hub) memberDir(territory string) string {
	return filepath.Join(h.dir, networkDir, territory)
}

// checkAggregate validates a release id and a file name a member sends.
func checkAggregate(id, name string) error {
	if !releaseIDRE.MatchString(id) {
		return oml.Errorf(oml.EINVALID, "id di release %q non valido / invalid release id", id)
	}
	if name == "" {
		return nil
	}
	clean := path.Clean(name)
	switch {
	case clean != name, strings.HasPrefix(clean, "."), strings.Contains(clean, `\`):
	case slices.Contains([]string{release.ManifestFile, release.SignatureFile, release.PublicKeyFile, release.CatalogueFile}, clean):
		return nil
	case strings.HasPrefix(clean, "cells/") && strings.HasSuffix(clean, ".parquet") && !strings.Contains(clean[len("cells/"):], "/"):
		return nil
	}
	return oml.Errorf(oml.EINVALID, "file %q non fa parte di una release / not a release file", name)
}

// Aggregate returns what the hub holds of a member's release.
func (h *Hub) Aggregate(tok Token, id string) (AggregateState, error) {
	st := AggregateState{Files: map[string]string{}}
	if err := checkAggregate(id, ""); err != nil {
		return st, err
	}
	if _, err := os.Stat(filepath.Join(h.memberDir(tok.Territory), release.ReleasesDir, id)); err == nil {
		st.Installed = true
		return st, nil
	}
	stage := filepath.Join(h.memberDir(tok.Territory), "incoming", id)
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(stage, p)
		sum, err := fileSHA(p)
		if err == nil {
			st.Files[filepath.ToSlash(rel)] = sum
		}
		return nil
	})
	return st, err
}

// ReceiveAggregate stores one file of a member's release, atomically.
func (h *Hub) ReceiveAggregate(tok Token, id, name string, body []byte) error {
	if err := checkAggregate(id, name); err != nil {
		return err
	}
	dest := filepath.Join(h.memberDir(tok.Territory), "incoming", id, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp := dest + partSuffix
	if err := os.WriteFile(tmp, body, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

// InstallAggregate checks and installs a member's release once all its
// files are here: signature with the member's pinned key (pinned with its
// first release that passes every check), every sha256, and disclosure control on its values
// with the larger of its own threshold and k. A release that fails any
// check is discarded with the reason.
func (h *Hub) InstallAggregate(tok Token, id string, k int) (release.Info, error) {
	if err := checkAggregate(id, ""); err != nil {
		return release.Info{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	root := h.memberDir(tok.Territory)
	final := filepath.Join(root, release.ReleasesDir, id)
	if _, err := os.Stat(final); err == nil {
		return release.Info{}, oml.Errorf(oml.ECONFLICT, "la release %s di %s è già installata / already installed", id, tok.Territory)
	}
	stage := filepath.Join(root, "incoming", id)
	pub, err := release.PublicKeyOf(stage)
	if err != nil {
		return release.Info{}, oml.Errorf(oml.EINVALID, "release %s incompleta: manca la chiave pubblica / incomplete release", id).WithHint("inviare prima tutti i file della release")
	}
	keyFile := filepath.Join(root, "pubkey")
	if pinned, err := os.ReadFile(keyFile); err == nil {
		want, err := release.DecodePublicKey(pinned)
		if err != nil {
			return release.Info{}, err
		}
		if !want.Equal(pub) {
			os.RemoveAll(stage)
			return release.Info{}, oml.Errorf(oml.EINTEGRITY, "la release %s è firmata con una chiave diversa da quella di %s / signed with another key than the member's", id, tok.Territory).
				WithHint("se il membro ha cambiato chiave, l'amministratore dell'hub rimuove %s", keyFile)
		}
	}
	r, err := release.OpenDir(stage, pub)
	if err != nil {
		os.RemoveAll(stage)
		return release.Info{}, err
	}
	if r.Info().ID != id {
		os.RemoveAll(stage)
		return release.Info{}, oml.Errorf(oml.EINTEGRITY, "il manifest dichiara la release %s, non %s / the manifest names another release", r.Info().ID, id)
	}
	k = max(k, r.Catalogue().Disclosure.K)
	if n, first := r.SmallCounts(k); n > 0 {
		os.RemoveAll(stage)
		return release.Info{}, oml.Errorf(oml.EINVALID, "la release %s di %s pubblica %d conteggi tra 1 e %d, scartata / publishes %d counts below %d: %s", id, tok.Territory, n, k-1, n, k, first).
			WithHint("l'hub superiore accetta soltanto aggregati sottoposti al controllo della riservatezza con soglia %d", k)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return release.Info{}, err
	}
	// The member's key is pinned with its first release that passes.
	if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
		if err := os.WriteFile(keyFile, release.EncodePublicKey(pub), 0o644); err != nil {
			return release.Info{}, err
		}
	}
	if err := os.Rename(stage, final); err != nil {
		return release.Info{}, err
	}
	return r.Info(), nil
}

// Member is a member of the network and the releases it sent.
type Member struct {
	Territory string
	Releases  []release.Info // newest first
}

// Members lists the network's members that sent releases, by territory.
func (h *Hub) Members() ([]Member, error) {
	entries, err := os.ReadDir(filepath.Join(h.dir, networkDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Member
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		infos, err := release.List(h.memberDir(e.Name()))
		if err != nil {
			return nil, fmt.Errorf("network member %s: %w", e.Name(), err)
		}
		if len(infos) > 0 {
			out = append(out, Member{Territory: e.Name(), Releases: infos})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Territory < out[j].Territory })
	return out, nil
}

// MemberFile returns the path of a file of a member's installed release.
func (h *Hub) MemberFile(territory, id, name string) (string, error) {
	if err := checkAggregate(id, name); err != nil || !releaseIDRE.MatchString(id) || strings.ContainsAny(territory, `/\.`) {
		return "", oml.Errorf(oml.ENOTFOUND, "file %s inesistente / no such file", name)
	}
	p := filepath.Join(h.memberDir(territory), release.ReleasesDir, id, filepath.FromSlash(name))
	if _, err := os.Stat(p); err != nil {
		return "", oml.Errorf(oml.ENOTFOUND, "file %s della release %s di %s inesistente / no such file", name, id, territory)
	}
	return p, nil
}
