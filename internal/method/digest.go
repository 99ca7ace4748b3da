package method

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"slices"
	"strconv"
	"sync"
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
// cells: group names the group of a cell, "" for none. The groups are
// digested in parallel, one per core at a time.
func (c *Cube) Digests(group func(CellKey) string) map[string]GroupDigest {
	members := map[string][]int{}
	var names []string
	for i := range c.Cells {
		g := group(c.Cells[i].CellKey)
		if g == "" {
			continue
		}
		if _, ok := members[g]; !ok {
			names = append(names, g)
		}
		members[g] = append(members[g], i)
	}
	digests := make([]GroupDigest, len(names))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for gi, g := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			digests[gi] = c.digest(members[g])
		})
	}
	wg.Wait()
	out := make(map[string]GroupDigest, len(names))
	for gi, g := range names {
		out[g] = digests[gi]
	}
	return out
}

// digest returns the digest of the cells of c at the given indices.
func (c *Cube) digest(cells []int) GroupDigest {
	lines := make([]string, 0, len(cells))
	var b []byte
	for _, i := range cells {
		cell := &c.Cells[i]
		b = b[:0]
		for _, s := range []string{string(cell.Perimeter), string(cell.Scope), string(cell.Freq), strconv.Itoa(cell.Period), string(cell.Level), cell.Territory, cell.Dims, cell.Codes} {
			b = append(b, s...)
			b = append(b, '|')
		}
		for j, v := range cell.Values {
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
			b = append(b, byte(cell.Status[j]), '|')
		}
		lines = append(lines, string(b))
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return GroupDigest{SHA256: hex.EncodeToString(h.Sum(nil)), Cells: len(lines)}
}
