package method

import (
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// Names names the territories and the codes of the cube for people. The
// API, the portal and the reports take every label from here.
type Names struct {
	lists *classif.Lists
}

// NewNames returns the names read off the code lists.
func NewNames(lists *classif.Lists) *Names { return &Names{lists: lists} }

// Unknown is the code of an unknown value in every partition dimension.
const Unknown = "ND"

// fixedCodes are the labels of the dimensions whose codes the methodology
// defines itself rather than a code list.
var fixedCodes = map[string][][2]string{
	"contratto": {{"TI", "Tempo indeterminato"}, {"TD", "Tempo determinato"}, {"AP", "Apprendistato"},
		{"SOM", "Somministrazione"}, {"INT", "Lavoro intermittente"}, {"DOM", "Lavoro domestico"},
		{"PARA", "Parasubordinato"}, {"ALTRO", "Altri contratti"}},
	"orario":       {{"FT", "Tempo pieno"}, {"PT", "Tempo parziale"}},
	"genere":       {{"M", "Maschi"}, {"F", "Femmine"}},
	"classe_eta":   {{"15-24", "15-24 anni"}, {"25-29", "25-29 anni"}, {"30-34", "30-34 anni"}, {"35-44", "35-44 anni"}, {"45-54", "45-54 anni"}, {"55-64", "55-64 anni"}, {"65+", "65 anni e più"}},
	"cittadinanza": {{"IT", "Italiana"}, {"UE", "Altri paesi UE"}, {"EXTRA_UE", "Paesi extra UE"}},
	"titolo_studio": {{"1", "Fino alla licenza media"}, {"2", "Diploma di scuola secondaria superiore"},
		{"3", "Titolo terziario (laurea e oltre)"}},
	"tipo_trasformazione": {{"TD_TI", "Da tempo determinato a tempo indeterminato"}, {"AP_TI", "Da apprendistato a tempo indeterminato"},
		{"PT_FT", "Da tempo parziale a tempo pieno"}, {"FT_PT", "Da tempo pieno a tempo parziale"}, {"ALTRO", "Altre trasformazioni"}},
}

// Codes returns the codes dimension dim can take, with their labels, in
// their natural order; the unknown code ND comes last for partitions.
func (n *Names) Codes(dim string) [][2]string {
	var out [][2]string
	switch dim {
	case "ateco_sezione", "ateco_divisione":
		lv := classif.AtecoSection
		if dim == "ateco_divisione" {
			lv = classif.AtecoDivision
		}
		for _, a := range n.lists.AtecoLevel(lv) {
			out = append(out, [2]string{a.Code, atecoTitle(a)})
		}
	case "professione", "professione_2":
		lv := 1
		if dim == "professione_2" {
			lv = 2
		}
		for _, p := range n.lists.ProfessionLevel(lv) {
			if !p.CP2001 {
				out = append(out, [2]string{p.Code, sentence(p.Title)})
			}
		}
	case "target":
		for _, t := range targetCodes {
			out = append(out, [2]string{t.Code, t.Label})
		}
		return out
	default:
		out = append(out, fixedCodes[dim]...)
	}
	if out == nil {
		return nil
	}
	return append(out, [2]string{Unknown, "Non disponibile"})
}

// Code returns the label of code in dimension dim, or the code itself when
// it has none.
func (n *Names) Code(dim, code string) string {
	switch {
	case code == Unknown:
		return "Non disponibile"
	case dim == "ateco_sezione" || dim == "ateco_divisione":
		if a, ok := n.lists.Ateco(code); ok {
			return atecoTitle(a)
		}
	case dim == "professione" || dim == "professione_2":
		if p, ok := n.lists.Profession(code); ok {
			return sentence(p.Title)
		}
	case dim == "target":
		for _, t := range targetCodes {
			if t.Code == code {
				return t.Label
			}
		}
	default:
		for _, c := range fixedCodes[dim] {
			if c[0] == code {
				return c[1]
			}
		}
	}
	return code
}

// Territory returns the territory with a code: "ITC4", a province
// ("016"), "cpi:<ANPAL code>" or a Lombardy comune ("016024").
func (n *Names) Territory(code string) (oml.Territory, bool) {
	switch {
	case code == oml.RegionCode:
		return oml.Territory{Code: oml.RegionCode, Name: "Lombardia", Level: oml.LevelRegion}, true
	case strings.HasPrefix(code, oml.CPIPrefix):
		c, ok := n.lists.CPI(strings.TrimPrefix(code, oml.CPIPrefix))
		if !ok {
			return oml.Territory{}, false
		}
		return oml.Territory{Code: code, Name: c.Name, Level: oml.LevelCPI, Parent: c.Province}, true
	case len(code) == 3:
		p, ok := n.lists.Province(code)
		if !ok {
			return oml.Territory{}, false
		}
		return oml.Territory{Code: p.Code, Name: p.Name, Level: oml.LevelProvince, Parent: oml.RegionCode}, true
	case len(code) == 6:
		c, ok := n.lists.Comune(code)
		if !ok || !c.Lombardy || c.Istat != code {
			return oml.Territory{}, false
		}
		return oml.Territory{Code: c.Istat, Name: c.Name, Level: oml.LevelComune, Parent: c.Province}, true
	}
	return oml.Territory{}, false
}

// Territories returns every territory of a level, in code order. The
// parent of a CPI is the province of its seat, the parent of a comune its
// province.
func (n *Names) Territories(l oml.Level) []oml.Territory {
	var out []oml.Territory
	switch l {
	case oml.LevelRegion:
		t, _ := n.Territory(oml.RegionCode)
		out = append(out, t)
	case oml.LevelProvince:
		for _, p := range n.lists.Provinces() {
			t, _ := n.Territory(p.Code)
			out = append(out, t)
		}
	case oml.LevelCPI:
		for _, c := range n.lists.CPIs() {
			out = append(out, oml.Territory{Code: oml.CPIPrefix + c.Code, Name: c.Name, Level: oml.LevelCPI, Parent: c.Province})
		}
	case oml.LevelComune:
		for _, c := range n.lists.Comuni() {
			if c.Lombardy && !c.Suppressed {
				out = append(out, oml.Territory{Code: c.Istat, Name: c.Name, Level: oml.LevelComune, Parent: c.Province})
			}
		}
	}
	return out
}

// LevelOf returns the level of a territory code, from its form.
func LevelOf(code string) (oml.Level, bool) {
	switch {
	case code == oml.RegionCode:
		return oml.LevelRegion, true
	case strings.HasPrefix(code, oml.CPIPrefix):
		return oml.LevelCPI, true
	case len(code) == 3:
		return oml.LevelProvince, true
	case len(code) == 6:
		return oml.LevelComune, true
	}
	return "", false
}

// atecoTitle is the ISTAT 2022 title where there is one, else ANPAL's.
func atecoTitle(a classif.Ateco) string {
	if a.Title2022 != "" {
		return a.Title2022
	}
	return sentence(a.Title)
}

// sentence turns an upper-case title into sentence case.
func sentence(s string) string {
	if s == "" || s != strings.ToUpper(s) {
		return s
	}
	l := strings.ToLower(s)
	r := []rune(l)
	r[0] = []rune(strings.ToUpper(string(r[0])))[0]
	return string(r)
}
