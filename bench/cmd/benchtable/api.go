package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// apiTarget is the stated target for the API: p99 latency at 64
// concurrent clients.
const apiTarget = 20 * time.Millisecond

// Targets of the portal: time to first byte p99 of a page under load, and
// the weight of a page with its assets as transferred.
const (
	pageTarget       = 50 * time.Millisecond
	pageWeightTarget = 1_500_000
)

// loadConfig is the closed-loop load applied to each query: clients
// goroutines, each sending its next request as soon as the previous one is
// answered, for warmup (not recorded) and then duration (measured).
type loadConfig struct {
	clients  int
	warmup   time.Duration
	duration time.Duration
	gzip     bool // send Accept-Encoding: gzip
}

// apiQuery is one typical request of the load test.
type apiQuery struct {
	id   string // (a), (b)
	name string
	path string
	// check validates the first response, whose number of observations
	// is then expected of every response under load.
	check func(d dataResponse) error
	// page marks a page of the portal: requested gzipped, as a browser
	// does, checked for the release it states, and expected
	// byte-identical under load; its time to first byte is reported.
	page bool
}

// dataResponse is the part of a /api/v1/data JSON response the benchmark
// checks.
type dataResponse struct {
	Release      string `json:"release"`
	Observations []struct {
		Territory string            `json:"territory"`
		Period    string            `json:"period"`
		Dims      map[string]string `json:"dims"`
	} `json:"observations"`
}

// response is one response captured from oml serve, replayed byte for byte
// by bench/cmd/staticserve (which declares the same type).
type response struct {
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// readyPath is the address polled until the peer answers (oml serve is
// polled at /readyz), and the first response captured from oml serve.
const readyPath = "/api/v1/releases/latest"

// provinces are the twelve Lombard provinces.
const provinces = "012,013,014,015,016,017,018,019,020,097,098,108"

func apiQueries() []apiQuery {
	return []apiQuery{
		{
			id:   "(a)",
			name: "one province, 24 months",
			path: "/api/v1/data?indicator=attivazioni&territory=016&freq=M&from=latestMINUS23&to=latest",
			check: func(d dataResponse) error {
				periods := map[string]bool{}
				for _, o := range d.Observations {
					if o.Territory != "016" || len(o.Dims) != 0 {
						return fmt.Errorf("observation of %s %v, want 016 without dimensions", o.Territory, o.Dims)
					}
					periods[o.Period] = true
				}
				if len(d.Observations) != 24 || len(periods) != 24 {
					return fmt.Errorf("%d observations over %d months, want 24 months", len(d.Observations), len(periods))
				}
				return nil
			},
		},
		{
			id:   "(b)",
			name: "all provinces by sector, one year",
			path: "/api/v1/data?indicator=attivazioni&territory=" + provinces + "&by=ateco_sezione&freq=Y&from=latestMINUS1&to=latestMINUS1",
			check: func(d dataResponse) error {
				terr, periods := map[string]bool{}, map[string]bool{}
				for _, o := range d.Observations {
					if !slices.Contains(strings.Split(provinces, ","), o.Territory) || o.Dims["ateco_sezione"] == "" {
						return fmt.Errorf("observation of %s %v, want a province by ateco_sezione", o.Territory, o.Dims)
					}
					terr[o.Territory] = true
					periods[o.Period] = true
				}
				if len(terr) != 12 || len(periods) != 1 {
					return fmt.Errorf("%d observations over %d territories and %d years, want 12 provinces and 1 year",
						len(d.Observations), len(terr), len(periods))
				}
				return nil
			},
		},
		{id: "(c)", name: "portal: home page", path: "/", page: true},
		{id: "(d)", name: "portal: province page", path: "/territorio/016", page: true},
	}
}

// serverRun is what the load test found of one server.
type serverRun struct {
	stats  []loadStats // per query
	maxRSS int64       // bytes
	ready  time.Duration
	first  time.Duration // first /data response, cold
	// weights of the page queries, by query index (oml serve only).
	weights map[int]pageWeight
}

// apiBench runs the load test against `oml serve` on the data dir omlData
// (which must serve the release id) and then against staticserve replaying
// oml's responses, prints the table and reports whether every request
// succeeded.
func apiBench(heading string, cfg loadConfig, omlBin, staticBin, omlData, id, dir string) bool {
	queries := apiQueries()
	om, captured, err := benchOML(cfg, omlBin, omlData, id, queries)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: oml serve:", err)
		return false
	}
	capFile := filepath.Join(dir, "responses.json")
	b, err := json.Marshal(captured)
	check(err)
	check(os.WriteFile(capFile, b, 0o644))
	peer, err := benchServer(cfg, []string{staticBin, "-responses", capFile}, queries, captured)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: staticserve:", err)
		return false
	}

	fmt.Printf("\n## API benchmark (%s)\n\n", heading)
	enc := "identity"
	if cfg.gzip {
		enc = "gzip"
	}
	fmt.Printf("%d concurrent clients, each with its own keep-alive connection, sending its next request as soon as "+
		"the previous one is answered; per query and server %.1f s of warm-up, then %.1f s measured; responses %s. "+
		"Peer: `bench/cmd/staticserve`, a stdlib net/http server answering each URL with the headers and body "+
		"captured from `oml serve` (HTTP and the same bytes, no work).\n\n",
		cfg.clients, cfg.warmup.Seconds(), cfg.duration.Seconds(), enc)
	fmt.Println("| query | server | requests/s | p50 (ms) | p99 (ms) | max (ms) | errors | ratio of p99 to peer |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	ok := true
	worst := time.Duration(0)
	for i, q := range queries {
		if q.page {
			continue
		}
		o, p := om.stats[i], peer.stats[i]
		name := fmt.Sprintf("%s %s (%d obs., %.1f KiB)", q.id, q.name, o.observations, float64(len(captured[i+1].Body))/1024)
		fmt.Printf("| %s | `oml serve` | %.0f | %.2f | %.2f | %.1f | %d | %.1f |\n", name, o.rps, ms(o.p50), ms(o.p99), ms(o.max), o.errors, ms(o.p99)/ms(p.p99))
		fmt.Printf("| | peer | %.0f | %.2f | %.2f | %.1f | %d | 1.0 |\n", p.rps, ms(p.p50), ms(p.p99), ms(p.max), p.errors)
		worst = max(worst, o.p99)
	}
	fmt.Println()
	for _, q := range queries {
		if !q.page {
			fmt.Printf("- %s `%s`\n", q.id, q.path)
		}
	}
	fmt.Printf("\nserver peak RSS: `oml serve` %.0f MiB, peer %.0f MiB. `oml serve` was ready (/readyz: the latest release opened) %.2f s after start; "+
		"its first /data response took %.2f s. `oml serve` runs with its rate limit raised out of reach (the limiter still runs).\n",
		float64(om.maxRSS)/(1<<20), float64(peer.maxRSS)/(1<<20), om.ready.Seconds(), om.first.Seconds())
	for _, r := range []struct {
		name string
		run  serverRun
	}{{"`oml serve`", om}, {"peer", peer}} {
		for i, s := range r.run.stats {
			if s.errors > 0 {
				ok = false
				fmt.Printf("\n**%s, %s: %d errors**, the first: %s\n", r.name, queries[i].id, s.errors, s.firstErr)
			}
			if s.conns > int64(cfg.clients) || s.retried > 0 {
				fmt.Printf("\n%s, %s: %d connections opened for %d clients; %d requests sent again by the client after their connection closed\n",
					r.name, queries[i].id, s.conns, cfg.clients, s.retried)
			}
			if s.differing > 0 {
				fmt.Printf("\n%s, %s: %d valid responses whose bytes differ from the first\n", r.name, queries[i].id, s.differing)
			}
		}
	}
	worstPage := time.Duration(0)
	fmt.Printf("\n### Portal pages\n\nSame load, pages requested with `Accept-Encoding: gzip` as a browser does; time to first byte " +
		"(TTFB) and to the last byte; page weight: the page and every asset it links (CSS, JavaScript, fonts), as transferred " +
		"(gzip) and uncompressed.\n\n")
	fmt.Println("| page | server | requests/s | TTFB p50 (ms) | TTFB p99 (ms) | last byte p99 (ms) | errors | ratio of TTFB p99 to peer | weight transferred (KiB) | uncompressed (KiB) |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for i, q := range queries {
		if !q.page {
			continue
		}
		o, p := om.stats[i], peer.stats[i]
		fmt.Printf("| %s %s `%s` | `oml serve` | %.0f | %.2f | %.2f | %.2f | %d | %.1f | %.0f | %.0f |\n", q.id, q.name, q.path,
			o.rps, ms(o.ttfb50), ms(o.ttfb99), ms(o.p99), o.errors, ms(o.ttfb99)/ms(p.ttfb99), float64(om.weights[i].transferred)/1024, float64(om.weights[i].raw)/1024)
		fmt.Printf("| | peer | %.0f | %.2f | %.2f | %.2f | %d | 1.0 | | |\n", p.rps, ms(p.ttfb50), ms(p.ttfb99), ms(p.p99), p.errors)
		worstPage = max(worstPage, o.ttfb99)
		if om.weights[i].transferred > pageWeightTarget {
			ok = false
			fmt.Printf("\n**%s weighs %.0f KiB transferred, over the target**\n", q.path, float64(om.weights[i].transferred)/1024)
		}
	}
	pverdict := "met"
	if worstPage > pageTarget {
		pverdict = "**not met**"
	}
	fmt.Printf("\n**Target:** portal TTFB p99 under %.0f ms and under 1.5 MB per page with its assets — %s here (worst TTFB p99 %.1f ms).\n",
		ms(pageTarget), pverdict, ms(worstPage))

	verdict := "met"
	if worst > apiTarget {
		verdict = "**not met**"
	}
	fmt.Printf("\n**Target:** API p99 under %.0f ms at 64 concurrent clients — %s here (worst p99 %.1f ms", ms(apiTarget), verdict, ms(worst))
	if cfg.clients != 64 {
		fmt.Printf(" at %d clients", cfg.clients)
	}
	fmt.Println(").")
	return ok
}

// benchOML starts oml serve on the data dir, captures the response to each
// query (checking it, and that it comes from release id), runs the load
// and stops the server. The captured responses are readyPath's and then
// the queries', in order.
func benchOML(cfg loadConfig, omlBin, omlData, id string, queries []apiQuery) (run serverRun, captured []response, err error) {
	addr := freeAddr()
	// The rate limit raised out of reach: 64 clients from one address
	// load the server far above a client's rate (the limiter still runs;
	// ratelimit.go measures it at work).
	s, err := startServer(omlBin, "serve", "--data", omlData, "--rate-limit", "1e9", "--rate-burst", "1000000000", "--addr", addr)
	if err != nil {
		return run, nil, err
	}
	defer func() {
		rss, serr := s.stop()
		run.maxRSS = rss
		err = errors.Join(err, serr)
	}()
	if run.ready, err = s.waitReady("/readyz", 5*time.Minute); err != nil {
		return run, nil, err
	}
	r, _, err := capture(s.base, readyPath, cfg.gzip)
	if err != nil {
		return run, nil, err
	}
	var latest struct{ ID string }
	if err := decodeBody(r.Body, r.Header.Get("Content-Encoding"), &latest); err != nil || latest.ID != id {
		return run, nil, fmt.Errorf("%s: release %q (%v), want %s", readyPath, latest.ID, err, id)
	}
	captured = append(captured, r)
	for i, q := range queries {
		r, took, err := capture(s.base, q.path, cfg.gzip || q.page)
		if err != nil {
			return run, nil, err
		}
		if i == 0 {
			run.first = took
		}
		if q.page {
			w, err := checkPage(s.base, r, id)
			if err != nil {
				return run, nil, err
			}
			if run.weights == nil {
				run.weights = map[int]pageWeight{}
			}
			run.weights[i] = w
			captured = append(captured, r)
			continue
		}
		var d dataResponse
		if err := decodeBody(r.Body, r.Header.Get("Content-Encoding"), &d); err != nil {
			return run, nil, fmt.Errorf("%s: %w", q.path, err)
		}
		if d.Release != id {
			return run, nil, fmt.Errorf("%s: release %q, want %s", q.path, d.Release, id)
		}
		if err := q.check(d); err != nil {
			return run, nil, fmt.Errorf("%s: %w", q.path, err)
		}
		captured = append(captured, r)
	}
	for i, q := range queries {
		run.stats = append(run.stats, runLoad(cfg, q, s.base+q.path, captured[i+1]))
	}
	return run, captured, nil
}

// benchServer starts the server argv (to which it adds -addr), waits until
// it answers and runs the load of each query, expecting the captured
// responses.
func benchServer(cfg loadConfig, argv []string, queries []apiQuery, captured []response) (run serverRun, err error) {
	s, err := startServer(argv[0], append(argv[1:], "-addr", freeAddr())...)
	if err != nil {
		return run, err
	}
	defer func() {
		rss, serr := s.stop()
		run.maxRSS = rss
		err = errors.Join(err, serr)
	}()
	if run.ready, err = s.waitReady(readyPath, time.Minute); err != nil {
		return run, err
	}
	for i, q := range queries {
		run.stats = append(run.stats, runLoad(cfg, q, s.base+q.path, captured[i+1]))
	}
	return run, nil
}

// capture gets path once and returns the response (headers but Date, and
// body), which must be 200, and its latency.
func capture(base, path string, gz bool) (response, time.Duration, error) {
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 5 * time.Minute}
	defer c.CloseIdleConnections()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return response{}, 0, err
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return response{}, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return response{}, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return response{}, 0, fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	h := resp.Header.Clone()
	h.Del("Date")
	return response{Path: path, Header: h, Body: body}, took, nil
}

// decodeBody decodes a JSON body, gzipped if enc says so, into v.
func decodeBody(body []byte, enc string, v any) error {
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	return json.Unmarshal(body, v)
}

// loadStats is the outcome of one load run.
type loadStats struct {
	observations int // in each response
	requests     int // started in the measured window
	errors       int // in warm-up and measured window
	firstErr     string
	differing    int   // valid responses not byte-identical to the captured one
	conns        int64 // connections dialled
	retried      int   // requests the transport sent again on another connection
	rps          float64
	p50, p99     time.Duration
	max          time.Duration
	// time to the first byte of the response
	ttfb50, ttfb99 time.Duration
}

// runLoad applies cfg's load to url and checks every response: status 200,
// and a body identical to want's or else one whose JSON holds as many
// observations as want's (a body identical to the checked first response
// needs no parsing, which keeps the clients' CPU, taken from the same two
// cores as the server's, low).
func runLoad(cfg loadConfig, q apiQuery, url string, want response) loadStats {
	var wantObs struct{ Observations []json.RawMessage }
	if !q.page {
		check(decodeBody(want.Body, want.Header.Get("Content-Encoding"), &wantObs))
	}
	gz := cfg.gzip || q.page
	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        cfg.clients,
		MaxIdleConnsPerHost: cfg.clients,
		MaxConnsPerHost:     cfg.clients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	type clientResult struct {
		lat, ttfb               []time.Duration
		errors, differ, retried int
		firstErr                error
		lastEnd                 time.Time
	}
	results := make([]clientResult, cfg.clients)
	start := time.Now()
	from, end := start.Add(cfg.warmup), start.Add(cfg.warmup+cfg.duration)
	var wg sync.WaitGroup
	for i := range results {
		r := &results[i]
		wg.Go(func() {
			var buf bytes.Buffer
			// The transport silently sends a GET again when its
			// connection closes before the response: count those.
			var gotConn atomic.Int32
			var first time.Time
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				GotConn:              func(httptrace.GotConnInfo) { gotConn.Add(1) },
				GotFirstResponseByte: func() { first = time.Now() },
			})
			for {
				gotConn.Store(0)
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				enc, err := get(ctx, client, url, gz, &buf)
				lat := time.Since(t0)
				if gotConn.Load() > 1 {
					r.retried++
				}
				if err == nil && !bytes.Equal(buf.Bytes(), want.Body) && q.page {
					err = errors.New("page differs from the first response")
				} else if err == nil && !bytes.Equal(buf.Bytes(), want.Body) {
					r.differ++
					var got struct{ Observations []json.RawMessage }
					if err = decodeBody(buf.Bytes(), enc, &got); err == nil && len(got.Observations) != len(wantObs.Observations) {
						err = fmt.Errorf("%d observations, want %d", len(got.Observations), len(wantObs.Observations))
					}
				}
				if err != nil {
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
				}
				if t0.Before(from) {
					continue
				}
				r.lat = append(r.lat, lat)
				r.ttfb = append(r.ttfb, first.Sub(t0))
				r.lastEnd = t0.Add(lat)
			}
		})
	}
	wg.Wait()

	st := loadStats{observations: len(wantObs.Observations), conns: dials.Load()}
	var lat, ttfb []time.Duration
	lastEnd := from
	for _, r := range results {
		lat = append(lat, r.lat...)
		ttfb = append(ttfb, r.ttfb...)
		st.errors += r.errors
		st.differing += r.differ
		st.retried += r.retried
		if r.firstErr != nil && st.firstErr == "" {
			st.firstErr = r.firstErr.Error()
		}
		if r.lastEnd.After(lastEnd) {
			lastEnd = r.lastEnd
		}
	}
	st.requests = len(lat)
	if len(lat) == 0 {
		st.errors++
		st.firstErr = cmp.Or(st.firstErr, "no request completed in the measured window")
		return st
	}
	slices.Sort(lat)
	slices.Sort(ttfb)
	st.p50, st.p99, st.max = percentile(lat, 0.50), percentile(lat, 0.99), lat[len(lat)-1]
	st.ttfb50, st.ttfb99 = percentile(ttfb, 0.50), percentile(ttfb, 0.99)
	st.rps = float64(len(lat)) / lastEnd.Sub(from).Seconds()
	return st
}

// get sends one GET and reads the body into buf; a status other than 200
// is an error. It returns the body's Content-Encoding.
func get(ctx context.Context, c *http.Client, url string, gz bool, buf *bytes.Buffer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return "", err
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %.300s", resp.Status, buf.Bytes())
	}
	return resp.Header.Get("Content-Encoding"), nil
}

// percentile returns the nearest-rank p-quantile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().String()
}

// server is a server process under test.
type server struct {
	base    string // http://host:port
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's, once exited is closed
}

// startServer starts name with args, the last of which is its listen
// address; its output goes to stderr.
func startServer(name string, args ...string) (*server, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	s := &server{base: "http://" + args[len(args)-1], cmd: cmd, started: time.Now(), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// waitReady polls path until it answers 200 and returns the time since the
// server was started.
func (s *server) waitReady(path string, timeout time.Duration) (time.Duration, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	for {
		select {
		case <-s.exited:
			return 0, fmt.Errorf("%s exited before answering: %v", s.cmd.Path, s.waitErr)
		default:
		}
		if resp, err := c.Get(s.base + path); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(s.started), nil
			}
		}
		if time.Since(s.started) > timeout {
			return 0, fmt.Errorf("%s%s did not answer 200 within %s", s.base, path, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits for the process to exit (killing it after 30
// s) and returns its peak resident memory in bytes. It may be called again.
func (s *server) stop() (int64, error) {
	var err error
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			err = fmt.Errorf("%s did not stop within 30 s of SIGTERM", s.cmd.Path)
		}
	}
	if err == nil && s.waitErr != nil {
		err = fmt.Errorf("%s: %w", s.cmd.Path, s.waitErr)
	}
	ru := s.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru.Maxrss * 1024, err
}
