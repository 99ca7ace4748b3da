// Package itfmt writes numbers, dates and periods the way Italian readers
// expect them in the portal and the reports: 41.232, 2,1%, giugno 2024.
package itfmt

import (
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Rome's rules on machines without a zone database

	"github.com/regione-lombardia/oml"
)

// Rome is the time zone of the observatories: the times people type and
// read (agenda, embargoes, lockouts, the audit log) are Italian time.
var Rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil { // not with the embedded database
		return time.UTC
	}
	return l
}()

// Months are the Italian month names, January first.
var Months = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}

var shortMonths = [...]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"}

// Number writes v with dec decimals, a dot between thousands and a comma
// before the decimals: 12.345,6. A value that rounds to zero has no sign;
// a negative one has the minus sign (U+2212).
func Number(v float64, dec int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', dec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}

// Signed is Number with a plus sign before positive values.
func Signed(v float64, dec int) string {
	s := Number(v, dec)
	if s != "0" && !strings.HasPrefix(s, "−") && strings.Trim(s, "0,") != "" {
		return "+" + s
	}
	return s
}

// Date writes a date YYYY-MM-DD as "31 dicembre 2024" (unchanged if it is
// not one).
func Date(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return strconv.Itoa(t.Day()) + " " + Months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// Period writes a period for a heading or a sentence: "dicembre 2024",
// "2024 T4" (4° trimestre), "2024".
func Period(p oml.Period) string {
	switch p.Freq {
	case oml.Monthly:
		return Months[p.N-1] + " " + strconv.Itoa(p.Year)
	case oml.Quarterly:
		return strconv.Itoa(p.Year) + " T" + strconv.Itoa(p.N)
	}
	return strconv.Itoa(p.Year)
}

// ShortPeriod writes a period for a chart axis: "dic 2024".
func ShortPeriod(p oml.Period) string {
	if p.Freq == oml.Monthly {
		return shortMonths[p.N-1] + " " + strconv.Itoa(p.Year)
	}
	return Period(p)
}
