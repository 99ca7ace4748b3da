package method

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// Digest returns the sha256 (hex), and the number, of a canonical text of
// the cells of c for which in is true: one line per cell, in key order,
// with the key and every indicator's value (shortest exact decimal, NaN
// for none) and status. Two cubes have the same digest exactly when those
// cells are identical, so a federated node that recomputes its territory
// compares its cube with the hub's without either seeing the other's
// cells.
//
// Computed before disclosure control it covers the values as computed;
// after, the values as published.
func (c *Cube) Digest(in func(CellKey) bool) (digest string, cells int) {
	d := c.Digests(func(k CellKey) string {
		if in(k) {
			return "x"
		}
		return ""
	})
	return d["x"].SHA256, d["x"].Cells
}

// GroupDigest is the digest of a group of cells.
type GroupDigest struct {
	SHA256 string
	Cells  int
}

// Digests returns the digest (as Digest computes it) of every group of
// cells, in one pass: group names the group of a cell, "" for none.
func (c *Cube) Digests(group func(CellKey) string) map[string]GroupDigest {
	lines := map[string][]string{}
	var b strings.Builder
	for i := range c.Cells {
		cell := &c.Cells[i]
		g := group(cell.CellKey)
		if g == "" {
			continue
		}
		b.Reset()
		for _, s := range []string{string(cell.Perimeter), string(cell.Scope), string(cell.Freq), strconv.Itoa(cell.Period), string(cell.Level), cell.Territory, cell.Dims, cell.Codes} {
			b.WriteString(s)
			b.WriteByte('|')
		}
		for j, v := range cell.Values {
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			b.WriteByte(byte(cell.Status[j]))
			b.WriteByte('|')
		}
		lines[g] = append(lines[g], b.String())
	}
	out := make(map[string]GroupDigest, len(lines))
	for g, ls := range lines {
		slices.Sort(ls)
		h := sha256.New()
		for _, l := range ls {
			h.Write([]byte(l))
			h.Write([]byte{'\n'})
		}
		out[g] = GroupDigest{SHA256: hex.EncodeToString(h.Sum(nil)), Cells: len(ls)}
	}
	return out
}
