package release

import (
	"crypto/ed25519"
	"fmt"
	"math"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// OpenDir verifies the release in dir against pub, a key the caller
// trusts (a member's pinned key, when a hub receives another's release),
// and loads it.
func OpenDir(dir string, pub ed25519.PublicKey) (*Release, error) {
	if _, err := verifyDir(dir, pub); err != nil {
		return nil, err
	}
	return load(dir)
}

// SmallCounts checks the release's disclosure control from its published
// values alone: it returns how many values of pure counts (flows with no
// subtracted term, stocks, distinct persons or employers) lie between 1
// and k-1 while shown, and the first of them, described. A release that
// went through disclosure control with threshold k has none.
func (r *Release) SmallCounts(k int) (int, string) {
	pure := make([]bool, len(r.cat.Indicators))
	for i, ind := range r.cat.Indicators {
		switch ind.Kind {
		case method.KindStock, method.KindDistinct:
			pure[i] = true
		case method.KindFlow:
			pure[i] = true
			for _, t := range ind.Terms {
				if t.Sign < 0 {
					pure[i] = false
				}
			}
		}
	}
	n, first := 0, ""
	for key, t := range r.tables {
		for ci := range t.cols {
			c := &t.cols[ci]
			if !pure[ci] || !c.present() {
				continue
			}
			for _, s := range t.series {
				for row := s.lo; row < s.hi; row++ {
					v, st := c.at(row)
					if st != oml.StatusNormal && st != oml.StatusProvisional || math.IsNaN(v) || v <= 0 || v >= float64(k) {
						continue
					}
					if n == 0 {
						first = fmt.Sprintf("%s = %v (%s, %s, periodo %s, territorio %s %s)", r.cat.Indicators[ci].ID, v,
							key.perimeter, key.scope, oml.PeriodAt(key.freq, int(t.period[row])), s.territory, s.codes)
					}
					n++
				}
			}
		}
	}
	return n, first
}
