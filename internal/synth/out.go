package synth

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// Each shard writes its rows into its own part files, one per output file;
// Generate then appends the parts to the output files in shard order. The
// files thus do not depend on which shard finished first.

// fileStats counts the rows of one output file (or of one shard's part).
type fileStats struct {
	rows, dirty, dups int64
	byReason          [nReasons]int64
}

func (a *fileStats) add(b *fileStats) {
	a.rows += b.rows
	a.dirty += b.dirty
	a.dups += b.dups
	for i := range a.byReason {
		a.byReason[i] += b.byReason[i]
	}
}

// part is a shard's share of one output file.
type part struct {
	path string
	f    *os.File
	w    *bufio.Writer
	st   fileStats
	// lastPlain is the id of the last clean flow row of the part that no R
	// or X refers to: a dirty row may reuse it (id_duplicato_diverso), being
	// written later in the same file.
	lastPlain    [idLen]byte
	hasLastPlain bool
}

const partBuffer = 256 << 10

// shardOut holds the parts of a shard.
type shardOut struct {
	dir   string
	shard int
	parts []*part
	eol   []byte
	line  []byte
	err   error
}

func newShardOut(dir string, shard, nfiles int, crlf bool) *shardOut {
	o := &shardOut{dir: dir, shard: shard, parts: make([]*part, nfiles), eol: []byte("\n")}
	if crlf {
		o.eol = []byte("\r\n")
	}
	return o
}

// part returns the part of output file i, creating it on first use. After
// an error it returns nil and the error is kept in o.err.
func (o *shardOut) part(i int) *part {
	if p := o.parts[i]; p != nil {
		return p
	}
	if o.err != nil {
		return nil
	}
	p := &part{path: filepath.Join(o.dir, fmt.Sprintf("s%02d-f%03d.part", o.shard, i))}
	p.f, o.err = os.Create(p.path)
	if o.err != nil {
		return nil
	}
	p.w = bufio.NewWriterSize(p.f, partBuffer)
	o.parts[i] = p
	return p
}

// join serialises fields into o.line (no quoting: the generator quotes
// fields when it builds them).
func (o *shardOut) join(fields [][]byte) []byte {
	l := o.line[:0]
	for i, f := range fields {
		if i > 0 {
			l = append(l, ',')
		}
		l = append(l, f...)
	}
	l = append(l, o.eol...)
	o.line = l
	return l
}

// writeLine writes one physical line to output file i.
func (o *shardOut) writeLine(i int, line []byte) *part {
	p := o.part(i)
	if p == nil {
		return nil
	}
	if _, err := p.w.Write(line); err != nil && o.err == nil {
		o.err = err
	}
	p.st.rows++
	return p
}

// flush closes every part.
func (o *shardOut) flush() error {
	for _, p := range o.parts {
		if p == nil {
			continue
		}
		if err := p.w.Flush(); err != nil && o.err == nil {
			o.err = err
		}
		if err := p.f.Close(); err != nil && o.err == nil {
			o.err = err
		}
	}
	return o.err
}

// remove deletes the parts, after they were appended or on failure.
func (o *shardOut) remove() {
	for _, p := range o.parts {
		if p != nil {
			p.f.Close()
			os.Remove(p.path)
		}
	}
}
