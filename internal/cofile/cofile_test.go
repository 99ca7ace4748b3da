package cofile_test

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

var today = time.Date(2025, 1, 20, 0, 0, 0, 0, time.UTC)

func options(t testing.TB, f cofile.Format, name string) cofile.Options {
	t.Helper()
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cofile.Options{Format: f, Name: name, Lists: lists, Key: pseudo.NewKey([]byte("0123456789abcdef0123456789abcdef")), Today: today}
}

func decodeAll(t testing.TB, opt cofile.Options, in string) ([]cofile.Record, error) {
	d, err := cofile.NewDecoder(strings.NewReader(in), opt)
	if err != nil {
		return nil, err
	}
	var out []cofile.Record
	for {
		var rec cofile.Record
		err := d.Next(&rec)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

const header = "id_comunicazione,tipo_evento,rif_comunicazione,id_rapporto,data_evento,cf_lavoratore,cf_datore,genere,anno_nascita,cittadinanza,titolo_studio,comune_lavoro,comune_residenza,ateco,professione,tipo_contratto,orario,data_fine_prevista,tipo_trasformazione,motivo_cessazione,categoria_protetta\n"

// row builds a valid fixed-term hire and applies changes by column name.
func row(changes map[string]string) string {
	vals := map[string]string{
		"id_comunicazione": "c1", "tipo_evento": "A", "id_rapporto": "r1", "data_evento": "2024-01-15",
		"cf_lavoratore": "RSSMRA85T10F205R", "cf_datore": "01234567897", "genere": "M", "anno_nascita": "1985",
		"cittadinanza": "000", "titolo_studio": "4", "comune_lavoro": "015146", "comune_residenza": "015146",
		"ateco": "56.10.11", "professione": "5.2.2.1.0", "tipo_contratto": "A.02.00", "orario": "F",
		"data_fine_prevista": "2024-06-30", "categoria_protetta": "N",
	}
	for k, v := range changes {
		vals[k] = v
	}
	var f []string
	for _, c := range cofile.CanonicalColumns {
		f = append(f, vals[c])
	}
	return strings.Join(f, ",") + "\n"
}

func TestCanonicalReasons(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
		reason  oml.Reason
		column  string
	}{
		{"valid", nil, "", ""},
		{"lower-case codes", map[string]string{"cf_lavoratore": "rssmra85t10f205r", "genere": "m", "tipo_evento": "a"}, "", ""},
		{"Belfiore workplace", map[string]string{"comune_lavoro": "F205"}, "", ""},
		{"ateco division", map[string]string{"ateco": "56"}, "", ""},
		{"no id", map[string]string{"id_comunicazione": ""}, oml.FieldMissing, "id_comunicazione"},
		{"bad type", map[string]string{"tipo_evento": "Z"}, oml.EventTypeInvalid, "tipo_evento"},
		{"no relationship", map[string]string{"id_rapporto": ""}, oml.FieldMissing, "id_rapporto"},
		{"bad date", map[string]string{"data_evento": "2024-02-30"}, oml.EventDateInvalid, "data_evento"},
		{"future", map[string]string{"data_evento": "2025-01-21", "data_fine_prevista": "2025-06-30"}, oml.EventDateFuture, "data_evento"},
		{"before 2008", map[string]string{"data_evento": "2007-12-31"}, oml.EventDateTooOld, "data_evento"},
		{"worker code", map[string]string{"cf_lavoratore": "RSSMRA85T10F205"}, oml.WorkerCFInvalid, "cf_lavoratore"},
		{"employer code", map[string]string{"cf_datore": "01234567890"}, oml.EmployerCFInvalid, "cf_datore"},
		{"household employer", map[string]string{"cf_datore": "BNCLRA90A41F205I"}, "", ""},
		{"gender", map[string]string{"genere": "X"}, oml.GenderInvalid, "genere"},
		{"birth year", map[string]string{"anno_nascita": "2015"}, oml.BirthYearInvalid, "anno_nascita"},
		{"citizenship", map[string]string{"cittadinanza": "123"}, oml.CitizenshipUnknown, "cittadinanza"},
		{"education", map[string]string{"titolo_studio": "13"}, oml.EducationUnknown, "titolo_studio"},
		{"comune", map[string]string{"comune_lavoro": "999999"}, oml.ComuneUnknown, "comune_lavoro"},
		{"residence", map[string]string{"comune_residenza": "Z999"}, oml.ResComuneUnknown, "comune_residenza"},
		{"ateco", map[string]string{"ateco": "99.99.99"}, oml.AtecoUnknown, "ateco"},
		{"profession", map[string]string{"professione": "9.9.9.9.9"}, oml.ProfessionUnknown, "professione"},
		{"contract", map[string]string{"tipo_contratto": "Z.01.00"}, oml.ContractUnknown, "tipo_contratto"},
		{"contract expired", map[string]string{"tipo_contratto": "A.03.02"}, oml.ContractNotValidAt, "tipo_contratto"},
		{"working time", map[string]string{"orario": "Q"}, oml.WorkingTimeInvalid, "orario"},
		{"no planned end", map[string]string{"data_fine_prevista": ""}, oml.PlannedEndMissing, "data_fine_prevista"},
		{"planned end before start", map[string]string{"data_fine_prevista": "2023-12-31"}, oml.PlannedEndInvalid, "data_fine_prevista"},
		{"permanent needs no end", map[string]string{"tipo_contratto": "A.01.00", "data_fine_prevista": ""}, "", ""},
		{"transformation kind", map[string]string{"tipo_evento": "T", "tipo_trasformazione": "XX"}, oml.TransformationInvalid, "tipo_trasformazione"},
		{"transformation missing", map[string]string{"tipo_evento": "T"}, oml.FieldMissing, "tipo_trasformazione"},
		{"end reason", map[string]string{"tipo_evento": "C", "motivo_cessazione": "BOH"}, oml.EndReasonInvalid, "motivo_cessazione"},
		{"protected", map[string]string{"categoria_protetta": "X"}, oml.ProtectedInvalid, "categoria_protetta"},
		{"R without ref", map[string]string{"tipo_evento": "R"}, oml.RefMissing, "rif_comunicazione"},
		{"X needs only ids", map[string]string{"tipo_evento": "X", "rif_comunicazione": "c0", "data_evento": "", "cf_lavoratore": ""}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := decodeAll(t, options(t, cofile.Canonical, "t.csv"), header+row(tt.changes))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if r.Reject.Reason != tt.reason || r.Reject.Column != tt.column {
				t.Fatalf("reason %q column %q (%s), want %q %q", r.Reject.Reason, r.Reject.Column, r.Reject.Detail, tt.reason, tt.column)
			}
			if r.Line != 2 {
				t.Errorf("line %d, want 2", r.Line)
			}
			if !r.Accepted() && strings.Contains(strings.ToUpper(r.Reject.Raw), "RSSMRA85T10F205") {
				t.Errorf("raw row keeps the fiscal code in clear: %s", r.Reject.Raw)
			}
		})
	}
}

func TestCanonicalNormalises(t *testing.T) {
	recs, err := decodeAll(t, options(t, cofile.Canonical, "t.csv"), header+row(map[string]string{"comune_lavoro": "f205", "ateco": "561011"}))
	if err != nil || len(recs) != 1 || !recs[0].Accepted() {
		t.Fatalf("%v %+v", err, recs)
	}
	e := recs[0].Event
	if e.WorkComune != "015146" || e.WorkProvince != "015" || e.Ateco != "56.10.11" || e.Age != 39 || e.Education != 4 {
		t.Errorf("event %+v", e)
	}
	if len(e.Worker) != pseudo.Len || strings.Contains(e.Worker, "RSS") {
		t.Errorf("worker not pseudonymised: %q", e.Worker)
	}
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "file vuoto"},
		{"missing columns", "id_comunicazione,tipo_evento\n", "mancano le colonne"},
		{"open data given as canonical", "DATA,GENERE,ETA,SETTOREECONOMICODETTAGLIO,TITOLOSTUDIO,CONTRATTO,MODALITALAVORO,PROVINCIAIMPRESA,ITALIANO\n", "lombardia-opendata"},
		{"repeated", strings.TrimSuffix(header, "\n") + ",genere\n", "ripetuta"},
		{"binary", "\x00\x01\x02\n", "intestazione"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAll(t, options(t, cofile.Canonical, "t.csv"), tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			msg := oml.ErrorMessage(err) + " " + oml.ErrorHint(err)
			if oml.ErrorCode(err) != oml.EINVALID || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q (%s), want EINVALID containing %q", msg, oml.ErrorCode(err), tt.want)
			}
		})
	}
}

func TestUnknownColumnWarning(t *testing.T) {
	d, err := cofile.NewDecoder(strings.NewReader(strings.TrimSuffix(header, "\n")+",note\n"), options(t, cofile.Canonical, "t.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if w := d.Header().Warnings; len(w) != 1 || !strings.Contains(w[0], "note") {
		t.Errorf("warnings %q", w)
	}
}

func TestOpenData(t *testing.T) {
	in, err := os.ReadFile("testdata/rapporti_lavoro_attivati.csv")
	if err != nil {
		t.Fatal(err)
	}
	opt := options(t, cofile.OpenData, "testdata/rapporti_lavoro_attivati.csv")
	recs, err := decodeAll(t, opt, string(in))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		reason             oml.Reason
		prov, ateco, contr string
		edu                int
		wt                 byte
		cit                string
	}
	wants := []want{
		{"", "016", "55.10.00", "A.02.00", 2, 'F', "000"},
		{"", "014", "55.20.30", "A.05.02", 4, 0, ""},
		{"", "108", "97.00.00", "A.04.02", -1, 0, "235"},
		{oml.EventDateFuture, "", "", "", 0, 0, ""},
		{oml.AgeInvalid, "", "", "", 0, 0, ""},
		{oml.ProvinceUnknown, "", "", "", 0, 0, ""},
		{"", "015", "25.62.00", "A.02.00", 2, 'F', "000"},
		{"", "015", "25.62.00", "A.02.00", 2, 'F', "000"}, // identical rows are both kept
	}
	if len(recs) != len(wants) {
		t.Fatalf("%d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		if r.Reject.Reason != w.reason {
			t.Errorf("row %d: reason %q (%s), want %q", i+2, r.Reject.Reason, r.Reject.Detail, w.reason)
			continue
		}
		if w.reason != "" {
			continue
		}
		e := r.Event
		if e.Type != oml.Attivazione || e.WorkProvince != w.prov || e.Ateco != w.ateco || e.Contract != w.contr || e.Education != w.edu || e.WorkingTime != w.wt {
			t.Errorf("row %d: %+v, want %+v", i+2, e, w)
		}
		if w.cit != "" && e.Citizenship != w.cit {
			t.Errorf("row %d: citizenship %s, want %s", i+2, e.Citizenship, w.cit)
		}
		if e.CommID != "" || e.Worker != "" {
			t.Errorf("row %d: open data carry no ids", i+2)
		}
	}
	if recs[1].Event.Citizenship == "000" || recs[1].Event.Citizenship == "" {
		t.Errorf("UCRAINA decoded as %q", recs[1].Event.Citizenship)
	}
}

func TestOpenDataEventType(t *testing.T) {
	opt := options(t, cofile.OpenData, "export.csv")
	_, err := decodeAll(t, opt, "DATA,GENERE,ETA,SETTOREECONOMICODETTAGLIO,TITOLOSTUDIO,CONTRATTO,MODALITALAVORO,PROVINCIAIMPRESA,ITALIANO\n")
	if err == nil || !strings.Contains(oml.ErrorHint(err), "--event") {
		t.Fatalf("want a hint to --event, got %v", err)
	}
	for name, want := range map[string]oml.EventType{
		"rapporti_lavoro_cessati.csv": oml.Cessazione, "Prorogati_2024.CSV": oml.Proroga, "x/trasformati.csv": oml.Trasformazione,
	} {
		if got, ok := cofile.EventFromFileName(name); !ok || got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

// FuzzCanonical feeds arbitrary rows to the canonical decoder: it must never
// panic, every row must come out accepted or rejected with a reason, and no
// fiscal code of the input may survive in clear in a reject.
func FuzzCanonical(f *testing.F) {
	f.Add(row(nil))
	f.Add(row(map[string]string{"tipo_evento": "X", "rif_comunicazione": "c0"}))
	f.Add(`c1,"A",,"r""1",2024-01-15,RSSMRA85T10F205R` + "\n")
	f.Add("\"\n")
	f.Add(",,,,,,,,,,,,,,,,,,,,\n")
	f.Add(row(map[string]string{"data_evento": "15/01/2024"}))
	opt := options(f, cofile.Canonical, "fuzz.csv")
	f.Fuzz(func(t *testing.T, body string) {
		recs, err := decodeAll(t, opt, header+body)
		if err != nil {
			t.Fatal(err) // the header is valid: only read errors may fail
		}
		for _, r := range recs {
			if !r.Accepted() && r.Reject.Reason == "" {
				t.Fatal("rejected without reason")
			}
			if !r.Accepted() && bytes.Contains([]byte(strings.ToUpper(r.Reject.Raw)), []byte("RSSMRA85T10F205R")) {
				t.Fatalf("clear fiscal code in raw: %s", r.Reject.Raw)
			}
		}
	})
}

// FuzzOpenData does the same for the open-data decoder, header included.
func FuzzOpenData(f *testing.F) {
	in, err := os.ReadFile("testdata/rapporti_lavoro_attivati.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(in))
	f.Add("DATA,GENERE,ETA,SETTOREECONOMICODETTAGLIO,TITOLOSTUDIO,CONTRATTO,MODALITALAVORO,PROVINCIAIMPRESA,ITALIANO\n01/01/2020,M,30,Alberghi,,LAVORO DOMESTICO,,MILANO,ITALIA\n")
	f.Add("\xef\xbb\xbf\r\n")
	opt := options(f, cofile.OpenData, "attivati.csv")
	f.Fuzz(func(t *testing.T, body string) {
		recs, err := decodeAll(t, opt, body)
		if err != nil {
			if oml.ErrorCode(err) != oml.EINVALID {
				t.Fatalf("non-user error %v", err)
			}
			return
		}
		for _, r := range recs {
			if !r.Accepted() && r.Reject.Reason == "" {
				t.Fatal("rejected without reason")
			}
		}
	})
}

func BenchmarkCanonical(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := 0; i < 10000; i++ {
		sb.WriteString(row(nil))
	}
	in := sb.String()
	opt := options(b, cofile.Canonical, "bench.csv")
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		d, _ := cofile.NewDecoder(strings.NewReader(in), opt)
		var rec cofile.Record
		for d.Next(&rec) == nil {
		}
	}
}
