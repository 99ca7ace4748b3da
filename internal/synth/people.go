package synth

import (
	"math"

	"github.com/regione-lombardia/oml"
)

// Workers, households and temp agencies are not stored: each is a function
// of a key (seed, shard, cohort, index), so the same person comes back with
// the same fiscal code and attributes in every relationship. Employers are
// stored per shard because hires are drawn from them with size weights.

// Worker segments: domestic workers come from their own pool, with their
// own citizenship mix.
const (
	segGeneral = iota
	segDomestic
)

// worker is a person hired, as the rows of one relationship show them.
type worker struct {
	cf        [16]byte
	gender    byte
	birthYear int
	bm, bd    int // month and day of birth
	cit       *citRef
	eduFinal  int // highest level the person reaches, -1 when never communicated
	res       *comuneRef
}

// employer is a firm (or public body) of a shard and sector.
type employer struct {
	vat      [11]byte
	ateco    int32 // index of model.atecos
	comune   int32 // index of the province's comuni
	divLevel bool  // sends its ATECO at division level
	belfiore bool  // its rows carry Belfiore comune codes
}

// household is a family employing a domestic worker: the employer is a
// person, identified by a 16-character fiscal code.
type household struct {
	cf       [16]byte
	comune   int32
	belfiore bool // its rows carry Belfiore comune codes
}

var monthLetters = [12]byte{'A', 'B', 'C', 'D', 'E', 'H', 'L', 'M', 'P', 'R', 'S', 'T'}

const consonants = "BCDFGLMNPRSTVZBCDGLMNPRST"
const vowels = "AEIOU"

// fiscalCode writes a personal fiscal code valid for oml.ValidFiscalCode:
// letters of surname and name, year, month letter, day (plus 40 for women),
// Belfiore code of the birthplace and the check letter.
func fiscalCode(dst *[16]byte, h *hstream, gender byte, birthYear, bm, bd int, place []byte) {
	for i := 0; i < 6; i++ {
		if h.intn(10) < 8 {
			dst[i] = consonants[h.intn(len(consonants))]
		} else {
			dst[i] = vowels[h.intn(len(vowels))]
		}
	}
	yy := birthYear % 100
	dst[6], dst[7] = byte('0'+yy/10), byte('0'+yy%10)
	dst[8] = monthLetters[bm-1]
	d := bd
	if gender == 'F' {
		d += 40
	}
	dst[9], dst[10] = byte('0'+d/10), byte('0'+d%10)
	copy(dst[11:15], place)
	dst[15] = oml.FiscalCodeCheckChar(string(dst[:15]))
}

// vatNumber writes an 11-digit VAT number: seven digits that are a
// bijection of n (< 10^7, so distinct employers never share a number), the
// three digits of the provincial office and the check digit.
func vatNumber(dst *[11]byte, n uint64, salt uint64, office string) {
	x := (n*3000017 + salt%10000000) % 10000000
	for i := 6; i >= 0; i-- {
		dst[i] = byte('0' + x%10)
		x /= 10
	}
	copy(dst[7:10], office)
	dst[10] = oml.VATCheckDigit(string(dst[:10]))
}

// birthDate draws a day of the year of birth.
func birthDate(h *hstream, year int) (m, d int) {
	start := civilDay(year, 1, 1)
	n := civilDay(year+1, 1, 1) - start
	_, m, d = civil(start + int32(h.intn(int(n))))
	return m, d
}

// pickWorker fills w with a worker of the shard's pool for a cohort (segment,
// gender, birth year). Low indexes come back more often: some people change
// job many times, most rarely.
func (s *shard) pickWorker(w *worker, seg int, gender byte, birthYear int) {
	n := s.cohortN[seg]
	u := s.r.float()
	idx := int(float64(n) * u * u * (0.5 + 0.5*u)) // skewed towards frequent movers
	g := uint64(0)
	if gender == 'F' {
		g = 1
	}
	h := hstream{s: hashKey(s.seed, 1, uint64(seg), g, uint64(birthYear), uint64(idx))}
	w.gender, w.birthYear = gender, birthYear
	w.bm, w.bd = birthDate(&h, birthYear)
	italian := h.float() >= s.foreignShare(seg)
	var place []byte
	if italian {
		w.cit = &s.m.citItaly
		w.eduFinal = s.m.eduAl[0].pick(h.u64())
		if h.intn(100) < 65 {
			c := &s.prov.comuni[s.prov.jobs.pick(h.u64())]
			place = c.belfiore
		} else {
			place = s.m.birthElse[h.intn(len(s.m.birthElse))]
		}
	} else {
		c := &s.m.foreign[seg][s.m.foreignAl[seg].pick(h.u64())]
		w.cit = c
		w.eduFinal = s.m.eduAl[1].pick(h.u64())
		place = c.z
	}
	if h.float() < eduMissing {
		w.eduFinal = -1
	}
	switch u := h.float(); {
	case u < resOutside && len(s.prov.outside) > 0:
		w.res = &s.prov.outside[h.intn(len(s.prov.outside))]
	case u < resOutside+resOtherProvince && len(s.prov.neighbors) > 0:
		p := s.m.provs[s.prov.neighbors[h.intn(len(s.prov.neighbors))]]
		w.res = &p.comuni[p.jobs.pick(h.u64())]
	default:
		w.res = &s.prov.comuni[s.prov.jobs.pick(h.u64())]
	}
	fiscalCode(&w.cf, &h, gender, birthYear, w.bm, w.bd, place)
}

func (s *shard) foreignShare(seg int) float64 {
	if seg == segDomestic {
		return foreignDomesticShare
	}
	return s.prov.foreign
}

// ageAt returns the age of w on day z.
func (w *worker) ageAt(z int32) int {
	y, m, d := civil(z)
	a := y - w.birthYear
	if m < w.bm || (m == w.bm && d < w.bd) {
		a--
	}
	return a
}

// eduAt returns the education level communicated on a day: the final level
// capped by what the age allows, or -1 when not communicated.
func (w *worker) eduAt(age int) int {
	e := w.eduFinal
	if e < 0 {
		return -1
	}
	var limit int
	switch {
	case age <= 16:
		limit = 2
	case age <= 18:
		limit = 3
	case age <= 20:
		limit = 4
	case age <= 22:
		limit = 6
	case age <= 24:
		limit = 7
	default:
		return e
	}
	if e > limit {
		return limit
	}
	return e
}

// household returns the household employer number idx of the shard.
func (s *shard) household(hh *household, idx int) {
	h := hstream{s: hashKey(s.seed, 2, uint64(idx))}
	gender := byte('M')
	if h.intn(100) < 60 {
		gender = 'F'
	}
	by := 1930 + h.intn(55)
	bm, bd := birthDate(&h, by)
	c := s.prov.jobs.pick(h.u64())
	hh.comune = int32(c)
	hh.belfiore = h.float() < comuneBelfiore
	fiscalCode(&hh.cf, &h, gender, by, bm, bd, s.prov.comuni[c].belfiore)
}

// buildEmployers creates the employers of the shard: for each sector a
// number proportional to its hires, with Zipf weights (a few large
// employers, many small ones).
func (s *shard) buildEmployers(hiresPerYear [nSectors]float64) {
	for sec := 0; sec < nSectors; sec++ {
		if sec == secHousehold {
			n := int(2*hiresPerYear[sec]) + 10
			s.households = n
			continue
		}
		n := int(0.35*hiresPerYear[sec]) + 3
		if n > maxEmployersPerSector {
			n = maxEmployersPerSector
		}
		list := make([]employer, n)
		w := make([]float64, n)
		for j := range list {
			e := &list[j]
			h := hstream{s: hashKey(s.seed, 3, uint64(sec), uint64(j))}
			e.ateco = s.m.secAtecoI[sec][s.m.secAteco[sec].pick(h.u64())]
			if sec == secTourism {
				e.comune = int32(s.prov.tourism.pick(h.u64()))
			} else {
				e.comune = int32(s.prov.jobs.pick(h.u64()))
			}
			e.divLevel = h.float() < atecoDivision
			e.belfiore = h.float() < comuneBelfiore
			g := uint64(s.sub)*1_000_000 + uint64(sec)*60_000 + uint64(j)
			vatNumber(&e.vat, g, s.provSalt, s.prov.code)
			w[j] = math.Pow(float64(j+1), -employerZipf)
		}
		s.employers[sec] = list
		s.empAl[sec] = newAlias(w)
	}
}

// employerZipf is the exponent of the size distribution of employers: the
// k-th employer of a sector hires in proportion to k^-0.8, so the largest
// of a few thousand takes about 5% of the sector's hires.
const employerZipf = 0.8

// maxEmployersPerSector keeps the VAT numbers of a shard distinct (see
// vatNumber): sub-shard, sector and index fit in seven digits.
const maxEmployersPerSector = 60_000

// agencies are the temp work agencies of the region, shared by all shards:
// a temp worker's employer is the agency, the ATECO and workplace those of
// the user firm.
type agencies struct {
	vat [][11]byte
	al  alias
}

const nAgencies = 80

func newAgencies(seed uint64) *agencies {
	a := &agencies{vat: make([][11]byte, nAgencies)}
	w := make([]float64, nAgencies)
	salt := hashKey(seed, 4)
	for i := range a.vat {
		vatNumber(&a.vat[i], 9_500_000+uint64(i), salt, "015")
		w[i] = 1 / float64(i+1)
	}
	a.al = newAlias(w)
	return a
}
