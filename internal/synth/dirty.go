package synth

import (
	"fmt"
	"time"

	"github.com/regione-lombardia/oml"
)

// Dirty rows. A dirty row carries exactly one defect, chosen so that a
// validator following INTERFACE.md rejects it with exactly one reason,
// whatever the order of its checks: the other fields stay valid and
// consistent (a date moved out of range keeps no planned end that could
// fail as well, a contract code replaced keeps its fixed-term flag, and so
// on). Nothing refers to a dirty row: R and X only name clean rows, and a
// rejected hire ends its relationship.

// Reason indexes, in the order of oml's constants.
const (
	rMalformed = iota
	rFieldMissing
	rEventType
	rDateInvalid
	rDateFuture
	rDateOld
	rWorkerCF
	rEmployerCF
	rGender
	rBirthYear
	rAge
	rCitizenship
	rEducation
	rComune
	rResComune
	rProvince
	rAteco
	rProfession
	rContractUnknown
	rContractNotValid
	rOrario
	rPEMissing
	rPEInvalid
	rTransf
	rEndReason
	rProtected
	rRefMissing
	rRefUnknown
	rDupDifferent
	nReasons
)

// allReasons maps reason indexes to oml.Reason.
var allReasons = [nReasons]oml.Reason{
	oml.RowMalformed, oml.FieldMissing, oml.EventTypeInvalid, oml.EventDateInvalid, oml.EventDateFuture,
	oml.EventDateTooOld, oml.WorkerCFInvalid, oml.EmployerCFInvalid, oml.GenderInvalid, oml.BirthYearInvalid,
	oml.AgeInvalid, oml.CitizenshipUnknown, oml.EducationUnknown, oml.ComuneUnknown, oml.ResComuneUnknown,
	oml.ProvinceUnknown, oml.AtecoUnknown, oml.ProfessionUnknown, oml.ContractUnknown, oml.ContractNotValidAt,
	oml.WorkingTimeInvalid, oml.PlannedEndMissing, oml.PlannedEndInvalid, oml.TransformationInvalid,
	oml.EndReasonInvalid, oml.ProtectedInvalid, oml.RefMissing, oml.RefUnknown, oml.DuplicateDifferent,
}

// CanonicalReasons are the rejection reasons the canonical format carries:
// every reason except those of columns it does not have (age, province).
func CanonicalReasons() []oml.Reason { return reasonsOf(canonicalWeights) }

// OpenDataReasons are the rejection reasons the open-data format carries:
// those of its nine columns. It has no identifiers, fiscal codes, comuni,
// professions, planned ends, transformation kinds, end reasons or
// references, so their reasons cannot occur.
func OpenDataReasons() []oml.Reason { return reasonsOf(openDataWeights) }

func reasonsOf(w [nReasons]float64) []oml.Reason {
	var out []oml.Reason
	for i, x := range w {
		if x > 0 {
			out = append(out, allReasons[i])
		}
	}
	return out
}

// Weights of the reasons among the dirty rows where they apply. Reasons that
// apply to few rows (a transformation kind only to T rows) weigh more, so
// that every reason gets a fair share.
var canonicalWeights = [nReasons]float64{
	rMalformed: 1, rFieldMissing: 1, rEventType: 1, rDateInvalid: 1, rDateFuture: 2, rDateOld: 2,
	rWorkerCF: 1, rEmployerCF: 1, rGender: 1, rBirthYear: 1, rCitizenship: 1, rEducation: 1, rComune: 1,
	rResComune: 1, rAteco: 1, rProfession: 1, rContractUnknown: 1, rContractNotValid: 1, rOrario: 1,
	rPEMissing: 3, rPEInvalid: 2, rTransf: 12, rEndReason: 3, rProtected: 1, rRefMissing: 1, rRefUnknown: 1,
	rDupDifferent: 1,
}

var openDataWeights = [nReasons]float64{
	rMalformed: 1, rFieldMissing: 1, rDateInvalid: 1, rDateFuture: 1, rDateOld: 1, rGender: 1, rAge: 1,
	rCitizenship: 1, rEducation: 1, rProvince: 1, rAteco: 1, rContractUnknown: 1, rContractNotValid: 1,
	rOrario: 1,
}

// badValues are values that no code list knows, checked at start-up.
type badValues struct {
	citizenship, education, comune, ateco, profession, contract, orario [][]byte
	odAteco, odEducation, odContract, odOrario, odProvince, odCitizen   [][]byte
}

func (m *model) loadBadValues() error {
	l := m.lists
	pick := func(name string, cands []string, known func(string) bool) ([][]byte, error) {
		var out [][]byte
		for _, c := range cands {
			if !known(c) {
				out = append(out, csvField(c))
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("synth: every candidate unknown %s is known to the code lists", name)
		}
		return out, nil
	}
	var err error
	b := &m.bad
	steps := []struct {
		dst   *[][]byte
		name  string
		cands []string
		known func(string) bool
	}{
		{&b.citizenship, "citizenship", []string{"998", "997", "996", "990"}, func(c string) bool { _, ok := l.Citizenship(c); return ok }},
		{&b.education, "education", []string{"13", "14", "99", "20"}, func(c string) bool {
			for _, e := range m.edu {
				if string(e.code) == c {
					return true
				}
			}
			return false
		}},
		{&b.comune, "comune", []string{"015999", "016998", "099999", "999999", "Z999"}, func(c string) bool { _, ok := l.Comune(c); return ok }},
		{&b.ateco, "ATECO", []string{"99.99.99", "00.00.00", "56.99.99", "98.7"}, func(c string) bool { _, ok := l.Ateco(c); return ok }},
		{&b.profession, "profession", []string{"0.0.0.0.0", "9.9.9.9.9", "8.8.8.8.8"}, func(c string) bool { _, ok := l.Profession(c); return ok }},
		{&b.contract, "contract", []string{"Z.99.99", "A.99.00", "X.01.00"}, func(c string) bool { _, ok := l.Contract(c); return ok }},
		{&b.orario, "working time", []string{"X", "T", "Z"}, func(c string) bool { _, ok := l.WorkingTime(c); return ok }},
		{&b.odAteco, "ATECO title", []string{"ATTIVITA' ECONOMICA NON CLASSIFICATA", "SETTORE SCONOSCIUTO"}, func(c string) bool { _, ok := l.AtecoByTitle(c); return ok }},
		{&b.odEducation, "education title", []string{"DIPLOMA DI SCUOLA GUIDA", "TITOLO ESTERO NON RICONOSCIUTO"}, func(c string) bool { _, ok := l.EducationByTitle(c); return ok }},
		{&b.odContract, "contract title", []string{"LAVORO A CHIAMATA GENERICO", "CONTRATTO NON SPECIFICATO"}, func(c string) bool {
			_, ok := l.ContractByTitle(c, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
			return ok
		}},
		{&b.odOrario, "working-time title", []string{"TEMPO PARZIALE DIAGONALE", "TURNO NOTTURNO"}, func(c string) bool { _, ok := l.WorkingTimeByTitle(c); return ok }},
		{&b.odProvince, "province name", []string{"TORINO", "PIACENZA", "ESTERO"}, func(c string) bool { _, ok := l.ProvinceByName(c); return ok }},
		{&b.odCitizen, "citizenship name", []string{"ATLANTIDE", "NON DICHIARATA"}, func(c string) bool { _, ok := l.CitizenshipByName(c); return ok }},
	}
	for _, st := range steps {
		if *st.dst, err = pick(st.name, st.cands, st.known); err != nil {
			return err
		}
	}
	return nil
}

// Bounds of the dates used for out-of-range defects.
var (
	oldFrom      = civilDay(2007, 7, 1) // contract codes valid since 2007-06-21 are valid here
	oldTo        = civilDay(2007, 12, 31)
	futureYear   = 2099
	oldBirthYear = 1993 // at least 14 in 2007
)

// pickReason draws the defect of a dirty row among those that apply; ok is
// false when none does.
func (s *shard) pickReason(weights *[nReasons]float64, applies func(int) bool) (int, bool) {
	var cum [nReasons]float64
	var tot float64
	for i := range cum {
		if weights[i] > 0 && applies(i) {
			tot += weights[i]
		}
		cum[i] = tot
	}
	if tot == 0 {
		return 0, false
	}
	u := s.r.float() * tot
	for i := range cum {
		if u < cum[i] {
			return i, true
		}
	}
	return nReasons - 1, true
}

// spoil writes e as a dirty canonical row, if a defect applies.
func (s *shard) spoil(r *relationship, e *event, fi int) bool {
	m := s.m
	row := s.row
	contract := m.chains[e.chain].codeAt(e.day)
	mi := monthOfDay(e.day)
	p := s.out.part(fi)
	if p == nil {
		return false
	}
	invalid := m.invalidContracts[mi]
	ft := 0
	if contract.fixedTerm {
		ft = 1
	}
	hasPE := e.plannedEnd != 0
	reason, ok := s.pickReason(&canonicalWeights, func(i int) bool {
		switch i {
		case rDateFuture:
			return !hasPE
		case rDateOld:
			return !hasPE && r.birthYear <= oldBirthYear && contract.c.ValidAt(timeOf(oldFrom)) && contract.c.ValidAt(timeOf(oldTo))
		case rContractNotValid:
			return len(invalid[ft]) > 0
		case rPEMissing:
			return (e.typ == 'A' && contract.fixedTerm) || e.typ == 'P'
		case rPEInvalid:
			return hasPE
		case rTransf:
			return e.typ == 'T'
		case rEndReason:
			return e.typ == 'C'
		case rDupDifferent:
			return p.hasLastPlain
		}
		return true
	})
	if !ok {
		return false
	}
	s.newID(&s.commID, &s.commSeq)
	row[fID] = s.commID[:]
	y, mo, d := civil(e.day)
	malformed := -1
	switch reason {
	case rMalformed:
		malformed = s.r.intn(4)
	case rFieldMissing:
		cols := []int{fID, fTipo, fRel, fCFW, fCFE, fGen, fBY, fCit, fComL, fAteco, fContr}
		switch e.typ {
		case 'T':
			cols = append(cols, fTransf)
		case 'C':
			cols = append(cols, fReason)
		}
		row[cols[s.r.intn(len(cols))]] = nil
	case rEventType:
		row[fTipo] = []byte{"ZQKW9"[s.r.intn(5)]}
	case rDateInvalid:
		row[fDate] = s.badDate(y, mo, d, false)
	case rDateFuture:
		if mo == 2 && d == 29 {
			d = 28
		}
		row[fDate] = []byte(fmt.Sprintf("%04d-%02d-%02d", futureYear, mo, d))
	case rDateOld:
		row[fDate] = m.dates.isoOf(oldFrom + int32(s.r.intn(int(oldTo-oldFrom+1))))
	case rWorkerCF:
		row[fCFW] = s.badCF(row[fCFW])
	case rEmployerCF:
		row[fCFE] = s.badCF(row[fCFE])
	case rGender:
		row[fGen] = []byte{"XU0"[s.r.intn(3)]}
	case rBirthYear:
		by := y - 1 - s.r.intn(10) // younger than 14
		if s.r.chance(0.5) {
			by = y - 101 - s.r.intn(20) // older than 100
		}
		row[fBY] = m.years[by]
	case rCitizenship:
		row[fCit] = m.bad.citizenship[s.r.intn(len(m.bad.citizenship))]
	case rEducation:
		row[fEdu] = m.bad.education[s.r.intn(len(m.bad.education))]
	case rComune:
		row[fComL] = m.bad.comune[s.r.intn(len(m.bad.comune))]
	case rResComune:
		row[fComR] = m.bad.comune[s.r.intn(len(m.bad.comune))]
	case rAteco:
		row[fAteco] = m.bad.ateco[s.r.intn(len(m.bad.ateco))]
	case rProfession:
		row[fProf] = m.bad.profession[s.r.intn(len(m.bad.profession))]
	case rContractUnknown:
		row[fContr] = m.bad.contract[s.r.intn(len(m.bad.contract))]
	case rContractNotValid:
		row[fContr] = invalid[ft][s.r.intn(len(invalid[ft]))].code
	case rOrario:
		row[fOrario] = m.bad.orario[s.r.intn(len(m.bad.orario))]
	case rPEMissing:
		row[fPE] = nil
	case rPEInvalid:
		if s.r.chance(0.7) {
			row[fPE] = m.dates.isoOf(e.day - 1 - int32(s.r.intn(30)))
		} else {
			py, pm, pd := civil(e.plannedEnd)
			row[fPE] = s.badDate(py, pm, pd, false)
		}
	case rTransf:
		row[fTransf] = [][]byte{[]byte("TD_XX"), []byte("TI_TD"), []byte("XX")}[s.r.intn(3)]
	case rEndReason:
		row[fReason] = [][]byte{[]byte("SCADENZA"), []byte("MORTE"), []byte("X")}[s.r.intn(3)]
	case rProtected:
		row[fProt] = [][]byte{[]byte("X"), []byte("SI"), []byte("1")}[s.r.intn(3)]
	case rRefMissing, rRefUnknown:
		// The communication is sent as a rectification or cancellation of
		// another one that is missing or does not exist.
		var rif []byte
		if reason == rRefUnknown {
			s.bogusRef()
			rif = s.auxID[:]
		}
		if s.r.chance(0.6) {
			row[fTipo], row[fRif] = typeBytes['R'], rif
		} else {
			var x [nCanon][]byte
			x[fID], x[fTipo], x[fRif], x[fRel] = row[fID], typeBytes['X'], rif, row[fRel]
			row = x
		}
	case rDupDifferent:
		s.auxID = p.lastPlain
		row[fID] = s.auxID[:]
	}
	var line []byte
	if malformed >= 0 {
		line = s.malformedLine(row[:], malformed)
	} else {
		line = s.out.join(row[:])
	}
	p = s.out.writeLine(fi, line)
	if p != nil {
		p.st.dirty++
		p.st.byReason[reason]++
	}
	return true
}

// monthOfDay returns the month index of a day.
func monthOfDay(z int32) int {
	y, m, _ := civil(z)
	return monthIndex(y, m)
}

// bogusRef writes into s.auxID an id no communication has (shard 99).
func (s *shard) bogusRef() {
	var seq = 1 + uint64(s.r.intn(999_999_998))
	n := seq
	for i := idLen - 1; i >= 2; i-- {
		s.auxID[i] = byte('0' + n%10)
		n /= 10
	}
	s.auxID[0], s.auxID[1] = '9', '9'
}

// badDate returns a text that is not a date in either accepted format.
func (s *shard) badDate(y, m, d int, openData bool) []byte {
	switch s.r.intn(3) {
	case 0: // a day the month does not have
		if openData {
			return []byte(fmt.Sprintf("%02d/02/%04d", 30+s.r.intn(2), y))
		}
		return []byte(fmt.Sprintf("%04d-02-%02d", y, 30+s.r.intn(2)))
	case 1: // month 13
		if openData {
			return []byte(fmt.Sprintf("%02d/13/%04d", d, y))
		}
		return []byte(fmt.Sprintf("%04d-13-%02d", y, d))
	}
	if openData {
		return []byte(fmt.Sprintf("%04d/%02d/%02d", y, m, d))
	}
	return []byte(fmt.Sprintf("%02d-%02d-%04d", d, m, y))
}

// badCF returns a fiscal code or VAT number with a wrong check character or
// a wrong length.
func (s *shard) badCF(cf []byte) []byte {
	b := append([]byte(nil), cf...)
	if s.r.chance(0.25) {
		return b[:len(b)-1]
	}
	last := len(b) - 1
	if len(b) == 16 {
		b[last] = 'A' + (b[last]-'A'+1+byte(s.r.intn(25)))%26
	} else {
		b[last] = '0' + (b[last]-'0'+1+byte(s.r.intn(9)))%10
	}
	return b
}

// malformedLine writes a row that does not split into the header's fields:
// one field fewer or more, a quote inside an unquoted field, or text after a
// closing quote. It stays on one physical line.
func (s *shard) malformedLine(fields [][]byte, mode int) []byte {
	o := s.out
	switch mode {
	case 0:
		return o.join(fields[:len(fields)-1])
	case 1:
		f := append(fields[:len(fields):len(fields)], []byte("EXTRA"))
		return o.join(f)
	}
	// Quote defects on a field that is never empty: the date of the
	// canonical format, the age of the open data.
	k := oEta
	if len(fields) == nCanon {
		k = fDate
	}
	orig := fields[k]
	var bad []byte
	if mode == 2 {
		bad = append(append(append([]byte{}, orig[:len(orig)/2]...), '"'), orig[len(orig)/2:]...)
	} else {
		bad = append(append(append([]byte{'"'}, orig...), '"'), 'x')
	}
	fields[k] = bad
	line := o.join(fields)
	fields[k] = orig
	return line
}

// spoilOD writes e as a dirty open-data row.
func (s *shard) spoilOD(r *relationship, e *event, fi int) bool {
	m := s.m
	row := s.odrow
	contract := m.chains[e.chain].codeAt(e.day)
	mi := monthOfDay(e.day)
	invalid := m.invalidContracts[mi]
	reason, ok := s.pickReason(&openDataWeights, func(i int) bool {
		switch i {
		case rDateOld:
			return contract.c.ValidAt(timeOf(oldFrom)) && contract.c.ValidAt(timeOf(oldTo))
		case rContractNotValid:
			return len(invalid[0])+len(invalid[1]) > 0
		}
		return true
	})
	if !ok {
		return false
	}
	y, mo, d := civil(e.day)
	malformed := -1
	switch reason {
	case rMalformed:
		malformed = s.r.intn(4)
	case rFieldMissing:
		cols := []int{oData, oGenere, oSettore, oContratto, oProvincia, oItaliano}
		row[cols[s.r.intn(len(cols))]] = nil
	case rDateInvalid:
		row[oData] = s.badDate(y, mo, d, true)
	case rDateFuture:
		if mo == 2 && d == 29 {
			d = 28
		}
		row[oData] = []byte(fmt.Sprintf("%02d/%02d/%04d", d, mo, futureYear))
	case rDateOld:
		row[oData] = m.dates.dmyOf(oldFrom + int32(s.r.intn(int(oldTo-oldFrom+1))))
	case rGender:
		row[oGenere] = []byte{"XU0"[s.r.intn(3)]}
	case rAge:
		ages := []int{0, 5, 9, 12, 101, 150, 221}
		row[oEta] = m.ages[ages[s.r.intn(len(ages))]]
	case rCitizenship:
		row[oItaliano] = m.bad.odCitizen[s.r.intn(len(m.bad.odCitizen))]
	case rEducation:
		row[oTitolo] = m.bad.odEducation[s.r.intn(len(m.bad.odEducation))]
	case rProvince:
		row[oProvincia] = m.bad.odProvince[s.r.intn(len(m.bad.odProvince))]
	case rAteco:
		row[oSettore] = m.bad.odAteco[s.r.intn(len(m.bad.odAteco))]
	case rContractUnknown:
		row[oContratto] = m.bad.odContract[s.r.intn(len(m.bad.odContract))]
	case rContractNotValid:
		all := append(invalid[0][:len(invalid[0]):len(invalid[0])], invalid[1]...)
		row[oContratto] = all[s.r.intn(len(all))].title
	case rOrario:
		row[oModalita] = m.bad.odOrario[s.r.intn(len(m.bad.odOrario))]
	}
	var line []byte
	if malformed >= 0 {
		line = s.malformedLine(row[:], malformed)
	} else {
		line = s.out.join(row[:])
	}
	if p := s.out.writeLine(fi, line); p != nil {
		p.st.dirty++
		p.st.byReason[reason]++
	}
	return true
}
