package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rateLimitTarget is the stated target: the p99 latency of the well-behaved
// clients while another client bursts far above its rate limit.
const rateLimitTarget = 20 * time.Millisecond

// rateLimitConfig is the load of the rate-limit benchmark: clients
// well-behaved clients, each sending rate requests a second (below the
// server's default limit of 20 a second), and one client bursting on
// burstConns connections as fast as the server answers.
type rateLimitConfig struct {
	clients    int
	rate       float64
	burstConns int
}

// phaseStats is what one phase measured.
type phaseStats struct {
	others       int // requests of the well-behaved clients in the measured window
	othersOK     int // of which not 429
	othersErrors int // neither 200 nor 429, or failed
	firstErr     string
	p50, p99     time.Duration
	burst        int // requests of the bursting client
	burst429     int
	burstOK      int
	burstErrors  int
	burstRPS     float64
	// refused counts every 429 of the phase, warm-up included, to check
	// the server's counter.
	refused int
}

// rateLimitBench starts `oml serve` on omlData with its default rate limit
// and measures the well-behaved clients twice in the same process: alone
// (the peer), then while one client bursts (each client, the burster
// included, from an address of its own on the loopback network, so that
// the server tells them apart). It prints the table and reports whether
// every request was answered as expected.
func rateLimitBench(heading string, load loadConfig, rl rateLimitConfig, omlBin, omlData string) bool {
	if err := checkLoopbackAddrs(); err != nil {
		fmt.Printf("\n## Rate-limit benchmark (%s)\n\nSkipped: %v.\n", heading, err)
		return true
	}
	q := apiQueries()[0]
	addr := freeAddr()
	s, err := startServer(omlBin, "serve", "--data", omlData, "--addr", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: rate limit:", err)
		return false
	}
	defer s.stop()
	if _, err := s.waitReady("/readyz", 5*time.Minute); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: rate limit:", err)
		return false
	}
	url := s.base + q.path
	quiet := runRateLimitPhase(load, rl, url, false)
	burst := runRateLimitPhase(load, rl, url, true)
	limited, err := scrapeCounter(s.base+"/metrics", "oml_http_rate_limited_total")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: rate limit: metrics:", err)
		return false
	}
	rss, err := s.stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: rate limit:", err)
		return false
	}

	fmt.Printf("\n## Rate-limit benchmark (%s)\n\n", heading)
	fmt.Printf("`oml serve` with its default limit (20 requests/s per client, burst 40) on query (a) `%s`. "+
		"%d well-behaved clients, each on its own keep-alive connection from its own loopback address, send %g requests/s each "+
		"(paced, below the limit); per phase %.1f s of warm-up, then %.1f s measured. Peer: the same clients in the same server "+
		"process with no burst. Burst: one more client, from one address, sends requests back to back on %d connections "+
		"and ignores Retry-After.\n\n",
		q.path, rl.clients, rl.rate, load.warmup.Seconds(), load.duration.Seconds(), rl.burstConns)
	fmt.Println("| phase | others' requests | others' answers not 429 | others' p50 (ms) | others' p99 (ms) | bursting client requests/s | its answers 429 | ratio of others' p99 to no burst |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	share := func(n, of int) string {
		if of == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(of))
	}
	fmt.Printf("| no burst (peer) | %d | %s | %.2f | %.2f | – | – | 1.00 |\n", quiet.others, share(quiet.othersOK, quiet.others), ms(quiet.p50), ms(quiet.p99))
	fmt.Printf("| one client bursting | %d | %s | %.2f | %.2f | %.0f | %s | %.2f |\n", burst.others, share(burst.othersOK, burst.others),
		ms(burst.p50), ms(burst.p99), burst.burstRPS, share(burst.burst429, burst.burst), ms(burst.p99)/ms(quiet.p99))
	fmt.Printf("\nThe bursting client sent %d requests: %d answered 200 (its burst and refill), %d answered 429; "+
		"the server's `oml_http_rate_limited_total` counted %d refusals. Server peak RSS %.0f MiB.\n",
		burst.burst, burst.burstOK, burst.burst429, limited, float64(rss)/(1<<20))
	ok := true
	for _, p := range []struct {
		name string
		st   phaseStats
	}{{"no burst", quiet}, {"burst", burst}} {
		if p.st.othersErrors > 0 || p.st.othersOK != p.st.others || p.st.burstErrors > 0 || p.st.others == 0 {
			ok = false
			fmt.Printf("\n**%s: %d of the others' %d requests refused or failed, %d errors of the bursting client; first: %s**\n",
				p.name, p.st.others-p.st.othersOK, p.st.others, p.st.burstErrors, p.st.firstErr)
		}
	}
	if burst.burst429 == 0 || int64(quiet.refused+burst.refused) != limited {
		ok = false
		fmt.Printf("\n**the server's count of refusals (%d) does not match the 429 answers seen**\n", limited)
	}
	verdict := "met"
	if burst.p99 > rateLimitTarget {
		verdict = "**not met**"
	}
	fmt.Printf("\n**Target:** the others' p99 under %.0f ms while one client bursts — %s here (%.1f ms).\n", ms(rateLimitTarget), verdict, ms(burst.p99))
	return ok
}

// loopbackClient returns an HTTP client whose connections come from the
// loopback address local, with up to conns of them kept alive.
func loopbackClient(local string, conns int) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// runRateLimitPhase runs the well-behaved clients for load.warmup and
// load.duration, with the bursting client alongside when burst is set.
func runRateLimitPhase(load loadConfig, rl rateLimitConfig, url string, burst bool) phaseStats {
	start := time.Now()
	from, end := start.Add(load.warmup), start.Add(load.warmup+load.duration)
	var st phaseStats
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rl.rate)
	var lat []time.Duration
	for i := range rl.clients {
		c := loopbackClient(fmt.Sprintf("127.0.1.%d", i+1), 1)
		wg.Go(func() {
			defer c.CloseIdleConnections()
			next := start.Add(time.Duration(i) * interval / time.Duration(rl.clients))
			var mine []time.Duration
			var n, ok, errs, refused int
			var firstErr string
			for next.Before(end) {
				time.Sleep(time.Until(next))
				t0 := time.Now()
				status, err := fetchStatus(c, url)
				d := time.Since(t0)
				if status == http.StatusTooManyRequests {
					refused++
				}
				if t0.After(from) {
					n++
					mine = append(mine, d)
					if status != http.StatusTooManyRequests {
						ok++
					}
					if err != nil || status != http.StatusOK && status != http.StatusTooManyRequests {
						errs++
						if firstErr == "" {
							firstErr = fmt.Sprintf("status %d: %v", status, err)
						}
					}
				}
				next = next.Add(interval)
				if now := time.Now(); next.Before(now) {
					next = now // late: no catching up in a burst of its own
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			st.others += n
			st.othersOK += ok
			st.othersErrors += errs
			st.refused += refused
			if st.firstErr == "" {
				st.firstErr = firstErr
			}
		})
	}
	if burst {
		c := loopbackClient("127.0.0.2", rl.burstConns)
		var burstFrom, burstEnd time.Time
		for range rl.burstConns {
			wg.Go(func() {
				var n, n429, nOK, errs, refused int
				for time.Now().Before(end) {
					t0 := time.Now()
					status, err := fetchStatus(c, url)
					if status == http.StatusTooManyRequests {
						refused++
					}
					if t0.Before(from) {
						continue
					}
					n++
					switch {
					case status == http.StatusTooManyRequests:
						n429++
					case status == http.StatusOK:
						nOK++
					default:
						errs++
						mu.Lock()
						if st.firstErr == "" {
							st.firstErr = fmt.Sprintf("bursting client: status %d: %v", status, err)
						}
						mu.Unlock()
					}
				}
				mu.Lock()
				defer mu.Unlock()
				st.burst += n
				st.burst429 += n429
				st.burstOK += nOK
				st.burstErrors += errs
				st.refused += refused
				burstFrom, burstEnd = from, time.Now()
			})
		}
		wg.Wait()
		c.CloseIdleConnections()
		if burstEnd.After(burstFrom) {
			st.burstRPS = float64(st.burst) / burstEnd.Sub(burstFrom).Seconds()
		}
	} else {
		wg.Wait()
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		st.p50, st.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	}
	return st
}

// fetchStatus sends a GET and reads the body whole (so that the
// connection is reused); it returns the status.
func fetchStatus(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// scrapeCounter reads the value of an unlabelled counter from a
// Prometheus text exposition.
func scrapeCounter(url, name string) (int64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("%s: no %s", url, name)
}

// checkLoopbackAddrs reports whether this machine lets a client connect
// from another loopback address than 127.0.0.1 (Linux does: the whole
// 127.0.0.0/8 is local).
func checkLoopbackAddrs() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	d := &net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.1.1")}}
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("cannot connect from 127.0.1.1 (the clients of the rate-limit benchmark need addresses of their own): %w", err)
	}
	return c.Close()
}
