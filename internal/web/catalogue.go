package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// Territorial dimensions: by=cpi and by=comune break a territory down into
// its CPIs or comuni (see expandTerritories). They are not dimensions of
// the catalogue, whose breakdowns are per territorial level.
const (
	dimCPI    = "cpi"
	dimComune = "comune"
)

// catalogueOf returns the catalogue a request reads: the one the named
// release (or the latest) was computed with. When no release exists and
// none is named, it is the software's own catalogue and rel is nil.
func (s *Server) catalogueOf(r *http.Request, id string) (cat *method.Catalogue, rel *release.Release, explicit bool, err error) {
	rel, explicit, err = s.release(r, id)
	switch {
	case err == nil:
		return rel.Catalogue(), rel, explicit, nil
	case (id == "" || id == "latest") && isNotFound(err):
		return s.builtin, nil, false, nil
	}
	return nil, nil, false, err
}

// indicatorView is an indicator as the API describes it.
type indicatorView struct {
	ID         string `json:"id"`
	Label      string `json:"label"`
	Definition string `json:"definition"`
	Unit       string `json:"unit"`
	Convention string `json:"convention,omitempty"`
	Kind       string `json:"kind"`
	Additive   bool   `json:"additive"`
	NeedsIDs   bool   `json:"needs_ids"`
	// Available is false when the release's input lacks the ids the
	// indicator needs (open-data input): its cells then have status M.
	Available bool `json:"available"`
	// Dimensions are the ids the indicator may be broken down by (by=),
	// cpi and comune included where it is published at those levels.
	Dimensions []string `json:"dimensions"`
	// Levels are the territorial levels it is published at.
	Levels []string `json:"levels"`
	// Breakdowns lists, per level, the combinations of dimensions it is
	// published for; [] is the total.
	Breakdowns map[string][][]string `json:"breakdowns"`
}

func viewIndicator(cat *method.Catalogue, ind *method.Indicator, rel *release.Release) indicatorView {
	v := indicatorView{
		ID: ind.ID, Label: ind.Label, Definition: ind.Definition, Unit: ind.Unit, Convention: ind.Convention,
		Kind: ind.Kind, Additive: ind.Additive, NeedsIDs: ind.NeedsIDs,
		Available:  !ind.NeedsIDs || rel == nil || rel.Info().HasIDs,
		Dimensions: slices.Clone(cat.DimensionsOf(ind)),
		Levels:     []string{},
		Breakdowns: map[string][][]string{},
	}
	for _, l := range oml.Levels {
		if !ind.AtLevel(l) {
			continue
		}
		v.Levels = append(v.Levels, string(l))
		bs := [][]string{}
		for _, b := range cat.Breakdowns[string(l)] {
			if cat.Allows(ind, l, b) {
				bs = append(bs, append([]string{}, b...))
			}
		}
		v.Breakdowns[string(l)] = bs
	}
	if ind.AtLevel(oml.LevelCPI) {
		v.Dimensions = append(v.Dimensions, dimCPI)
	}
	if ind.AtLevel(oml.LevelComune) {
		v.Dimensions = append(v.Dimensions, dimComune)
	}
	if v.Dimensions == nil {
		v.Dimensions = []string{}
	}
	return v
}

// dimensionView is a dimension of the catalogue as the API describes it.
type dimensionView struct {
	ID        string   `json:"id"`
	Label     string   `json:"label"`
	Partition bool     `json:"partition"`
	AppliesTo []string `json:"applies_to,omitempty"`
}

// territorialDimensions describe by=cpi and by=comune beside the
// catalogue's dimensions.
var territorialDimensions = []dimensionView{
	{ID: dimCPI, Label: "Centri per l'Impiego del territorio", Partition: true},
	{ID: dimComune, Label: "Comuni del territorio", Partition: true},
}

// handleIndicators answers GET /api/v1/indicators.
func (s *Server) handleIndicators(r *request) (*reply, error) {
	cat, rel, explicit, err := s.catalogueOf(r.Request, r.Get("release"))
	if err != nil {
		return nil, err
	}
	out := struct {
		Release       string            `json:"release,omitempty"`
		MethodVersion string            `json:"method_version"`
		Title         string            `json:"title"`
		Disclosure    method.Disclosure `json:"disclosure"`
		Dimensions    []dimensionView   `json:"dimensions"`
		Indicators    []indicatorView   `json:"indicators"`
	}{MethodVersion: cat.Version, Title: cat.Title, Disclosure: cat.Disclosure}
	if rel != nil {
		out.Release = rel.Info().ID
	}
	for _, d := range cat.Dimensions {
		out.Dimensions = append(out.Dimensions, dimensionView{d.ID, d.Label, d.Partition, d.AppliesTo})
	}
	out.Dimensions = append(out.Dimensions, territorialDimensions...)
	for i := range cat.Indicators {
		out.Indicators = append(out.Indicators, viewIndicator(cat, &cat.Indicators[i], rel))
	}
	rp, err := jsonReply(out)
	if err != nil {
		return nil, err
	}
	return rp.cacheFor(explicit), nil
}

// handleIndicator answers GET /api/v1/indicators/{id}.
func (s *Server) handleIndicator(r *request) (*reply, error) {
	cat, rel, explicit, err := s.catalogueOf(r.Request, r.Get("release"))
	if err != nil {
		return nil, err
	}
	ind, err := cat.Indicator(r.Path("id"))
	if err != nil {
		return nil, err
	}
	rp, err := jsonReply(viewIndicator(cat, ind, rel))
	if err != nil {
		return nil, err
	}
	return rp.cacheFor(explicit), nil
}

// handleTerritories answers GET /api/v1/territories: every territory of
// the level (all levels, from the top, when none is given), optionally
// only the children of parent.
func (s *Server) handleTerritories(r *request) (*reply, error) {
	level, err := r.Enum("level")
	if err != nil {
		return nil, err
	}
	parent := r.Get("parent")
	if parent != "" {
		t, ok := s.names.Territory(parent)
		if !ok {
			return nil, errTerritory(parent)
		}
		parent = t.Code
	}
	levels := oml.Levels
	if level != "" {
		levels = []oml.Level{oml.Level(level)}
	}
	out := []oml.Territory{}
	for _, l := range levels {
		for _, t := range s.names.Territories(l) {
			if parent == "" || t.Parent == parent {
				out = append(out, t)
			}
		}
	}
	rp, err := jsonReply(struct {
		Territories []oml.Territory `json:"territories"`
	}{out})
	if err != nil {
		return nil, err
	}
	rp.maxAge = maxAgeStatic
	return rp, nil
}

// codeView is one code of a dimension with its label.
type codeView struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// handleCodes answers GET /api/v1/codes/{dimension}: the codes of the
// dimension present in the release (for one indicator, if given), in the
// natural order of the dimension. For cpi and comune they are the
// territories of that level the release has figures for.
func (s *Server) handleCodes(r *request) (*reply, error) {
	dim := r.Path("dimension")
	rel, explicit, err := s.release(r.Request, r.Get("release"))
	if err != nil {
		return nil, err
	}
	cat := rel.Catalogue()
	indID := r.Get("indicator")
	if indID != "" {
		if _, err := cat.Indicator(indID); err != nil {
			return nil, err
		}
	}
	var label string
	if d, ok := cat.Dimension(dim); ok {
		label = d.Label
	} else if i := slices.IndexFunc(territorialDimensions, func(d dimensionView) bool { return d.ID == dim }); i >= 0 {
		label = territorialDimensions[i].Label
	} else {
		return nil, errDimension(cat, dim)
	}
	var codes []string
	if dim == dimCPI || dim == dimComune {
		codes, err = s.presentTerritories(rel, oml.Level(dim), indID)
	} else {
		codes, err = rel.Codes(dim, indID)
	}
	if err != nil {
		return nil, err
	}
	out := make([]codeView, 0, len(codes))
	for _, c := range s.orderCodes(dim, codes) {
		out = append(out, codeView{c, s.label(dim, c)})
	}
	rp, err := jsonReply(struct {
		Release   string     `json:"release"`
		Dimension string     `json:"dimension"`
		Label     string     `json:"label"`
		Indicator string     `json:"indicator,omitempty"`
		Codes     []codeView `json:"codes"`
	}{rel.Info().ID, dim, label, indID, out})
	if err != nil {
		return nil, err
	}
	return rp.cacheFor(explicit), nil
}

// presentTerritories returns the territories of level l (cpi or comune)
// with at least one published non-zero yearly figure of the indicator (of
// any indicator when it is ""), in either perimeter. Release.Codes answers
// this for the catalogue's dimensions; territories are levels of the
// cube, not dimensions, so they are found with Select.
func (s *Server) presentTerritories(rel *release.Release, l oml.Level, indicator string) ([]string, error) {
	key := rel.Info().ID + "|" + string(l) + "|" + indicator
	s.presentMu.Lock()
	out, ok := s.present[key]
	s.presentMu.Unlock()
	if ok {
		return out, nil
	}
	out, err := s.findTerritories(rel, l, indicator)
	if err != nil {
		return nil, err
	}
	s.presentMu.Lock()
	if len(s.present) >= 256 { // a release's answers never change; keep the memo small
		clear(s.present)
	}
	s.present[key] = out
	s.presentMu.Unlock()
	return out, nil
}

// findTerritories computes presentTerritories.
func (s *Server) findTerritories(rel *release.Release, l oml.Level, indicator string) ([]string, error) {
	cat := rel.Catalogue()
	var inds []string
	if indicator != "" {
		inds = []string{indicator}
	} else {
		for _, ind := range cat.Indicators {
			if ind.AtLevel(l) && (!ind.NeedsIDs || rel.Info().HasIDs) {
				inds = append(inds, ind.ID)
			}
		}
	}
	var all []string
	for _, t := range s.names.Territories(l) {
		all = append(all, t.Code)
	}
	found := map[string]bool{}
	for _, id := range inds {
		if ind, _ := cat.Indicator(id); ind != nil && !ind.AtLevel(l) {
			continue
		}
		for _, per := range oml.Perimeters {
			ds, err := rel.Select(release.Query{Indicator: id, Territories: all, Freq: oml.Yearly, Perimeter: per}, nil)
			if err != nil {
				return nil, err
			}
			for _, o := range ds.Observations {
				if o.HasValue() && o.Value != 0 {
					found[o.Territory] = true
				}
			}
		}
	}
	out := make([]string, 0, len(found))
	for _, code := range all {
		if found[code] {
			out = append(out, code)
		}
	}
	return out, nil
}

// label returns the label of a code of dimension dim, territories
// included.
func (s *Server) label(dim, code string) string {
	if dim == dimCPI || dim == dimComune {
		if t, ok := s.names.Territory(code); ok {
			return t.Name
		}
		return code
	}
	return s.names.Code(dim, code)
}

// orderCodes sorts codes in the natural order of dim (the order of the
// code list; territories by code), unknown codes last in code order.
func (s *Server) orderCodes(dim string, codes []string) []string {
	rank := map[string]int{}
	if dim != dimCPI && dim != dimComune {
		for i, c := range s.names.Codes(dim) {
			rank[c[0]] = i + 1
		}
	}
	out := slices.Clone(codes)
	slices.SortStableFunc(out, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		switch {
		case ra != 0 && rb != 0:
			return ra - rb
		case ra != 0:
			return -1
		case rb != 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

// errTerritory is the error of an unknown territory code.
func errTerritory(code string) error {
	return oml.Errorf(oml.ENOTFOUND, "territorio %q sconosciuto / unknown territory %q", code, code).
		WithHint("codici: ITC4, provincia ISTAT (016), cpi:<codice ANPAL>, comune ISTAT (016024); elenco in /api/v1/territories / codes: ITC4, province (016), cpi:<ANPAL code>, comune (016024); list at /api/v1/territories")
}

// errDimension is the error of an unknown dimension id.
func errDimension(cat *method.Catalogue, dim string) error {
	ids := make([]string, 0, len(cat.Dimensions)+2)
	for _, d := range cat.Dimensions {
		ids = append(ids, d.ID)
	}
	ids = append(ids, dimCPI, dimComune)
	return oml.Errorf(oml.ENOTFOUND, "dimensione %q sconosciuta / unknown dimension %q", dim, dim).
		WithHint("dimensioni / dimensions: %s", strings.Join(ids, ", "))
}

// isNotFound reports whether err is an oml.Error with code ENOTFOUND.
func isNotFound(err error) bool {
	var e *oml.Error
	return errors.As(err, &e) && e.Code == oml.ENOTFOUND
}
