package web

import (
	"net/http"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/export"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{oml.EINVALID, 400},
		{oml.ETOOLARGE, 400},
		{oml.ENOTFOUND, 404},
		{oml.ECONFLICT, 409},
		{oml.EUNAUTHORIZED, 401},
		{oml.EFORBIDDEN, 403},
		{oml.EUNAVAILABLE, 503},
		{oml.ETOOMANY, 429},
		{oml.EINTEGRITY, 500},
		{oml.EINTERNAL, 500},
		{"", 500},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.code); got != tt.want {
			t.Errorf("StatusOf(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestResolvePeriod(t *testing.T) {
	m := func(y, n int) oml.Period { return oml.Period{Freq: oml.Monthly, Year: y, N: n} }
	q := func(y, n int) oml.Period { return oml.Period{Freq: oml.Quarterly, Year: y, N: n} }
	yr := func(y int) oml.Period { return oml.Period{Freq: oml.Yearly, Year: y} }
	first, last := m(2017, 1), m(2024, 6)
	tests := []struct {
		name, v string
		f       oml.Freq
		end     bool
		want    oml.Period
		wantErr bool
	}{
		{"empty from is first", "", oml.Monthly, false, first, false},
		{"empty to is last", "", oml.Monthly, true, last, false},
		{"latest", "latest", oml.Monthly, true, last, false},
		{"latestMINUS11", "latestMINUS11", oml.Monthly, false, m(2023, 7), false},
		{"any case", "LATESTminus2", oml.Monthly, false, m(2024, 4), false},
		{"latestMINUS0", "latestMINUS0", oml.Monthly, false, last, false},
		{"same freq", "2023-05", oml.Monthly, false, m(2023, 5), false},
		{"year at M from", "2023", oml.Monthly, false, m(2023, 1), false},
		{"year at M to", "2023", oml.Monthly, true, m(2023, 12), false},
		{"quarter at M to", "2023-Q2", oml.Monthly, true, m(2023, 6), false},
		{"year at Q from", "2023", oml.Quarterly, false, q(2023, 1), false},
		{"year at Q to", "2023", oml.Quarterly, true, q(2023, 4), false},
		{"month at Q", "2023-05", oml.Quarterly, false, oml.Period{}, true},
		{"quarter at Y", "2023-Q1", oml.Yearly, false, oml.Period{}, true},
		{"year at Y", "2020", oml.Yearly, false, yr(2020), false},
		{"bad latest", "latestPLUS1", oml.Monthly, false, oml.Period{}, true},
		{"negative", "latestMINUS-1", oml.Monthly, false, oml.Period{}, true},
		{"no digits", "latestMINUS", oml.Monthly, false, oml.Period{}, true},
		{"garbage", "ieri", oml.Monthly, false, oml.Period{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := last
			if tt.f != oml.Monthly {
				l = last.Of(tt.f)
			}
			got, err := resolvePeriod("from", tt.v, tt.f, first.Of(tt.f), l, tt.end)
			if tt.wantErr {
				if oml.ErrorCode(err) != oml.EINVALID {
					t.Fatalf("got %v, %v; want an EINVALID error", got, err)
				}
				if oml.ErrorHint(err) == "" {
					t.Errorf("error %v has no hint", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   export.Format
	}{
		{"", export.JSON},
		{"*/*", export.JSON},
		{"text/csv", export.CSV},
		{"text/html, text/csv;q=0.9, */*;q=0.1", export.CSV},
		{"application/json;q=0.5, text/csv;q=0.8", export.CSV},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", export.XLSX},
		{"application/vnd.sdmx.data+csv; version=2.0.0", export.SDMXCSV},
		{"text/csv;q=0", export.JSON},
		{"garbage;;", export.JSON},
	}
	for _, tt := range tests {
		if got := negotiate(tt.accept); got != tt.want {
			t.Errorf("negotiate(%q) = %s, want %s", tt.accept, got, tt.want)
		}
	}
}

func TestEtagMatch(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{``, false},
		{`"a"`, true},
		{`W/"a"`, true},
		{`"b", "a"`, true},
		{`"b"`, false},
		{`*`, true},
		{`a`, false},
	}
	for _, tt := range tests {
		if got := etagMatch(tt.header, `"a"`); got != tt.want {
			t.Errorf("etagMatch(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=1.0, *;q=0.5", true},
		{"gzip;q=0", false},
		{"br", false},
		{"*", true},
		{"identity", false},
	}
	for _, tt := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", tt.header)
		if got := acceptsGzip(r); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestPathMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/api/v1/data", "/api/v1/data", true},
		{"/api/v1/releases/{id}", "/api/v1/releases/x", true},
		{"/api/v1/releases/{id}", "/api/v1/releases/", false},
		{"/api/v1/releases/{id}/manifest", "/api/v1/releases/x/manifest", true},
		{"/api/v1/releases/{id}", "/api/v1/releases/x/manifest", false},
	}
	for _, tt := range tests {
		if got := pathMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("pathMatch(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"20250115-1": true, "": false, "..": false, "../x": false, "a/b": false, ".hidden": false, "a b": false,
	} {
		if got := validID(id); got != want {
			t.Errorf("validID(%q) = %v, want %v", id, got, want)
		}
	}
}
