package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
)

// APIPrefix is the path prefix of version 1 of the data API.
const APIPrefix = "/api/v1"

// param is one parameter of an operation.
//
// The table of operations (Server.operations) is the one source of truth
// for the API's parameters: the router refuses a request that carries a
// query parameter its operation does not declare, a handler can read only
// the parameters its operation declares (reading another panics, which a
// test catches), and the OpenAPI document lists exactly these.
type param struct {
	Name     string
	In       string // "query" or "path"
	Required bool
	// List marks a comma-separated list; repeating the parameter appends
	// to it. Any other parameter may appear once.
	List        bool
	Enum        []string
	Default     string
	Example     string
	Description string // Italian, then English after " / "
}

// operation is one route of the API: method, path pattern, parameters,
// what a success returns, and the handler.
type operation struct {
	ID          string // OpenAPI operationId
	Method      string
	Path        string // ServeMux pattern path: "/api/v1/releases/{id}"
	Tag         string
	Summary     string
	Description string
	Params      []param
	// Produces lists the media types of a success, the first being the
	// default; Schema names the component schema of a JSON success.
	Produces []string
	Schema   string
	// Errors lists the error statuses the operation documents besides 500.
	Errors []int
	// Auth marks an operation for authenticated readers only (bearer
	// token or portal session): the OpenAPI document says so.
	Auth   bool
	handle func(s *Server, r *request) (*reply, error)
}

// pattern returns the ServeMux pattern of op.
func (op *operation) pattern() string { return op.Method + " " + op.Path }

// queryNames returns the names of op's query parameters, in table order.
func (op *operation) queryNames() []string {
	var out []string
	for _, p := range op.Params {
		if p.In == "query" {
			out = append(out, p.Name)
		}
	}
	return out
}

func (op *operation) param(name string) (*param, bool) {
	for i := range op.Params {
		if op.Params[i].Name == name {
			return &op.Params[i], true
		}
	}
	return nil, false
}

// request is an incoming request with its operation, through which the
// handler reads its parameters.
type request struct {
	*http.Request
	op    *operation
	query url.Values
	// read records the parameters the handler read, for the test that
	// checks the table against the handlers.
	read map[string]bool
}

// newRequest checks the query of r against op: an undeclared parameter or
// a repeated single-valued one is an EINVALID error naming the allowed
// parameters.
func newRequest(r *http.Request, op *operation) (*request, error) {
	q := r.URL.Query()
	for name, vals := range q {
		p, ok := op.param(name)
		if !ok || p.In != "query" {
			return nil, oml.Errorf(oml.EINVALID, "parametro %q sconosciuto / unknown parameter %q", name, name).
				WithHint("parametri ammessi / allowed parameters: %s", allowed(op))
		}
		if !p.List && len(vals) > 1 {
			return nil, oml.Errorf(oml.EINVALID, "parametro %q ripetuto / parameter %q repeated", name, name).
				WithHint("indicare %s una sola volta / give %s once", name, name)
		}
	}
	return &request{Request: r, op: op, query: q, read: map[string]bool{}}, nil
}

func allowed(op *operation) string {
	names := op.queryNames()
	if len(names) == 0 {
		return "nessuno / none"
	}
	return strings.Join(names, ", ")
}

// declared panics unless op declares name with location in: reading an
// undeclared parameter is a bug of the handler, which the recovery of the
// router turns into a 500 and the tests into a failure.
func (r *request) declared(name, in string) *param {
	p, ok := r.op.param(name)
	if !ok || p.In != in {
		panic("web: operation " + r.op.ID + " reads undeclared " + in + " parameter " + name)
	}
	r.read[name] = true
	return p
}

// Get returns the query parameter name, spaces trimmed, or its default.
func (r *request) Get(name string) string {
	p := r.declared(name, "query")
	v := strings.TrimSpace(r.query.Get(name))
	if v == "" {
		return p.Default
	}
	return v
}

// Has reports whether the query carries a non-empty name.
func (r *request) Has(name string) bool {
	r.declared(name, "query")
	return strings.TrimSpace(r.query.Get(name)) != ""
}

// List returns the comma-separated values of the list parameter name,
// across repetitions, trimmed, without empty items or repeats, in order;
// the default when there are none.
func (r *request) List(name string) []string {
	p := r.declared(name, "query")
	var out []string
	for _, v := range r.query[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 && p.Default != "" {
		out = strings.Split(p.Default, ",")
	}
	return out
}

// Enum returns the value of the enumerated parameter name, or an EINVALID
// error listing the values it takes.
func (r *request) Enum(name string) (string, error) {
	p := r.declared(name, "query")
	v := r.Get(name)
	if v == "" || slices.Contains(p.Enum, v) {
		return v, nil
	}
	return "", oml.Errorf(oml.EINVALID, "valore %q non valido per %s / invalid value %q for %s", v, name, v, name).
		WithHint("valori ammessi / allowed values: %s", strings.Join(p.Enum, ", "))
}

// Path returns the path parameter name.
func (r *request) Path(name string) string {
	r.declared(name, "path")
	return r.PathValue(name)
}

// Shared parameters.
var (
	paramRelease = param{Name: "release", In: "query", Example: "20250115-1",
		Description: "release da usare (predefinita: l'ultima pubblicata) / release to use (default: the latest)"}
	paramReleaseID = param{Name: "id", In: "path", Required: true, Example: "20250115-1",
		Description: "identificativo della release, o latest / release id, or latest"}
)

// operations returns the API's table of operations. The order is the
// order of the OpenAPI document.
func (s *Server) operations() []*operation {
	problems := []int{http.StatusBadRequest, http.StatusNotFound}
	return []*operation{
		{
			ID: "listReleases", Method: "GET", Path: APIPrefix + "/releases", Tag: "release",
			Summary:     "Elenco delle release / List the releases",
			Description: "Le release pubblicate, dalla più recente. / The published releases, newest first.",
			Produces:    []string{mediaJSON}, Schema: "ReleaseList",
			handle: (*Server).handleReleases,
		},
		{
			ID: "getLatestRelease", Method: "GET", Path: APIPrefix + "/releases/latest", Tag: "release",
			Summary:  "Ultima release / The latest release",
			Produces: []string{mediaJSON}, Schema: "Release", Errors: []int{http.StatusNotFound},
			handle: (*Server).handleLatestRelease,
		},
		{
			ID: "getRelease", Method: "GET", Path: APIPrefix + "/releases/{id}", Tag: "release",
			Summary: "Una release / One release", Params: []param{paramReleaseID},
			Produces: []string{mediaJSON}, Schema: "Release", Errors: []int{http.StatusNotFound},
			handle: (*Server).handleRelease,
		},
		{
			ID: "getReleaseManifest", Method: "GET", Path: APIPrefix + "/releases/{id}/manifest", Tag: "release",
			Summary:     "Manifesto firmato di una release / The signed manifest of a release",
			Description: "I byte esatti di manifest.json: sha256 e righe di ogni file, versione della metodologia, vintage. La firma ed25519 è su questi byte. / The exact bytes of manifest.json, which the ed25519 signature covers.",
			Params:      []param{paramReleaseID}, Produces: []string{mediaJSON}, Schema: "Manifest", Errors: []int{http.StatusNotFound},
			handle: (*Server).handleManifest,
		},
		{
			ID: "getReleaseSignature", Method: "GET", Path: APIPrefix + "/releases/{id}/signature", Tag: "release",
			Summary:     "Firma ed25519 del manifesto / The ed25519 signature of the manifest",
			Description: "I 64 byte della firma di manifest.json. / The 64 bytes of the signature of manifest.json.",
			Params:      []param{paramReleaseID}, Produces: []string{mediaOctet}, Errors: []int{http.StatusNotFound},
			handle: (*Server).handleSignature,
		},
		{
			ID: "getReleasePublicKey", Method: "GET", Path: APIPrefix + "/releases/{id}/pubkey", Tag: "release",
			Summary:     "Chiave pubblica ed25519 della release / The ed25519 public key of the release",
			Description: "La chiave pubblica con cui verificare la firma, in PEM (PKIX). / The public key that verifies the signature, as PEM (PKIX).",
			Params:      []param{paramReleaseID}, Produces: []string{mediaPEM}, Errors: []int{http.StatusNotFound},
			handle: (*Server).handlePublicKey,
		},
		{
			ID: "listIndicators", Method: "GET", Path: APIPrefix + "/indicators", Tag: "metadati",
			Summary:     "Catalogo degli indicatori / The indicator catalogue",
			Description: "Gli indicatori della metodologia con cui è calcolata la release, con le dimensioni e i livelli territoriali a cui sono pubblicati. / The indicators of the methodology the release was computed with.",
			Params:      []param{paramRelease}, Produces: []string{mediaJSON}, Schema: "IndicatorList", Errors: problems,
			handle: (*Server).handleIndicators,
		},
		{
			ID: "getIndicator", Method: "GET", Path: APIPrefix + "/indicators/{id}", Tag: "metadati",
			Summary: "Un indicatore / One indicator",
			Params: []param{
				{Name: "id", In: "path", Required: true, Example: "saldo", Description: "identificativo dell'indicatore / indicator id"},
				paramRelease,
			},
			Produces: []string{mediaJSON}, Schema: "Indicator", Errors: problems,
			handle: (*Server).handleIndicator,
		},
		{
			ID: "listTerritories", Method: "GET", Path: APIPrefix + "/territories", Tag: "metadati",
			Summary: "Territori / Territories",
			Params: []param{
				{Name: "level", In: "query", Enum: levelNames(), Example: "province",
					Description: "livello territoriale (predefinito: tutti) / territorial level (default: all)"},
				{Name: "parent", In: "query", Example: "016",
					Description: "solo i territori con questo territorio superiore / only the territories with this parent"},
			},
			Produces: []string{mediaJSON}, Schema: "TerritoryList", Errors: []int{http.StatusBadRequest},
			handle: (*Server).handleTerritories,
		},
		{
			ID: "listCodes", Method: "GET", Path: APIPrefix + "/codes/{dimension}", Tag: "metadati",
			Summary:     "Codici presenti in una dimensione / The codes present in a dimension",
			Description: "I codici della dimensione effettivamente presenti nella release (per l'indicatore indicato), con le etichette. / The codes of the dimension actually present in the release (for the indicator given), with labels.",
			Params: []param{
				{Name: "dimension", In: "path", Required: true, Example: "contratto",
					Description: "dimensione (anche cpi e comune) / dimension (also cpi and comune)"},
				{Name: "indicator", In: "query", Example: "saldo",
					Description: "solo i codici presenti per questo indicatore / only the codes present for this indicator"},
				paramRelease,
			},
			Produces: []string{mediaJSON}, Schema: "CodeList", Errors: problems,
			handle: (*Server).handleCodes,
		},
		{
			ID: "getData", Method: "GET", Path: APIPrefix + "/data", Tag: "dati",
			Summary:     "Dati di un indicatore / The data of an indicator",
			Description: dataDescription,
			Params:      dataParams,
			Produces:    dataMedia(), Schema: "Dataset", Errors: problems,
			handle: (*Server).handleData,
		},
		{
			ID: "getOpenAPI", Method: "GET", Path: APIPrefix + "/openapi.json", Tag: "metadati",
			Summary:  "Questo documento OpenAPI / This OpenAPI document",
			Produces: []string{mediaJSON}, Schema: "",
			handle: (*Server).handleOpenAPI,
		},
		{
			ID: "getMicrodata", Method: "GET", Path: APIPrefix + "/microdata", Tag: "microdati",
			Summary: "Microdati pseudonimizzati di un territorio / Pseudonymised microdata of a territory",
			Description: "Le comunicazioni correnti (pseudonimizzate: nessun codice fiscale) del territorio, per analyst del territorio " +
				"o della regione: 401 senza credenziali, 403 per un altro territorio. Ogni lettura è scritta nel registro degli accessi " +
				"con il numero di righe (X-OML-Rows). / The current pseudonymised communications of a territory, for its analysts only; " +
				"every read is audited with its row count.",
			Auth: true,
			Params: []param{
				{Name: "territory", In: "query", Required: true, Example: "016",
					Description: "provincia (codice ISTAT) o ITC4 per la regione / province or ITC4 for the region"},
				{Name: "from", In: "query", Example: "2024-01", Description: "primo mese, AAAA-MM (predefinito: dall'inizio) / first month"},
				{Name: "to", In: "query", Example: "2024-12", Description: "ultimo mese, AAAA-MM (predefinito: fino all'ultimo) / last month"},
				{Name: "format", In: "query", Enum: []string{"csv", "parquet"}, Default: "csv", Description: "formato / format"},
			},
			Produces: []string{mediaCSV, mediaParquet},
			Errors:   []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusServiceUnavailable},
			handle:   (*Server).handleMicrodata,
		},
	}
}

func levelNames() []string {
	out := make([]string, len(oml.Levels))
	for i, l := range oml.Levels {
		out[i] = string(l)
	}
	return out
}
