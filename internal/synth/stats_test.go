package synth

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

// flowStats are the counts of the clean rows of a canonical output, after
// applying the R and X rows, as the tests and the calibration report need
// them.
type flowStats struct {
	byType      map[string]int64            // effective flow events by type
	byYearType  map[int]map[string]int64    // by year of the event
	byProvType  map[string]map[string]int64 // by workplace province
	provYearA   map[string]map[int]int64    // hires by province and year
	monthA      map[string][12]int64        // hires by province and month (all years)
	monthAEdu   [12]int64                   // hires in education by month
	monthC      [12]int64                   // terminations by month
	groupA      map[oml.ContractGroup]int64 // hires by contract group
	ptA, ptAF   int64                       // part-time hires, of which women
	orarioA     int64                       // hires with a working time
	orarioAF    int64
	femaleA     int64
	italianA    int64
	ageA        [7]int64 // 15-24, 25-29, 30-34, 35-44, 45-54, 55-64, 65+
	eduGroupA   [4]int64 // unknown, up to lower secondary, upper secondary, tertiary
	reasonsC    map[string]int64
	endTermFT   int64 // C FINE_TERMINE on fixed-term contract codes
	transfT     map[string]int64
	rows        int64
	malformed   int64
	fixedNoEnd  int64 // clean fixed-term A rows without data_fine_prevista
	beyondTo    int64 // clean rows dated after To
	badCodes    []string
	badCF       int64
	sectionA    map[string]int64
	relWithA    int64
	relWithoutA int64
}

var ageBounds = [7]int{24, 29, 34, 44, 54, 64, 200}

// collectCanonical reads every co_*.csv of dir in year order. Rows whose
// reason is in dirty (by line, per file) are skipped; other rows must be
// valid. The R and X rows are applied to the communications they name.
func collectCanonical(t *testing.T, dir string, l *classif.Lists, toDay int32, dirtyLines map[string]map[int64]bool) *flowStats {
	t.Helper()
	st := &flowStats{byType: map[string]int64{}, byYearType: map[int]map[string]int64{},
		byProvType: map[string]map[string]int64{}, provYearA: map[string]map[int]int64{},
		monthA: map[string][12]int64{}, groupA: map[oml.ContractGroup]int64{}, reasonsC: map[string]int64{},
		transfT: map[string]int64{}, sectionA: map[string]int64{}}
	files, _ := filepath.Glob(filepath.Join(dir, "co_*.csv"))
	sort.Strings(files)
	type comm struct {
		rec []string
		ok  bool
	}
	comms := map[string]*comm{}
	var order []string
	rels := map[string]bool{}
	seenID := map[string]string{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		r.FieldsPerRecord = -1
		r.ReuseRecord = false
		header, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(header, ",") != strings.Join(CanonicalHeader[:], ",") {
			t.Fatalf("%s: header %v", path, header)
		}
		name := filepath.Base(path)
		for {
			line, _ := r.FieldPos(0)
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			st.rows++
			var pe *csv.ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Fatal(err)
			}
			if err != nil || len(rec) != nCanon {
				st.malformed++
				continue
			}
			line, _ = r.FieldPos(0)
			if dirtyLines[name][int64(line)] {
				continue
			}
			id := rec[fID]
			raw := strings.Join(rec, ",")
			if prev, ok := seenID[id]; ok {
				if prev == raw {
					continue // exact resend
				}
				if dirtyLines == nil {
					t.Fatalf("%s:%d: id %s reused with different content", name, line, id)
				}
				continue
			}
			seenID[id] = raw
			switch rec[fTipo] {
			case "X":
				if c, ok := comms[rec[fRif]]; ok {
					c.ok = false
				} else if dirtyLines == nil {
					t.Fatalf("%s:%d: X of unknown %s", name, line, rec[fRif])
				}
				continue
			case "R":
				c, ok := comms[rec[fRif]]
				if !ok {
					if dirtyLines == nil {
						t.Fatalf("%s:%d: R of unknown %s", name, line, rec[fRif])
					}
					continue
				}
				rr := append([]string(nil), rec...)
				rr[fTipo] = c.rec[fTipo]
				c.rec = rr
				st.checkRow(t, l, name, line, rr, toDay)
				continue
			}
			st.checkRow(t, l, name, line, rec, toDay)
			comms[id] = &comm{rec: rec, ok: true}
			order = append(order, id)
		}
		f.Close()
	}
	relA := map[string]bool{}
	for _, id := range order {
		c := comms[id]
		if !c.ok {
			continue
		}
		rec := c.rec
		typ := rec[fTipo]
		rels[rec[fRel]] = true
		if typ == "A" {
			relA[rec[fRel]] = true
		}
		st.byType[typ]++
		y, _ := strconv.Atoi(rec[fDate][:4])
		mo, _ := strconv.Atoi(rec[fDate][5:7])
		if st.byYearType[y] == nil {
			st.byYearType[y] = map[string]int64{}
		}
		st.byYearType[y][typ]++
		com, _ := l.Comune(rec[fComL])
		prov := com.Province
		if st.byProvType[prov] == nil {
			st.byProvType[prov] = map[string]int64{}
		}
		st.byProvType[prov][typ]++
		switch typ {
		case "A":
			if st.provYearA[prov] == nil {
				st.provYearA[prov] = map[int]int64{}
			}
			st.provYearA[prov][y]++
			ma := st.monthA[prov]
			ma[mo-1]++
			st.monthA[prov] = ma
			a, _ := l.Ateco(rec[fAteco])
			st.sectionA[a.Section]++
			if a.Division == "85" {
				st.monthAEdu[mo-1]++
			}
			st.groupA[classif.ContractGroupOf(rec[fContr])]++
			if rec[fOrario] != "" {
				st.orarioA++
				if rec[fGen] == "F" {
					st.orarioAF++
				}
				if rec[fOrario] != "F" {
					st.ptA++
					if rec[fGen] == "F" {
						st.ptAF++
					}
				}
			}
			if rec[fGen] == "F" {
				st.femaleA++
			}
			if rec[fCit] == "000" {
				st.italianA++
			}
			by, _ := strconv.Atoi(rec[fBY])
			age := y - by
			for i, b := range ageBounds {
				if age <= b {
					st.ageA[i]++
					break
				}
			}
			if rec[fEdu] == "" {
				st.eduGroupA[0]++
			} else {
				n, _ := strconv.Atoi(rec[fEdu])
				e, _ := l.Education(n)
				st.eduGroupA[e.Group]++
			}
		case "C":
			st.reasonsC[rec[fReason]]++
			if k, _ := l.Contract(rec[fContr]); k.FixedTerm && rec[fReason] == oml.EndTerm {
				st.endTermFT++
			}
			st.monthC[mo-1]++
		case "T":
			st.transfT[rec[fTransf]]++
		}
	}
	for rel := range rels {
		if relA[rel] {
			st.relWithA++
		} else {
			st.relWithoutA++
		}
	}
	return st
}

// checkRow checks a clean canonical row: codes valid at its date, fiscal
// codes valid, planned end present where required, nothing after To.
func (st *flowStats) checkRow(t *testing.T, l *classif.Lists, name string, line int, rec []string, toDay int32) {
	bad := func(format string, args ...any) {
		if len(st.badCodes) < 20 {
			st.badCodes = append(st.badCodes, fmt.Sprintf("%s:%d: ", name, line)+fmt.Sprintf(format, args...))
		}
	}
	d, ok := parseISO(rec[fDate])
	if !ok {
		bad("date %q", rec[fDate])
		return
	}
	if dayOf(d) > toDay {
		st.beyondTo++
	}
	if !oml.ValidFiscalCode(rec[fCFW]) || !oml.ValidEmployerCode(rec[fCFE]) {
		st.badCF++
	}
	k, ok := l.Contract(rec[fContr])
	if !ok || !k.ValidAt(d) {
		bad("contract %s at %s", rec[fContr], rec[fDate])
	}
	if rec[fTipo] == "A" && k.FixedTerm && rec[fPE] == "" {
		st.fixedNoEnd++
	}
	if rec[fPE] != "" {
		pe, ok := parseISO(rec[fPE])
		if !ok || pe.Before(d) {
			bad("planned end %s before %s", rec[fPE], rec[fDate])
		}
	}
	if _, ok := l.Comune(rec[fComL]); !ok {
		bad("comune %s", rec[fComL])
	}
	if c, ok := l.Comune(rec[fComR]); rec[fComR] != "" && !ok {
		bad("residence %s", rec[fComR])
	} else if ok && c.Suppressed {
		bad("suppressed residence %s", rec[fComR])
	}
	if _, ok := l.Ateco(rec[fAteco]); !ok {
		bad("ateco %s", rec[fAteco])
	}
	if rec[fProf] != "" {
		if _, ok := l.Profession(rec[fProf]); !ok {
			bad("profession %s", rec[fProf])
		}
	}
	if _, ok := l.Citizenship(rec[fCit]); !ok {
		bad("citizenship %s", rec[fCit])
	}
	if rec[fEdu] != "" {
		n, err := strconv.Atoi(rec[fEdu])
		if _, ok := l.Education(n); err != nil || !ok {
			bad("education %s", rec[fEdu])
		}
	}
	if _, ok := l.WorkingTime(rec[fOrario]); !ok {
		bad("orario %s", rec[fOrario])
	}
	by, err := strconv.Atoi(rec[fBY])
	if age := d.Year() - by; err != nil || age < 14 || age > 100 {
		bad("birth year %s at %s", rec[fBY], rec[fDate])
	}
	if cf := rec[fCFW]; len(cf) == 16 {
		if cf[6:8] != rec[fBY][2:4] {
			bad("fiscal code %s and birth year %s", cf, rec[fBY])
		}
		if day := cf[9:11]; (day[0] >= '4') != (rec[fGen] == "F") {
			bad("fiscal code %s and gender %s", cf, rec[fGen])
		}
	}
	switch rec[fTipo] {
	case "T":
		if !contains(oml.TransformationKinds, rec[fTransf]) {
			bad("transformation %q", rec[fTransf])
		}
	case "C":
		if !contains(oml.EndReasons, rec[fReason]) {
			bad("end reason %q", rec[fReason])
		}
	case "P":
		if rec[fPE] == "" {
			bad("P without planned end")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// report prints the calibration table of a run.
func (st *flowStats) report(l *classif.Lists, years int) string {
	var b strings.Builder
	a := float64(st.byType["A"])
	fmt.Fprintf(&b, "effective events: A %d C %d P %d T %d\n", st.byType["A"], st.byType["C"], st.byType["P"], st.byType["T"])
	fmt.Fprintf(&b, "A:C:P:T = 40 : %.1f : %.1f : %.1f\n", 40*float64(st.byType["C"])/a, 40*float64(st.byType["P"])/a, 40*float64(st.byType["T"])/a)
	fmt.Fprintf(&b, "province shares of A:\n")
	for _, p := range l.Provinces() {
		fmt.Fprintf(&b, "  %s %-22s %5.1f%%  per year:", p.Code, p.Name, 100*float64(st.byProvType[p.Code]["A"])/a)
		ys := make([]int, 0)
		for y := range st.provYearA[p.Code] {
			ys = append(ys, y)
		}
		sort.Ints(ys)
		for _, y := range ys {
			fmt.Fprintf(&b, " %d:%d", y, st.provYearA[p.Code][y])
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "contract groups of A:\n")
	groups := make([]string, 0)
	for g := range st.groupA {
		groups = append(groups, string(g))
	}
	sort.Strings(groups)
	for _, g := range groups {
		fmt.Fprintf(&b, "  %-20s %5.1f%%\n", g, 100*float64(st.groupA[oml.ContractGroup(g)])/a)
	}
	fmt.Fprintf(&b, "part time: %.1f%% of A with a working time (women %.1f%%, men %.1f%%)\n",
		100*float64(st.ptA)/float64(st.orarioA), 100*float64(st.ptAF)/float64(st.orarioAF),
		100*float64(st.ptA-st.ptAF)/float64(st.orarioA-st.orarioAF))
	fmt.Fprintf(&b, "women %.1f%%, Italians %.1f%%\n", 100*float64(st.femaleA)/a, 100*float64(st.italianA)/a)
	fmt.Fprintf(&b, "age of A: 15-24 %.1f, 25-29 %.1f, 30-34 %.1f, 35-44 %.1f, 45-54 %.1f, 55-64 %.1f, 65+ %.1f\n",
		pct(st.ageA[0], a), pct(st.ageA[1], a), pct(st.ageA[2], a), pct(st.ageA[3], a), pct(st.ageA[4], a), pct(st.ageA[5], a), pct(st.ageA[6], a))
	fmt.Fprintf(&b, "education of A: unknown %.1f, <=lower sec %.1f, upper sec %.1f, tertiary %.1f\n",
		pct(st.eduGroupA[0], a), pct(st.eduGroupA[1], a), pct(st.eduGroupA[2], a), pct(st.eduGroupA[3], a))
	fmt.Fprintf(&b, "sections of A:")
	secs := make([]string, 0)
	for s := range st.sectionA {
		secs = append(secs, s)
	}
	sort.Strings(secs)
	for _, s := range secs {
		fmt.Fprintf(&b, " %s %.1f", s, pct(st.sectionA[s], a))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "C reasons: %v\nT kinds: %v\n", st.reasonsC, st.transfT)
	fmt.Fprintf(&b, "A by month, Sondrio: %v\nA by month, Milano: %v\nA by month, education: %v\nC by month: %v\n",
		st.monthA["014"], st.monthA["015"], st.monthAEdu, st.monthC)
	ys := make([]int, 0)
	for y := range st.byYearType {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	for _, y := range ys {
		m := st.byYearType[y]
		fmt.Fprintf(&b, "  %d: A %d C %d P %d T %d\n", y, m["A"], m["C"], m["P"], m["T"])
	}
	fmt.Fprintf(&b, "relationships with A %d, without A (hired before From) %d\n", st.relWithA, st.relWithoutA)
	return b.String()
}

func pct(n int64, tot float64) float64 { return 100 * float64(n) / tot }

func parseISO(s string) (t time.Time, ok bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}
