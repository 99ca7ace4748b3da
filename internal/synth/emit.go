package synth

import "github.com/regione-lombardia/oml/internal/cofile"

// Canonical columns, in the order of INTERFACE.md section 1.
const (
	fID = iota
	fTipo
	fRif
	fRel
	fDate
	fCFW
	fCFE
	fGen
	fBY
	fCit
	fEdu
	fComL
	fComR
	fAteco
	fProf
	fContr
	fOrario
	fPE
	fTransf
	fReason
	fProt
	nCanon
)

// CanonicalHeader is the header row of the canonical files: the decoder's
// column names, in the order of INTERFACE.md.
var CanonicalHeader [nCanon]string = cofile.CanonicalColumns

// Open-data columns.
const (
	oData = iota
	oGenere
	oEta
	oSettore
	oTitolo
	oContratto
	oModalita
	oProvincia
	oItaliano
	nOpenData
)

// OpenDataHeader is the header row of the open-data files.
var OpenDataHeader [nOpenData]string = cofile.OpenDataColumns

// OpenDataFiles are the open-data file names, by event type A, C, P, T.
var OpenDataFiles = [4]string{"rapporti_lavoro_attivati.csv", "rapporti_lavoro_cessati.csv",
	"rapporti_lavoro_prorogati.csv", "rapporti_lavoro_trasformati.csv"}

// idLen is the length of communication and relationship ids: two digits of
// shard and nine of sequence. Shard 99 is never used, so ids starting with
// 99 name communications that do not exist.
const idLen = 11

var (
	bytesM = []byte("M")
	bytesF = []byte("F")
	bytesS = []byte("S")
	bytesN = []byte("N")
)

var typeBytes = [256][]byte{'A': []byte("A"), 'C': []byte("C"), 'P': []byte("P"), 'T': []byte("T"),
	'X': []byte("X"), 'R': []byte("R")}

// Indexes of event types in the accumulators.
func typeIndex(t byte) int {
	switch t {
	case 'A':
		return 0
	case 'C':
		return 1
	case 'P':
		return 2
	case 'T':
		return 3
	case 'X':
		return 4
	}
	return 5 // 'R'
}

var typeOrder = [6]byte{'A', 'C', 'P', 'T', 'X', 'R'}

// accumulators are the counts a shard adds to the Summary.
type accumulators struct {
	events        [6]int64 // accepted rows by tipo_evento
	effective     [4]int64 // flow events after R and X
	relationships int64
	preWindow     int64
	imputable     int64
}

// newID writes the next id of a sequence.
func (s *shard) newID(dst *[idLen]byte, seq *uint64) {
	*seq++
	n := *seq
	for i := idLen - 1; i >= 2; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	dst[0], dst[1] = byte('0'+s.idx/10), byte('0'+s.idx%10)
}

func (s *shard) yearFile(z int32) int {
	y, _, _ := civil(z)
	return y - s.run.firstYear
}

// canonRow fills s.row with the fields of event e of r, except the
// communication id and rif_comunicazione.
func (s *shard) canonRow(r *relationship, e *event) {
	m := s.m
	row := &s.row
	row[fTipo] = typeBytes[e.typ]
	row[fRif] = nil
	row[fRel] = s.relID[:]
	row[fDate] = m.dates.isoOf(e.day)
	row[fCFW] = s.w.cf[:]
	emp := &s.emp
	switch {
	case r.household:
		row[fCFE] = s.hh.cf[:]
	case r.agency >= 0:
		row[fCFE] = s.agencies.vat[r.agency][:]
	default:
		row[fCFE] = emp.vat[:]
	}
	if r.gender == 'F' {
		row[fGen] = bytesF
	} else {
		row[fGen] = bytesM
	}
	row[fBY] = m.years[r.birthYear]
	row[fCit] = s.w.cit.code
	row[fEdu] = nil
	if edu := s.w.eduAt(s.w.ageAt(e.day)); edu >= 0 {
		row[fEdu] = m.edu[edu].code
	}
	var work *comuneRef
	var at *atecoRef
	belfiore, divLevel := emp.belfiore, emp.divLevel
	if r.household {
		work = &s.prov.comuni[s.hh.comune]
		at = &m.atecos[m.secAtecoI[secHousehold][0]]
		belfiore, divLevel = s.hh.belfiore, false
	} else {
		work = &s.prov.comuni[emp.comune]
		at = &m.atecos[emp.ateco]
	}
	if belfiore {
		row[fComL], row[fComR] = work.belfiore, s.w.res.belfiore
	} else {
		row[fComL], row[fComR] = work.istat, s.w.res.istat
	}
	if divLevel {
		row[fAteco] = at.div
	} else {
		row[fAteco] = at.sub
	}
	switch r.profLevel {
	case 5:
		row[fProf] = r.prof.unit
	case 4:
		row[fProf] = r.prof.category
	default:
		row[fProf] = nil
	}
	row[fContr] = m.chains[e.chain].codeAt(e.day).code
	row[fOrario] = m.orario[e.orario]
	row[fPE] = nil
	if e.plannedEnd != 0 {
		row[fPE] = m.dates.isoOf(e.plannedEnd)
	}
	row[fTransf], row[fReason] = nil, nil
	if e.transf != "" {
		row[fTransf] = transfBytes(e.transf)
	}
	if e.reason != "" {
		row[fReason] = reasonBytes(e.reason)
	}
	switch r.protected {
	case 'S':
		row[fProt] = bytesS
	case 'N':
		row[fProt] = bytesN
	default:
		row[fProt] = nil
	}
}

var (
	bTDTI    = []byte("TD_TI")
	bAPTI    = []byte("AP_TI")
	bPTFT    = []byte("PT_FT")
	bFTPT    = []byte("FT_PT")
	bAltro   = []byte("ALTRO")
	bDim     = []byte("DIMISSIONI")
	bLic     = []byte("LICENZIAMENTO")
	bTermine = []byte("FINE_TERMINE")
	bPens    = []byte("PENSIONAMENTO")
)

func transfBytes(t string) []byte {
	switch t {
	case "TD_TI":
		return bTDTI
	case "AP_TI":
		return bAPTI
	case "PT_FT":
		return bPTFT
	case "FT_PT":
		return bFTPT
	}
	return bAltro
}

func reasonBytes(r string) []byte {
	switch r {
	case "DIMISSIONI":
		return bDim
	case "LICENZIAMENTO":
		return bLic
	case "FINE_TERMINE":
		return bTermine
	case "PENSIONAMENTO":
		return bPens
	}
	return bAltro
}

// put writes fields as one row of output file fi.
func (s *shard) put(fi int, fields [][]byte) *part {
	return s.out.writeLine(fi, s.out.join(fields))
}

// emitCanonical writes the rows of r that fall in the window, with its
// rectifications, cancellations, resends and defects.
func (s *shard) emitCanonical(r *relationship) {
	run := s.run
	hasRel, truncated := false, false
	effective := 0
	for i := range r.events {
		e := &r.events[i]
		if e.day < run.fromDay {
			continue
		}
		if e.day > run.toDay {
			break
		}
		if !hasRel {
			s.newID(&s.relID, &s.relSeq)
			hasRel = true
		}
		fi := s.yearFile(e.day)
		s.canonRow(r, e)
		ti := typeIndex(e.typ)
		u := s.r.float()
		switch {
		case u < run.pR:
			if rday := e.day + 1 + int32(s.r.intn(10)); rday <= run.toDay {
				s.rectify(r, e, fi, rday)
				s.acc.effective[ti]++
				effective++
				continue
			}
		case u < run.pR+run.pSpurious && e.typ != 'A':
			if xday := e.day + 1 + int32(s.r.intn(7)); xday <= run.toDay {
				s.spurious(fi, e.typ, xday)
				s.acc.effective[ti]++
				effective++
				continue
			}
		}
		if run.pDirty > 0 && s.r.chance(run.pDirty) && s.spoil(r, e, fi) {
			if e.typ == 'A' {
				// Nothing may refer to a rejected hire: the relationship
				// stops here.
				truncated = true
				break
			}
			continue
		}
		s.newID(&s.commID, &s.commSeq)
		s.row[fID] = s.commID[:]
		p := s.put(fi, s.row[:])
		if p != nil {
			p.lastPlain, p.hasLastPlain = s.commID, true
		}
		s.acc.events[ti]++
		s.acc.effective[ti]++
		effective++
		if run.pResend > 0 && s.r.chance(run.pResend) {
			if p := s.out.writeLine(fi, s.out.line); p != nil {
				p.st.dups++
			}
		}
		if e.typ == 'A' && s.r.chance(run.pPhantom) {
			if xday := e.day + 1 + int32(s.r.intn(7)); xday <= run.toDay {
				s.phantom(fi, xday)
			}
		}
	}
	if effective > 0 {
		s.acc.relationships++
		if r.start < run.fromDay {
			s.acc.preWindow++
		}
		if r.naturalEnd != 0 && r.naturalEnd <= run.toDay && !truncated {
			s.acc.imputable++
		}
	}
}

// rectify writes the communication of e with one field wrong, then the R
// that restates it correctly, dated rday.
func (s *shard) rectify(r *relationship, e *event, fi int, rday int32) {
	orig := s.row
	s.perturb(r, e, &orig)
	s.newID(&s.commID, &s.commSeq)
	orig[fID] = s.commID[:]
	s.put(fi, orig[:])
	s.acc.events[typeIndex(e.typ)]++
	s.newID(&s.auxID, &s.commSeq)
	s.row[fID], s.row[fTipo], s.row[fRif] = s.auxID[:], typeBytes['R'], s.commID[:]
	s.put(s.yearFile(rday), s.row[:])
	s.acc.events[typeIndex('R')]++
}

// perturb changes one field of a row the way senders get them wrong: a
// planned end, the working time, the profession, the education level or the
// residence. The result is still a valid row.
func (s *shard) perturb(r *relationship, e *event, row *[nCanon][]byte) {
	m := s.m
	for tries := 0; tries < 8; tries++ {
		switch s.r.intn(5) {
		case 0:
			if e.plannedEnd != 0 && e.plannedEnd > e.day+1 {
				pe := e.plannedEnd - 1 - int32(s.r.intn(int(min(30, e.plannedEnd-e.day-1))))
				row[fPE] = m.dates.isoOf(pe)
				return
			}
		case 1:
			switch e.orario {
			case 'F':
				row[fOrario] = m.orario['P']
				return
			case 'P', 'V', 'M':
				row[fOrario] = m.orario['F']
				return
			}
		case 2:
			if r.profLevel == 5 {
				tier := &m.prof[r.sector][s.r.intn(3)]
				if p := &tier.units[s.r.intn(len(tier.units))]; string(p.unit) != string(r.prof.unit) {
					row[fProf] = p.unit
					return
				}
			}
		case 3:
			if edu := s.w.eduAt(s.w.ageAt(e.day)); edu >= 0 {
				row[fEdu] = m.edu[(edu+1+s.r.intn(3))%13].code
				return
			}
		case 4:
			c := &s.prov.comuni[s.prov.jobs.pick(s.r.u64())]
			if string(c.istat) != string(s.w.res.istat) {
				row[fComR] = c.istat
				return
			}
		}
	}
	// Always possible: a residence in the capoluogo's neighbourhood.
	row[fComR] = s.prov.comuni[0].istat
}

// spurious writes the true row of e, then the same communication sent again
// by mistake under a new id, and the X that cancels the copy.
func (s *shard) spurious(fi int, typ byte, xday int32) {
	s.newID(&s.commID, &s.commSeq)
	s.row[fID] = s.commID[:]
	if p := s.put(fi, s.row[:]); p != nil {
		p.lastPlain, p.hasLastPlain = s.commID, true
	}
	s.newID(&s.auxID, &s.commSeq)
	s.row[fID] = s.auxID[:]
	s.put(fi, s.row[:])
	s.acc.events[typeIndex(typ)] += 2
	s.cancel(s.auxID[:], s.relID[:], xday)
}

// phantom writes a hire that never started: an A on a relationship of its
// own, then the X that cancels it.
func (s *shard) phantom(fi int, xday int32) {
	var rel [idLen]byte
	s.newID(&rel, &s.relSeq)
	s.newID(&s.auxID, &s.commSeq)
	row := s.row
	row[fID], row[fRel] = s.auxID[:], rel[:]
	s.put(fi, row[:])
	s.acc.events[typeIndex('A')]++
	s.cancel(s.auxID[:], rel[:], xday)
}

// cancel writes an X for communication id of relationship rel, dated xday.
func (s *shard) cancel(id, rel []byte, xday int32) {
	var x [nCanon][]byte
	s.newID(&s.xID, &s.commSeq)
	x[fID], x[fTipo], x[fRif], x[fRel] = s.xID[:], typeBytes['X'], id, rel
	s.put(s.yearFile(xday), x[:])
	s.acc.events[typeIndex('X')]++
}

// odFile returns the open-data file of an event type.
func odFile(t byte) int { return typeIndex(t) }

// odRow fills s.odrow with the open-data fields of event e of r.
func (s *shard) odRow(r *relationship, e *event) {
	m := s.m
	row := &s.odrow
	row[oData] = m.dates.dmyOf(e.day)
	if r.gender == 'F' {
		row[oGenere] = bytesF
	} else {
		row[oGenere] = bytesM
	}
	age := s.w.ageAt(e.day)
	row[oEta] = m.ages[age]
	if r.household {
		row[oSettore] = m.atecos[m.secAtecoI[secHousehold][0]].title
	} else {
		row[oSettore] = m.atecos[s.emp.ateco].title
	}
	row[oTitolo] = nil
	if edu := s.w.eduAt(age); edu >= 0 {
		row[oTitolo] = m.edu[edu].title
	}
	row[oContratto] = m.chains[e.chain].codeAt(e.day).title
	row[oModalita] = m.orarioOD[e.orario]
	if e.orario == 0 && s.r.chance(orarioUnknownOD) {
		row[oModalita] = nil
	}
	row[oProvincia] = s.prov.name
	row[oItaliano] = s.w.cit.name
}

// emitOpenData writes the events of r that fall in the window as open-data
// rows: effective events only, no ids, no R or X.
func (s *shard) emitOpenData(r *relationship) {
	run := s.run
	effective := 0
	for i := range r.events {
		e := &r.events[i]
		if e.day < run.fromDay {
			continue
		}
		if e.day > run.toDay {
			break
		}
		fi := odFile(e.typ)
		s.odRow(r, e)
		if run.pDirty > 0 && s.r.chance(run.pDirty) && s.spoilOD(r, e, fi) {
			continue
		}
		s.put(fi, s.odrow[:])
		ti := typeIndex(e.typ)
		s.acc.events[ti]++
		s.acc.effective[ti]++
		effective++
	}
	if effective > 0 {
		s.acc.relationships++
		if r.start < run.fromDay {
			s.acc.preWindow++
		}
		if r.naturalEnd != 0 && r.naturalEnd <= run.toDay {
			s.acc.imputable++
		}
	}
}
