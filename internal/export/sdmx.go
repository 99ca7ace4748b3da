package export

import (
	"encoding/csv"
	"io"
	"strings"

	"github.com/regione-lombardia/oml"
)

// SDMXAgency is the SDMX maintenance agency of the observatories' dataflows.
const SDMXAgency = "IT_LOMBARDIA"

// encodeSDMX writes an SDMX-CSV 2.0 data message (the CSV format of SDMX
// 3.0, sdmx-twg/sdmx-csv v2.0.0) in its default form: ids only, time
// periods as recorded, one row per observation. The columns are
//
//	STRUCTURE,STRUCTURE_ID,ACTION,
//	FREQ,REF_AREA,<DIM> (each dimension of By, upper case),PERIMETER,SCOPE,TIME_PERIOD,
//	OBS_VALUE,OBS_STATUS,CONF_STATUS,UNIT_MEASURE
//
// STRUCTURE is "dataflow" and STRUCTURE_ID the dataflow, see sdmxFlow;
// ACTION is "I" (information): the message disseminates data and asks no
// receiver to replace or delete anything. FREQ uses the SDMX code list
// CL_FREQ, where a year is "A"; TIME_PERIOD is the period as the API writes
// it, which is already the SDMX form ("2024-06", "2024-Q2", "2024").
//
// Status. OBS_STATUS and CONF_STATUS take their codes from the SDMX
// cross-domain code lists CL_OBS_STATUS (2.2) and CL_CONF_STATUS, following
// the SDMX guidelines on confidentiality, which put confidentiality in
// CONF_STATUS and not in the observation status:
//
//	oml status          OBS_VALUE  OBS_STATUS                 CONF_STATUS
//	A normal            value      A  normal value            F  free
//	P provisional       value      P  provisional value       F  free
//	C confidential      empty      Q  missing value; suppressed  C  confidential statistical information
//	M unavailable       empty      O  missing value           F  free
//
// A confidential cell says both that its value is missing on purpose (Q,
// for readers that look at OBS_STATUS only) and why (C). An unavailable
// cell is O, the plain missing value, rather than SDMX's M ("data cannot
// exist"), which would be false: the figure exists, but the input the
// figure comes from (the Region's open data) cannot support it.
//
// Identifiers. SDMX ids admit only letters, digits and _ @ $ -, so every
// other character of a code becomes '_' (see sdmxID): "cpi:A163C000069" is
// written "cpi_A163C000069", the profession group "2.5" is "2_5", the age
// class "65+" is "65_". No code of the observatories contains '_', so the
// mapping keeps codes distinct. UNIT_MEASURE carries the unit
// as the catalogue writes it (uncoded: the observatories have no unit code
// list yet).
func encodeSDMX(w io.Writer, d *oml.Dataset) error {
	cw := csv.NewWriter(w)
	rec := make([]string, 0, 13+len(d.By))
	rec = append(rec, "STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "REF_AREA")
	for _, dim := range d.By {
		rec = append(rec, strings.ToUpper(sdmxID(dim)))
	}
	rec = append(rec, "PERIMETER", "SCOPE", "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS", "UNIT_MEASURE")
	cw.Write(rec)

	flow, freq := sdmxFlow(d), sdmxFreq(d.Freq)
	perimeter, scope := sdmxID(string(d.Perimeter)), sdmxID(string(d.Scope))
	var num []byte
	for _, o := range d.Observations {
		rec = rec[:0]
		rec = append(rec, "dataflow", flow, "I", freq, sdmxID(o.Territory))
		for _, code := range o.Codes {
			rec = append(rec, sdmxID(code))
		}
		value := ""
		if o.HasValue() {
			num = appendValue(num[:0], o.Value)
			value = string(num)
		}
		obsStatus, confStatus := sdmxStatus(o.Status)
		rec = append(rec, perimeter, scope, o.Period, value, obsStatus, confStatus, d.Unit)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// sdmxFlow returns the agency-qualified dataflow of d, versioned by the
// methodology: "IT_LOMBARDIA:OML_SALDO(1.0.0)". A derived series is a
// dataflow of its own, with the transformation appended to the id
// ("OML_SALDO_YOY"), since its measure means something else. Without a
// methodology version the reference is unversioned, which SDMX 3.0 allows.
func sdmxFlow(d *oml.Dataset) string {
	id := "OML_" + strings.ToUpper(sdmxID(d.Indicator))
	if d.Transform != "" {
		id += "_" + strings.ToUpper(sdmxID(d.Transform))
	}
	s := SDMXAgency + ":" + id
	if d.MethodVersion != "" {
		s += "(" + d.MethodVersion + ")"
	}
	return s
}

// sdmxFreq returns the CL_FREQ code of f.
func sdmxFreq(f oml.Freq) string {
	switch f {
	case oml.Monthly:
		return "M"
	case oml.Quarterly:
		return "Q"
	}
	return "A"
}

// sdmxStatus returns the OBS_STATUS and CONF_STATUS codes of s, as in the
// table of encodeSDMX.
func sdmxStatus(s oml.Status) (obs, conf string) {
	switch s {
	case oml.StatusProvisional:
		return "P", "F"
	case oml.StatusConfidential:
		return "Q", "C"
	case oml.StatusUnavailable:
		return "O", "F"
	}
	return "A", "F"
}

// sdmxID returns s with every character that an SDMX identifier does not
// admit (anything but A-Z, a-z, 0-9, _, @, $ and -) replaced by '_'. It does
// not allocate when s is already an identifier.
func sdmxID(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return !isSDMXIDChar(r) })
	if i < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isSDMXIDChar(r) {
			return r
		}
		return '_'
	}, s)
}

func isSDMXIDChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '_' || r == '@' || r == '$' || r == '-'
}
