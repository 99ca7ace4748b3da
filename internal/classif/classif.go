// Package classif holds the code lists every CO row is validated and
// decoded against: comuni, provinces and Centri per l'Impiego (CPI) of
// Lombardy, ATECO 2007, CP2011 professions, MLPS contract types,
// citizenships, education levels and working-time codes.
//
// The lists are embedded in the binary. Load parses them once (about 20 ms);
// the returned *Lists is read-only and safe for concurrent use. Lookups by
// canonical code are single map accesses that do not allocate, because the
// CO decoders call them for every one of tens of millions of rows. Lookups by title or name (used for the Region's open
// data, which carry descriptions instead of codes) fold case, accents,
// spaces and punctuation; they do not allocate either for titles of usual
// length.
//
// # Sources
//
// The embedded files in data/ are written by the generator in
// internal/gen from the public reference data of the project's shared folder
// (go generate; see data/SOURCES.md and docs/fonti.md for the attribution of
// each file and Sources for the same at run time). A build never needs the
// shared folder; TestGeneratedDataUpToDate checks the checked-in files
// against the generator when the folder is there.
//
// # Decisions on the data
//
// Comuni. The comuni are the 7896 of ISTAT SITUAS at 2025-01-01 plus the
// comuni of ANPAL's TAB_COMUNI that have an ISTAT code and no longer exist
// (Suppressed), so that old CO records still decode. An ANPAL ISTAT code
// that a comune had before changing province (Torre de' Busi 097080, now
// 016215) and the Belfiore code of a renamed comune (Lonato E667, now Lonato
// del Garda) are aliases: they return the 2025 comune, whose codes are the
// canonical ones.
//
// CPI. Each of the 1502 Lombardy comuni of 2025 has exactly one CPI, the
// valid row of ANPAL's TAB_COMUNE_INTERMEDIARI (2022). That table misses
// nine comuni born from mergers: eight take the CPI of the comuni they were
// formed from, which always agree; the ninth, Sermide e Felonica, whose
// predecessors are missing too, takes the CPI of the SITUAS comune -> CPI
// table (CPI OSTIGLIA). The generator stops if any result disagrees with the SITUAS
// table. A CPI belongs to the province of its seat: 63 CPI, as many per
// province as in the Region's reference table. Torre de' Busi, moved from
// Lecco to Bergamo after the ANPAL snapshot, keeps its ANPAL CPI (CPI LECCO),
// the only comune whose CPI sits in another province. A suppressed Lombardy
// comune has the CPI ANPAL gave it, else that of the comune it merged into
// when the sources say which, else the only CPI of its province (Lodi); 46
// small comuni suppressed between 2003 and 2018 have none (CPI == ""), since
// the sources do not say which comune absorbed them.
//
// ATECO. The codes are ANPAL's ATECO 2007 (original 2009 titles) plus the 22
// subcategories added by ISTAT's 2022 update (ISTAT titles); the five
// subcategories the update removed stay valid, since older CO records carry
// them. Ateco.Title2022 carries the ISTAT 2022 wording where it exists.
//
// Professions. CP2011 at every level (1 to 6 components); the 800 "unità
// professionali" (5 components) take the title of their ".0" voce. The CP2001
// voci of ANPAL's TABELLA_QUALPROF are accepted too (Profession.CP2001);
// where a code exists in both classifications the CP2011 meaning wins.
//
// Contracts. Groups and FixedTerm follow fixed rules (see ContractGroupOf
// and Contract.FixedTerm); validity intervals are ANPAL's, corrected by the
// table ValidityOverrides.
//
// Citizenships. The EU flag is ANPAL's, corrected by EUOverrides so that it
// describes the EU of 27 members after 2020 for every year, as Eurostat
// series do.
package classif

//go:generate go run ./internal/gen -shared ../../../shared/data -out data

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

//go:embed data/*.csv
var dataFS embed.FS

// Lists holds every embedded code list, parsed. It is immutable once Load
// returns; methods that return slices return fresh copies.
type Lists struct {
	comuni     []Comune
	comuneIdx  map[string]int32 // ISTAT code, Belfiore code, aliases
	byProvince map[string][]int32
	byCPI      map[string][]int32

	provinces []Province
	provIdx   map[string]int // code and UTS
	provName  map[string]int // foldName of the names and sigla

	cpis   []CPI
	cpiIdx map[string]int

	ateco      []Ateco
	atecoIdx   map[string]int32 // dotted, digits-only and section letter
	atecoTitle map[string]int32 // fold of subcategory, then class titles

	professions []Profession
	profIdx     map[string]int32

	contracts     []Contract
	contractIdx   map[string]int
	contractTitle map[string][]int

	citizenships []Citizenship
	citIdx       map[string]int
	citName      map[string]int

	education      []Education // indexed by code
	educationTitle map[string]int

	workingTimes []WorkingTime
	wtTitle      map[string]int
}

// Load parses the embedded code lists. Each call parses them again: call it
// once at start-up and share the result, which is safe for concurrent use.
// An error means the binary was built with broken data files.
func Load() (*Lists, error) {
	l := &Lists{}
	in := interner{}
	steps := []struct {
		file string
		load func(*table, interner) error
	}{
		{"province.csv", l.loadProvinces},
		{"cpi.csv", l.loadCPI},
		{"comuni.csv", l.loadComuni},
		{"comuni_alias.csv", l.loadAliases},
		{"ateco.csv", l.loadAteco},
		{"professioni.csv", l.loadProfessions},
		{"contratti.csv", l.loadContracts},
		{"cittadinanze.csv", l.loadCitizenships},
		{"titoli_studio.csv", l.loadEducation},
		{"orario.csv", l.loadWorkingTimes},
	}
	for _, s := range steps {
		t, err := readTable(s.file)
		if err != nil {
			return nil, err
		}
		if err := s.load(t, in); err != nil {
			return nil, fmt.Errorf("classif: %s: %w", s.file, err)
		}
	}
	return l, nil
}

// table is one embedded CSV file; columns are addressed by header name so
// that the generator may add columns without breaking Load.
type table struct {
	cols map[string]int
	rows [][]string
}

func readTable(name string) (*table, error) {
	b, err := dataFS.ReadFile("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("classif: %w", err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("classif: %s: %w", name, err)
	}
	t := &table{cols: make(map[string]int, len(header))}
	for i, h := range header {
		t.cols[h] = i
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("classif: %s: %w", name, err)
		}
		t.rows = append(t.rows, rec)
	}
	return t, nil
}

// col returns the index of a column, or an error naming it.
func (t *table) col(names ...string) ([]int, error) {
	idx := make([]int, len(names))
	for i, n := range names {
		j, ok := t.cols[n]
		if !ok {
			return nil, fmt.Errorf("no column %q", n)
		}
		idx[i] = j
	}
	return idx, nil
}

// interner shares one copy of the strings repeated across rows (province
// and region codes, NUTS3, CPI codes).
type interner map[string]string

func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// Source is the attribution of one embedded list: who publishes it, under
// which licence, where the copy used comes from (repository, path, commit)
// and which embedded files derive from it.
type Source struct {
	Name, Publisher, Licence, Origin string
	Files                            []string
}

// Sources returns the attribution of every embedded list, in the order of
// data/SOURCES.md, for `oml version --sources` and the portal's credits. It
// panics if the embedded attribution file is unreadable, which the package
// tests rule out for every build.
func Sources() []Source {
	t, err := readTable("sources.csv")
	if err != nil {
		panic(err)
	}
	c, err := t.col("nome", "editore", "licenza", "provenienza", "file")
	if err != nil {
		panic(fmt.Errorf("classif: sources.csv: %w", err))
	}
	out := make([]Source, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, Source{
			Name: r[c[0]], Publisher: r[c[1]], Licence: r[c[2]], Origin: r[c[3]],
			Files: strings.Split(r[c[4]], ";"),
		})
	}
	return out
}
