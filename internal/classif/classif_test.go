package classif_test

import (
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// lists loads the embedded lists once for all tests.
var lists = sync.OnceValues(classif.Load)

func mustLoad(tb testing.TB) *classif.Lists {
	tb.Helper()
	l, err := lists()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return l
}

// provinceRef is territorio/lombardia_province_riferimento.csv: comuni at
// 2025-01-01 and ANPAL CPI (by seat) per province.
var provinceRef = []struct {
	code, uts, name, sigla, nuts3 string
	comuni, cpi                   int
}{
	{"012", "012", "Varese", "VA", "ITC41", 136, 7},
	{"013", "013", "Como", "CO", "ITC42", 147, 5},
	{"014", "014", "Sondrio", "SO", "ITC44", 77, 5},
	{"015", "215", "Milano", "MI", "ITC4C", 133, 9},
	{"016", "016", "Bergamo", "BG", "ITC46", 243, 10},
	{"017", "017", "Brescia", "BS", "ITC47", 205, 8},
	{"018", "018", "Pavia", "PV", "ITC48", 185, 3},
	{"019", "019", "Cremona", "CR", "ITC4A", 113, 4},
	{"020", "020", "Mantova", "MN", "ITC4B", 64, 5},
	{"097", "097", "Lecco", "LC", "ITC43", 84, 2},
	{"098", "098", "Lodi", "LO", "ITC49", 60, 1},
	{"108", "108", "Monza e della Brianza", "MB", "ITC4D", 55, 4},
}

func TestCounts(t *testing.T) {
	l := mustLoad(t)
	provs := l.Provinces()
	if len(provs) != 12 {
		t.Fatalf("%d provinces, want 12", len(provs))
	}
	cpiPerProvince := map[string]int{}
	cpis := l.CPIs()
	if len(cpis) != 63 {
		t.Errorf("%d CPI, want 63", len(cpis))
	}
	for _, c := range cpis {
		cpiPerProvince[c.Province]++
	}
	if !sort.SliceIsSorted(cpis, func(i, j int) bool {
		if cpis[i].Province != cpis[j].Province {
			return cpis[i].Province < cpis[j].Province
		}
		return cpis[i].Name < cpis[j].Name
	}) {
		t.Error("CPIs not sorted by province, then name")
	}
	total := 0
	comuniPerCPI := map[string]int{}
	for i, ref := range provinceRef {
		p := provs[i]
		want := classif.Province{Code: ref.code, UTS: ref.uts, Name: ref.name, Sigla: ref.sigla, NUTS3: ref.nuts3}
		if p != want {
			t.Errorf("Provinces()[%d] = %+v, want %+v", i, p, want)
		}
		cs := l.ComuniOf(ref.code)
		if len(cs) != ref.comuni {
			t.Errorf("province %s: %d comuni, want %d", ref.code, len(cs), ref.comuni)
		}
		if cpiPerProvince[ref.code] != ref.cpi {
			t.Errorf("province %s: %d CPI, want %d", ref.code, cpiPerProvince[ref.code], ref.cpi)
		}
		for j, c := range cs {
			total++
			if j > 0 && cs[j-1].Istat >= c.Istat {
				t.Errorf("ComuniOf(%s) not sorted at %s", ref.code, c.Istat)
			}
			if !c.Lombardy || c.Suppressed || c.Province != ref.code || c.Region != "03" || c.NUTS3 != ref.nuts3 {
				t.Errorf("comune %+v in province %s", c, ref.code)
			}
			if _, ok := l.CPI(c.CPI); !ok {
				t.Errorf("comune %s %s: CPI %q unknown", c.Istat, c.Name, c.CPI)
			}
			comuniPerCPI[c.CPI]++
		}
	}
	if total != 1502 {
		t.Errorf("%d Lombardy comuni in 2025, want 1502", total)
	}
	for _, c := range cpis {
		if comuniPerCPI[c.Code] == 0 {
			t.Errorf("CPI %s serves no comune", c.Code)
		}
		if got := len(l.ComuniOfCPI(c.Code)); got != comuniPerCPI[c.Code] {
			t.Errorf("ComuniOfCPI(%s) = %d comuni, want %d", c.Code, got, comuniPerCPI[c.Code])
		}
	}
	if len(l.ComuniOf("215")) != 133 || l.ComuniOf("001") != nil || l.ComuniOf("") != nil {
		t.Error("ComuniOf accepts a UTS code and only Lombardy provinces")
	}
}

func TestComune(t *testing.T) {
	l := mustLoad(t)
	milano := classif.Comune{Istat: "015146", Belfiore: "F205", Name: "Milano", Province: "015", Region: "03",
		NUTS3: "ITC4C", CPI: "F205C000169", Lombardy: true}
	tests := []struct {
		code string
		want classif.Comune
		ok   bool
	}{
		{"015146", milano, true},
		{"F205", milano, true},
		{"f205", milano, true},
		{"15146", milano, true}, // lost its leading zero in a spreadsheet
		{"016215", classif.Comune{Istat: "016215", Belfiore: "L257", Name: "Torre de' Busi", Province: "016", Region: "03", NUTS3: "ITC46", CPI: "E507C000578", Lombardy: true}, true},
		{"097080", classif.Comune{Istat: "016215", Belfiore: "L257", Name: "Torre de' Busi", Province: "016", Region: "03", NUTS3: "ITC46", CPI: "E507C000578", Lombardy: true}, true}, // code before the move to Bergamo
		{"E667", classif.Comune{Istat: "017092", Belfiore: "M312", Name: "Lonato del Garda", Province: "017", Region: "03", NUTS3: "ITC47", CPI: "D284C111134", Lombardy: true}, true}, // Lonato, renamed
		{"012143", classif.Comune{Istat: "012143", Belfiore: "M425", Name: "Cadrezzate con Osmate", Province: "012", Region: "03", NUTS3: "ITC41", CPI: "D869C000586", Lombardy: true}, true},
		{"020061", classif.Comune{Istat: "020061", Belfiore: "I632", Name: "Sermide e Felonica", Province: "020", Region: "03", NUTS3: "ITC4B", CPI: "G186C000035", Lombardy: true}, true},
		{"B347", classif.Comune{Istat: "012028", Belfiore: "B347", Name: "CADREZZATE", Province: "012", Region: "03", NUTS3: "ITC41", CPI: "D869C000586", Lombardy: true, Suppressed: true}, true},
		{"020023", classif.Comune{Istat: "020023", Belfiore: "D529", Name: "FELONICA", Province: "020", Region: "03", NUTS3: "ITC4B", CPI: "G186C000035", Lombardy: true, Suppressed: true}, true},
		{"013019", classif.Comune{Istat: "013019", Belfiore: "A744", Name: "BELLAGIO", Province: "013", Region: "03", NUTS3: "ITC42", Lombardy: true, Suppressed: true}, true},
		{"H501", classif.Comune{Istat: "058091", Belfiore: "H501", Name: "Roma", Province: "058", Region: "12", NUTS3: "ITI43"}, true},
		{"", classif.Comune{}, false},
		{"Z999", classif.Comune{}, false},
		{"0151466", classif.Comune{}, false},
		{"999999", classif.Comune{}, false},
		{"F20", classif.Comune{}, false},
	}
	for _, tt := range tests {
		got, ok := l.Comune(tt.code)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Comune(%q) = %+v, %v; want %+v, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

func TestProvince(t *testing.T) {
	l := mustLoad(t)
	for _, code := range []string{"015", "215"} {
		p, ok := l.Province(code)
		if !ok || p.Code != "015" || p.UTS != "215" || p.Name != "Milano" || p.NUTS3 != "ITC4C" {
			t.Errorf("Province(%q) = %+v, %v", code, p, ok)
		}
	}
	for _, code := range []string{"001", "15", "", "ITC4C"} {
		if p, ok := l.Province(code); ok {
			t.Errorf("Province(%q) = %+v, want not found", code, p)
		}
	}
	names := []struct{ name, code string }{
		{"MILANO", "015"},
		{"Milano", "015"},
		{"Città metropolitana di Milano", "015"},
		{"CITTA' METROPOLITANA DI MILANO", "015"},
		{"Monza e della Brianza", "108"},
		{"MONZA E BRIANZA", "108"},
		{"monza brianza", "108"},
		{"Monza-Brianza", "108"},
		{"MB", "108"},
		{"  bergamo ", "016"},
		{"Provincia di Sondrio", "014"},
		{"MANTOVA", "020"},
		{"Roma", ""},
		{"", ""},
		{"Monza", ""},
	}
	for _, tt := range names {
		p, ok := l.ProvinceByName(tt.name)
		if ok != (tt.code != "") || p.Code != tt.code {
			t.Errorf("ProvinceByName(%q) = %q, %v; want %q", tt.name, p.Code, ok, tt.code)
		}
	}
}

func TestCPI(t *testing.T) {
	l := mustLoad(t)
	for _, code := range []string{"F205C000169", "f205c000169"} {
		c, ok := l.CPI(code)
		if !ok || c != (classif.CPI{Code: "F205C000169", Name: "CPI MILANO", Province: "015"}) {
			t.Errorf("CPI(%q) = %+v, %v", code, c, ok)
		}
	}
	if _, ok := l.CPI("B885C000359"); ok { // CPI Casale Monferrato, Piedmont
		t.Error("a CPI outside Lombardy was found")
	}
	if l.ComuniOfCPI("nope") != nil {
		t.Error("ComuniOfCPI of an unknown CPI is not nil")
	}
}

func TestAteco(t *testing.T) {
	l := mustLoad(t)
	tests := []struct {
		code                    string
		want, level             int
		canon, section, divison string
	}{
		{"I", 1, classif.AtecoSection, "I", "I", ""},
		{"i", 1, classif.AtecoSection, "I", "I", ""},
		{"56", 1, classif.AtecoDivision, "56", "I", "56"},
		{"56.1", 1, classif.AtecoGroup, "56.1", "I", "56"},
		{"561", 1, classif.AtecoGroup, "56.1", "I", "56"},
		{"56.10", 1, classif.AtecoClass, "56.10", "I", "56"},
		{"5610", 1, classif.AtecoClass, "56.10", "I", "56"},
		{"56.10.11", 1, classif.AtecoSubcategory, "56.10.11", "I", "56"},
		{"561011", 1, classif.AtecoSubcategory, "56.10.11", "I", "56"},
		{"01.11.10", 1, classif.AtecoSubcategory, "01.11.10", "A", "01"},
		{"97.00.00", 1, classif.AtecoSubcategory, "97.00.00", "T", "97"}, // removed by the 2022 update, still valid
		{"97.00.01", 1, classif.AtecoSubcategory, "97.00.01", "T", "97"}, // added by the 2022 update
		{"56.10.1", 0, 0, "", "", ""},                                    // ISTAT "categoria": no CO use
		{"56.1.11", 0, 0, "", "", ""},
		{"99.99.99", 0, 0, "", "", ""},
		{"Z", 0, 0, "", "", ""},
		{"", 0, 0, "", "", ""},
	}
	for _, tt := range tests {
		a, ok := l.Ateco(tt.code)
		if ok != (tt.want == 1) {
			t.Errorf("Ateco(%q) ok = %v", tt.code, ok)
			continue
		}
		if ok && (a.Code != tt.canon || a.Level != tt.level || a.Section != tt.section || a.Division != tt.divison || a.Title == "") {
			t.Errorf("Ateco(%q) = %+v", tt.code, a)
		}
	}
	a, _ := l.Ateco("55.10.00")
	if a.Title != "ALBERGHI" || a.Title2022 != "Alberghi" {
		t.Errorf("Ateco(55.10.00) titles = %q, %q", a.Title, a.Title2022)
	}
	a, _ = l.Ateco("97.00.02")
	if a.Title != "Attività di condomini" || a.Title != a.Title2022 {
		t.Errorf("a code added in 2022 takes ISTAT's title, got %+v", a)
	}

	subs := l.AtecoSubcategories()
	if len(subs) != 1224+22 {
		t.Errorf("%d subcategories, want 1246 (ANPAL 1224 + 22 added in 2022)", len(subs))
	}
	if !sort.SliceIsSorted(subs, func(i, j int) bool { return subs[i].Code < subs[j].Code }) {
		t.Error("AtecoSubcategories not sorted")
	}
	for lv, n := range []int{21, 88, 272, 615} {
		if got := len(l.AtecoLevel(lv)); got != n {
			t.Errorf("AtecoLevel(%d) = %d codes, want %d", lv, got, n)
		}
	}
}

func TestAtecoByTitle(t *testing.T) {
	l := mustLoad(t)
	tests := []struct{ title, code string }{
		{"Alberghi", "55.10.00"},
		{"ALBERGHI", "55.10.00"},
		{"Lavori di meccanica generale", "25.62.00"},
		{"Rifugi di montagna", "55.20.30"},
		{"Attività di famiglie e convivenze come datori di lavoro per personale domestico", "97.00.00"},
		{"ATTIVITA' DI FAMIGLIE E CONVIVENZE COME DATORI DI LAVORO PER PERSONALE DOMESTICO", "97.00.00"},
		{"attivita di famiglie e  convivenze come datori di lavoro per personale domestico", "97.00.00"},
		{"Attività di condomini", "97.00.02"},             // ISTAT 2022 title
		{"Alberghi e strutture simili", "55.10"},          // a class title
		{"Ristorazione con somministrazione", "56.10.11"}, // subcategory wins over nothing else
		{"Alberghi e ostelli", ""},
		{"", ""},
	}
	for _, tt := range tests {
		a, ok := l.AtecoByTitle(tt.title)
		if ok != (tt.code != "") || a.Code != tt.code {
			t.Errorf("AtecoByTitle(%q) = %q, %v; want %q", tt.title, a.Code, ok, tt.code)
		}
	}
}

func TestProfession(t *testing.T) {
	l := mustLoad(t)
	tests := []struct {
		code          string
		level         int
		major, group2 string
		cp2001        bool
		title         string
	}{
		{"5", 1, "5", "", false, "PROFESSIONI QUALIFICATE NELLE ATTIVITA' COMMERCIALI E NEI SERVIZI"},
		{"5.2", 2, "5", "5.2", false, "PROFESSIONI QUALIFICATE NELLE ATTIVITÀ RICETTIVE E DELLA RISTORAZIONE"},
		{"5.2.2", 3, "5", "5.2", false, "ESERCENTI ED ADDETTI NELLE ATTIVITÀ DI RISTORAZIONE"},
		{"5.2.2.1", 4, "5", "5.2", false, "CUOCHI IN ALBERGHI E RISTORANTI"},
		{"5.2.2.1.0", 5, "5", "5.2", false, "CUOCHI IN ALBERGHI E RISTORANTI"},
		{"5.2.2.1.0.1", 6, "5", "5.2", false, "AIUTO CUOCO DI RISTORANTE"},
		{"2.1.1.1.1", 5, "2", "2.1", false, "FISICI"}, // CP2011 meaning wins over CP2001's "ASTROFISICO"
		{"8.3.2.0.7", 5, "8", "8.3", true, "LETTIGHIERE"},
		{"5.2.2.1.1", 5, "5", "5.2", true, "AIUTO CUOCO"},
	}
	for _, tt := range tests {
		p, ok := l.Profession(tt.code)
		want := classif.Profession{Code: tt.code, Title: tt.title, Level: tt.level, Major: tt.major, Group2: tt.group2, CP2001: tt.cp2001}
		if !ok || p != want {
			t.Errorf("Profession(%q) = %+v, %v; want %+v", tt.code, p, ok, want)
		}
	}
	for _, code := range []string{"", "0", "5.", "5.2.2.1.0.1.1", "10"} {
		if p, ok := l.Profession(code); ok {
			t.Errorf("Profession(%q) = %+v, want not found", code, p)
		}
	}
	units := l.ProfessionUnits()
	if len(units) != 800 {
		t.Errorf("%d units, want 800", len(units))
	}
	for i, u := range units {
		if u.Level != 5 || u.CP2001 || u.Title == "" {
			t.Errorf("unit %+v", u)
		}
		if i > 0 && !dottedLess(units[i-1].Code, u.Code) {
			t.Errorf("units not sorted at %s, %s", units[i-1].Code, u.Code)
		}
	}
	for lv, n := range map[int]int{1: 9, 2: 37, 3: 129, 4: 511, 6: 7517} {
		if got := len(l.ProfessionLevel(lv)); got != n {
			t.Errorf("ProfessionLevel(%d) = %d codes, want %d", lv, got, n)
		}
	}
}

func dottedLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if len(pa[i]) != len(pb[i]) {
			return len(pa[i]) < len(pb[i])
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestContractValidity(t *testing.T) {
	l := mustLoad(t)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		rome = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		code string
		at   time.Time
		want bool
	}{
		{"A.03.02", day(2011, 6, 1), true},
		{"A.03.02", day(2013, 6, 1), false},
		{"A.03.02", day(2012, 4, 25), true}, // the last day is included
		{"A.03.02", day(2012, 4, 26), false},
		{"A.03.09", day(2012, 4, 26), true},
		{"A.03.09", day(2012, 4, 25), false},
		{"A.03.02", time.Date(2012, 4, 25, 23, 30, 0, 0, rome), true}, // calendar date in its own location
		{"A.04.02", day(2020, 3, 1), true},
		{"A.04.00", day(2020, 3, 1), false},
		{"A.06.01", day(2020, 3, 1), true}, // override: open-ended
		{"A.06.00", day(2021, 12, 31), true},
		{"A.06.01", day(2007, 6, 20), false},
		{"N.02.00", day(2009, 1, 1), true}, // post-2022 code, valid at any date
		{"A.03.15", day(2024, 1, 1), true},
		{"A.01.00", day(2030, 1, 1), true},
	}
	for _, tt := range tests {
		c, ok := l.Contract(tt.code)
		if !ok {
			t.Errorf("Contract(%q) not found", tt.code)
			continue
		}
		if got := c.ValidAt(tt.at); got != tt.want {
			t.Errorf("%s.ValidAt(%s) = %v, want %v (from %s to %s)", tt.code, tt.at, got, tt.want, c.From, c.To)
		}
	}
	if n := len(l.Contracts()); n != 58 {
		t.Errorf("%d contracts, want 58", n)
	}
	for _, o := range classif.ValidityOverrides() {
		c, _ := l.Contract(o.Code)
		if !c.From.Equal(o.From) || !c.To.Equal(o.To) || o.Reason == "" {
			t.Errorf("override %s not applied: %+v", o.Code, c)
		}
	}
}

func TestContractFlags(t *testing.T) {
	l := mustLoad(t)
	tests := []struct {
		code      string
		group     oml.ContractGroup
		fixedTerm bool
	}{
		{"A.01.00", oml.GroupPermanent, false},
		{"A.02.00", oml.GroupFixedTerm, true},
		{"A.02.01", oml.GroupFixedTerm, true},
		{"A.03.02", oml.GroupApprenticeship, false},
		{"A.03.09", oml.GroupApprenticeship, false},
		{"A.03.15", oml.GroupApprenticeship, false},
		{"A.03.04", oml.GroupOther, false},
		{"A.03.07", oml.GroupOther, false},
		{"A.04.01", oml.GroupDomestic, true},
		{"A.04.02", oml.GroupDomestic, false},
		{"A.05.01", oml.GroupIntermittent, true},
		{"A.05.02", oml.GroupIntermittent, false},
		{"A.06.00", oml.GroupTempAgency, false},
		{"A.06.01", oml.GroupTempAgency, true},
		{"A.07.02", oml.GroupOther, false},
		{"B.03.00", oml.GroupParasubordinate, false},
		{"B.04.00", oml.GroupParasubordinate, false},
		{"M.02.00", oml.GroupParasubordinate, false},
		{"C.01.00", oml.GroupOther, false},
		{"F.01.00", oml.GroupPermanent, false},
		{"F.02.00", oml.GroupFixedTerm, true},
		{"G.01.00", oml.GroupPermanent, false},
		{"G.02.00", oml.GroupFixedTerm, true},
		{"G.03.00", oml.GroupOther, false},
		{"H.01.00", oml.GroupFixedTerm, true},
		{"H.02.00", oml.GroupOther, false},
		{"H.03.00", oml.GroupFixedTerm, true},
		{"I.01.00", oml.GroupPermanent, false},
		{"I.02.00", oml.GroupFixedTerm, true},
		{"L.02.00", oml.GroupOther, false},
		{"N.01.00", oml.GroupPermanent, false},
		{"N.02.00", oml.GroupFixedTerm, true},
		{"N.03.00", oml.GroupFixedTerm, true},
	}
	for _, tt := range tests {
		c, ok := l.Contract(tt.code)
		if !ok || c.Group != tt.group || c.FixedTerm != tt.fixedTerm {
			t.Errorf("Contract(%q) = group %q fixed-term %v, %v; want %q %v", tt.code, c.Group, c.FixedTerm, ok, tt.group, tt.fixedTerm)
		}
	}
	if c, ok := l.Contract("a.02.00"); !ok || c.Code != "A.02.00" {
		t.Errorf("Contract(a.02.00) = %+v, %v", c, ok)
	}
	for _, code := range []string{"", "A.02", "A.99.00", "A.02.00 "} {
		if _, ok := l.Contract(code); ok {
			t.Errorf("Contract(%q) found", code)
		}
	}
	if g := classif.ContractGroupOf("Z.00.00"); g != oml.GroupOther {
		t.Errorf("ContractGroupOf(unknown) = %q", g)
	}
}

func TestContractByTitle(t *testing.T) {
	l := mustLoad(t)
	at := day(2020, 1, 1)
	tests := []struct{ title, code string }{
		{"LAVORO A TEMPO DETERMINATO", "A.02.00"},
		{"lavoro a tempo determinato", "A.02.00"},
		{"LAVORO A TEMPO DETERMINATO PER SOSTITUZIONE", "A.02.01"},
		{"LAVORO A TEMPO DETERMINATO  PER SOSTITUZIONE", "A.02.01"},
		{"LAVORO DOMESTICO", "A.04.02"},
		{"LAVORO INTERMITTENTE A TEMPO DETERMINATO", "A.05.01"}, // ended 2013: found, ValidAt tells
		{"LAVORO INTERINALE (O A SCOPO DI SOMMINISTRAZIONE) A TEMPO DETERMINATO", "A.06.01"},
		{"APPRENDISTATO PROFESSIONALIZZANTE O CONTRATTO DI MESTIERE", "A.03.09"},
		{"APPRENDISTATO PER LA QUALIFICA PROFESSIONALE E PER IL DIPLOMA PROFESSIONALE PER LAVORATORI IN MOBILITA'", "A.03.11"},
		{"LAVORO A PROGETTO", ""},
		{"", ""},
	}
	for _, tt := range tests {
		c, ok := l.ContractByTitle(tt.title, at)
		if ok != (tt.code != "") || c.Code != tt.code {
			t.Errorf("ContractByTitle(%q) = %q, %v; want %q", tt.title, c.Code, ok, tt.code)
		}
	}
}

func TestCitizenship(t *testing.T) {
	l := mustLoad(t)
	tests := []struct {
		code, name    string
		eu, italian   bool
		lookup, found string
	}{
		{"000", "ITALIA", true, true, "000", "000"},
		{"000", "ITALIA", true, true, "0", "000"},
		{"235", "ROMANIA", true, false, "235", "235"},
		{"201", "ALBANIA", false, false, "201", "201"},
		{"250", "CROAZIA", true, false, "250", "250"},
		{"219", "REGNO UNITO", false, false, "219", "219"}, // EUOverrides
		{"243", "UCRAINA", false, false, "243", "243"},
	}
	for _, tt := range tests {
		c, ok := l.Citizenship(tt.lookup)
		want := classif.Citizenship{Code: tt.code, Name: tt.name, EU: tt.eu, Italian: tt.italian}
		if !ok || c != want {
			t.Errorf("Citizenship(%q) = %+v, %v; want %+v", tt.lookup, c, ok, want)
		}
	}
	for _, code := range []string{"", "1000", "9x", "abc"} {
		if _, ok := l.Citizenship(code); ok {
			t.Errorf("Citizenship(%q) found", code)
		}
	}
	names := []struct{ name, code string }{
		{"ITALIA", "000"},
		{"italiana", "000"},
		{"UCRAINA", "243"},
		{"Senegal", "450"},
		{"ROMANIA", "235"},
		{"romena", "235"},
		{"Repubblica Ceca", "257"},
		{"CECA, REPUBBLICA", "257"},
		{"Russia", "245"},
		{"Federazione Russa", "245"},
		{"Gran Bretagna e Irlanda del Nord", "219"},
		{"Atlantide", ""},
		{"", ""},
	}
	for _, tt := range names {
		c, ok := l.CitizenshipByName(tt.name)
		if ok != (tt.code != "") || c.Code != tt.code {
			t.Errorf("CitizenshipByName(%q) = %q, %v; want %q", tt.name, c.Code, ok, tt.code)
		}
	}
	all := l.Citizenships()
	if len(all) != 199 || !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Code < all[j].Code }) {
		t.Errorf("Citizenships: %d, sorted %v", len(all), sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Code < all[j].Code }))
	}
}

func TestEducation(t *testing.T) {
	l := mustLoad(t)
	groups := []int{1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3}
	for code, g := range groups {
		e, ok := l.Education(code)
		if !ok || e.Code != code || e.Group != g || e.Title == "" {
			t.Errorf("Education(%d) = %+v, %v; want group %d", code, e, ok, g)
		}
	}
	for _, code := range []int{-1, 13} {
		if _, ok := l.Education(code); ok {
			t.Errorf("Education(%d) found", code)
		}
	}
	titles := []struct {
		title string
		code  int
	}{
		{"DIPLOMA DI ISTRUZIONE SECONDARIA SUPERIORE  CHE PERMETTE L'ACCESSO ALL'UNIVERSITA'", 4},
		{"DIPLOMA DI ISTRUZIONE SECONDARIA SUPERIORE CHE PERMETTE L'ACCESSO ALL'UNIVERSITA'", 4},
		{"diploma di istruzione secondaria superiore che permette l'accesso all'università", 4},
		{"NESSUN TITOLO DI STUDIO", 0},
		{"LICENZA MEDIA", 2},
		{"LAUREA - Vecchio o nuovo ordinamento", 7},
		{"LAUREA - VECCHIO O NUOVO ORDINAMENTO ", 7},
		{"TITOLO DI DOTTORE DI RICERCA", 12},
		{"DOTTORATO", -1},
	}
	for _, tt := range titles {
		e, ok := l.EducationByTitle(tt.title)
		if ok != (tt.code >= 0) || (ok && e.Code != tt.code) {
			t.Errorf("EducationByTitle(%q) = %d, %v; want %d", tt.title, e.Code, ok, tt.code)
		}
	}
	e, _ := l.Education(4)
	if !strings.Contains(e.Title, "SUPERIORE  CHE") {
		t.Errorf("Education(4).Title = %q: the source's double space must be kept", e.Title)
	}
	if len(l.Educations()) != 13 {
		t.Error("Educations: want 13 levels")
	}
}

func TestWorkingTime(t *testing.T) {
	l := mustLoad(t)
	tests := []struct {
		code     string
		want     byte
		partTime bool
		ok       bool
	}{
		{"F", 'F', false, true},
		{"f", 'F', false, true},
		{"P", 'P', true, true},
		{"V", 'V', true, true},
		{"M", 'M', true, true},
		{"", 0, false, true},
		{"X", 0, false, false},
		{"FP", 0, false, false},
	}
	for _, tt := range tests {
		w, ok := l.WorkingTime(tt.code)
		if ok != tt.ok || w.Code != tt.want || w.PartTime != tt.partTime {
			t.Errorf("WorkingTime(%q) = %+v, %v", tt.code, w, ok)
		}
	}
	titles := []struct {
		title string
		want  byte
		ok    bool
	}{
		{"TEMPO PIENO", 'F', true},
		{"tempo pieno", 'F', true},
		{"TEMPO PARZIALE ORIZZONTALE", 'P', true},
		{"TEMPO PARZIALE VERTICALE", 'V', true},
		{"TEMPO PARZIALE MISTO", 'M', true},
		{"NON DEFINITO", 0, true},
		{"", 0, true},
		{"A CHIAMATA", 0, false},
	}
	for _, tt := range titles {
		w, ok := l.WorkingTimeByTitle(tt.title)
		if ok != tt.ok || w.Code != tt.want {
			t.Errorf("WorkingTimeByTitle(%q) = %+v, %v", tt.title, w, ok)
		}
	}
	if n := len(l.WorkingTimes()); n != 5 {
		t.Errorf("%d working times, want 5", n)
	}
}

func TestSources(t *testing.T) {
	srcs := classif.Sources()
	if len(srcs) == 0 {
		t.Fatal("no sources")
	}
	attributed := map[string]bool{}
	for _, s := range srcs {
		if s.Name == "" || s.Publisher == "" || s.Licence == "" || s.Origin == "" || len(s.Files) == 0 {
			t.Errorf("incomplete source %+v", s)
		}
		for _, f := range s.Files {
			attributed[f] = true
		}
	}
	entries, err := os.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".csv") && n != "sources.csv" && !attributed[n] {
			t.Errorf("embedded file %s has no source", n)
		}
	}
}

// TestLookupsDoNotAllocate pins the hot-path contract: canonical-code
// lookups, and title lookups of usual length, never allocate.
func TestLookupsDoNotAllocate(t *testing.T) {
	l := mustLoad(t)
	at := day(2020, 1, 1)
	checks := map[string]func(){
		"Comune istat":       func() { l.Comune("015146") },
		"Comune belfiore":    func() { l.Comune("F205") },
		"Comune lower":       func() { l.Comune("f205") },
		"Comune padded":      func() { l.Comune("15146") },
		"Ateco dotted":       func() { l.Ateco("56.10.11") },
		"Ateco digits":       func() { l.Ateco("561011") },
		"Ateco section":      func() { l.Ateco("i") },
		"Profession":         func() { l.Profession("5.2.2.1.0") },
		"Contract":           func() { l.Contract("A.02.00") },
		"ValidAt":            func() { c, _ := l.Contract("A.03.02"); c.ValidAt(at) },
		"Citizenship":        func() { l.Citizenship("235") },
		"Education":          func() { l.Education(4) },
		"WorkingTime":        func() { l.WorkingTime("P") },
		"Province":           func() { l.Province("215") },
		"CPI":                func() { l.CPI("F205C000169") },
		"AtecoByTitle":       func() { l.AtecoByTitle("Lavori di meccanica generale") },
		"ContractByTitle":    func() { l.ContractByTitle("LAVORO A TEMPO DETERMINATO", at) },
		"CitizenshipByName":  func() { l.CitizenshipByName("UCRAINA") },
		"EducationByTitle":   func() { l.EducationByTitle("LICENZA MEDIA") },
		"WorkingTimeByTitle": func() { l.WorkingTimeByTitle("TEMPO PIENO") },
		"ProvinceByName":     func() { l.ProvinceByName("MONZA E BRIANZA") },
	}
	for name, f := range checks {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per lookup, want 0", name, n)
		}
	}
}

func TestLoadIndependent(t *testing.T) {
	a, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := classif.Load()
	pa := a.Provinces()
	pa[0].Name = "changed"
	if a.Provinces()[0].Name == "changed" || b.Provinces()[0].Name == "changed" {
		t.Error("a returned slice aliases the lists")
	}
}
