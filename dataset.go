package oml

// Dataset is the answer to a data query: one indicator, for a set of
// territories, periods and codes of the breakdown dimensions, with what
// every published figure carries (release, vintage, methodology version,
// perimeter, scope, status per cell). The API and the downloads encode it
// as JSON, CSV, XLSX, SDMX-CSV or JSON-stat.
type Dataset struct {
	Release       string    // release id
	Vintage       string    // data vintage, YYYY-MM-DD: the extraction date of the input
	MethodVersion string    // methodology version, "1.0.0"
	Indicator     string    // indicator id, "saldo"
	Label         string    // Italian label of the indicator
	Unit          string    // unit of measure, Italian ("rapporti di lavoro", "%")
	Perimeter     Perimeter // workplace or residence
	Scope         Scope     // full or core
	Freq          Freq
	// Transform names a derived series ("" for the indicator itself):
	// "yoy" year-on-year change, "yoy_pct" in percent, "roll12" 12-month
	// rolling sum, "sa" seasonally adjusted.
	Transform string
	// By lists the breakdown dimensions, in the order of Observation.Codes.
	By []string
	// Labels name the codes for people: Territories by territory code,
	// Codes by dimension id then code, Dimensions by dimension id.
	Territories map[string]string
	Codes       map[string]map[string]string
	Dimensions  map[string]string
	// Convention names the convention the figures follow where one
	// applies (the treatment of transformations in balances by contract).
	Convention   string
	Observations []Observation
}

// Observation is one cell. Value is meaningful unless Status is
// StatusConfidential or StatusUnavailable, when encoders write it empty or
// null.
type Observation struct {
	Territory string
	Period    string   // "2024-06", "2024-Q2", "2024"
	Codes     []string // one per Dataset.By
	Value     float64
	Status    Status
}

// HasValue reports whether the observation's value may be shown.
func (o Observation) HasValue() bool {
	return o.Status != StatusConfidential && o.Status != StatusUnavailable
}
