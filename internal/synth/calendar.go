package synth

import "time"

// Days are counted from 1970-01-01 (day 0) in the proleptic Gregorian
// calendar; the generator works on day numbers and formats them from
// precomputed tables.

// civilDay returns the day number of a date (H. Hinnant's algorithm).
func civilDay(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// civil returns the date of a day number.
func civil(z int32) (y, m, d int) {
	zz := int(z) + 719468
	era := zz / 146097
	if zz < 0 && zz%146097 != 0 {
		era--
	}
	doe := zz - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// dayOf returns the day number of t's calendar date.
func dayOf(t time.Time) int32 {
	y, m, d := t.Date()
	return civilDay(y, int(m), d)
}

// timeOf returns the UTC midnight of a day number.
func timeOf(z int32) time.Time {
	y, m, d := civil(z)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

// monthIndex numbers months continuously: year*12 + month-1.
func monthIndex(y, m int) int { return y*12 + m - 1 }

// monthStart returns the first day of a month index.
func monthStart(mi int) int32 { return civilDay(mi/12, mi%12+1, 1) }

// daysIn returns the number of days of a month index.
func daysIn(mi int) int32 { return monthStart(mi+1) - monthStart(mi) }

// monthEnd returns the last day of the month of day z.
func monthEnd(z int32) int32 {
	y, m, _ := civil(z)
	return monthStart(monthIndex(y, m)+1) - 1
}

// weekday returns 0 for Monday ... 6 for Sunday (1970-01-01 was a Thursday).
func weekday(z int32) int {
	w := (int(z) + 3) % 7
	if w < 0 {
		w += 7
	}
	return w
}

// dateTable holds the text of every date of a range in the two formats the
// files use, so that writing a date is a slice of a string.
type dateTable struct {
	first, last int32
	iso         []byte // "YYYY-MM-DD" per day
	dmy         []byte // "DD/MM/YYYY" per day
}

func newDateTable(first, last int32) *dateTable {
	n := int(last-first) + 1
	t := &dateTable{first: first, last: last, iso: make([]byte, 0, 10*n), dmy: make([]byte, 0, 10*n)}
	for z := first; z <= last; z++ {
		y, m, d := civil(z)
		t.iso = append(t.iso, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
			byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
		t.dmy = append(t.dmy, byte('0'+d/10), byte('0'+d%10), '/', byte('0'+m/10), byte('0'+m%10), '/',
			byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	}
	return t
}

func (t *dateTable) isoOf(z int32) []byte {
	i := int(z-t.first) * 10
	return t.iso[i : i+10 : i+10]
}

func (t *dateTable) dmyOf(z int32) []byte {
	i := int(z-t.first) * 10
	return t.dmy[i : i+10 : i+10]
}
