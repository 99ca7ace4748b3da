package export

import (
	"bufio"
	"io"

	"github.com/regione-lombardia/oml"
)

// encodeJSON writes the API's JSON (INTERFACE.md, section 4), with the
// members in a fixed order:
//
//	{"release":…,"vintage":…,"method_version":…,"indicator":…,"label":…,"unit":…,
//	 "transform":… (only if set),"perimeter":…,"scope":…,"freq":"M","by":[…],
//	 "convention":… (only if set),"observations":[
//	{"territory":"016","period":"2024-06","dims":{"genere":"F"},"value":1234,"status":"A"},
//	…
//	]}
//
// Each observation is on a line of its own, which is still one JSON value
// and lets a reader follow the output as it streams. "dims" maps each
// dimension of By to the observation's code; "value" is null when the
// status withholds it. The observations are written as they come, without
// building the document in memory.
func encodeJSON(w io.Writer, d *oml.Dataset) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	b := bw.AvailableBuffer()
	b = append(b, `{"release":`...)
	b = appendJSONString(b, d.Release)
	b = append(b, `,"vintage":`...)
	b = appendJSONString(b, d.Vintage)
	b = append(b, `,"method_version":`...)
	b = appendJSONString(b, d.MethodVersion)
	b = append(b, `,"indicator":`...)
	b = appendJSONString(b, d.Indicator)
	b = append(b, `,"label":`...)
	b = appendJSONString(b, d.Label)
	b = append(b, `,"unit":`...)
	b = appendJSONString(b, d.Unit)
	if d.Transform != "" {
		b = append(b, `,"transform":`...)
		b = appendJSONString(b, d.Transform)
	}
	b = append(b, `,"perimeter":`...)
	b = appendJSONString(b, string(d.Perimeter))
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, string(d.Scope))
	b = append(b, `,"freq":`...)
	b = appendJSONString(b, d.Freq.String())
	b = append(b, `,"by":[`...)
	for i, dim := range d.By {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, dim)
	}
	b = append(b, ']')
	if d.Convention != "" {
		b = append(b, `,"convention":`...)
		b = appendJSONString(b, d.Convention)
	}
	b = append(b, `,"observations":[`...)
	bw.Write(b)

	// Dimension ids are the same on every line: quote them once.
	keys := make([][]byte, len(d.By))
	for i, dim := range d.By {
		keys[i] = append(appendJSONString(nil, dim), ':')
	}
	for i, o := range d.Observations {
		b = bw.AvailableBuffer()
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n{\"territory\":"...)
		b = appendJSONString(b, o.Territory)
		b = append(b, `,"period":`...)
		b = appendJSONString(b, o.Period)
		b = append(b, `,"dims":{`...)
		for j, code := range o.Codes {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, keys[j]...)
			b = appendJSONString(b, code)
		}
		b = append(b, `},"value":`...)
		if o.HasValue() {
			b = appendValue(b, o.Value)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"status":`...)
		b = appendJSONString(b, o.Status.String())
		b = append(b, '}')
		bw.Write(b)
	}
	if len(d.Observations) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
