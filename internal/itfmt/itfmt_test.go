package itfmt

import (
	"testing"

	"github.com/regione-lombardia/oml"
)

func TestNumber(t *testing.T) {
	tests := []struct {
		v          float64
		dec        int
		want, sign string
	}{
		{0, 0, "0", "0"}, {999, 0, "999", "+999"}, {1000, 0, "1.000", "+1.000"}, {1234567, 0, "1.234.567", "+1.234.567"},
		{-1234.5, 1, "−1.234,5", "−1.234,5"}, {-0.04, 1, "0,0", "0,0"}, {12.345, 2, "12,35", "+12,35"}, {41232, 0, "41.232", "+41.232"},
	}
	for _, tt := range tests {
		if got := Number(tt.v, tt.dec); got != tt.want {
			t.Errorf("Number(%v, %d) = %q, want %q", tt.v, tt.dec, got, tt.want)
		}
		if got := Signed(tt.v, tt.dec); got != tt.sign {
			t.Errorf("Signed(%v, %d) = %q, want %q", tt.v, tt.dec, got, tt.sign)
		}
	}
}

func TestPeriods(t *testing.T) {
	tests := []struct {
		p           oml.Period
		long, short string
	}{
		{oml.Period{Freq: oml.Monthly, Year: 2024, N: 6}, "giugno 2024", "giu 2024"},
		{oml.Period{Freq: oml.Quarterly, Year: 2024, N: 2}, "2024 T2", "2024 T2"},
		{oml.Period{Freq: oml.Yearly, Year: 2024}, "2024", "2024"},
	}
	for _, tt := range tests {
		if got := Period(tt.p); got != tt.long {
			t.Errorf("Period(%v) = %q, want %q", tt.p, got, tt.long)
		}
		if got := ShortPeriod(tt.p); got != tt.short {
			t.Errorf("ShortPeriod(%v) = %q, want %q", tt.p, got, tt.short)
		}
	}
	if got := Date("2024-12-31"); got != "31 dicembre 2024" {
		t.Errorf("Date = %q", got)
	}
}
