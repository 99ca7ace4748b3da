package synth

import (
	"context"
	"math"
	"sync/atomic"

	"github.com/regione-lombardia/oml"
)

// A shard simulates one part of a province's labour market: its own
// employers, its own pool of workers and its own random stream, derived from
// the seed and the shard's position only. Shards never share state, so the
// files are the same whatever the number of goroutines that run them.
type shard struct {
	m    *model
	run  *runState
	idx  int
	prov *provModel
	sub  int
	nsub int

	seed     uint64
	provSalt uint64
	r        *rng

	employers  [nSectors][]employer
	empAl      [nSectors]alias
	households int
	cohortN    [2]int
	agencies   *agencies

	rel relationship
	w   worker
	emp employer // for a temp worker, the user firm
	hh  household

	out *shardOut
	acc accumulators

	row                       [nCanon][]byte
	odrow                     [nOpenData][]byte
	relID, commID, auxID, xID [idLen]byte
	relSeq, commSeq           uint64
}

// relationship is one employment relationship: the true sequence of its
// events, before anything is written. Reused from hire to hire.
type relationship struct {
	start     int32
	sector    int
	chain     int
	seg       int
	gender    byte
	birthYear int
	orario    byte
	events    []event
	// naturalEnd is the planned end a fixed-term relationship reached
	// without a communicated termination (0 if none): the end the
	// methodology imputes.
	naturalEnd int32

	household bool
	agency    int
	prof      *profRef
	profLevel int8 // 5 unit, 4 category, 0 missing
	protected byte
}

// event is one true event of a relationship.
type event struct {
	typ        byte  // 'A', 'C', 'P', 'T'
	day        int32 // event date
	plannedEnd int32 // planned end after the event, 0 for none
	chain      int   // contract chain after the event
	orario     byte  // working time after the event
	transf     string
	reason     string
}

// hiresPerYear returns the shard's hires in a year of trend 1.
func (s *shard) hiresPerYear() float64 {
	return regionHiresPerYear * s.run.cfg.Scale * s.prov.calib.share / 100 / float64(s.nsub)
}

// lambda returns the expected hires of the shard in a month and sector.
func (s *shard) lambda(mi, sec int) float64 {
	y, mo := mi/12, mi%12
	base := s.hiresPerYear() / 12
	season := s.m.season[sec][mo]
	if sec == secTourism {
		season = s.prov.touSeason[mo]
	}
	f := base * s.prov.sectorW[sec] * season * yearTrend(y)
	if c, ok := covidHires[y]; ok {
		f *= c[mo]
	}
	if sec == secTourism {
		if c, ok := covidTourism[y]; ok {
			f *= 1 - (1-c[mo])*math.Max(s.prov.mountain, 0.3)
		}
	}
	return f
}

// simulate runs the shard from the start of the warm-up to the last month
// of the window, writing every event that falls in the window.
func (s *shard) simulate(ctx context.Context, hired *atomic.Int64) error {
	// Employers live only while their shard runs, so memory does not grow
	// with the number of shards.
	var bySector [nSectors]float64
	for sec := range bySector {
		bySector[sec] = s.hiresPerYear() * s.prov.sectorW[sec]
	}
	s.buildEmployers(bySector)
	defer func() { s.employers, s.empAl = [nSectors][]employer{}, [nSectors]alias{} }()
	first, last := s.run.firstMonth, s.run.lastMonth
	for mi := first - warmupLongMonths; mi <= last; mi++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		deep := mi < first-warmupAllMonths
		start, n := monthStart(mi), daysIn(mi)
		var inWindow int64
		for sec := 0; sec < nSectors; sec++ {
			k := s.r.poisson(s.lambda(mi, sec))
			for i := 0; i < k; i++ {
				s.hire(start, n, sec, deep)
			}
			if mi >= first {
				inWindow += int64(k)
			}
		}
		if inWindow > 0 {
			hired.Add(inWindow)
		}
		if s.out.err != nil {
			return s.out.err
		}
	}
	return s.out.flush()
}

// hire simulates one hire in the month starting on day start: the
// relationship's life first (cheap), then, if any of its events falls in the
// window, the people and the rows.
func (s *shard) hire(start, ndays int32, sec int, deep bool) {
	r := &s.rel
	r.sector = sec
	r.start = start + s.hireDay(start, ndays)
	kind := s.m.kindAl[sec].pick(s.r.u64())
	r.chain = s.chainOf(kind, sec, r.start)
	def := &chains[r.chain]
	if deep && def.hasEnd && def.pTDTI[0] == 0 {
		// Decades before the window only relationships that can become
		// open-ended matter; the others ended long ago.
		return
	}
	r.seg = segGeneral
	if r.chain == chDomTI || r.chain == chDomTD {
		r.seg = segDomestic
	}
	r.gender = 'M'
	if s.r.chance(sectors[sec].female) {
		r.gender = 'F'
	}
	prof := def.age
	if sec == secEdu && (r.chain == chTD || r.chain == chTDSost || r.chain == chTI) {
		prof = ageTeacher
	}
	ac := s.m.ageAl[prof].pick(s.r.u64())
	age := ageClassLo[ac] + s.r.intn(ageClassHi[ac]-ageClassLo[ac]+1)
	if age < 18 && (r.chain == chSommTD || r.chain == chSommTI) {
		age = 18 + s.r.intn(2) // agencies hire adults
	}
	y, _, _ := civil(r.start)
	r.birthYear = y - age
	r.orario = s.orarioOf(def, sec, r.gender)
	s.timeline(r)
	if last := r.events[len(r.events)-1].day; last < s.run.fromDay {
		return
	}
	s.people(r)
	if s.run.cfg.Format == FormatOpenData {
		s.emitOpenData(r)
	} else {
		s.emitCanonical(r)
	}
}

// hireDay draws the day of a hire in its month (0 = the 1st): 30% on the
// 1st, the others mostly on working days.
func (s *shard) hireDay(start, ndays int32) int32 {
	if s.r.chance(0.3) {
		return 0
	}
	for {
		d := int32(s.r.intn(int(ndays)))
		switch weekday(start + d) {
		case 5:
			if s.r.chance(0.35) {
				return d
			}
		case 6:
			if s.r.chance(0.15) {
				return d
			}
		case 0:
			return d
		default:
			if s.r.chance(0.75) {
				return d
			}
		}
	}
}

// chainOf turns a contract kind of the sector mix into a chain.
func (s *shard) chainOf(kind, sec int, day int32) int {
	switch kind {
	case kTI:
		return chTI
	case kTD, kTDSost:
		if kind == kTDSost || s.r.chance(tdSostShare[sec]) {
			return chTDSost
		}
		return chTD
	case kAppr:
		switch u := s.r.float(); {
		case u < 0.05:
			return chApprQual
		case u < 0.07:
			return chApprAlta
		}
		return chApprProf
	case kSommTD:
		return chSommTD
	case kSommTI:
		return chSommTI
	case kInterm:
		if s.r.chance(0.07) {
			return chIntermTI
		}
		return chIntermTD
	case kDom:
		if s.r.chance(0.2) {
			return chDomTD
		}
		return chDomTI
	case kCococo:
		return chCococo
	case kTiroc:
		return chTiroc
	case kSpett:
		return chSpett
	case kSport:
		if day >= sportFrom {
			return chSport
		}
		return chCococo
	}
	return chTD
}

// orarioOf draws the working time of a hire.
func (s *shard) orarioOf(def *chainDef, sec int, gender byte) byte {
	if def.orario == orarioNone {
		return 0
	}
	p := sectors[sec].ptM
	if gender == 'F' {
		p = sectors[sec].ptF
	}
	if !s.r.chance(p) {
		return 'F'
	}
	switch u := s.r.float(); {
	case u < partTimeV:
		return 'V'
	case u < partTimeV+partTimeM:
		return 'M'
	}
	return 'P'
}

// timeline writes the true events of r: the hire, then extensions,
// transformations and the termination, communicated or not.
func (s *shard) timeline(r *relationship) {
	def := &chains[r.chain]
	r.naturalEnd = 0
	a := event{typ: 'A', day: r.start, chain: r.chain, orario: r.orario}
	if def.hasEnd {
		a.plannedEnd = s.firstPlannedEnd(r)
	}
	r.events = append(r.events[:0], a)
	if def.hasEnd {
		s.fixedTerm(r, def)
		return
	}
	s.openEnded(r, r.start, r.chain, false)
}

// firstPlannedEnd draws the planned end of a fixed-term hire, with the
// calendars of schools, tourist seasons and harvests.
func (s *shard) firstPlannedEnd(r *relationship) int32 {
	y, mo, _ := civil(r.start)
	ch := r.chain
	var e int32
	switch {
	case r.sector == secEdu && (ch == chTD || ch == chTDSost):
		u := s.r.float()
		switch {
		case mo == 9 && u < 0.55:
			e = civilDay(y+1, 6, 30)
		case mo == 9 && u < 0.67:
			e = civilDay(y+1, 8, 31)
		case (mo >= 10 || mo <= 5) && u < 0.25:
			yy := y
			if mo >= 10 {
				yy++
			}
			e = civilDay(yy, 6, 30)
		}
	case r.sector == secTourism && (ch == chTD || ch == chIntermTD):
		switch {
		case mo >= 4 && mo <= 7 && s.r.chance(0.6):
			e = civilDay(y, 9, 15) + int32(s.r.intn(31))
		case (mo == 11 || mo == 12) && s.r.chance(0.6*math.Min(1, s.prov.mountain/0.3)):
			e = civilDay(y+1, 3, 31) + int32(s.r.intn(21))
		}
	case r.sector == secAgr && (mo == 9 || mo == 10) && s.r.chance(0.6):
		e = r.start + 7 + int32(s.r.intn(38))
	}
	if e <= r.start {
		e = s.plannedEndFrom(r.start, r.chain)
	}
	if _, em, _ := civil(e); mo >= 9 && (em >= 11 || em <= 2) && e-r.start > 31 && s.r.chance(plannedDec31) {
		if dec := civilDay(y, 12, 31); dec > r.start+7 {
			e = dec
		}
	}
	return e
}

// plannedEndFrom draws a planned end from the chain's planned lengths.
func (s *shard) plannedEndFrom(from int32, ch int) int32 {
	cm := &s.m.chains[ch]
	c := cm.def.lengths[cm.lengths.pick(s.r.u64())]
	l := c.lo + int32(s.r.intn(int(c.hi-c.lo+1)))
	e := from + l - 1
	if l >= 32 && s.r.chance(plannedMonthEnd) {
		e = monthEnd(e)
	}
	return e
}

// fixedTerm simulates the periods of a fixed-term relationship.
func (s *shard) fixedTerm(r *relationship, def *chainDef) {
	cur := r.start
	end := r.events[0].plannedEnd
	nP := 0
	for {
		later := 0
		if nP > 0 {
			later = 1
		}
		u := s.r.float()
		pT := def.pTDTI[later]
		if u < pT && end > cur {
			d := cur + 1 + int32(s.r.intn(int(end-cur)))
			r.events = append(r.events, event{typ: 'T', day: d, chain: chTI, orario: r.orario, transf: oml.TransfTDTI})
			s.openEnded(r, d, chTI, true)
			return
		}
		if u < pT+def.pEarly && end-cur >= 7 {
			d := cur + 1 + int32(s.r.intn(int(end-cur-1)))
			r.events = append(r.events, event{typ: 'C', day: d, plannedEnd: end, chain: r.chain, orario: r.orario,
				reason: s.reasonOf(def.reasons)})
			return
		}
		if nP < def.maxP && s.r.chance(def.pExt[later]) {
			ne := s.plannedEndFrom(end+1, r.chain)
			if ne-r.start < def.maxDays {
				d := end - int32(s.r.intn(8))
				if d < cur {
					d = cur
				}
				r.events = append(r.events, event{typ: 'P', day: d, plannedEnd: ne, chain: r.chain, orario: r.orario})
				cur, end = d, ne
				nP++
				continue
			}
		}
		// The planned end is reached. Employers must communicate it only
		// for contracts that are not fixed-term by law.
		if !s.m.chains[r.chain].codeAt(end).fixedTerm || s.r.chance(def.pNatComm) {
			r.events = append(r.events, event{typ: 'C', day: end, plannedEnd: end, chain: r.chain, orario: r.orario,
				reason: oml.EndTerm})
		} else {
			r.naturalEnd = end
		}
		return
	}
}

// openEnded simulates an open-ended relationship from day from (the hire,
// or the transformation of a fixed-term one).
func (s *shard) openEnded(r *relationship, from int32, ch int, converted bool) {
	def := &chains[ch]
	comps := def.open
	if converted {
		// A worker kept on after a fixed-term contract rarely leaves at once.
		comps = convertedDurations
	}
	var d float64
	u := s.r.float()
	for i, c := range comps {
		if u < c.w || i == len(comps)-1 {
			d = s.r.exp(c.meanDays)
			break
		}
		u -= c.w
	}
	end := from + 1 + int32(math.Min(d, 60*365))
	reason := s.reasonOf(def.reasons)
	// Retirement.
	ra := retireAges[s.m.retireAges.pick(s.r.u64())].age
	if retire := civilDay(r.birthYear+ra, 1, 1) + int32(s.r.intn(365)); retire > from && retire < end {
		end, reason = retire, oml.EndRetirement
	}
	// Nobody works past 80 in these data.
	if last := civilDay(r.birthYear+80, 1, 1); end > last {
		end, reason = last, oml.EndRetirement
		if end <= from {
			end = from + 1
		}
	}
	if reason == oml.EndDismissal && end >= freezeFrom && end <= freezeTo && s.r.chance(freezePostpone) {
		end = freezeTo + 1 + int32(s.r.intn(180))
	}
	if s.r.chance(monthEndSnap) {
		end = monthEnd(end)
	}
	if _, m, _ := civil(end); (m == 11 || m == 12) && s.r.chance(decemberSnap) {
		y, _, _ := civil(end)
		end = civilDay(y, 12, 31)
	}
	// Transformations during the relationship, in date order.
	var ts [2]event
	n := 0
	if ch == chApprProf || ch == chApprQual || ch == chApprAlta {
		if s.r.chance(def.pAPTI) {
			if t := from + 365 + int32(s.r.intn(730)); t < end {
				ts[n] = event{typ: 'T', day: t, transf: oml.TransfAPTI}
				n++
			}
		}
	}
	if r.orario != 0 && s.r.chance(def.pOrarioT) {
		if span := int(math.Min(float64(end-from-1), 5*365)); span > 30 {
			ts[n] = event{typ: 'T', day: from + 30 + int32(s.r.intn(span-29)), transf: oml.TransfPTFT}
			n++
		}
	} else if end-from > 60 && s.r.chance(def.pAltroT) {
		ts[n] = event{typ: 'T', day: from + 30 + int32(s.r.intn(int(end-from-31))), transf: oml.TransfOther}
		n++
	}
	if n == 2 && ts[1].day < ts[0].day {
		ts[0], ts[1] = ts[1], ts[0]
	}
	chain, orario := ch, r.orario
	for _, t := range ts[:n] {
		switch t.transf {
		case oml.TransfAPTI:
			chain = chTI
		case oml.TransfPTFT:
			if orario == 'F' {
				t.transf, orario = oml.TransfFTPT, 'P'
			} else {
				orario = 'F'
			}
		}
		t.chain, t.orario = chain, orario
		r.events = append(r.events, t)
	}
	r.events = append(r.events, event{typ: 'C', day: end, chain: chain, orario: orario, reason: reason})
}

// convertedDurations is the life of a relationship after a fixed-term
// contract became permanent.
var convertedDurations = []durComp{{0.15, 200}, {0.25, 3 * 365}, {0.60, 15 * 365}}

func (s *shard) reasonOf(w [3]float64) string {
	u := s.r.float() * (w[0] + w[1] + w[2])
	switch {
	case u < w[0]:
		return oml.EndResignation
	case u < w[0]+w[1]:
		return oml.EndDismissal
	}
	return oml.EndOther
}

// people draws the worker, the employer and the per-relationship fields.
func (s *shard) people(r *relationship) {
	s.pickWorker(&s.w, r.seg, r.gender, r.birthYear)
	r.household = r.sector == secHousehold
	r.agency = -1
	if r.household {
		s.household(&s.hh, s.r.intn(s.households))
	} else {
		s.emp = s.employers[r.sector][s.empAl[r.sector].pick(s.r.u64())]
		if r.chain == chSommTD || r.chain == chSommTI {
			r.agency = s.agencies.al.pick(s.r.u64())
		}
	}
	age := s.w.ageAt(r.start)
	edu := s.w.eduAt(age)
	grp := 0
	switch {
	case edu < 0:
	case edu <= 2:
		grp = 1
	case edu <= 4:
		grp = 2
	default:
		grp = 3
	}
	t := s.tierOf(grp)
	tier := &s.m.prof[r.sector][t]
	r.prof = &tier.units[tier.al.pick(s.r.u64())]
	switch u := s.r.float(); {
	case u < professionMissing:
		r.profLevel = 0
	case u < professionMissing+professionCategory:
		r.profLevel = 4
	default:
		r.profLevel = 5
	}
	switch u := s.r.float(); {
	case u < protectedYes:
		r.protected = 'S'
	case u < protectedYes+protectedMissing:
		r.protected = 0
	default:
		r.protected = 'N'
	}
}

func (s *shard) tierOf(grp int) int {
	p := tierByEducation[grp]
	u := s.r.float()
	switch {
	case u < p[0]:
		return 0
	case u < p[0]+p[1]:
		return 1
	}
	return 2
}
