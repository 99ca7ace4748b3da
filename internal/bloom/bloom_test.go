package bloom_test

import (
	"strconv"
	"testing"

	"github.com/regione-lombardia/oml/internal/bloom"
)

func TestNoFalseNegatives(t *testing.T) {
	const n = 200_000
	f := bloom.New(n)
	for i := 0; i < n; i++ {
		if f.Add(bloom.Hash("c" + strconv.Itoa(i))) {
			// A false positive on insert is allowed, but must be rare.
			continue
		}
	}
	for i := 0; i < n; i++ {
		h := bloom.Hash("c" + strconv.Itoa(i))
		if !f.Has(h) || !f.Add(h) {
			t.Fatalf("key %d added but not found", i)
		}
	}
	fp := 0
	for i := 0; i < n; i++ {
		if f.Has(bloom.Hash("other" + strconv.Itoa(i))) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.005 {
		t.Errorf("false positive rate %.4f at capacity, want under 0.5%%", rate)
	}
}

func TestAddReportsPresence(t *testing.T) {
	f := bloom.New(1000)
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"a", false}, {"b", false}, {"a", true}, {"b", true}, {"c", false}, {"c", true},
	} {
		if got := f.Add(bloom.Hash(tc.key)); got != tc.want {
			t.Errorf("Add(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	f := bloom.New(5000)
	for i := 0; i < 5000; i++ {
		f.Add(bloom.Hash(strconv.Itoa(i)))
	}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var g bloom.Filter
	if err := g.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if g.Capacity() != f.Capacity() {
		t.Errorf("capacity %d, want %d", g.Capacity(), f.Capacity())
	}
	for i := 0; i < 5000; i++ {
		if !g.Has(bloom.Hash(strconv.Itoa(i))) {
			t.Fatalf("key %d lost in the round trip", i)
		}
	}
	for _, bad := range [][]byte{nil, []byte("omlbloom1"), b[:len(b)-1], append([]byte("x"), b[1:]...)} {
		if err := new(bloom.Filter).UnmarshalBinary(bad); err == nil {
			t.Errorf("corrupt filter of %d bytes accepted", len(bad))
		}
	}
}

// TestHashStable pins the hash: filters are stored, so it must never change.
func TestHashStable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"", 17280346270528514342}, {"00000000004", 2292291679180093498}, {"c1", 5391400105498210435},
	} {
		if got := bloom.Hash(tc.in); got != tc.want {
			t.Errorf("Hash(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	f := bloom.New(int64(b.N) + 1)
	for i := 0; i < b.N; i++ {
		f.Add(uint64(i) * 0x9e3779b97f4a7c15)
	}
}
