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
	b = appendField(b, "vintage", d.Vintage)
	b = appendField(b, "method_version", d.MethodVersion)
	b = appendField(b, "indicator", d.Indicator)
	b = appendField(b, "label", d.Label)
	b = appendField(b, "unit", d.Unit)
	if d.Transform != "" {
		b = appendField(b, "transform", d.Transform)
	}
	b = appendField(b, "perimeter", string(d.Perimeter))
	b = appendField(b, "scope", string(d.Scope))
	b = appendField(b, "freq", d.Freq.String())
	b = append(b, `,"by":[`...)
	for i, dim := range d.By {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, dim)
	}
	b = append(b, ']')
	if d.Convention != "" {
		b = appendField(b, "convention", d.Convention)
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
		b = appendField(b, "period", o.Period)
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
		b = appendField(b, "status", o.Status.String())
		b = append(b, '}')
		bw.Write(b)
	}
	if len(d.Observations) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
