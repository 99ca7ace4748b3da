package web

import (
	"net/http"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
)

// The "Rete" page of a hub that has members (a national hub and the
// regional hubs that send it their releases): who sent what. Members send
// aggregates only, checked again by this hub (internal/federation,
// upstream.go); their release files are served as received, signed by
// their publisher.

// networkPage is the body of the network template.
type networkPage struct {
	Members []networkMember
}

type networkMember struct {
	Territory, Name string
	Releases        []release.Info
}

// pageNetwork lists the members and their releases. It needs no release
// of this hub's own.
func (s *Server) pageNetwork(w http.ResponseWriter, r *http.Request) {
	var info *release.Info
	if in, err := s.latestFor(r); err == nil {
		info = &in
	}
	body := networkPage{}
	if s.fed != nil {
		members, err := s.fed.Hub.Members()
		if err != nil {
			s.pageError(w, r, info, err)
			return
		}
		for _, m := range members {
			name := m.Territory
			if t, ok := s.names.Territory(m.Territory); ok {
				name = t.Name
			}
			body.Members = append(body.Members, networkMember{Territory: m.Territory, Name: name, Releases: m.Releases})
		}
	}
	rp, err := s.render(r, &page{name: "network", nav: "/rete", title: "Rete degli osservatori",
		description: "Release degli osservatori membri della rete: aggregati firmati, con la riservatezza verificata.", body: body}, info)
	if err != nil {
		s.pageError(w, r, info, err)
		return
	}
	writePage(w, r, rp)
}

// serveMemberFile sends a file of a member's release as received.
func (s *Server) serveMemberFile(w http.ResponseWriter, r *http.Request) {
	err := error(oml.Errorf(oml.ENOTFOUND, "nessuna rete su questo server / no network here"))
	if s.fed != nil {
		var path string
		if path, err = s.fed.Hub.MemberFile(r.PathValue("territory"), r.PathValue("id"), r.PathValue("file")); err == nil {
			err = serveFile(w, r, path)
		}
	}
	if err != nil {
		s.pageError(w, r, nil, err)
	}
}
