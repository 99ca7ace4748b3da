package web

import (
	"bytes"
	"encoding/csv"
	"html/template"
	"net/http"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/release"
)

// contributionsPage is the body of the contributions template: the
// approved contributions of the provincial observatories.
type contributionsPage struct {
	Items []contributionView
	Hub   bool
}

// contributionPage is the body of the contribution template.
type contributionPage struct {
	contributionView
	HTML  template.HTML // an analysis, rendered
	Paras []string      // an introduction
	Head  []string      // a data set: its columns
	Data  [][]string    // and its first rows
	Rows  int           // all its rows
}

type contributionView struct {
	federation.Contribution
	Place string // "Osservatorio della provincia di Lecco"
}

func (s *Server) contributionView(c federation.Contribution) contributionView {
	v := contributionView{Contribution: c, Place: "Osservatorio " + c.Territory}
	if t, ok := s.names.Territory(c.Territory); ok {
		v.Place = "Osservatorio della provincia di " + t.Name
		if c.Territory == "015" {
			v.Place = "Osservatorio della Città metropolitana di Milano"
		}
	}
	return v
}

// pageContributions lists the approved contributions.
func (s *Server) pageContributions(r *http.Request, _ *release.Release) (*page, error) {
	body := contributionsPage{Hub: s.fed != nil}
	if s.fed != nil {
		list, err := s.fed.Hub.Contributions(federation.StatusApproved)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			body.Items = append(body.Items, s.contributionView(c))
		}
	}
	return &page{name: "contributions", nav: "/contributi", title: "Contributi degli osservatori",
		description: "Analisi, dati locali e introduzioni degli osservatori provinciali della Lombardia.", body: body}, nil
}

// maxPreviewRows is how many rows of a local data set the page shows.
const maxPreviewRows = 200

// pageContribution shows one approved contribution, marked as local.
func (s *Server) pageContribution(r *http.Request, _ *release.Release) (*page, error) {
	id := r.PathValue("id")
	if s.fed == nil {
		return nil, oml.Errorf(oml.ENOTFOUND, "contributo %q inesistente / no such contribution", id)
	}
	c, content, err := s.fed.Hub.Contribution(id)
	if err != nil {
		return nil, err
	}
	if c.Status != federation.StatusApproved {
		return nil, oml.Errorf(oml.ENOTFOUND, "contributo %q inesistente / no such contribution", id)
	}
	body := contributionPage{contributionView: s.contributionView(c)}
	switch c.Kind {
	case federation.KindAnalysis:
		// goldmark escapes raw HTML by default: a node cannot inject
		// scripts into the hub's portal.
		if body.HTML, err = s.renderAnalysis(r.Context(), content); err != nil {
			return nil, err
		}
	case federation.KindIntro:
		for _, p := range strings.Split(strings.ReplaceAll(string(content), "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				body.Paras = append(body.Paras, p)
			}
		}
	case federation.KindDataset:
		rows, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
		if err != nil || len(rows) == 0 {
			return nil, oml.Errorf(oml.EINTEGRITY, "dati del contributo %s illeggibili / unreadable data", id)
		}
		body.Head, body.Data, body.Rows = rows[0], rows[1:min(len(rows), maxPreviewRows+1)], len(rows)-1
	}
	return &page{name: "contribution", nav: "/contributi", title: c.Title, body: body}, nil
}

// serveContributionData sends an approved data set as published (CSV).
func (s *Server) serveContributionData(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var c federation.Contribution
	var content []byte
	var err error = oml.Errorf(oml.ENOTFOUND, "contributo %q inesistente / no such contribution", id)
	if s.fed != nil {
		if c, content, err = s.fed.Hub.Contribution(id); err == nil && (c.Status != federation.StatusApproved || c.Kind != federation.KindDataset) {
			err = oml.Errorf(oml.ENOTFOUND, "contributo %q senza dati pubblicati / no published data", id)
		}
	}
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contributo-`+id+`.csv"`)
	w.Write(content)
}
