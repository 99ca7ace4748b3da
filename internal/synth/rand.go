package synth

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is the random stream of one shard: a PCG source of math/rand/v2,
// called directly (not through rand.Rand) because the generator draws a few
// dozen numbers per relationship.
type rng struct{ src rand.PCG }

func newRNG(seed, stream uint64) *rng {
	r := &rng{}
	r.src.Seed(seed, stream)
	return r
}

func (r *rng) u64() uint64 { return r.src.Uint64() }

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.src.Uint64()>>11) * 0x1p-53 }

// intn returns a uniform integer in [0, n), n > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(n))
	return int(hi)
}

func (r *rng) chance(p float64) bool { return r.float() < p }

// exp returns an exponential number of mean m.
func (r *rng) exp(m float64) float64 { return -m * math.Log(1-r.float()) }

// norm returns a standard normal number (Marsaglia's polar method).
func (r *rng) norm() float64 {
	for {
		u := 2*r.float() - 1
		v := 2*r.float() - 1
		s := u*u + v*v
		if s > 0 && s < 1 {
			return u * math.Sqrt(-2*math.Log(s)/s)
		}
	}
}

// poisson returns a Poisson number of mean lam: exact below 30, a rounded
// normal approximation above (the counts are monthly hires of a sector).
func (r *rng) poisson(lam float64) int {
	if lam <= 0 {
		return 0
	}
	if lam < 30 {
		l := math.Exp(-lam)
		k, p := 0, r.float()
		for p > l {
			k++
			p *= r.float()
		}
		return k
	}
	n := math.Round(lam + math.Sqrt(lam)*r.norm())
	if n < 0 {
		return 0
	}
	return int(n)
}

// mix is the SplitMix64 finaliser: a bijective scramble of 64 bits.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashKey combines a seed and a few integers into a well-mixed key. Workers,
// households and agencies are functions of such keys, so a person keeps
// the same attributes (and fiscal code) in every relationship without the
// generator storing anyone.
func hashKey(seed uint64, parts ...uint64) uint64 {
	h := mix(seed)
	for _, p := range parts {
		h = mix(h ^ p)
	}
	return h
}

// hstream draws numbers from a key (SplitMix64), for the attributes of a
// person or an employer.
type hstream struct{ s uint64 }

func (h *hstream) u64() uint64 {
	h.s += 0x9e3779b97f4a7c15
	z := h.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (h *hstream) float() float64 { return float64(h.u64()>>11) * 0x1p-53 }

func (h *hstream) intn(n int) int {
	hi, _ := bits.Mul64(h.u64(), uint64(n))
	return int(hi)
}

// alias is a Walker alias table: a draw from a discrete distribution in
// constant time.
type alias struct {
	prob  []uint32 // acceptance threshold of each slot, scaled to 2^32
	alias []int32
}

// newAlias builds the table of weights w (non-negative, not all zero).
func newAlias(w []float64) alias {
	n := len(w)
	a := alias{prob: make([]uint32, n), alias: make([]int32, n)}
	var sum float64
	for _, x := range w {
		sum += x
	}
	if n == 0 || !(sum > 0) {
		panic("synth: alias table of zero weight")
	}
	p := make([]float64, n)
	var small, large []int32
	for i, x := range w {
		p[i] = x * float64(n) / sum
		if p[i] < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		a.prob[s] = uint32(p[s] * (1 << 32))
		a.alias[s] = l
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range large {
		a.prob[i] = math.MaxUint32
		a.alias[i] = i
	}
	for _, i := range small { // rounding leftovers
		a.prob[i] = math.MaxUint32
		a.alias[i] = i
	}
	return a
}

// pick draws a slot from 64 random bits.
func (a *alias) pick(u uint64) int {
	i := int((u >> 32) * uint64(len(a.prob)) >> 32)
	if uint32(u) < a.prob[i] {
		return i
	}
	return int(a.alias[i])
}
