package web

import (
	"io"
	"mime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/export"
	"github.com/regione-lombardia/oml/internal/method"
	"github.com/regione-lombardia/oml/internal/release"
)

// transforms are the derived series the data API offers (Query.Transform).
var transforms = release.Transforms[1:]

// dataParams are the parameters of GET /api/v1/data.
var dataParams = []param{
	{Name: "indicator", In: "query", Required: true, Example: "saldo",
		Description: "indicatore, da /api/v1/indicators / indicator id, from /api/v1/indicators"},
	{Name: "territory", In: "query", List: true, Default: oml.RegionCode, Example: "015,016",
		Description: "territori separati da virgole: ITC4, provincia ISTAT (016), cpi:<codice ANPAL>, comune ISTAT (016024) / comma-separated territory codes"},
	{Name: "freq", In: "query", Enum: []string{"M", "Q", "Y"}, Default: "M",
		Description: "frequenza: M mese, Q trimestre, Y anno / frequency"},
	{Name: "from", In: "query", Example: "2023-01",
		Description: "primo periodo (AAAA-MM, AAAA-Qn, AAAA, latest, latestMINUSn); predefinito: il primo della release / first period; default: the release's first"},
	{Name: "to", In: "query", Example: "latest",
		Description: "ultimo periodo, stesse forme di from; predefinito: l'ultimo della release / last period, same forms as from; default: the release's last"},
	{Name: "by", In: "query", List: true, Example: "genere",
		Description: "dimensioni di disaggregazione separate da virgole; cpi e comune suddividono il territorio nei suoi CPI o comuni / comma-separated breakdown dimensions; cpi and comune split the territory into its CPIs or comuni"},
	{Name: "perimeter", In: "query", Enum: []string{string(oml.Workplace), string(oml.Residence)}, Default: string(oml.Workplace),
		Description: "workplace: comune della sede di lavoro; residence: comune di residenza / by workplace or by residence"},
	{Name: "scope", In: "query", Enum: []string{string(oml.ScopeFull), string(oml.ScopeCore)}, Default: string(oml.ScopeFull),
		Description: "full: tutti i rapporti; core: privati a tempo indeterminato, determinato e apprendistato / all relationships, or the private core"},
	{Name: "transform", In: "query", Enum: transforms,
		Description: "serie derivata: yoy variazione sull'anno prima, yoy_pct in percentuale, roll12 somma mobile di 12 mesi, sa destagionalizzata / derived series"},
	paramRelease,
	{Name: "format", In: "query", Enum: formatNames(), Default: string(export.JSON),
		Description: "formato; senza format decide l'intestazione Accept / format; without it the Accept header decides"},
}

const dataDescription = "Le osservazioni di un indicatore per territori, periodi e disaggregazioni. " +
	"Ogni risposta porta release, vintage, versione della metodologia, perimetro e ambito (nel corpo e nelle intestazioni X-OML-*). " +
	"Stato di ogni cella: A normale, P provvisorio, C riservato (valore nullo), M non disponibile. " +
	"Oltre il limite di righe la risposta è 400 con codice too_large. / " +
	"The observations of one indicator. Every response carries release, vintage, methodology version, perimeter and scope; " +
	"cell status A normal, P provisional, C confidential (null value), M unavailable. Beyond the row limit the answer is 400 too_large."

func formatNames() []string {
	out := make([]string, len(export.Formats))
	for i, f := range export.Formats {
		out[i] = string(f)
	}
	return out
}

// dataMedia returns the media types of the data formats, JSON first.
func dataMedia() []string {
	out := make([]string, len(export.Formats))
	for i, f := range export.Formats {
		out[i] = f.ContentType()
	}
	return out
}

// dataRequest is a parsed and validated data request.
type dataRequest struct {
	rel      *release.Release
	explicit bool
	ind      *method.Indicator
	query    release.Query
	format   export.Format
	// viaAccept is set when the Accept header chose the format.
	viaAccept bool
	// asked are the territories as the caller gave them (canonical codes),
	// before by=cpi or by=comune expanded them; split is that dimension.
	asked []string
	split string
}

// handleData answers GET /api/v1/data.
func (s *Server) handleData(r *request) (*reply, error) {
	d, err := s.parseData(r)
	if err != nil {
		return nil, err
	}
	in := d.rel.Info()
	h := map[string][]string{
		"X-OML-Release":        {in.ID},
		"X-OML-Vintage":        {in.Vintage},
		"X-OML-Method-Version": {in.MethodVersion},
		"X-OML-Perimeter":      {string(d.query.Perimeter)},
		"X-OML-Scope":          {string(d.query.Scope)},
	}
	// A preview of a release under embargo says until when.
	if until := s.embargoOf(in.ID); !until.IsZero() {
		h["X-OML-Embargo"] = []string{until.UTC().Format(time.RFC3339)}
	}
	switch d.format {
	case export.CSV, export.XLSX, export.SDMXCSV:
		h["Content-Disposition"] = []string{mime.FormatMediaType("attachment", map[string]string{"filename": d.filename()})}
	}
	rp := &reply{
		contentType: d.format.ContentType(),
		etag:        s.dataTag(d),
		header:      h,
		varyAccept:  d.viaAccept,
		render: func(w io.Writer) error {
			ds, err := d.rel.Select(d.query, s.names)
			if err != nil {
				return s.tooLarge(err)
			}
			return export.Encode(w, d.format, ds)
		},
	}
	return rp.cacheFor(d.explicit), nil
}

// tooLarge gives an ETOOLARGE error from the release a hint on how to
// narrow the query, if it has none.
func (s *Server) tooLarge(err error) error {
	if oml.ErrorCode(err) != oml.ETOOLARGE || oml.ErrorHint(err) != "" {
		return err
	}
	return &oml.Error{Code: oml.ETOOLARGE, Message: oml.ErrorMessage(err), Err: err,
		Hint: "il limite è " + strconv.Itoa(s.rowLimit) + " osservazioni per richiesta: restringere from/to, i territori o le disaggregazioni (by), o usare freq=Q o Y / " +
			"the limit is " + strconv.Itoa(s.rowLimit) + " observations a request: narrow from/to, the territories or by, or use freq=Q or Y"}
}

// dataTag is the entity tag of a data response: it depends on the release
// (immutable), the normalised query, the format and the software that
// encodes it, so it is known before the data are read.
func (s *Server) dataTag(d *dataRequest) string {
	q := d.query
	return d.rel.Info().ID + "-" + hashTag(
		q.Indicator, strings.Join(q.Territories, ","), q.Freq.String(), q.From.String(), q.To.String(),
		strings.Join(q.By, ","), string(q.Perimeter), string(q.Scope), q.Transform, strconv.Itoa(q.Limit),
		string(d.format), encodingRevision)
}

// encodingRevision changes whenever the bytes the API writes for the same
// release and query change (an encoder fixed, a field added), so that no
// cache keeps the old bytes under the old tag.
const encodingRevision = "1"

// parseData reads and checks every parameter of a data request, resolves
// the defaults and the relative periods against the release, and expands
// by=cpi and by=comune into territories.
func (s *Server) parseData(r *request) (*dataRequest, error) {
	d := &dataRequest{}
	var err error
	if d.format, d.viaAccept, err = requestFormat(r); err != nil {
		return nil, err
	}
	freq, err := oml.ParseFreq(r.Get("freq"))
	if err != nil {
		return nil, err
	}
	per, err := r.Enum("perimeter")
	if err != nil {
		return nil, err
	}
	scope, err := r.Enum("scope")
	if err != nil {
		return nil, err
	}
	transform, err := r.Enum("transform")
	if err != nil {
		return nil, err
	}
	if d.rel, d.explicit, err = s.release(r.Request, r.Get("release")); err != nil {
		return nil, err
	}
	cat := d.rel.Catalogue()
	if !r.Has("indicator") {
		return nil, oml.Errorf(oml.EINVALID, "manca il parametro indicator / parameter indicator is missing").
			WithHint("es. /api/v1/data?indicator=saldo; l'elenco è in /api/v1/indicators / e.g. indicator=saldo; the list is at /api/v1/indicators")
	}
	if d.ind, err = cat.Indicator(r.Get("indicator")); err != nil {
		return nil, err
	}

	// Territories, canonical and without repeats.
	seen := map[string]bool{}
	for _, code := range r.List("territory") {
		t, ok := s.names.Territory(code)
		if !ok {
			return nil, errTerritory(code)
		}
		if !seen[t.Code] {
			seen[t.Code] = true
			d.asked = append(d.asked, t.Code)
		}
	}

	// Breakdowns: the catalogue's dimensions, plus one territorial split.
	var by []string
	for _, dim := range r.List("by") {
		switch {
		case dim == dimCPI || dim == dimComune:
			if d.split != "" {
				return nil, oml.Errorf(oml.EINVALID, "by: cpi e comune si escludono / by: cpi and comune exclude each other").
					WithHint("scegliere by=cpi oppure by=comune / choose by=cpi or by=comune")
			}
			d.split = dim
		default:
			if _, ok := cat.Dimension(dim); !ok {
				v := viewIndicator(cat, d.ind, d.rel)
				return nil, oml.Errorf(oml.EINVALID, "by: dimensione %q sconosciuta / by: unknown dimension %q", dim, dim).
					WithHint("dimensioni di %s / dimensions of %s: %s", d.ind.ID, d.ind.ID, strings.Join(v.Dimensions, ", "))
			}
			by = append(by, dim)
		}
	}
	territories, err := s.expandTerritories(d.asked, d.split)
	if err != nil {
		return nil, err
	}
	by = normaliseBy(cat, by)

	// Periods: defaults and relative periods resolve against the release.
	first, last := d.rel.Periods(freq)
	from, err := resolvePeriod("from", r.Get("from"), freq, first, last, false)
	if err != nil {
		return nil, err
	}
	to, err := resolvePeriod("to", r.Get("to"), freq, first, last, true)
	if err != nil {
		return nil, err
	}
	if from.Freq != 0 && to.Freq != 0 && from.Index() > to.Index() {
		return nil, oml.Errorf(oml.EINVALID, "from (%s) è dopo to (%s) / from (%s) is after to (%s)", from, to, from, to).
			WithHint("la release copre / the release covers %s … %s", first, last)
	}

	d.query = release.Query{
		Indicator: d.ind.ID, Territories: territories, Freq: freq, From: from, To: to, By: by,
		Perimeter: oml.Perimeter(per), Scope: oml.Scope(scope), Transform: transform, Limit: s.rowLimit,
	}
	return d, nil
}

// requestFormat returns the format the request asks for: the format
// parameter, or else the first format the Accept header names (JSON when
// it names none). viaAccept reports that the header decided.
func requestFormat(r *request) (f export.Format, viaAccept bool, err error) {
	if r.Has("format") {
		f, err = export.ParseFormat(r.Get("format"))
		return f, false, err
	}
	return negotiate(r.Header.Get("Accept")), true, nil
}

// negotiate picks a download format from an Accept header: the media
// range of highest q that a format has (JSON-stat has no media type of its
// own and is chosen only by format=json-stat); JSON by default.
func negotiate(accept string) export.Format {
	best, bestQ := export.JSON, 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		var f export.Format
		switch mt {
		case "application/json":
			f = export.JSON
		case "text/csv":
			f = export.CSV
		case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
			f = export.XLSX
		case "application/vnd.sdmx.data+csv":
			f = export.SDMXCSV
		default:
			continue
		}
		if q > bestQ {
			best, bestQ = f, q
		}
	}
	return best
}

// expandTerritories returns the territories a query covers: those given,
// or with split = cpi or comune each broken into its CPIs (the CPIs whose
// seat is in the province; every CPI for the region) or its comuni (of
// the region, province or CPI), in code order and without repeats.
func (s *Server) expandTerritories(codes []string, split string) ([]string, error) {
	if split == "" {
		return codes, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, code := range codes {
		level, _ := method.LevelOf(code)
		var parts []string
		switch {
		case split == dimCPI && level == oml.LevelComune:
			return nil, oml.Errorf(oml.EINVALID, "by=cpi non si applica al comune %s / by=cpi does not apply to comune %s", code, code).
				WithHint("by=cpi suddivide la regione (ITC4) o una provincia / by=cpi splits the region or a province")
		case split == dimCPI && level == oml.LevelCPI, split == dimComune && level == oml.LevelComune:
			parts = []string{code}
		case split == dimCPI:
			parts = s.children.cpi[code]
		default:
			parts = s.children.comune[code]
		}
		for _, p := range parts {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// children are the territories by=cpi and by=comune split a territory
// into, computed once from the code lists.
type children struct {
	cpi    map[string][]string // region or province -> CPIs
	comune map[string][]string // region, province or CPI -> comuni
}

func newChildren(names *method.Names, lists *classif.Lists) children {
	c := children{cpi: map[string][]string{}, comune: map[string][]string{}}
	for _, t := range names.Territories(oml.LevelCPI) {
		c.cpi[oml.RegionCode] = append(c.cpi[oml.RegionCode], t.Code)
		c.cpi[t.Parent] = append(c.cpi[t.Parent], t.Code)
	}
	for _, t := range names.Territories(oml.LevelComune) {
		c.comune[oml.RegionCode] = append(c.comune[oml.RegionCode], t.Code)
		c.comune[t.Parent] = append(c.comune[t.Parent], t.Code)
	}
	for _, cpi := range lists.CPIs() {
		code := oml.CPIPrefix + cpi.Code
		for _, m := range lists.ComuniOfCPI(cpi.Code) {
			if m.Lombardy && !m.Suppressed {
				c.comune[code] = append(c.comune[code], m.Istat)
			}
		}
	}
	return c
}

// normaliseBy returns by in the catalogue's order when it is a
// permutation of a published breakdown (by=classe_eta,genere is the
// breakdown genere,classe_eta), so that equivalent queries share an
// entity tag; otherwise by as given, which Select refuses with the list
// of the breakdowns it publishes.
func normaliseBy(cat *method.Catalogue, by []string) []string {
	for _, l := range oml.Levels {
		for _, b := range cat.Breakdowns[string(l)] {
			if sameSet(b, by) {
				return slices.Clone(b)
			}
		}
	}
	return by
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// resolvePeriod reads the from (end false) or to (end true) parameter at
// frequency f: "" is the release's first or last period, latest and
// latestMINUSn count back from the last, and a period coarser than f
// stands for its first (from) or last (to) period at f (from=2024 with
// freq=M is 2024-01). A finer period is an error: it would cut a
// quarter or a year in two.
func resolvePeriod(name, v string, f oml.Freq, first, last oml.Period, end bool) (oml.Period, error) {
	switch {
	case v == "":
		if end {
			return last, nil
		}
		return first, nil
	case len(v) >= 6 && strings.EqualFold(v[:6], "latest"):
		n := 0
		if rest := v[6:]; rest != "" {
			digits, ok := cutPrefixFold(rest, "minus")
			var err error
			if n, err = strconv.Atoi(digits); !ok || err != nil || n < 0 || digits[0] == '+' {
				return oml.Period{}, oml.Errorf(oml.EINVALID, "%s=%s non valido / invalid %s=%s", name, v, name, v).
					WithHint("usare latest o latestMINUSn, es. latestMINUS11 / use latest or latestMINUSn, e.g. latestMINUS11")
			}
		}
		if last.Freq == 0 {
			return oml.Period{}, nil
		}
		return last.Add(-n), nil
	}
	p, err := oml.ParsePeriod(v)
	if err != nil {
		return oml.Period{}, err
	}
	switch {
	case p.Freq == f:
		return p, nil
	case rank(p.Freq) > rank(f):
		a, b := p.Months()
		if end {
			return b.Of(f), nil
		}
		return a.Of(f), nil
	}
	return oml.Period{}, oml.Errorf(oml.EINVALID, "%s=%s è più fine della frequenza %s / %s=%s is finer than freq %s", name, v, f, name, v, f).
		WithHint("con freq=Q usare 2024-Q2 o 2024, con freq=Y usare 2024 / with freq=Q use 2024-Q2 or 2024, with freq=Y use 2024")
}

// rank orders the frequencies from the finest.
func rank(f oml.Freq) int { return slices.Index(oml.Freqs, f) }

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// filename is the name of a download: what the query is, so that
// downloads of different queries do not overwrite each other, e.g.
// oml_saldo_016_per-genere_M_2023-01_2024-06_20250115-1.csv.
func (d *dataRequest) filename() string {
	q := d.query
	parts := []string{"oml", q.Indicator}
	switch {
	case len(d.asked) <= 3:
		parts = append(parts, strings.Join(d.asked, "+"))
	default:
		parts = append(parts, strconv.Itoa(len(d.asked))+"-territori")
	}
	if by := append(slices.Clone(q.By), splitOf(d.split)...); len(by) > 0 {
		parts = append(parts, "per-"+strings.Join(by, "-"))
	}
	if q.Transform != "" {
		parts = append(parts, q.Transform)
	}
	parts = append(parts, q.Freq.String())
	if q.From.Freq != 0 {
		parts = append(parts, q.From.String())
	}
	if q.To.Freq != 0 {
		parts = append(parts, q.To.String())
	}
	if q.Perimeter != oml.Workplace {
		parts = append(parts, string(q.Perimeter))
	}
	if q.Scope != oml.ScopeFull {
		parts = append(parts, string(q.Scope))
	}
	parts = append(parts, d.rel.Info().ID)
	name := strings.Join(parts, "_")
	// Only characters safe in a file name on every system.
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '+', r == '.':
			return r
		}
		return '-'
	}, name)
	return name + d.format.Extension()
}

func splitOf(split string) []string {
	if split == "" {
		return nil
	}
	return []string{split}
}
