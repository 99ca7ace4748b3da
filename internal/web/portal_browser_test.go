package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The portal in a real headless Chromium (Debian's chromium, which `make
// test` installs): pages load without console errors and without any
// violation of their Content-Security-Policy, charts are drawn (and their
// tooltips shown), the map leads to a province, the query builder's CSV
// download holds the API's numbers, and axe-core finds no serious or
// critical WCAG 2.1 AA violation.
//
// OML_PORTAL_DATA=DIR runs the tests on the releases of another data dir
// (the fixture's otherwise); OML_SCREENSHOTS=DIR saves desktop and mobile
// screenshots of the main pages there (docs/img is made this way, from
// `oml demo` data).

// chromiumPath finds the browser; CI must have it, a developer's machine
// may not (then the tests are skipped, saying how to install it).
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium not found: `make chromium` installs Debian's package")
	}
	t.Skip("Chromium not found: `make chromium` installs it (CI fails instead of skipping)")
	return ""
}

// tab records what a browser tab reports: console errors, uncaught
// exceptions and violations of the page's Content-Security-Policy.
type tab struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

// failures returns (and forgets) what went wrong in the tab since the
// last call: console errors, uncaught exceptions, and the CSP violations
// the page reported (securitypolicyviolation events, which cspListener
// records; Chromium also logs them as errors).
func (b *tab) failures() []string {
	var violations []string
	if err := chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function () { var v = window.__cspViolations || []; window.__cspViolations = []; return v; })()`))
		violations = v
		return err
	})); err != nil {
		violations = append(violations, "reading the CSP violations: "+err.Error())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append(b.errors, violations...)
	b.errors = nil
	return out
}

// cspListener runs in every document the tab opens, before the page's
// own scripts (which the page's CSP does not cover: the browser injects
// it), and records every violation of the page's Content-Security-Policy.
const cspListener = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
    (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : '') + (e.sample ? ' (' + e.sample + ')' : ''));
});`

// newTab starts Chromium with the flags this machine needs (no sandbox as
// root, no background networking) and returns a tab that records errors.
func newTab(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &tab{ctx: ctx}
	msgs := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener})
		return err
	})); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// portalServer serves the portal on a real loopback port.
func portalServer(t *testing.T) *httptest.Server {
	t.Helper()
	if dir := os.Getenv("OML_PORTAL_DATA"); dir != "" {
		s, err := New(Config{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		return ts
	}
	_, _, ts := sharedTS(t)
	return ts
}

// chartsDrawn returns, for every chart of the page, how many series
// ECharts drew on its canvas (0 for a chart not drawn).
const chartsDrawn = `Array.from(document.querySelectorAll('[data-chart]')).map(function (el) {
  var c = window.echarts && echarts.getInstanceByDom(el);
  return c && el.querySelector('canvas') ? c.getOption().series.length : 0;
})`

// do runs browser steps, failing the test on an error.
func (b *tab) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression in the page (awaiting a promise).
func eval[T any](t *testing.T, b *tab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (b *tab) text(t *testing.T, sel string) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(v)
}

func (b *tab) location(t *testing.T) string {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkCharts(t *testing.T, b *tab, page string, want int) {
	t.Helper()
	drawn := eval[[]int](t, b, chartsDrawn)
	if len(drawn) < want {
		t.Errorf("%s: %d charts, want at least %d", page, len(drawn), want)
	}
	for i, n := range drawn {
		if n == 0 {
			t.Errorf("%s: chart %d not drawn", page, i)
		}
	}
	for _, e := range b.failures() {
		t.Errorf("%s: %s", page, e)
	}
}

func TestPortalInBrowser(t *testing.T) {
	ts := portalServer(t)
	b := newTab(t)

	// Home: charts drawn, no console error, no CSP violation; the
	// policy is in force.
	b.do(t, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#andamento canvas")))
	if h := b.text(t, "h1"); h != "Il lavoro in Lombardia" {
		t.Errorf("home h1 = %q", h)
	}
	checkCharts(t, b, "home", 2)
	if csp := get(t, ts, "/").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("the home page has no Content-Security-Policy: %q", csp)
	}

	// A chart's tooltip, drawn as DOM nodes styled through the CSSOM,
	// breaks no rule of the policy.
	rect := eval[[]float64](t, b, `(function () {
  var el = document.querySelector('#andamento'); el.scrollIntoView({block: 'center', behavior: 'instant'});
  var r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];
})()`)
	b.do(t, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, rect[0]-10, rect[1]), chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, rect[0], rect[1]))
	b.do(t, chromedp.WaitVisible(chromedp.CSS("#andamento .oml-tip-head")))
	if tip := b.text(t, "#andamento .oml-tip-head"); tip == "" {
		t.Error("the tooltip has no heading")
	}
	for _, e := range b.failures() {
		t.Errorf("home, tooltip: %s", e)
	}

	// The control: markup the policy refuses is reported, so the check
	// above can fail.
	eval[bool](t, b, `document.body.insertAdjacentHTML('beforeend', '<div style="color: red">x</div>'); true`)
	time.Sleep(200 * time.Millisecond)
	if fs := b.failures(); !slices.ContainsFunc(fs, func(f string) bool { return strings.Contains(f, "CSP violation: style-src") }) {
		t.Errorf("an inline style attribute was not reported as a CSP violation: %q", fs)
	}

	// A click on Bergamo in the map leads to its page, with its charts.
	b.do(t, chromedp.Click(chromedp.CSS(`svg.oml-map a[href="/territorio/016"] path`)),
		chromedp.WaitVisible(chromedp.CSS("#per-genere canvas")))
	if loc, h := b.location(t), b.text(t, "h1"); !strings.HasSuffix(loc, "/territorio/016") || h != "Bergamo" {
		t.Errorf("after the click on Bergamo: %s, h1 %q", loc, h)
	}
	checkCharts(t, b, "Bergamo", 6)

	// Comparison: Bergamo against the region.
	b.do(t, chromedp.Navigate(ts.URL+"/confronta?territory=016"), chromedp.WaitVisible(chromedp.CSS("#confronto canvas")))
	checkCharts(t, b, "confronta", 1)

	// Query builder: hires of Bergamo and Brescia by gender, yearly; the
	// CSV downloaded from the page holds the API's numbers.
	dl := t.TempDir()
	evctx, cancelEv := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancelEv()
	progress := chromedp.Events(evctx, browser.DownloadProgress)
	b.do(t,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dl, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Navigate(ts.URL+"/dati"),
		chromedp.WaitVisible(chromedp.CSS("#query-form")),
	)
	eval[bool](t, b, `document.querySelector('#q-indicator').value = 'attivazioni';
document.querySelector('#q-freq').value = 'Y';
document.querySelector('#q-from').value = '';
Array.from(document.querySelectorAll('#q-territory option')).forEach(function (o) { o.selected = (o.value === '016' || o.value === '017'); });
true`)
	b.do(t,
		chromedp.Click(chromedp.CSS(`#query-form input[name="by"][value="genere"]`)),
		chromedp.Click(chromedp.CSS(`#query-form button[type="submit"]`)),
	)
	// The form's page has a preview too: wait for the new address.
	for i := 0; !strings.Contains(b.location(t), "by=genere"); i++ {
		if i == 100 {
			t.Fatalf("the query builder did not submit: still at %s", b.location(t))
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.do(t, chromedp.WaitVisible(chromedp.CSS("#preview-h")))
	if n := eval[int](t, b, `document.querySelectorAll('#preview-h ~ div table tbody tr').length`); n == 0 {
		t.Fatalf("query builder: empty preview at %s", b.location(t))
	}
	for _, e := range b.failures() {
		t.Errorf("query builder: %s", e)
	}
	csvURL := eval[string](t, b, `document.querySelector('#query-downloads a').getAttribute('href')`)
	b.do(t, chromedp.Click(chromedp.CSS(`#query-downloads a`)))
	guid := ""
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the CSV of %s was not downloaded: %v", csvURL, err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	got := readCSV(t, filepath.Join(dl, guid))
	want := apiValues(t, ts.URL+strings.Replace(csvURL, "format=csv", "format=json", 1))
	if len(got) == 0 || len(got) != len(want) {
		t.Fatalf("CSV has %d values, the API %d (%s)", len(got), len(want), csvURL)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: CSV %q, API %q", k, g, v)
		}
	}
	if !strings.Contains(csvURL, "territory=016%2C017") || !strings.Contains(csvURL, "by=genere") || !strings.Contains(csvURL, "freq=Y") {
		t.Errorf("CSV link %s does not carry the query", csvURL)
	}
}

func ptr[T any](v T) *T { return &v }

func n(s string) int { v, _ := strconv.Atoi(s); return v }

// readCSV reads a downloaded CSV into values by territory, codes and
// period ("" for a withheld value).
func readCSV(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		k := r[col["territorio"]] + "|" + r[col["genere"]] + "|" + r[col["periodo"]]
		out[k] = r[col["valore"]]
	}
	return out
}

// apiValues reads the same query from the API as JSON, keyed as readCSV.
func apiValues(t *testing.T, u string) map[string]string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", u, resp.Status)
	}
	var body struct {
		Observations []struct {
			Territory string            `json:"territory"`
			Period    string            `json:"period"`
			Codes     map[string]string `json:"dims"`
			Value     *float64          `json:"value"`
		} `json:"observations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range body.Observations {
		v := ""
		if o.Value != nil {
			v = strconv.FormatFloat(*o.Value, 'f', -1, 64)
			if *o.Value == math.Trunc(*o.Value) {
				v = strconv.FormatInt(int64(*o.Value), 10)
			}
		}
		out[o.Territory+"|"+o.Codes["genere"]+"|"+o.Period] = v
	}
	return out
}

// axePath is axe-core as npm installs it (make assets).
var axePath = filepath.Join("..", "..", "node_modules", "axe-core", "axe.min.js")

// The home page, a province, the comparison and the query builder have no
// serious or critical violation of WCAG 2.1 A and AA for axe-core.
func TestPortalAccessibility(t *testing.T) {
	ts := portalServer(t)
	b := newTab(t)
	for _, page := range []string{"/", "/territorio/016", "/confronta", "/dati", "/rapporti", "/rapporti/016.html", "/locale", "/rete", "/agenda"} {
		t.Run(strings.Trim(strings.ReplaceAll(page, "/", "_"), "_"), func(t *testing.T) {
			b.do(t, chromedp.Navigate(ts.URL+page), chromedp.WaitReady(chromedp.CSS("body")))
			checkAxe(t, b, page)
		})
	}
}

// checkAxe runs axe-core on the page open in b: no serious or critical
// violation of WCAG 2.1 A and AA, and no console error or CSP violation.
func checkAxe(t *testing.T, b *tab, page string) {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core: %v (make assets installs it)", err)
	}
	type violation struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	}
	// The first entry counts the rules that passed: axe must have run.
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(function (r) {
  return [{id: 'passes', impact: '', help: String(r.passes.length), nodes: []}].concat(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact || '', help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); })};
  }));
})`
	eval[bool](t, b, string(src)+";true")
	vs := eval[[]violation](t, b, run)
	if n, _ := strconv.Atoi(vs[0].Help); n < 10 {
		t.Fatalf("%s: axe-core passed only %d rules: it did not run on the page", page, n)
	}
	t.Logf("%s: axe-core: %d rules passed, %d violated", page, n(vs[0].Help), len(vs)-1)
	for _, v := range vs[1:] {
		msg := fmt.Sprintf("%s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	for _, e := range b.failures() {
		t.Errorf("%s: %s", page, e)
	}
}

// TestPortalScreenshots saves the screenshots of the user guide when
// OML_SCREENSHOTS names a directory:
//
//	OML_PORTAL_DATA=oml-data OML_SCREENSHOTS=docs/img go test ./internal/web -run Screenshots
func TestPortalScreenshots(t *testing.T) {
	dir := os.Getenv("OML_SCREENSHOTS")
	if dir == "" {
		t.Skip("OML_SCREENSHOTS not set")
	}
	ts := portalServer(t)
	b := newTab(t)
	// scroll names the element brought to the top before the shot ("" for
	// the top of the page).
	for _, p := range []struct{ name, path, wait, scroll string }{
		{"home", "/", "#andamento canvas", ""},
		{"provincia", "/territorio/016", "#per-genere canvas", "#map-h"},
		{"confronta", "/confronta?territory=016,017&measure=indice", "#confronto canvas", "#confronto"},
		{"dati", "/dati?indicator=saldo&territory=016,017&by=genere&freq=Y", "#preview-h", "#api-h"},
	} {
		for _, v := range []struct {
			name          string
			width, height int64
			mobile        bool
		}{{"desktop", 1280, 900, false}, {"mobile", 390, 844, true}} {
			emulate := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if v.mobile {
				emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			b.do(t, chromedp.EmulateViewport(v.width, v.height, emulate...),
				chromedp.Navigate(ts.URL+p.path),
				chromedp.WaitVisible(chromedp.CSS(p.wait)))
			if p.scroll != "" && !v.mobile {
				eval[bool](t, b, `document.querySelector('`+p.scroll+`').scrollIntoView(); true`)
			}
			b.do(t, chromedp.Sleep(300*time.Millisecond))
			png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, p.name+"-"+v.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
