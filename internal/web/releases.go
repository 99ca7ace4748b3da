package web

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
)

// When the data dir is listed again. The server looks at the modification
// time of <data dir>/releases (one stat per request) and lists again as
// soon as it changes, so a release published while the server runs is
// served at once; it lists again anyway every listInterval, in case the
// file system's times are coarse, and on a request for an id it does not
// know, at most every missInterval, so that unknown ids cannot make it
// list the disk on every request.
const (
	listInterval = 3 * time.Second
	missInterval = 500 * time.Millisecond
)

// releases keeps the list of the releases of a data dir and the few most
// recently used releases open (loaded and verified).
type releases struct {
	dir  string
	now  func() time.Time
	size int // most releases kept open

	mu       sync.Mutex
	list     []release.Info // newest first
	listedAt time.Time
	mod      time.Time      // modification time of the releases dir when listed
	open     []*openRelease // most recently used first
}

// openRelease is a release being opened or open. ready is closed when rel
// or err is set, so that concurrent requests for one release open it once.
type openRelease struct {
	id     string
	ready  chan struct{}
	rel    *release.Release
	err    error
	failed time.Time // when opening failed
}

// relist lists the data dir again if the releases dir changed or the
// list is older than every. The caller holds mu.
func (rs *releases) relist(every time.Duration) error {
	now := rs.now()
	var mod time.Time
	if fi, err := os.Stat(filepath.Join(rs.dir, "releases")); err == nil {
		mod = fi.ModTime()
	}
	if !rs.listedAt.IsZero() && mod.Equal(rs.mod) && now.Sub(rs.listedAt) < every {
		return nil
	}
	list, err := release.List(rs.dir)
	if err != nil {
		return fmt.Errorf("list releases: %w", err)
	}
	rs.list, rs.listedAt, rs.mod = list, now, mod
	return nil
}

// infos returns the releases of the data dir, newest first.
func (rs *releases) infos() ([]release.Info, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err := rs.relist(listInterval); err != nil {
		return nil, err
	}
	return rs.list, nil
}

// errNoRelease is returned when the data dir holds no release yet.
func errNoRelease() error {
	return oml.Errorf(oml.ENOTFOUND, "nessuna release pubblicata / no release published yet").
		WithHint("pubblicare una release con oml release --data DIR / publish one with oml release --data DIR")
}

// latest returns the newest release's info.
func (rs *releases) latest() (release.Info, error) {
	list, err := rs.infos()
	if err != nil {
		return release.Info{}, err
	}
	if len(list) == 0 {
		return release.Info{}, errNoRelease()
	}
	return list[0], nil
}

// info returns the info of release id, listing the data dir again when
// the id is not known yet.
func (rs *releases) info(id string) (release.Info, error) {
	if !validID(id) {
		return release.Info{}, oml.Errorf(oml.ENOTFOUND, "release inesistente / no such release").
			WithHint("l'elenco delle release è in /api/v1/releases / the list is at /api/v1/releases")
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err := rs.relist(listInterval); err != nil {
		return release.Info{}, err
	}
	for pass := 0; pass < 2; pass++ {
		for _, in := range rs.list {
			if in.ID == id {
				return in, nil
			}
		}
		if pass == 0 {
			if err := rs.relist(missInterval); err != nil {
				return release.Info{}, err
			}
		}
	}
	return release.Info{}, errUnknownRelease(id)
}

// errUnknownRelease is the answer to an id that names no release, or one
// under embargo for the reader: the two are not told apart.
func errUnknownRelease(id string) error {
	return oml.Errorf(oml.ENOTFOUND, "release %q inesistente / no release %q", id, id).
		WithHint("l'elenco delle release è in /api/v1/releases / the list is at /api/v1/releases")
}

// retryAfter is how long a release that failed to open (a verification
// failure, a disk error) answers with that error before it is tried again:
// opening is the costliest thing the server does, and a broken latest
// release must not make every request repeat it.
const retryAfter = 30 * time.Second

// get returns release id, opening it if it is not among the open ones.
// Only listed ids are opened, so a request cannot name a path.
func (rs *releases) get(id string) (*release.Release, error) {
	if _, err := rs.info(id); err != nil {
		return nil, err
	}
	rs.mu.Lock()
	if o := rs.lookup(id); o != nil {
		rs.mu.Unlock()
		<-o.ready
		return o.rel, o.err
	}
	o := &openRelease{id: id, ready: make(chan struct{})}
	rs.open = append([]*openRelease{o}, rs.open...)
	if len(rs.open) > rs.size {
		rs.open = rs.open[:rs.size]
	}
	rs.mu.Unlock()

	o.rel, o.err = release.Open(rs.dir, id)
	if o.err != nil {
		o.err = fmt.Errorf("open release %s: %w", id, o.err)
		o.failed = rs.now()
	}
	close(o.ready)
	return o.rel, o.err
}

// lookup returns the entry of release id, moved to the front, or nil if
// there is none or it failed more than retryAfter ago (and is dropped).
// The caller holds mu.
func (rs *releases) lookup(id string) *openRelease {
	i := slices.IndexFunc(rs.open, func(o *openRelease) bool { return o.id == id })
	if i < 0 {
		return nil
	}
	o := rs.open[i]
	select {
	case <-o.ready:
		if o.err != nil && rs.now().Sub(o.failed) >= retryAfter {
			rs.open = slices.Delete(rs.open, i, i+1)
			return nil
		}
	default: // being opened
	}
	copy(rs.open[1:i+1], rs.open[:i])
	rs.open[0] = o
	return o
}

// releaseState is how far the opening of a release has gone.
type releaseState int

const (
	releaseAbsent  releaseState = iota // not open, nor being opened
	releaseOpening                     // being opened
	releaseOpen                        // open and verified
	releaseFailed                      // failed to open, less than retryAfter ago
)

// state returns how far the opening of release id has gone, without
// opening it.
func (rs *releases) state(id string) releaseState {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	i := slices.IndexFunc(rs.open, func(o *openRelease) bool { return o.id == id })
	if i < 0 {
		return releaseAbsent
	}
	o := rs.open[i]
	select {
	case <-o.ready:
	default:
		return releaseOpening
	}
	switch {
	case o.err == nil:
		return releaseOpen
	case rs.now().Sub(o.failed) < retryAfter:
		return releaseFailed
	}
	return releaseAbsent
}

// release returns the release a request asks for with its parameter
// "release" (or the path parameter of the same meaning): the given id, or
// the latest when it is empty or "latest". explicit reports whether the
// caller named the release, which makes the response immutable.
func (s *Server) release(r *http.Request, id string) (rel *release.Release, explicit bool, err error) {
	if id == "" || id == "latest" {
		in, err := s.latestFor(r)
		if err != nil {
			return nil, false, err
		}
		rel, err := s.releases.get(in.ID)
		return rel, false, err
	}
	if _, err := s.infoFor(r, id); err != nil {
		return nil, true, err
	}
	rel, err = s.releases.get(id)
	return rel, true, err
}

// visibleReleases returns the releases the reader of r may see, newest
// first: all of them but those under embargo, unless the reader sees
// embargoed releases (a preview).
func (s *Server) visibleReleases(r *http.Request) ([]release.Info, error) {
	list, err := s.releases.infos()
	if err != nil || len(s.embargoed()) == 0 {
		return list, err
	}
	out := make([]release.Info, 0, len(list))
	for _, in := range list {
		if !s.hides(r, in.ID) {
			out = append(out, in)
		}
	}
	return out, nil
}

// latestFor returns the newest release the reader of r may see.
func (s *Server) latestFor(r *http.Request) (release.Info, error) {
	list, err := s.visibleReleases(r)
	if err != nil {
		return release.Info{}, err
	}
	if len(list) == 0 {
		return release.Info{}, errNoRelease()
	}
	return list[0], nil
}

// infoFor returns the info of release id if the reader of r may see it.
func (s *Server) infoFor(r *http.Request, id string) (release.Info, error) {
	in, err := s.releases.info(id)
	if err != nil {
		return release.Info{}, err
	}
	if s.hides(r, id) {
		return release.Info{}, errUnknownRelease(id)
	}
	return in, nil
}

// cacheFor sets the lifetime of rp: immutable for an explicit release,
// short otherwise.
func (rp *reply) cacheFor(explicit bool) *reply {
	rp.immutable = explicit
	if !explicit {
		rp.maxAge = maxAgeLatest
	}
	return rp
}

// handleReleases answers GET /api/v1/releases.
func (s *Server) handleReleases(r *request) (*reply, error) {
	list, err := s.visibleReleases(r.Request)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []release.Info{}
	}
	rp, err := jsonReply(struct {
		Releases []release.Info `json:"releases"`
	}{list})
	if err != nil {
		return nil, err
	}
	rp.maxAge = maxAgeLatest
	return rp, nil
}

// handleLatestRelease answers GET /api/v1/releases/latest.
func (s *Server) handleLatestRelease(r *request) (*reply, error) {
	in, err := s.latestFor(r.Request)
	if err != nil {
		return nil, err
	}
	rp, err := jsonReply(in)
	if err != nil {
		return nil, err
	}
	return rp.cacheFor(false), nil
}

// handleRelease answers GET /api/v1/releases/{id}. It reads the info from
// the listing, without opening the release.
func (s *Server) handleRelease(r *request) (*reply, error) {
	id := r.Path("id")
	if id == "latest" {
		return s.handleLatestRelease(r)
	}
	in, err := s.infoFor(r.Request, id)
	if err != nil {
		return nil, err
	}
	rp, err := jsonReply(in)
	if err != nil {
		return nil, err
	}
	return rp.cacheFor(true), nil
}

// releaseFile answers the routes that return one file of a release.
func (s *Server) releaseFile(r *request, contentType, suffix string, body func(*release.Release) ([]byte, error)) (*reply, error) {
	rel, explicit, err := s.release(r.Request, r.Path("id"))
	if err != nil {
		return nil, err
	}
	b, err := body(rel)
	if err != nil {
		return nil, err
	}
	rp := &reply{contentType: contentType, body: b}
	if suffix != "" {
		rp.header = map[string][]string{"Content-Disposition": {
			mime.FormatMediaType("attachment", map[string]string{"filename": "oml-" + rel.Info().ID + suffix})}}
	}
	return rp.cacheFor(explicit), nil
}

// handleManifest answers GET /api/v1/releases/{id}/manifest with the
// exact bytes of manifest.json, which the signature covers.
func (s *Server) handleManifest(r *request) (*reply, error) {
	return s.releaseFile(r, mediaJSON, "", func(rel *release.Release) ([]byte, error) {
		return rel.ManifestJSON(), nil
	})
}

// handleSignature answers GET /api/v1/releases/{id}/signature with the
// 64 bytes of the ed25519 signature of manifest.json.
func (s *Server) handleSignature(r *request) (*reply, error) {
	return s.releaseFile(r, mediaOctet, ".manifest.sig", func(rel *release.Release) ([]byte, error) {
		return rel.Signature(), nil
	})
}

// handlePublicKey answers GET /api/v1/releases/{id}/pubkey with the
// release's ed25519 public key as a PEM "PUBLIC KEY" block (PKIX), the
// form openssl and every crypto library read. A key fetched from the same
// server proves only integrity in transit: the observatory publishes its
// key elsewhere too, and that copy is the one to trust.
func (s *Server) handlePublicKey(r *request) (*reply, error) {
	return s.releaseFile(r, mediaPEM, ".pub.pem", func(rel *release.Release) ([]byte, error) {
		der, err := x509.MarshalPKIXPublicKey(rel.PublicKey())
		if err != nil {
			return nil, fmt.Errorf("marshal public key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
	})
}

// mediaPEM is the media type of the public key.
const mediaPEM = "application/x-pem-file"

// validID reports whether id may be a release id: letters, digits, dot,
// dash and underscore, not starting with a dot. Only listed ids are ever
// opened; this keeps odd strings out of logs and error messages.
func validID(id string) bool {
	if id == "" || len(id) > 64 || id[0] == '.' {
		return false
	}
	return strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}
