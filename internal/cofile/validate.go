package cofile

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

// Validator turns raw rows into Records. It is not safe for concurrent use;
// parallel decoding uses one Validator per goroutine over the same Header.
//
// Checks run in a fixed order and the first failure is the row's reason, so
// a row has exactly one reason (docs/formato-input.md lists the order).
type Validator struct {
	h       *Header
	lists   *classif.Lists
	hasher  *pseudo.Hasher
	today   time.Time
	name    string
	fields  [][]byte
	scratch []byte
	pbuf    []byte
}

// NewValidator returns a validator for rows under header h.
func NewValidator(h *Header, opt Options) *Validator {
	today := opt.Today
	if today.IsZero() {
		today = time.Now()
	}
	y, m, d := today.Date()
	return &Validator{
		h:      h,
		lists:  opt.Lists,
		hasher: opt.Key.Hasher(),
		today:  time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		name:   opt.Name,
	}
}

// firstDay is the earliest accepted event date.
var firstDay = time.Date(oml.FirstEventYear, 1, 1, 0, 0, 0, 0, time.UTC)

// Decode validates one raw row (line number n) into rec.
func (v *Validator) Decode(line []byte, n int64, rec *Record) {
	*rec = Record{Line: n}
	var ok bool
	v.fields, v.scratch, ok = splitLine(v.fields, v.scratch, line)
	if !ok || len(v.fields) != v.h.width {
		detail := "virgolette non bilanciate / unbalanced quotes"
		if ok {
			detail = "campi: " + strconv.Itoa(len(v.fields)) + ", attesi / expected: " + strconv.Itoa(v.h.width)
		}
		if len(line) == 0 {
			detail = "riga troppo lunga / line too long"
		}
		rec.Reject = oml.Reject{File: v.name, Line: n, Reason: oml.RowMalformed, Detail: detail, Raw: v.scrub(line)}
		return
	}
	var reason oml.Reason
	var col, detail string
	if v.h.Format == OpenData {
		reason, col, detail = v.openData(&rec.Event)
	} else {
		reason, col, detail = v.canonical(&rec.Event)
	}
	if reason != "" {
		rec.Event = oml.Event{}
		rec.Reject = oml.Reject{File: v.name, Line: n, Column: col, Reason: reason, Detail: v.scrub([]byte(detail)), Raw: v.rawPseudonymised()}
	}
}

// field returns the trimmed value of format column c ("" when absent).
func (v *Validator) field(c int) []byte {
	i := v.h.idx[c]
	if i < 0 {
		return nil
	}
	return bytes.TrimSpace(v.fields[i])
}

func (v *Validator) canonical(e *oml.Event) (oml.Reason, string, string) {
	cn := CanonicalColumns[:]
	t, ok := oml.ParseEventType(string(v.field(colTipoEvento)))
	if !ok {
		if len(v.field(colTipoEvento)) == 0 {
			return oml.FieldMissing, cn[colTipoEvento], ""
		}
		return oml.EventTypeInvalid, cn[colTipoEvento], string(v.field(colTipoEvento))
	}
	e.Type = t
	id := v.field(colIDComunicazione)
	if len(id) == 0 {
		return oml.FieldMissing, cn[colIDComunicazione], ""
	}
	e.CommID = v.scrubID(id)
	if t == oml.Annullamento || t == oml.Rettifica {
		ref := v.field(colRifComunicazione)
		if len(ref) == 0 {
			return oml.RefMissing, cn[colRifComunicazione], ""
		}
		e.RefID = v.scrubID(ref)
		if t == oml.Annullamento {
			e.RelID = v.scrubID(v.field(colIDRapporto))
			return "", "", ""
		}
	}
	rel := v.field(colIDRapporto)
	if len(rel) == 0 {
		return oml.FieldMissing, cn[colIDRapporto], ""
	}
	e.RelID = v.scrubID(rel)

	date, r := v.date(v.field(colDataEvento))
	if r != "" {
		return r, cn[colDataEvento], string(v.field(colDataEvento))
	}
	e.Date = date

	cf := v.field(colCFLavoratore)
	if len(cf) == 0 {
		return oml.FieldMissing, cn[colCFLavoratore], ""
	}
	if !oml.ValidFiscalCode(upperASCII(cf)) {
		return oml.WorkerCFInvalid, cn[colCFLavoratore], "formato o carattere di controllo errato / bad format or check character"
	}
	v.pbuf = v.hasher.Append(v.pbuf[:0], cf)
	e.Worker = string(v.pbuf)
	cf = v.field(colCFDatore)
	if len(cf) == 0 {
		return oml.FieldMissing, cn[colCFDatore], ""
	}
	if !oml.ValidEmployerCode(upperASCII(cf)) {
		return oml.EmployerCFInvalid, cn[colCFDatore], "formato o cifra di controllo errata / bad format or check digit"
	}
	v.pbuf = v.hasher.Append(v.pbuf[:0], cf)
	e.Employer = string(v.pbuf)

	switch g := v.field(colGenere); {
	case len(g) == 0:
		return oml.FieldMissing, cn[colGenere], ""
	case len(g) == 1 && (g[0]|0x20 == 'm' || g[0]|0x20 == 'f'):
		e.Gender = g[0] &^ 0x20
	default:
		return oml.GenderInvalid, cn[colGenere], string(g)
	}

	by := v.field(colAnnoNascita)
	if len(by) == 0 {
		return oml.FieldMissing, cn[colAnnoNascita], ""
	}
	year, err := strconv.Atoi(string(by))
	age := date.Year() - year
	if err != nil || len(by) != 4 || age < minAge || age > maxAge {
		return oml.BirthYearInvalid, cn[colAnnoNascita], string(by)
	}
	e.BirthYear, e.Age = year, age

	cit := v.field(colCittadinanza)
	if len(cit) == 0 {
		return oml.FieldMissing, cn[colCittadinanza], ""
	}
	c, ok := v.lists.Citizenship(string(cit))
	if !ok {
		return oml.CitizenshipUnknown, cn[colCittadinanza], string(cit)
	}
	e.Citizenship = c.Code

	e.Education = -1
	if ts := v.field(colTitoloStudio); len(ts) > 0 {
		n, err := strconv.Atoi(string(ts))
		ed, ok := v.lists.Education(n)
		if err != nil || !ok {
			return oml.EducationUnknown, cn[colTitoloStudio], string(ts)
		}
		e.Education = ed.Code
	}

	cl := v.field(colComuneLavoro)
	if len(cl) == 0 {
		return oml.FieldMissing, cn[colComuneLavoro], ""
	}
	com, ok := v.lists.Comune(string(cl))
	if !ok {
		return oml.ComuneUnknown, cn[colComuneLavoro], string(cl)
	}
	e.WorkComune, e.WorkProvince = com.Istat, com.Province

	if cr := v.field(colComuneResidenza); len(cr) > 0 {
		com, ok := v.lists.Comune(string(cr))
		if !ok {
			return oml.ResComuneUnknown, cn[colComuneResidenza], string(cr)
		}
		e.ResComune, e.ResProvince = com.Istat, com.Province
	}

	at := v.field(colAteco)
	if len(at) == 0 {
		return oml.FieldMissing, cn[colAteco], ""
	}
	a, ok := v.lists.Ateco(string(at))
	if !ok {
		return oml.AtecoUnknown, cn[colAteco], string(at)
	}
	e.Ateco = a.Code

	if pr := v.field(colProfessione); len(pr) > 0 {
		p, ok := v.lists.Profession(string(pr))
		if !ok {
			return oml.ProfessionUnknown, cn[colProfessione], string(pr)
		}
		e.Profession = p.Code
	}

	tc := v.field(colTipoContratto)
	if len(tc) == 0 {
		return oml.FieldMissing, cn[colTipoContratto], ""
	}
	k, ok := v.lists.Contract(string(tc))
	if !ok {
		return oml.ContractUnknown, cn[colTipoContratto], string(tc)
	}
	if !k.ValidAt(date) {
		return oml.ContractNotValidAt, cn[colTipoContratto], string(tc) + " @ " + date.Format(time.DateOnly)
	}
	e.Contract = k.Code

	if o := v.field(colOrario); len(o) > 0 {
		wt, ok := v.lists.WorkingTime(strings.ToUpper(string(o)))
		if !ok || wt.Code == 0 {
			return oml.WorkingTimeInvalid, cn[colOrario], string(o)
		}
		e.WorkingTime = wt.Code
	}

	pe := v.field(colDataFinePrevista)
	needEnd := (t == oml.Attivazione && k.FixedTerm) || t == oml.Proroga
	switch {
	case len(pe) == 0 && needEnd:
		return oml.PlannedEndMissing, cn[colDataFinePrevista], ""
	case len(pe) > 0:
		d, ok := parseISODate(pe)
		if !ok || d.Before(date) {
			return oml.PlannedEndInvalid, cn[colDataFinePrevista], string(pe)
		}
		e.PlannedEnd = d
	}

	if tt := v.field(colTipoTrasformazione); t == oml.Trasformazione || len(tt) > 0 {
		s := strings.ToUpper(string(tt))
		if !contains(oml.TransformationKinds, s) {
			if len(tt) == 0 {
				return oml.FieldMissing, cn[colTipoTrasformazione], ""
			}
			return oml.TransformationInvalid, cn[colTipoTrasformazione], string(tt)
		}
		e.Transformation = canonicalString(oml.TransformationKinds, s)
	}
	if mc := v.field(colMotivoCessazione); t == oml.Cessazione || len(mc) > 0 {
		s := strings.ToUpper(string(mc))
		if !contains(oml.EndReasons, s) {
			if len(mc) == 0 {
				return oml.FieldMissing, cn[colMotivoCessazione], ""
			}
			return oml.EndReasonInvalid, cn[colMotivoCessazione], string(mc)
		}
		e.EndReason = canonicalString(oml.EndReasons, s)
	}
	if cp := v.field(colCategoriaProtetta); len(cp) > 0 {
		if len(cp) != 1 || (cp[0]|0x20 != 's' && cp[0]|0x20 != 'n') {
			return oml.ProtectedInvalid, cn[colCategoriaProtetta], string(cp)
		}
		e.ProtectedCat = cp[0] &^ 0x20
	}
	return "", "", ""
}

// Plausible ages at the event date. Younger or older values are errors of
// the birth year (or of the age in open data).
const (
	minAge = 14
	maxAge = 100
)

func (v *Validator) openData(e *oml.Event) (oml.Reason, string, string) {
	cn := OpenDataColumns[:]
	e.Type = v.h.Event
	e.Education = -1
	raw := v.field(odData)
	if len(raw) == 0 {
		return oml.FieldMissing, cn[odData], ""
	}
	date, r := v.date(raw)
	if r != "" {
		return r, cn[odData], string(raw)
	}
	e.Date = date
	switch g := v.field(odGenere); {
	case len(g) == 0:
		return oml.FieldMissing, cn[odGenere], ""
	case len(g) == 1 && (g[0]|0x20 == 'm' || g[0]|0x20 == 'f'):
		e.Gender = g[0] &^ 0x20
	default:
		return oml.GenderInvalid, cn[odGenere], string(g)
	}
	age, err := strconv.Atoi(string(v.field(odEta)))
	if err != nil || age < minAge || age > maxAge {
		return oml.AgeInvalid, cn[odEta], string(v.field(odEta))
	}
	e.Age = age
	s := v.field(odSettore)
	if len(s) == 0 {
		return oml.FieldMissing, cn[odSettore], ""
	}
	a, ok := v.lists.AtecoByTitle(string(s))
	if !ok {
		return oml.AtecoUnknown, cn[odSettore], string(s)
	}
	e.Ateco = a.Code
	if ts := v.field(odTitoloStudio); len(ts) > 0 {
		ed, ok := v.lists.EducationByTitle(string(ts))
		if !ok {
			return oml.EducationUnknown, cn[odTitoloStudio], string(ts)
		}
		e.Education = ed.Code
	}
	ct := v.field(odContratto)
	if len(ct) == 0 {
		return oml.FieldMissing, cn[odContratto], ""
	}
	k, ok := v.lists.ContractByTitle(string(ct), date)
	if !ok {
		return oml.ContractUnknown, cn[odContratto], string(ct)
	}
	if !k.ValidAt(date) {
		return oml.ContractNotValidAt, cn[odContratto], string(ct) + " @ " + date.Format(time.DateOnly)
	}
	e.Contract = k.Code
	if m := v.field(odModalita); len(m) > 0 {
		wt, ok := v.lists.WorkingTimeByTitle(string(m))
		if !ok {
			return oml.WorkingTimeInvalid, cn[odModalita], string(m)
		}
		e.WorkingTime = wt.Code
	}
	p := v.field(odProvincia)
	if len(p) == 0 {
		return oml.FieldMissing, cn[odProvincia], ""
	}
	pr, ok := v.lists.ProvinceByName(string(p))
	if !ok {
		return oml.ProvinceUnknown, cn[odProvincia], string(p)
	}
	e.WorkProvince = pr.Code
	c := v.field(odItaliano)
	if len(c) == 0 {
		return oml.FieldMissing, cn[odItaliano], ""
	}
	cit, ok := v.lists.CitizenshipByName(string(c))
	if !ok {
		return oml.CitizenshipUnknown, cn[odItaliano], string(c)
	}
	e.Citizenship = cit.Code
	return "", "", ""
}

// date parses an event date (YYYY-MM-DD, or DD/MM/YYYY as in the open data)
// and checks it against the accepted range.
func (v *Validator) date(b []byte) (time.Time, oml.Reason) {
	if len(b) == 0 {
		return time.Time{}, oml.FieldMissing
	}
	d, ok := parseISODate(b)
	if !ok {
		d, ok = parseItalianDate(b)
	}
	switch {
	case !ok:
		return time.Time{}, oml.EventDateInvalid
	case d.Before(firstDay):
		return time.Time{}, oml.EventDateTooOld
	case d.After(v.today):
		return time.Time{}, oml.EventDateFuture
	}
	return d, ""
}

// parseISODate parses YYYY-MM-DD, rejecting impossible days.
func parseISODate(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	return makeDate(b[0:4], b[5:7], b[8:10])
}

// parseItalianDate parses DD/MM/YYYY.
func parseItalianDate(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[2] != '/' || b[5] != '/' {
		return time.Time{}, false
	}
	return makeDate(b[6:10], b[3:5], b[0:2])
}

func makeDate(yb, mb, db []byte) (time.Time, bool) {
	y, ok1 := digits(yb)
	m, ok2 := digits(mb)
	d, ok3 := digits(db)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 2023-02-30 normalises to March: not a date
		return time.Time{}, false
	}
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// upperASCII returns b upper-cased as a string.
func upperASCII(b []byte) string {
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			return strings.ToUpper(string(b))
		}
	}
	return string(b)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func canonicalString(list []string, s string) string {
	for _, x := range list {
		if x == s {
			return x
		}
	}
	return s
}

// rawPseudonymised rebuilds the row from its fields for the rejects table:
// the fiscal-code columns are replaced by their pseudonyms, and any other
// column except the communication and relationship ids is scrubbed, since a
// fiscal code typed into the wrong column must not be kept in clear either.
func (v *Validator) rawPseudonymised() string {
	var b strings.Builder
	for i, f := range v.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		if len(f) > 0 && containsInt(v.h.cfColumns, i) {
			b.WriteString("pseudo:")
			v.pbuf = v.hasher.Append(v.pbuf[:0], f)
			b.Write(v.pbuf)
			continue
		}
		if containsInt(v.h.idColumns, i) {
			b.WriteString(quoteCSV(v.scrubID(bytes.TrimSpace(f))))
			continue
		}
		b.WriteString(quoteCSV(v.scrub(f)))
	}
	return b.String()
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

// scrub replaces what could be a fiscal code or a VAT number in text that
// cannot be trusted to sit in its column (a malformed row, an offending
// value). The text is scanned by maximal runs of letters and digits: a run
// holding something shaped like a fiscal code, or a run of 11 or more
// characters with at least 5 digits (a code with a typo, or glued to other
// text), is replaced whole by its pseudonym.
func (v *Validator) scrub(b []byte) string {
	var out []byte
	last := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && isAlnum(b[i]) {
			continue
		}
		start := i
		for start > last && isAlnum(b[start-1]) {
			start--
		}
		if run := b[start:i]; len(run) >= 11 && (cfShape.Match(run) || countDigits(run) >= 5) {
			out = append(out, b[last:start]...)
			out = append(out, "pseudo:"...)
			out = v.hasher.Append(out, run)
			last = i
		}
	}
	if out == nil {
		return string(b)
	}
	return string(append(out, b[last:]...))
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func countDigits(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

// cfShape matches the structure of a personal fiscal code.
var cfShape = regexp.MustCompile(`[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]`)

// scrubID returns an identifier (of a communication or relationship) with
// any part shaped like a personal fiscal code replaced by its pseudonym, and
// an identifier that is exactly a valid VAT number replaced whole. Ids are
// otherwise kept as sent, so that they can be traced back to the source;
// the replacement is deterministic, so references between ids still match.
// It runs on every row, so the common case (no such part) costs one scan.
func (v *Validator) scrubID(b []byte) string {
	if len(b) == 11 && oml.ValidVATNumber(string(b)) {
		return "pseudo:" + string(v.hasher.Append(nil, b))
	}
	if len(b) < 16 || countLetters(b) < 9 {
		return string(b)
	}
	return string(cfShape.ReplaceAllFunc(b, func(m []byte) []byte {
		return append([]byte("pseudo:"), v.hasher.Append(nil, m)...)
	}))
}

func countLetters(b []byte) int {
	n := 0
	for _, c := range b {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			n++
		}
	}
	return n
}

func quoteCSV(s string) string {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
