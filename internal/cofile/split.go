package cofile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// CO files are read one physical line per row. RFC 4180 allows a quoted
// field to span lines, but no CO field carries free text with line breaks,
// and honouring that rule would let one stray quote swallow the rest of a
// file into a single "row". So a quoted field must close on its own line;
// a line whose quotes do not balance is one malformed row, and reading goes
// on at the next line (docs/adr/0003-csv-una-riga.md).

// maxLine is the longest physical line accepted; a longer one is rejected as
// malformed (and skipped whole) instead of growing memory without bound.
const maxLine = 1 << 20

// errLineTooLong marks a line over maxLine.
var errLineTooLong = errors.New("line too long")

// lineReader reads physical lines, stripping a UTF-8 BOM on the first line
// and the trailing "\n" or "\r\n".
type lineReader struct {
	br    *bufio.Reader
	n     int64 // physical line number of the last line returned
	first bool
	long  []byte // accumulates a line longer than the bufio buffer
	read  int64  // bytes consumed so far
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 256<<10), first: true}
}

// next returns the next line, valid until the following call. At the end of
// input it returns io.EOF; a last line without "\n" is returned normally.
func (r *lineReader) next() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = r.br.ReadSlice('\n')
			if len(r.long) <= maxLine {
				r.long = append(r.long, line...)
			}
		}
		line = r.long
	}
	r.read += int64(len(line))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(line) == 0 && err != nil {
		return nil, io.EOF
	}
	r.n++
	if r.first {
		r.first = false
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > maxLine {
		return line[:0], errLineTooLong
	}
	return line, nil
}

// splitLine splits one line into fields following RFC 4180 quoting within
// the line: a field may be enclosed in double quotes, inside which "" is a
// quote and commas are data. It appends the fields to dst, using scratch for
// unquoted copies, and reports false for an unterminated quote or text after
// a closing quote. The fields alias line and scratch.
func splitLine(dst [][]byte, scratch []byte, line []byte) ([][]byte, []byte, bool) {
	dst = dst[:0]
	scratch = scratch[:0]
	i := 0
	for {
		if i < len(line) && line[i] == '"' {
			// Quoted field.
			i++
			start := len(scratch)
			closed := false
			for i < len(line) {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					break
				}
				scratch = append(scratch, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					scratch = append(scratch, '"')
					i++
					continue
				}
				closed = true
				break
			}
			if !closed {
				return dst, scratch, false
			}
			dst = append(dst, scratch[start:len(scratch):len(scratch)])
			if i == len(line) {
				return dst, scratch, true
			}
			if line[i] != ',' {
				return dst, scratch, false
			}
			i++
			continue
		}
		j := bytes.IndexByte(line[i:], ',')
		if j < 0 {
			f := line[i:]
			if bytes.IndexByte(f, '"') >= 0 {
				return dst, scratch, false
			}
			return append(dst, f), scratch, true
		}
		f := line[i : i+j]
		if bytes.IndexByte(f, '"') >= 0 {
			return dst, scratch, false
		}
		dst = append(dst, f)
		i += j + 1
	}
}
