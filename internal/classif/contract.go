package classif

import (
	"fmt"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
)

// Contract is an MLPS contract type (tipologia contrattuale) of the CO.
type Contract struct {
	Code  string // "A.02.00"
	Title string // official description, upper case, as in the source (double spaces kept)
	// From and To bound the dates at which the code may be used, both
	// inclusive; a zero time leaves that side open. They are ANPAL's, after
	// ValidityOverrides.
	From, To time.Time
	Group    oml.ContractGroup // see ContractGroupOf
	// FixedTerm reports whether a hire with this contract needs a planned
	// end date: the title says "A TEMPO DETERMINATO", or the code is
	// N.02.00, N.03.00 or A.02.01.
	FixedTerm bool
}

// ValidAt reports whether the contract type may be used at date d. Calendar
// dates are compared: d's date in its own location against From and To,
// both inclusive.
func (c Contract) ValidAt(d time.Time) bool {
	day := dayNumber(d)
	if !c.From.IsZero() && day < dayNumber(c.From) {
		return false
	}
	if !c.To.IsZero() && day > dayNumber(c.To) {
		return false
	}
	return true
}

func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// ContractGroupOf returns the group of a contract code, the methodology's
// contract dimension:
//
//   - permanent: A.01.00, F.01.00, G.01.00, I.01.00, N.01.00;
//   - fixed-term: A.02.*, F.02.00, G.02.00, H.01.00, H.03.00, I.02.00,
//     N.02.00, N.03.00;
//   - apprenticeship: A.03.* except A.03.04 (contratto di formazione e
//     lavoro) and A.03.07 (contratto di inserimento), which are "other";
//   - domestic: A.04.*; intermittent: A.05.*; temp agency
//     (somministrazione): A.06.*;
//   - parasubordinate: B.* and M.*;
//   - other: every other code, unknown codes included.
func ContractGroupOf(code string) oml.ContractGroup {
	switch code {
	case "A.01.00", "F.01.00", "G.01.00", "I.01.00", "N.01.00":
		return oml.GroupPermanent
	case "F.02.00", "G.02.00", "H.01.00", "H.03.00", "I.02.00", "N.02.00", "N.03.00":
		return oml.GroupFixedTerm
	case "A.03.04", "A.03.07":
		return oml.GroupOther
	}
	switch {
	case strings.HasPrefix(code, "A.02."):
		return oml.GroupFixedTerm
	case strings.HasPrefix(code, "A.03."):
		return oml.GroupApprenticeship
	case strings.HasPrefix(code, "A.04."):
		return oml.GroupDomestic
	case strings.HasPrefix(code, "A.05."):
		return oml.GroupIntermittent
	case strings.HasPrefix(code, "A.06."):
		return oml.GroupTempAgency
	case strings.HasPrefix(code, "B."), strings.HasPrefix(code, "M."):
		return oml.GroupParasubordinate
	}
	return oml.GroupOther
}

// fixedTermCodes need a planned end date although their title does not say
// "A TEMPO DETERMINATO" in so many words (or says it with other spacing).
var fixedTermCodes = map[string]bool{"N.02.00": true, "N.03.00": true, "A.02.01": true}

func isFixedTerm(code, title string) bool {
	return fixedTermCodes[code] || strings.Contains(strings.Join(strings.Fields(title), " "), "A TEMPO DETERMINATO")
}

// ValidityOverride replaces the validity interval the source gives for a
// contract type.
type ValidityOverride struct {
	Code     string
	From, To time.Time // the interval used instead, both inclusive; zero = open
	Reason   string    // why, in Italian, for the documentation
}

// ValidityOverrides returns the corrections applied to the validity
// intervals of the source:
//
//   - A.06.00 and A.06.01 (somministrazione) end on 2013-01-10 in ANPAL's
//     table, but the Region's open data carry them through 2021 and no
//     replacement code exists: they are open-ended.
//   - The six codes introduced after 2022 (A.03.15, B.04.00, H.03.00,
//     N.01.00, N.02.00, N.03.00) have no known dates: they are valid at any
//     date.
//
// Each call returns a new slice.
func ValidityOverrides() []ValidityOverride {
	const somm = "La tabella ANPAL chiude il codice al 2013-01-10, ma gli open data di Regione Lombardia lo riportano fino al 2021 e non esiste un codice sostitutivo: si considera senza scadenza."
	const post2022 = "Codice introdotto dopo il 2022 (Classificazioni Standard MLPS Rev.093): date di validità non note, valido a qualsiasi data."
	from := time.Date(2007, 6, 21, 0, 0, 0, 0, time.UTC)
	return []ValidityOverride{
		{Code: "A.06.00", From: from, Reason: somm},
		{Code: "A.06.01", From: from, Reason: somm},
		{Code: "A.03.15", Reason: post2022},
		{Code: "B.04.00", Reason: post2022},
		{Code: "H.03.00", Reason: post2022},
		{Code: "N.01.00", Reason: post2022},
		{Code: "N.02.00", Reason: post2022},
		{Code: "N.03.00", Reason: post2022},
	}
}

// Contract returns a contract type by code ("A.02.00", any case). The
// lookup does not allocate.
func (l *Lists) Contract(code string) (Contract, bool) {
	if i, ok := l.contractIdx[code]; ok {
		return l.contracts[i], true
	}
	if len(code) != 7 {
		return Contract{}, false
	}
	var b [7]byte
	for i := 0; i < 7; i++ {
		b[i] = upper(code[i])
	}
	if i, ok := l.contractIdx[string(b[:])]; ok {
		return l.contracts[i], true
	}
	return Contract{}, false
}

// ContractByTitle returns the contract type with a title, ignoring case,
// spaces and punctuation. When several codes share a title, the first (by
// code) valid at date at is returned, or the first of all when none is; a
// single match is returned whatever its validity, so callers check ValidAt
// to tell an unknown title from a code used out of its interval.
func (l *Lists) ContractByTitle(title string, at time.Time) (Contract, bool) {
	var buf [128]byte
	idx := l.contractTitle[string(fold(buf[:0], title))]
	if len(idx) == 0 {
		return Contract{}, false
	}
	for _, i := range idx {
		if l.contracts[i].ValidAt(at) {
			return l.contracts[i], true
		}
	}
	return l.contracts[idx[0]], true
}

// Contracts returns every contract type, sorted by code.
func (l *Lists) Contracts() []Contract {
	return append([]Contract(nil), l.contracts...)
}

func (l *Lists) loadContracts(t *table, _ interner) error {
	c, err := t.col("codice", "titolo", "dal", "al")
	if err != nil {
		return err
	}
	l.contractIdx = map[string]int{}
	l.contractTitle = map[string][]int{}
	for _, r := range t.rows {
		x := Contract{Code: r[c[0]], Title: r[c[1]]}
		if x.From, err = parseDate(r[c[2]]); err != nil {
			return fmt.Errorf("contract %s: %w", x.Code, err)
		}
		if x.To, err = parseDate(r[c[3]]); err != nil {
			return fmt.Errorf("contract %s: %w", x.Code, err)
		}
		x.Group = ContractGroupOf(x.Code)
		x.FixedTerm = isFixedTerm(x.Code, x.Title)
		if _, dup := l.contractIdx[x.Code]; dup {
			return fmt.Errorf("contract %s listed twice", x.Code)
		}
		l.contractIdx[x.Code] = len(l.contracts)
		l.contracts = append(l.contracts, x)
	}
	for _, o := range ValidityOverrides() {
		i, ok := l.contractIdx[o.Code]
		if !ok {
			return fmt.Errorf("validity override for unknown contract %s", o.Code)
		}
		l.contracts[i].From, l.contracts[i].To = o.From, o.To
	}
	for i, x := range l.contracts { // rows are sorted by code
		k := string(fold(nil, x.Title))
		l.contractTitle[k] = append(l.contractTitle[k], i)
	}
	return nil
}

// parseDate reads an ISO date; the empty string is the zero time.
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}
