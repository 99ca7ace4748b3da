package web

import (
	"encoding/csv"
	"html/template"
	"net/http"
	"os"
	"strconv"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/local"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/svgchart"
)

// The "Dati locali" section: what this observatory adds on its own beside
// the common statistics (internal/local). Every page says so, and names
// the observatory.

// localPage is the body of the local template.
type localPage struct {
	Place       string
	Datasets    []local.Dataset
	Geographies []local.Geography
}

// localDatasetPage is the body of the local-dataset template.
type localDatasetPage struct {
	Place string
	local.Dataset
	K    int
	Head []string
	Data [][]string
	Rows int
}

// localGeographyPage is the body of the local-geography template.
type localGeographyPage struct {
	Place string
	local.Geography
	K      int
	Years  []string
	Tables []localTable
	Chart  template.HTML // SVG of the yearly balance of the areas
}

// localTable is one indicator of a geography's summary: a row per area, a
// column per year.
type localTable struct {
	Indicator, Label string
	Rows             [][]cellView
}

// observatory names this server's observatory: a node's province, or the
// region.
func (s *Server) observatory() string {
	if s.territory == "" || s.territory == oml.RegionCode {
		return "Osservatorio regionale della Lombardia"
	}
	if s.territory == "015" {
		return "Osservatorio della Città metropolitana di Milano"
	}
	if t, ok := s.names.Territory(s.territory); ok {
		return "Osservatorio della provincia di " + t.Name
	}
	return "Osservatorio " + s.territory
}

func (s *Server) pageLocal(r *http.Request, _ *release.Release) (*page, error) {
	ds, err := local.Datasets(s.dataDir)
	if err != nil {
		return nil, err
	}
	gs, err := local.Geographies(s.dataDir)
	if err != nil {
		return nil, err
	}
	return &page{name: "local", nav: "/locale", title: "Dati locali",
		description: "Dati e geografie propri dell'osservatorio, accanto agli indicatori comuni.",
		body:        localPage{Place: s.observatory(), Datasets: ds, Geographies: gs}}, nil
}

func (s *Server) pageLocalDataset(r *http.Request, rel *release.Release) (*page, error) {
	k := rel.Catalogue().Disclosure.K
	d, rows, err := local.OpenDataset(s.dataDir, r.PathValue("slug"), k)
	if err != nil {
		return nil, err
	}
	body := localDatasetPage{Place: s.observatory(), Dataset: d, K: k, Head: rows[0], Data: rows[1:min(len(rows), maxPreviewRows+1)], Rows: len(rows) - 1}
	return &page{name: "local-dataset", nav: "/locale", title: d.Meta.Title, description: d.Meta.Description, body: body}, nil
}

func (s *Server) serveLocalDataset(w http.ResponseWriter, r *http.Request) {
	rel, _, err := s.release(r, "")
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	d, rows, err := local.OpenDataset(s.dataDir, r.PathValue("slug"), rel.Catalogue().Disclosure.K)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Slug+`.csv"`)
	csv.NewWriter(w).WriteAll(rows)
}

func (s *Server) pageLocalGeography(r *http.Request, rel *release.Release) (*page, error) {
	g, _, err := local.OpenGeography(s.dataDir, r.PathValue("slug"))
	if err != nil {
		return nil, err
	}
	body := localGeographyPage{Place: s.observatory(), Geography: g, K: rel.Catalogue().Disclosure.K}
	if g.Computed != nil {
		sum, err := local.ReadSummary(s.dataDir, g.Slug)
		if err != nil {
			return nil, err
		}
		body.Years = sum.Years
		cat := rel.Catalogue()
		chart := svgchart.Chart{Categories: sum.Years, Title: "Saldo annuale per area",
			Desc: "Saldo tra attivazioni e cessazioni di ogni anno, per area; i valori riservati mancano."}
		for i, id := range sum.Indicators {
			t := localTable{Indicator: id, Label: id}
			dec := 0
			for _, ind := range cat.Indicators {
				if ind.ID == id {
					t.Label = ind.Label + " (" + ind.Unit + ")"
					if ind.Unit == "%" {
						dec = 1
					}
				}
			}
			for _, a := range sum.Areas {
				row := []cellView{label(a.Name+" ("+strconv.Itoa(a.Comuni)+" comuni)", "")}
				for y := range sum.Years {
					v := 0.0
					if p := a.Values[i][y]; p != nil {
						v = *p
					}
					row = append(row, value(v, oml.Status(a.Status[i][y][0]), dec, id == "saldo"))
				}
				t.Rows = append(t.Rows, row)
				if id == "saldo" && len(chart.Series) < len(svgchart.Colours) {
					chart.Series = append(chart.Series, svgchart.Series{Name: a.Name, Kind: svgchart.Line, Values: a.Values[i]})
				}
			}
			body.Tables = append(body.Tables, t)
		}
		body.Chart = template.HTML(chart.SVG())
	}
	return &page{name: "local-geography", nav: "/locale", title: g.Meta.Title, description: g.Meta.Description, body: body}, nil
}

func (s *Server) serveLocalGeography(w http.ResponseWriter, r *http.Request) {
	g, path, err := local.OpenGeography(s.dataDir, r.PathValue("slug"))
	if err == nil && path == "" {
		err = oml.Errorf(oml.ENOTFOUND, "indicatori della geografia %s non ancora calcolati / not computed yet", g.Slug).WithHint("oml local compute")
	}
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+g.Slug+`-indicatori.csv"`)
	http.ServeContent(w, r, "", st.ModTime(), f)
}
