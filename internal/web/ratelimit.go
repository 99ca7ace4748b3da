package web

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/regione-lombardia/oml"
)

// Defaults of the rate limit of the API, which `oml serve` applies: a
// client may send 20 requests a second on average and 40 at once, which a
// person using the portal or a script downloading a table at a time never
// reaches.
const (
	DefaultRate  = 20
	DefaultBurst = 40
)

// RateLimit limits the requests each client may send to the API
// (/api/v1/...): a token bucket per client, refilled at Rate tokens a
// second up to Burst; a request that finds the bucket empty is answered
// 429 with Retry-After and the JSON error too_many_requests. The portal,
// the static files, the reports and the federation are not limited.
type RateLimit struct {
	// Rate is the requests per second a client may sustain; 0 (the zero
	// Config) disables the limit.
	Rate float64
	// Burst is the most requests a client may send at once (2×Rate,
	// rounded up, when 0).
	Burst int
	// Key returns the bucket a request counts against and whether it is
	// exempt from the limit. nil means ClientKey, never exempt. This is
	// the hook for exemptions (a request with a valid bearer token, say):
	// it runs before the request's handler, on every API request, and
	// must be fast.
	Key func(r *http.Request) (key string, exempt bool)
}

// ClientKey is the default rate-limit key: the client's address
// (ClientAddr), an IPv4 address whole, an IPv6 address by its /64 (one
// subscriber line usually holds a whole /64, and its owner may use any
// address in it).
func ClientKey(r *http.Request) (key string, exempt bool) {
	a := ClientAddr(r)
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String(), false
	}
	return a.String(), false
}

// ClientAddr returns the address of the client of r, as the server
// resolved it: the peer of the connection, or, when that peer is one of
// Config.TrustedProxies, the last address of X-Forwarded-For that is not
// a trusted proxy. The zero Addr when it cannot tell.
func ClientAddr(r *http.Request) netip.Addr {
	if info := infoOf(r); info != nil {
		return info.client
	}
	return peerAddr(r)
}

// peerAddr returns the address of the connection's peer.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap()
}

// trustedProxies are the networks whose X-Forwarded-For is believed.
type trustedProxies []netip.Prefix

func (t trustedProxies) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr resolves the client of r. X-Forwarded-For is read only when
// the peer is a trusted proxy, from its end (the address the proxy saw)
// back to the first address that is not itself a trusted proxy: what
// comes before it was written by the client and proves nothing. An entry
// that is not an address stops the walk at the last good one.
func (t trustedProxies) clientAddr(r *http.Request) netip.Addr {
	client := peerAddr(r)
	if len(t) == 0 || !t.contains(client) {
		return client
	}
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, ok := parseForwarded(strings.TrimSpace(parts[j]))
			if !ok {
				return client
			}
			client = a
			if !t.contains(a) {
				return client
			}
		}
	}
	return client
}

// parseForwarded parses one X-Forwarded-For entry: an address, possibly
// with a port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseForwarded(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// limiter keeps a token bucket per client key.
type limiter struct {
	rate  rate.Limit
	burst int
	key   func(*http.Request) (string, bool)
	now   func() time.Time
	// idle is how long a bucket goes unused before it is dropped: at
	// least the time it takes to fill up again, so that dropping it
	// forgets nothing.
	idle time.Duration

	mu        sync.Mutex
	clients   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// Eviction of idle buckets: a sweep at most every sweepEvery, on a
// request; beyond maxBuckets (a flood of spoofed sources) the buckets not
// used in the last second go too, then, if need be, any: such clients
// start again with a full bucket, which only weakens the limit for them.
const (
	sweepEvery = time.Minute
	maxBuckets = 100_000
)

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	if cfg.Rate <= 0 {
		return nil
	}
	burst := cfg.Burst
	if burst <= 0 {
		burst = int(math.Ceil(2 * cfg.Rate))
	}
	key := cfg.Key
	if key == nil {
		key = ClientKey
	}
	refill := time.Duration(float64(burst) / cfg.Rate * float64(time.Second))
	return &limiter{rate: rate.Limit(cfg.Rate), burst: burst, key: key, now: now,
		idle: max(refill+time.Second, sweepEvery), clients: map[string]*bucket{}, lastSweep: now()}
}

// allow takes a token from key's bucket; when there is none it says how
// long until there will be one.
func (l *limiter) allow(key string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now, l.idle)
	}
	b := l.clients[key]
	if b == nil {
		if len(l.clients) >= maxBuckets {
			l.sweep(now, time.Second)
		}
		if len(l.clients) >= maxBuckets {
			for k := range l.clients {
				delete(l.clients, k)
				if len(l.clients) <= maxBuckets/2 {
					break
				}
			}
		}
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[key] = b
	}
	b.seen = now
	rv := b.lim.ReserveN(now, 1)
	if !rv.OK() {
		return false, time.Second
	}
	if d := rv.DelayFrom(now); d > 0 {
		rv.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the buckets unused for idle. The caller holds mu.
func (l *limiter) sweep(now time.Time, idle time.Duration) {
	for k, b := range l.clients {
		if now.Sub(b.seen) >= idle {
			delete(l.clients, k)
		}
	}
	l.lastSweep = now
}

// size is the number of buckets kept.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// limitAPI applies the rate limit to an API route.
func (s *Server) limitAPI(next http.Handler) http.Handler {
	l := s.limiter
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, exempt := l.key(r)
		if !exempt {
			if ok, wait := l.allow(key); !ok {
				s.metrics.limited.Inc()
				secs := max(int(math.Ceil(wait.Seconds())), 1)
				h := w.Header()
				setAPIHeaders(h)
				h.Set("Retry-After", strconv.Itoa(secs))
				s.writeError(w, r, oml.Errorf(oml.ETOOMANY,
					"troppe richieste: al massimo %s al secondo (%d di seguito) per client / too many requests: at most %s a second (%d at once) per client",
					formatRate(l.rate), l.burst, formatRate(l.rate), l.burst).
					WithHint("riprovare tra %d s (intestazione Retry-After); meglio poche richieste ampie, per esempio più territori in una / retry after %d s; prefer fewer, wider requests", secs, secs))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func formatRate(r rate.Limit) string {
	return strconv.FormatFloat(float64(r), 'f', -1, 64)
}
