package oml

import (
	"fmt"
	"strconv"
	"strings"
)

// MethodVersion is the version of the methodology (the indicator catalogue)
// this build implements. A change of any definition is a new version.
const MethodVersion = "1.0.0"

// BaseYear is the first year of the published series: the cumulated balance
// runs from January of this year.
const BaseYear = 2017

// Perimeter says whose comune places a figure in a territory.
type Perimeter string

const (
	Workplace Perimeter = "workplace" // comune of the workplace (default)
	Residence Perimeter = "residence" // comune of residence of the worker
)

// Scope says which relationships a figure covers.
type Scope string

const (
	ScopeFull Scope = "full" // all dependent and para-subordinate relationships
	// ScopeCore is private-sector permanent, fixed-term and apprenticeship
	// relationships: the fast monthly set.
	ScopeCore Scope = "core"
)

// Perimeters and Scopes list the values in their canonical order.
var (
	Perimeters = []Perimeter{Workplace, Residence}
	Scopes     = []Scope{ScopeFull, ScopeCore}
)

// Freq is the frequency of a series.
type Freq byte

const (
	Monthly   Freq = 'M'
	Quarterly Freq = 'Q'
	Yearly    Freq = 'Y'
)

// Freqs lists the frequencies from the finest.
var Freqs = []Freq{Monthly, Quarterly, Yearly}

// String returns "M", "Q" or "Y".
func (f Freq) String() string { return string(f) }

// ParseFreq parses "M", "Q" or "Y" (any case).
func ParseFreq(s string) (Freq, error) {
	switch strings.ToUpper(s) {
	case "M":
		return Monthly, nil
	case "Q":
		return Quarterly, nil
	case "Y", "A":
		return Yearly, nil
	}
	return 0, Errorf(EINVALID, "frequenza %q non valida / invalid frequency %q", s, s).WithHint("usare M (mese), Q (trimestre) o Y (anno) / use M, Q or Y")
}

// Period is a month, a quarter or a year. Its zero value is invalid.
type Period struct {
	Freq Freq
	Year int
	N    int // month 1-12, quarter 1-4, 0 for a year
}

// String formats the period as the API writes it: "2024-06", "2024-Q2", "2024".
func (p Period) String() string {
	switch p.Freq {
	case Monthly:
		return fmt.Sprintf("%04d-%02d", p.Year, p.N)
	case Quarterly:
		return fmt.Sprintf("%04d-Q%d", p.Year, p.N)
	}
	return fmt.Sprintf("%04d", p.Year)
}

// Index numbers the periods of one frequency consecutively: months and
// quarters from year 0, years as the year itself. Index and PeriodAt are
// inverse.
func (p Period) Index() int {
	switch p.Freq {
	case Monthly:
		return p.Year*12 + p.N - 1
	case Quarterly:
		return p.Year*4 + p.N - 1
	}
	return p.Year
}

// PeriodAt returns the period of frequency f with index i.
func PeriodAt(f Freq, i int) Period {
	switch f {
	case Monthly:
		return Period{f, i / 12, i%12 + 1}
	case Quarterly:
		return Period{f, i / 4, i%4 + 1}
	}
	return Period{Freq: Yearly, Year: i}
}

// Add returns the period n periods after p (before, for negative n).
func (p Period) Add(n int) Period { return PeriodAt(p.Freq, p.Index()+n) }

// Months returns the first and last month of p.
func (p Period) Months() (first, last Period) {
	switch p.Freq {
	case Monthly:
		return p, p
	case Quarterly:
		m := (p.N-1)*3 + 1
		return Period{Monthly, p.Year, m}, Period{Monthly, p.Year, m + 2}
	}
	return Period{Monthly, p.Year, 1}, Period{Monthly, p.Year, 12}
}

// Of returns the period of frequency f that contains month p.
func (p Period) Of(f Freq) Period {
	switch f {
	case Quarterly:
		return Period{f, p.Year, (p.N-1)/3 + 1}
	case Yearly:
		return Period{Freq: f, Year: p.Year}
	}
	return p
}

// ParsePeriod parses "2024-06", "2024-Q2" or "2024". The frequency is read
// from the form.
func ParsePeriod(s string) (Period, error) {
	bad := func() (Period, error) {
		return Period{}, Errorf(EINVALID, "periodo %q non valido / invalid period %q", s, s).
			WithHint("usare AAAA-MM, AAAA-Qn o AAAA (es. 2024-06, 2024-Q2, 2024), oppure latest o latestMINUSn / use YYYY-MM, YYYY-Qn or YYYY, or latest or latestMINUSn")
	}
	if len(s) < 4 {
		return bad()
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil || y < 1900 || y > 2999 {
		return bad()
	}
	switch {
	case len(s) == 4:
		return Period{Freq: Yearly, Year: y}, nil
	case len(s) == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q'):
		n, err := strconv.Atoi(s[6:])
		if err != nil || n < 1 || n > 4 {
			return bad()
		}
		return Period{Quarterly, y, n}, nil
	case len(s) == 7 && s[4] == '-':
		n, err := strconv.Atoi(s[5:])
		if err != nil || n < 1 || n > 12 {
			return bad()
		}
		return Period{Monthly, y, n}, nil
	}
	return bad()
}

// Status is the SDMX observation status of a published cell.
type Status byte

const (
	StatusNormal       Status = 'A' // normal value
	StatusProvisional  Status = 'P' // provisional: late communications may still revise it
	StatusConfidential Status = 'C' // suppressed by disclosure control; the value is withheld
	StatusUnavailable  Status = 'M' // the input cannot support this figure (open-data input)
)

// String returns the one-letter code.
func (s Status) String() string { return string(s) }

// Level is a level of the territorial hierarchy.
type Level string

const (
	LevelRegion   Level = "region"
	LevelProvince Level = "province"
	LevelCPI      Level = "cpi"
	LevelComune   Level = "comune"
)

// Levels lists the levels from the top.
var Levels = []Level{LevelRegion, LevelProvince, LevelCPI, LevelComune}

// RegionCode is the territory code of Lombardy (NUTS 2).
const RegionCode = "ITC4"

// Territory is a territory figures are published for. Codes: "ITC4" for the
// region, ISTAT province codes ("016"), "cpi:<ANPAL code>", ISTAT comune
// codes ("016024").
type Territory struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  Level  `json:"level"`
	Parent string `json:"parent,omitempty"`
}

// CPIPrefix marks the territory code of a Centro per l'Impiego.
const CPIPrefix = "cpi:"
