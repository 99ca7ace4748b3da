package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Values the fixture withholds: no output may contain them.
const (
	secretConfidential = 987654.5
	secretUnavailable  = 876543.25
)

// fixture is a small dataset with what every encoder must handle: two
// territories (one with a comma and an accent in its name), one breakdown
// dimension with a code that has no label, a provisional cell, a
// non-integer value, a zero, a confidential and an unavailable cell whose
// values must not leak, and a missing combination (015, F, 2024-06).
func fixture() *oml.Dataset {
	return &oml.Dataset{
		Release:       "2025-01",
		Vintage:       "2025-01-15",
		MethodVersion: "1.0.0",
		Indicator:     "saldo",
		Label:         "Saldo tra attivazioni e cessazioni",
		Unit:          "rapporti di lavoro",
		Perimeter:     oml.Workplace,
		Scope:         oml.ScopeFull,
		Freq:          oml.Monthly,
		By:            []string{"genere"},
		Territories:   map[string]string{"016": "Bergamo", "015": "Milano, Città metropolitana"},
		Codes:         map[string]map[string]string{"genere": {"F": "Femmine"}},
		Dimensions:    map[string]string{"genere": "Genere"},
		Convention:    "Le trasformazioni a tempo indeterminato contano come cessazione del contratto di partenza e attivazione del nuovo.",
		Observations: []oml.Observation{
			{Territory: "016", Period: "2024-05", Codes: []string{"F"}, Value: 120, Status: oml.StatusNormal},
			{Territory: "016", Period: "2024-06", Codes: []string{"F"}, Value: 37.25, Status: oml.StatusProvisional},
			{Territory: "016", Period: "2024-05", Codes: []string{"M"}, Value: secretConfidential, Status: oml.StatusConfidential},
			{Territory: "016", Period: "2024-06", Codes: []string{"M"}, Value: -45, Status: oml.StatusNormal},
			{Territory: "015", Period: "2024-05", Codes: []string{"F"}, Value: 1234, Status: oml.StatusNormal},
			{Territory: "015", Period: "2024-05", Codes: []string{"M"}, Value: math.Copysign(0, -1), Status: oml.StatusNormal},
			{Territory: "015", Period: "2024-06", Codes: []string{"M"}, Value: secretUnavailable, Status: oml.StatusUnavailable},
		},
	}
}

func encode(t testing.TB, f Format, d *oml.Dataset) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, f, d); err != nil {
		t.Fatalf("Encode %s: %v", f, err)
	}
	return buf.Bytes()
}

// TestGolden compares the text formats with testdata/dataset<ext>; run
// go test ./internal/export -update to rewrite them after a deliberate
// change.
func TestGolden(t *testing.T) {
	for _, f := range []Format{JSON, CSV, SDMXCSV, JSONStat} {
		t.Run(string(f), func(t *testing.T) {
			got := encode(t, f, fixture())
			path := filepath.Join("testdata", "dataset"+f.Extension())
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update if the change is meant):\ngot:\n%s\nwant:\n%s", path, got, want)
			}
			// The same dataset gives the same bytes.
			if again := encode(t, f, fixture()); !bytes.Equal(got, again) {
				t.Errorf("two encodings of one dataset differ")
			}
		})
	}
}

// apiResponse mirrors the JSON response of INTERFACE.md, section 4.
type apiResponse struct {
	Release       string           `json:"release"`
	Vintage       string           `json:"vintage"`
	MethodVersion string           `json:"method_version"`
	Indicator     string           `json:"indicator"`
	Perimeter     string           `json:"perimeter"`
	Scope         string           `json:"scope"`
	Freq          string           `json:"freq"`
	Observations  []apiObservation `json:"observations"`
}

type apiObservation struct {
	Territory string            `json:"territory"`
	Period    string            `json:"period"`
	Dims      map[string]string `json:"dims"`
	Value     *float64          `json:"value"`
	Status    string            `json:"status"`
}

func TestJSONMatchesInterface(t *testing.T) {
	d := fixture()
	out := encode(t, JSON, d)
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var r struct {
		apiResponse
		Label      string   `json:"label"`
		Unit       string   `json:"unit"`
		Transform  string   `json:"transform"`
		By         []string `json:"by"`
		Convention string   `json:"convention"`
	}
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if r.Release != "2025-01" || r.Vintage != "2025-01-15" || r.MethodVersion != "1.0.0" ||
		r.Indicator != "saldo" || r.Perimeter != "workplace" || r.Scope != "full" || r.Freq != "M" {
		t.Errorf("metadata = %+v", r.apiResponse)
	}
	if !slices.Equal(r.By, []string{"genere"}) || r.Unit != d.Unit || r.Label != d.Label || r.Convention != d.Convention {
		t.Errorf("by, unit, label, convention = %q %q %q %q", r.By, r.Unit, r.Label, r.Convention)
	}
	if len(r.Observations) != len(d.Observations) {
		t.Fatalf("%d observations, want %d", len(r.Observations), len(d.Observations))
	}
	for i, o := range d.Observations {
		g := r.Observations[i]
		if g.Territory != o.Territory || g.Period != o.Period || g.Status != o.Status.String() || g.Dims["genere"] != o.Codes[0] || len(g.Dims) != 1 {
			t.Errorf("observation %d = %+v, want %+v", i, g, o)
		}
		switch {
		case !o.HasValue() && g.Value != nil:
			t.Errorf("observation %d (%s): value %v, want null", i, o.Status, *g.Value)
		case o.HasValue() && (g.Value == nil || *g.Value != o.Value):
			t.Errorf("observation %d: value %v, want %v", i, g.Value, o.Value)
		}
	}
	if c := r.Observations[2]; c.Status != "C" || c.Value != nil {
		t.Errorf("confidential cell = %+v, want status C and value null", c)
	}
	// Whole numbers have no decimals; others their shortest form.
	for _, s := range []string{`"value":1234,`, `"value":37.25,`, `"value":0,`, `"value":-45,`, `"value":null,"status":"C"`} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output lacks %s", s)
		}
	}

	// Without breakdowns dims is an empty object and by an empty array;
	// transform is present only when set.
	d.By, d.Transform = nil, "yoy"
	for i := range d.Observations {
		d.Observations[i].Codes = nil
	}
	out = encode(t, JSON, d)
	for _, s := range []string{`"dims":{}`, `"by":[]`, `"transform":"yoy"`} {
		if !bytes.Contains(out, []byte(s)) {
			t.Errorf("output without breakdowns lacks %s:\n%s", s, out)
		}
	}
	if !json.Valid(out) {
		t.Errorf("invalid JSON:\n%s", out)
	}
}

// jsonStat mirrors the parts of a JSON-stat 2.0 dataset the tests read.
type jsonStat struct {
	Version   string   `json:"version"`
	Class     string   `json:"class"`
	Label     string   `json:"label"`
	Updated   string   `json:"updated"`
	ID        []string `json:"id"`
	Size      []int    `json:"size"`
	Role      map[string][]string
	Dimension map[string]struct {
		Label    string `json:"label"`
		Category struct {
			Index []string                   `json:"index"`
			Label map[string]string          `json:"label"`
			Unit  map[string]json.RawMessage `json:"unit"`
		} `json:"category"`
	} `json:"dimension"`
	Value     []*float64        `json:"value"`
	Status    map[string]string `json:"status"`
	Extension map[string]string `json:"extension"`
}

// cellIndex returns the position in value of the cell with the given
// category ids, one per dimension of id, by the row-major rule of the
// JSON-stat specification.
func (js *jsonStat) cellIndex(t *testing.T, cats ...string) int {
	t.Helper()
	k := 0
	for i, dim := range js.ID {
		pos := slices.Index(js.Dimension[dim].Category.Index, cats[i])
		if pos < 0 {
			t.Fatalf("no category %s in dimension %s", cats[i], dim)
		}
		k = k*js.Size[i] + pos
	}
	return k
}

func TestJSONStat(t *testing.T) {
	d := fixture()
	out := encode(t, JSONStat, d)
	var js jsonStat
	if err := json.Unmarshal(out, &js); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	if js.Version != "2.0" || js.Class != "dataset" || js.Label != d.Label || js.Updated != "2025-01-15" {
		t.Errorf("version, class, label, updated = %q %q %q %q", js.Version, js.Class, js.Label, js.Updated)
	}
	if !slices.Equal(js.ID, []string{"indicator", "territory", "genere", "period"}) || !slices.Equal(js.Size, []int{1, 2, 2, 2}) {
		t.Errorf("id %v size %v", js.ID, js.Size)
	}
	cells := 1
	for _, n := range js.Size {
		cells *= n
	}
	if len(js.Value) != cells {
		t.Fatalf("len(value) = %d, want the product of size %d", len(js.Value), cells)
	}
	if !slices.Equal(js.Role["time"], []string{"period"}) || !slices.Equal(js.Role["geo"], []string{"territory"}) || !slices.Equal(js.Role["metric"], []string{"indicator"}) {
		t.Errorf("role = %v", js.Role)
	}
	// Territories keep the order of the query; periods are in time order.
	if got := js.Dimension["territory"].Category.Index; !slices.Equal(got, []string{"016", "015"}) {
		t.Errorf("territory index = %v", got)
	}
	if got := js.Dimension["period"].Category.Index; !slices.Equal(got, []string{"2024-05", "2024-06"}) {
		t.Errorf("period index = %v", got)
	}
	if got := js.Dimension["territory"].Category.Label["015"]; got != "Milano, Città metropolitana" {
		t.Errorf("label of 015 = %q", got)
	}
	if got := js.Dimension["genere"].Category.Label["M"]; got != "M" {
		t.Errorf("label of unlabelled code M = %q, want the code", got)
	}
	if got := js.Dimension["genere"].Label; got != "Genere" {
		t.Errorf("label of genere = %q", got)
	}
	if got := string(js.Dimension["indicator"].Category.Unit["saldo"]); got != `{"label":"rapporti di lavoro","decimals":2}` {
		t.Errorf("unit = %s", got)
	}

	tests := []struct {
		territory, genere, period string
		value                     *float64
		status                    string
	}{
		{"015", "F", "2024-05", ptr(1234), "A"},
		{"016", "F", "2024-06", ptr(37.25), "P"},
		{"016", "M", "2024-06", ptr(-45), "A"},
		{"015", "M", "2024-05", ptr(0), "A"},
		{"016", "M", "2024-05", nil, "C"},
		{"015", "M", "2024-06", nil, "M"},
		{"015", "F", "2024-06", nil, ""}, // no observation: null, no status
	}
	for _, tt := range tests {
		k := js.cellIndex(t, "saldo", tt.territory, tt.genere, tt.period)
		got := js.Value[k]
		if (got == nil) != (tt.value == nil) || got != nil && *got != *tt.value {
			t.Errorf("value of %s %s %s at %d = %v, want %v", tt.territory, tt.genere, tt.period, k, deref(got), deref(tt.value))
		}
		if s := js.Status[fmt.Sprint(k)]; s != tt.status {
			t.Errorf("status of %s %s %s at %d = %q, want %q", tt.territory, tt.genere, tt.period, k, s, tt.status)
		}
	}
	if len(js.Status) != len(d.Observations) {
		t.Errorf("%d statuses, want one per observation (%d)", len(js.Status), len(d.Observations))
	}
	for k, v := range map[string]string{"release": "2025-01", "vintage": "2025-01-15", "method_version": "1.0.0",
		"perimeter": "workplace", "scope": "full", "freq": "M", "convention": d.Convention} {
		if js.Extension[k] != v {
			t.Errorf("extension %s = %q, want %q", k, js.Extension[k], v)
		}
	}
}

func ptr(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestJSONStatRejects(t *testing.T) {
	// A diagonal of 200 observations spans 200³ = 8 million cells.
	wide := &oml.Dataset{Indicator: "saldo", Freq: oml.Monthly, By: []string{"comune"}}
	for i := range 200 {
		p := oml.PeriodAt(oml.Monthly, 2000*12+i).String()
		wide.Observations = append(wide.Observations, oml.Observation{
			Territory: fmt.Sprintf("T%03d", i), Period: p, Codes: []string{fmt.Sprintf("%06d", i)}, Status: oml.StatusNormal})
	}
	dup := fixture()
	dup.Observations = append(dup.Observations, dup.Observations[0])
	reserved := fixture()
	reserved.By = []string{"period"}

	for name, tt := range map[string]struct {
		d    *oml.Dataset
		code string
	}{
		"too large":   {wide, oml.EINVALID},
		"duplicate":   {dup, oml.EINTERNAL},
		"reserved id": {reserved, oml.EINTERNAL},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, JSONStat, tt.d)
			if err == nil || oml.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v (code %q), want code %q", err, oml.ErrorCode(err), tt.code)
			}
			if buf.Len() > 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
	// The others list observations and are not bounded by the cube.
	if err := Encode(&bytes.Buffer{}, CSV, wide); err != nil {
		t.Errorf("CSV of the wide dataset: %v", err)
	}
}

func TestCSV(t *testing.T) {
	d := fixture()
	recs, err := csv.NewReader(bytes.NewReader(encode(t, CSV, d))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := []string{"territorio", "nome_territorio", "periodo", "genere", "nome_genere", "valore", "stato",
		"indicatore", "unita", "trasformazione", "perimetro", "ambito", "release", "vintage", "versione_metodologia"}
	if !slices.Equal(recs[0], wantHead) {
		t.Errorf("header = %q\nwant %q", recs[0], wantHead)
	}
	if len(recs) != 1+len(d.Observations) {
		t.Fatalf("%d rows, want %d", len(recs), 1+len(d.Observations))
	}
	for i, want := range [][]string{
		{"016", "Bergamo", "2024-05", "F", "Femmine", "120", "A"},
		{"016", "Bergamo", "2024-06", "F", "Femmine", "37.25", "P"},
		{"016", "Bergamo", "2024-05", "M", "M", "", "C"},
		{"016", "Bergamo", "2024-06", "M", "M", "-45", "A"},
		{"015", "Milano, Città metropolitana", "2024-05", "F", "Femmine", "1234", "A"},
		{"015", "Milano, Città metropolitana", "2024-05", "M", "M", "0", "A"},
		{"015", "Milano, Città metropolitana", "2024-06", "M", "M", "", "M"},
	} {
		if got := recs[1+i][:7]; !slices.Equal(got, want) {
			t.Errorf("row %d = %q, want %q", i+1, got, want)
		}
		if got := recs[1+i][7:]; !slices.Equal(got, []string{"saldo", "rapporti di lavoro", "", "workplace", "full", "2025-01", "2025-01-15", "1.0.0"}) {
			t.Errorf("row %d metadata = %q", i+1, got)
		}
	}
}

func TestSDMXCSV(t *testing.T) {
	d := fixture()
	recs, err := csv.NewReader(bytes.NewReader(encode(t, SDMXCSV, d))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := []string{"STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA", "GENERE", "PERIMETER", "SCOPE",
		"TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS", "UNIT_MEASURE"}
	if !slices.Equal(recs[0], wantHead) {
		t.Fatalf("header = %q", recs[0])
	}
	col := func(row []string, name string) string { return row[slices.Index(wantHead, name)] }
	for i, o := range d.Observations {
		row := recs[1+i]
		if col(row, "STRUCTURE") != "dataflow" || col(row, "STRUCTURE_ID") != "IT_LOMBARDIA:OML_SALDO(1.0.0)" ||
			col(row, "ACTION") != "I" || col(row, "FREQ") != "M" || col(row, "TIME_PERIOD") != o.Period {
			t.Errorf("row %d = %q", i+1, row)
		}
		want := map[oml.Status][2]string{
			oml.StatusNormal:       {"A", "F"},
			oml.StatusProvisional:  {"P", "F"},
			oml.StatusConfidential: {"Q", "C"},
			oml.StatusUnavailable:  {"O", "F"},
		}[o.Status]
		if col(row, "OBS_STATUS") != want[0] || col(row, "CONF_STATUS") != want[1] {
			t.Errorf("row %d (%s): OBS_STATUS %s CONF_STATUS %s, want %s %s", i+1, o.Status,
				col(row, "OBS_STATUS"), col(row, "CONF_STATUS"), want[0], want[1])
		}
		if !o.HasValue() && col(row, "OBS_VALUE") != "" {
			t.Errorf("row %d (%s): OBS_VALUE %q, want empty", i+1, o.Status, col(row, "OBS_VALUE"))
		}
	}
}

func TestSDMXNames(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"016", "016"}, {"cpi:A163C000069", "cpi_A163C000069"}, {"2.5", "2_5"}, {"65+", "65_"},
		{"15-24", "15-24"}, {"ND", "ND"}, {"città", "citt_"},
	} {
		if got := sdmxID(tt.in); got != tt.want {
			t.Errorf("sdmxID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	d := fixture()
	d.Freq, d.Transform, d.MethodVersion = oml.Yearly, "yoy_pct", ""
	if got := sdmxFlow(d); got != "IT_LOMBARDIA:OML_SALDO_YOY_PCT" {
		t.Errorf("flow = %q", got)
	}
	if got := sdmxFreq(d.Freq); got != "A" {
		t.Errorf("annual FREQ = %q, want A", got)
	}
}

func TestXLSX(t *testing.T) {
	d := fixture()
	f, err := excelize.OpenReader(bytes.NewReader(encode(t, XLSX, d)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Dati", "Note"}) {
		t.Fatalf("sheets = %q", got)
	}
	rows, err := f.GetRows("Dati")
	if err != nil {
		t.Fatal(err)
	}
	wantHead := []string{"Codice territorio", "Territorio", "Periodo", "Codice Genere", "Genere", "Valore (rapporti di lavoro)", "Stato"}
	if !slices.Equal(rows[0], wantHead) {
		t.Errorf("header = %q", rows[0])
	}
	if len(rows) != 1+len(d.Observations) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(d.Observations))
	}
	// Row 3 is 016 F 2024-06, provisional 37.25; row 4 the confidential cell.
	for cell, want := range map[string]string{"A3": "016", "B6": "Milano, Città metropolitana", "C3": "2024-06",
		"D3": "F", "E3": "Femmine", "E4": "M", "F3": "37.25", "G3": "P", "F4": "", "G4": "C", "F8": "", "G8": "M", "F7": "0"} {
		if got, _ := f.GetCellValue("Dati", cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	// Values are number cells, codes text cells.
	for _, cell := range []string{"F2", "F3", "F5", "F6", "F7"} {
		typ, err := f.GetCellType("Dati", cell)
		if err != nil || typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("type of %s = %v (%v), want a number", cell, typ, err)
		}
	}
	for _, cell := range []string{"A2", "C2"} {
		if typ, _ := f.GetCellType("Dati", cell); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("type of %s = %v, want a string", cell, typ)
		}
	}
	if got, _ := f.GetCellValue("Dati", "F3", excelize.Options{RawCellValue: true}); got != "37.25" {
		t.Errorf("raw F3 = %q", got)
	}

	notes, err := f.GetRows("Note")
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(notes)
	for _, s := range []string{"2025-01", "2025-01-15", "1.0.0", "workplace", "full", d.Label, d.Unit, d.Convention,
		"Legenda dello stato", "provvisorio", "riservato", "non disponibile"} {
		if !strings.Contains(text, s) {
			t.Errorf("Note lacks %q", s)
		}
	}
	props, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	if props.Title != d.Label || props.Created != "2025-01-15T00:00:00Z" || props.Language != "it-IT" {
		t.Errorf("properties = %+v", props)
	}
}

// TestNothingWithheldLeaks checks every format for the values of the
// confidential and unavailable cells.
func TestNothingWithheldLeaks(t *testing.T) {
	secrets := []string{formatValue(secretConfidential), formatValue(secretUnavailable), "987654", "876543"}
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			out := encode(t, f, fixture())
			if f == XLSX {
				x, err := excelize.OpenReader(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				defer x.Close()
				var all []string
				for _, sheet := range x.GetSheetList() {
					rows, _ := x.GetRows(sheet, excelize.Options{RawCellValue: true})
					all = append(all, fmt.Sprint(rows))
				}
				out = []byte(strings.Join(all, "\n"))
			}
			for _, s := range secrets {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("output contains the withheld value %s", s)
				}
			}
		})
	}
}

func TestLabelsFallBackToCodes(t *testing.T) {
	d := fixture()
	d.Territories, d.Codes, d.Dimensions = nil, nil, nil
	recs, err := csv.NewReader(bytes.NewReader(encode(t, CSV, d))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[1][:5]; !slices.Equal(got, []string{"016", "016", "2024-05", "F", "F"}) {
		t.Errorf("row = %q", got)
	}
	var js jsonStat
	if err := json.Unmarshal(encode(t, JSONStat, d), &js); err != nil {
		t.Fatal(err)
	}
	if js.Dimension["genere"].Label != "genere" || js.Dimension["territory"].Category.Label["015"] != "015" {
		t.Errorf("JSON-stat labels = %+v", js.Dimension)
	}
	encode(t, XLSX, d)
}

func TestEmptyDataset(t *testing.T) {
	d := fixture()
	d.Observations = nil
	for _, f := range Formats {
		out := encode(t, f, d)
		if (f == JSON || f == JSONStat) && !json.Valid(out) {
			t.Errorf("%s: invalid JSON:\n%s", f, out)
		}
	}
	if got := string(encode(t, JSON, d)); !strings.HasSuffix(got, `"observations":[]}`+"\n") {
		t.Errorf("empty JSON = %s", got)
	}
}

func TestEncodeChecksFirst(t *testing.T) {
	bad := map[string]func(d *oml.Dataset){
		"codes do not match By": func(d *oml.Dataset) { d.Observations[3].Codes = nil },
		"NaN value":             func(d *oml.Dataset) { d.Observations[4].Value = math.NaN() },
		"infinite value":        func(d *oml.Dataset) { d.Observations[4].Value = math.Inf(-1) },
		"frequency":             func(d *oml.Dataset) { d.Freq = 'W' },
		"status":                func(d *oml.Dataset) { d.Observations[1].Status = 'X' },
		"By twice":              func(d *oml.Dataset) { d.By = []string{"genere", "genere"} },
	}
	for name, spoil := range bad {
		for _, f := range Formats {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				d := fixture()
				spoil(d)
				if name == "By twice" {
					for i := range d.Observations {
						d.Observations[i].Codes = []string{"F", "F"}
					}
				}
				var buf bytes.Buffer
				if err := Encode(&buf, f, d); err == nil {
					t.Fatal("no error")
				}
				if buf.Len() > 0 {
					t.Errorf("wrote %d bytes before failing", buf.Len())
				}
			})
		}
	}
	// A withheld value is never written, so it may be anything.
	d := fixture()
	d.Observations[2].Value = math.NaN()
	encode(t, JSON, d)
	if err := Encode(&bytes.Buffer{}, JSON, nil); err == nil {
		t.Error("nil dataset: no error")
	}
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Format
	}{
		{"", JSON}, {"json", JSON}, {"CSV", CSV}, {" xlsx ", XLSX}, {"sdmx-csv", SDMXCSV}, {"JSON-STAT", JSONStat},
	} {
		got, err := ParseFormat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"xml", "sdmx", "jsonstat", "csv;"} {
		_, err := ParseFormat(in)
		var e *oml.Error
		if !errors.As(err, &e) || e.Code != oml.EINVALID || !strings.Contains(e.Message, " / ") || !strings.Contains(e.Hint, "json-stat") {
			t.Errorf("ParseFormat(%q) error = %#v", in, err)
		}
	}
	if err := Encode(&bytes.Buffer{}, Format("xml"), fixture()); oml.ErrorCode(err) != oml.EINVALID {
		t.Errorf("Encode in an unknown format: %v", err)
	}
}

func TestContentTypeAndExtension(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Formats {
		if f.ContentType() == "" || f.Extension() == "" || !strings.HasPrefix(f.Extension(), ".") {
			t.Errorf("%s: content type %q, extension %q", f, f.ContentType(), f.Extension())
		}
		if seen[f.Extension()] {
			t.Errorf("%s: extension %s shared with another format", f, f.Extension())
		}
		seen[f.Extension()] = true
	}
	if Format("xml").ContentType() != "" || Format("xml").Extension() != "" {
		t.Error("unknown format has a content type or an extension")
	}
	if got := SDMXCSV.ContentType(); got != "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8" {
		t.Errorf("SDMX-CSV content type = %q", got)
	}
}

// FuzzJSONString checks appendJSONString against encoding/json: both must
// decode to the same string, and the output must be valid JSON.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "Città", "a\"b\\c", "\x00\x1f\n\t\r", "\u2028\u2029", "\xff\xfe", "<&>", "ok\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var a, b string
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("invalid JSON %s: %v", got, err)
		}
		ref, _ := json.Marshal(s)
		if err := json.Unmarshal(ref, &b); err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Errorf("appendJSONString(%q) decodes to %q, encoding/json to %q", s, a, b)
		}
	})
}
