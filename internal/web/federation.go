package web

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/release"
)

// Federation is what a hub needs to serve /federation/v1 to its nodes.
type Federation struct {
	Hub      *federation.Hub
	Verifier *federation.Verifier
}

// fedHandler is a /federation/v1 handler for an authenticated node.
type fedHandler func(w http.ResponseWriter, r *http.Request, tok federation.Token) error

// federationRoutes registers the hub's endpoints on mux: every request is
// signed by a node token (federation.Verifier); a node reads the releases
// and the extract of its own territory only.
func (s *Server) federationRoutes(mux *router) {
	if s.fed == nil {
		mux.HandleFunc("/federation/", func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, oml.Errorf(oml.ENOTFOUND, "la federazione non è attiva su questo server / federation is not enabled here").
				WithHint("l'hub la attiva con oml serve --hub"))
		})
		return
	}
	for pattern, h := range map[string]fedHandler{
		"GET /federation/v1/hello":                       s.fedHello,
		"GET /federation/v1/releases":                    s.fedReleases,
		"GET /federation/v1/releases/{id}/{file...}":     s.fedReleaseFile,
		"GET /federation/v1/extracts/{territory}":        s.fedExtract,
		"GET /federation/v1/extracts/{territory}/{file}": s.fedExtract,
		"POST /federation/v1/contributions":              s.fedContribute,
		"GET /federation/v1/aggregates/{id}":             s.fedAggregate,
		"PUT /federation/v1/aggregates/{id}/{file...}":   s.fedAggregateFile,
		"POST /federation/v1/aggregates/{id}":            s.fedAggregateInstall,
	} {
		mux.Handle(pattern, s.long(s.fedAuth(h)))
	}
	mux.HandleFunc("/federation/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, oml.Errorf(oml.ENOTFOUND, "%s non è un indirizzo della federazione / not a federation address", r.URL.Path))
	})
}

// fedAuth authenticates a request before h; errors are JSON like the API's.
func (s *Server) fedAuth(h fedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		var body []byte
		if r.Body != nil {
			// The body is read whole: its sha256 is part of the signature.
			limit, hint := int64(federation.MaxContribution+1<<20), "al massimo 8 MiB per contributo"
			if r.Method == http.MethodPut {
				limit, hint = federation.MaxAggregateFile, "al massimo 256 MiB per file di una release"
			}
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
			if err != nil {
				s.writeError(w, r, oml.Errorf(oml.ETOOLARGE, "richiesta troppo grande / request too large").WithHint("%s", hint))
				return
			}
			body = b
		}
		tok, err := s.fed.Verifier.Authenticate(r, body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			err = h(w, r, tok)
		}
		if err != nil {
			s.log.Info("federation refused", "id", RequestID(r), "path", r.URL.Path, "err", err.Error())
			s.writeError(w, r, err)
		}
	})
}

func writeJSONBody(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaJSON)
	_, err = w.Write(append(b, '\n'))
	return err
}

func (s *Server) fedHello(w http.ResponseWriter, r *http.Request, tok federation.Token) error {
	pub, err := s.fed.Hub.PublicKey()
	if err != nil {
		return err
	}
	return writeJSONBody(w, federation.Hello{HubTime: time.Now().UTC(), PubKey: string(release.EncodePublicKey(pub)), Token: tok})
}

// fedReleases lists the hub's releases for a node, without those under
// embargo: a node's portal is public, so it gets a release when the
// public does.
func (s *Server) fedReleases(w http.ResponseWriter, r *http.Request, _ federation.Token) error {
	list, err := release.List(s.fed.Hub.Dir())
	if err != nil {
		return err
	}
	embargoed := s.embargoed()
	out := []release.Info{}
	for _, in := range list {
		if _, ok := embargoed[in.ID]; !ok {
			out = append(out, in)
		}
	}
	return writeJSONBody(w, map[string]any{"releases": out})
}

// fedReleaseFile sends a file of a release not under embargo.
func (s *Server) fedReleaseFile(w http.ResponseWriter, r *http.Request, _ federation.Token) error {
	if _, ok := s.embargoed()[r.PathValue("id")]; ok {
		return errUnknownRelease(r.PathValue("id"))
	}
	path, err := s.fed.Hub.ReleaseFile(r.PathValue("id"), r.PathValue("file"))
	if err != nil {
		return err
	}
	return serveFile(w, r, path)
}

// fedExtract serves the extract of the token's own territory: its
// description (no file named) or one of its files; any other territory is
// forbidden.
func (s *Server) fedExtract(w http.ResponseWriter, r *http.Request, tok federation.Token) error {
	terr := r.PathValue("territory")
	if !federation.IsProvince(tok.Territory) {
		return oml.Errorf(oml.EFORBIDDEN, "il membro %s riceve soltanto aggregati, nessun microdato / member %s exchanges aggregates only", tok.Territory, tok.Territory).
			WithHint("un hub regionale membro della rete invia le sue release con oml upstream push")
	}
	if terr != tok.Territory {
		return oml.Errorf(oml.EFORBIDDEN, "il nodo %s non può leggere i microdati del territorio %s / node %s may not read territory %s", tok.Territory, terr, tok.Territory, terr).
			WithHint("ogni nodo riceve l'estratto del proprio territorio soltanto")
	}
	name := r.PathValue("file")
	if name == "" {
		name = federation.ExtractManifest
	}
	path, err := s.fed.Hub.ExtractFile(r.Context(), terr, name)
	if err != nil {
		return err
	}
	return serveFile(w, r, path)
}

// serveFile sends a file with Range support, so that a node resumes an
// interrupted download.
func serveFile(w http.ResponseWriter, r *http.Request, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return oml.Errorf(oml.ENOTFOUND, "file %s non disponibile / file not available", filepath.Base(path))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}

// fedContribute stores a node's contribution for review: the author and
// territory are the token's, whatever the body says.
func (s *Server) fedContribute(w http.ResponseWriter, r *http.Request, tok federation.Token) error {
	var sub federation.Submission
	if err := json.NewDecoder(r.Body).Decode(&sub); err != nil {
		return oml.Errorf(oml.EINVALID, "contributo illeggibile / unreadable contribution: %v", err)
	}
	c, err := s.fed.Hub.Submit(tok, sub, time.Now())
	if err != nil {
		return err
	}
	s.log.Info("contribution received", "id", c.ID, "kind", c.Kind, "territory", c.Territory)
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(c)
}

// memberOnly refuses the aggregate routes to a provincial node: only a
// member hub (a region of a national network) sends releases upward.
func memberOnly(tok federation.Token) error {
	if federation.IsProvince(tok.Territory) {
		return oml.Errorf(oml.EFORBIDDEN, "il nodo %s non invia release: lo fanno gli hub membri della rete / node %s sends no releases", tok.Territory, tok.Territory).
			WithHint("un nodo provinciale riceve le release con oml sync e invia contributi con oml contribute")
	}
	return nil
}

// fedAggregate tells a member what the hub holds of one of its releases.
func (s *Server) fedAggregate(w http.ResponseWriter, r *http.Request, tok federation.Token) error {
	if err := memberOnly(tok); err != nil {
		return err
	}
	st, err := s.fed.Hub.Aggregate(tok, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSONBody(w, st)
}

// fedAggregateFile receives one file of a member's release.
func (s *Server) fedAggregateFile(w http.ResponseWriter, r *http.Request, tok federation.Token) error {
	if err := memberOnly(tok); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if err := s.fed.Hub.ReceiveAggregate(tok, r.PathValue("id"), r.PathValue("file"), body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// fedAggregateInstall checks and installs a member's release; the
// disclosure threshold is at least the hub's own.
func (s *Server) fedAggregateInstall(w http.ResponseWriter, r *http.Request, tok federation.Token) error {
	if err := memberOnly(tok); err != nil {
		return err
	}
	k := s.builtin.Disclosure.K
	info, err := s.fed.Hub.InstallAggregate(tok, r.PathValue("id"), k)
	if err != nil {
		return err
	}
	s.log.Info("member release installed", "member", tok.Territory, "release", info.ID)
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusCreated)
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
