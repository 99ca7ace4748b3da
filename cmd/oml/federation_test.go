package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/release"
)

// buildBinary builds the oml binary once for the tests that run real
// processes.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "oml")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc runs the binary and returns its output and exit code.
func proc(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

// startHub runs `oml serve` on a free loopback port and returns its base
// URL; the process is stopped at the end of the test.
func startHub(t *testing.T, bin, data string) (string, *exec.Cmd) {
	t.Helper()
	return startServe(t, bin, data, `federation hub at (http://[0-9.:]+)/federation/v1/`)
}

// startServe runs `oml serve` on a free loopback port and returns the base
// URL its output announces in the first group of pattern.
func startServe(t *testing.T, bin, data, pattern string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	addr := regexp.MustCompile(pattern)
	deadline := time.Now().Add(30 * time.Second)
	for sc.Scan() && time.Now().Before(deadline) {
		if m := addr.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1], cmd
		}
	}
	t.Fatalf("oml serve did not announce %s", pattern)
	return "", nil
}

type syncReport struct {
	Releases []string
	UpToDate []string `json:"up_to_date"`
	Bytes    int64
	Reused   int `json:"files_reused"`
	Files    int
	Extract  bool  `json:"extract_update"`
	Comms    int64 `json:"communications"`
}

func syncNode(t *testing.T, bin, node string) (syncReport, string, int) {
	t.Helper()
	stdout, stderr, code := proc(t, bin, "sync", "--data", node, "--json")
	var rep syncReport
	if code == 0 {
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("sync --json: %v: %s", err, stdout)
		}
	}
	return rep, stderr, code
}

// TestFederation runs one hub and three nodes as separate processes over
// loopback HTTP: the nodes sync, resume an interrupted download, verify
// byte-identical results; a node cannot read another territory; expired,
// replayed and clock-skewed requests, a tampered bundle and an offline hub
// are refused with clear errors and lose nothing.
func TestFederation(t *testing.T) {
	bin := buildBinary(t)
	hub, _, _ := synthIngest(t, "canonical", "co_*.csv", "--scale", "0.003", "--from", "2023-01", "--to", "2024-06", "--seed", "5")
	if _, stderr, code := run(t, "release", "--data", hub); code != 0 {
		t.Fatalf("release: %s", stderr)
	}
	tokens := map[string]string{}
	for _, terr := range []string{"016", "017", "097"} {
		stdout, stderr, code := run(t, "token", "create", "--data", hub, "--role", "node:"+terr, "--expires", "3650d")
		if code != 0 {
			t.Fatalf("token create: %s", stderr)
		}
		tokens[terr] = strings.TrimSpace(stdout)
	}
	expired, _, _ := run(t, "token", "create", "--data", hub, "--role", "node:016", "--expires", "1h") // an hour after 2025-03-10
	base, hubCmd := startHub(t, bin, hub)

	nodes := map[string]string{}
	for terr, tok := range tokens {
		nodes[terr] = filepath.Join(t.TempDir(), "node-"+terr)
		if stdout, stderr, code := proc(t, bin, "node", "init", "--data", nodes[terr], "--hub", base, "--territory", terr, "--token", tok); code != 0 {
			t.Fatalf("node init %s: exit %d: %s%s", terr, code, stdout, stderr)
		}
		if fi, err := os.Stat(filepath.Join(nodes[terr], federation.NodeFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("node config: %v %v", err, fi)
		}
	}
	if _, stderr, code := proc(t, bin, "node", "init", "--data", t.TempDir(), "--hub", base, "--territory", "016", "--token", strings.TrimSpace(expired)); code == 0 || !strings.Contains(stderr, "scaduto") {
		t.Errorf("expired token: exit %d: %s", code, stderr)
	}
	if _, stderr, code := proc(t, bin, "node", "init", "--data", t.TempDir(), "--hub", base, "--territory", "017", "--token", tokens["016"]); code == 0 || !strings.Contains(stderr, "016") {
		t.Errorf("token of another territory: exit %d: %s", code, stderr)
	}

	// An interrupted download of node 097: half of a cells file is there.
	ids, _ := release.List(hub)
	id := ids[0].ID
	cell := filepath.Join("cells", "workplace-full-M.parquet")
	whole, err := os.ReadFile(filepath.Join(hub, "releases", id, cell))
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(nodes["097"], "federation", "incoming", id, cell+".part")
	os.MkdirAll(filepath.Dir(part), 0o700)
	os.WriteFile(part, whole[:len(whole)/2], 0o600)

	for terr, node := range nodes {
		rep, stderr, code := syncNode(t, bin, node)
		if code != 0 || len(rep.Releases) != 1 || !rep.Extract || rep.Comms == 0 {
			t.Fatalf("sync %s: exit %d %+v %s", terr, code, rep, stderr)
		}
		if terr == "097" {
			var total int64
			for _, f := range manifestOf(t, hub, id).Files {
				total += f.Bytes
			}
			if rep.Bytes >= total {
				t.Errorf("097 fetched %d bytes of %d: the half file was not resumed", rep.Bytes, total)
			}
		}
		if err := release.Verify(node, id); err != nil {
			t.Errorf("%s: synced release does not verify: %v", terr, err)
		}
		stdout, stderr, code := proc(t, bin, "verify", "--data", node, "--json")
		var v federation.VerifyReport
		json.Unmarshal([]byte(stdout), &v)
		if code != 0 || !v.Identical || v.Cells == 0 || v.Territory != terr {
			t.Errorf("verify %s: exit %d %+v %s", terr, code, v, stderr)
		}
	}

	// A second sync moves nothing; a new release of the same data moves
	// only its manifest: the cells files are reused.
	if rep, stderr, code := syncNode(t, bin, nodes["016"]); code != 0 || len(rep.Releases) != 0 || rep.Files != 0 || rep.Extract {
		t.Errorf("second sync: exit %d %+v %s", code, rep, stderr)
	}
	if _, stderr, code := run(t, "release", "--data", hub); code != 0 {
		t.Fatalf("second release: %s", stderr)
	}
	if rep, stderr, code := syncNode(t, bin, nodes["016"]); code != 0 || len(rep.Releases) != 1 || rep.Files != 0 || rep.Reused != len(manifestOf(t, hub, id).Files) {
		t.Errorf("sync of an unchanged release: exit %d %+v %s", code, rep, stderr)
	}

	// Node autonomy: node 016 defines a geography whose first area is the
	// comuni of one of its CPIs; the common indicators it computes there
	// from its own extract equal the hub's for that CPI. Its portal shows
	// them in the local section, with its local data set.
	lists, err := classif.Load()
	if err != nil {
		t.Fatal(err)
	}
	cpis := map[string][]string{}
	var cpiCodes []string
	for _, c := range lists.ComuniOf("016") {
		if len(cpis[c.CPI]) == 0 {
			cpiCodes = append(cpiCodes, c.CPI)
		}
		cpis[c.CPI] = append(cpis[c.CPI], c.Istat)
	}
	work := t.TempDir()
	table := "comune,area,nome_area\n"
	for i, code := range cpiCodes[:2] {
		for _, com := range cpis[code] {
			table += com + ",a" + strconv.Itoa(i) + ",Area " + strconv.Itoa(i) + "\n"
		}
	}
	os.WriteFile(filepath.Join(work, "aree.csv"), []byte(table), 0o644)
	os.WriteFile(filepath.Join(work, "fuori.csv"), []byte("comune,area,nome_area\n017029,x,Brescia\n"), 0o644)
	if _, stderr, code := proc(t, bin, "local", "--data", nodes["016"], "geography", "--name", "aree", "--title", "Aree di prova", "--source", "test", "--licence", "CC0", filepath.Join(work, "fuori.csv")); code != 1 || !strings.Contains(stderr, "non è nel territorio 016") {
		t.Errorf("a comune of another province: exit %d %s", code, stderr)
	}
	if stdout, stderr, code := proc(t, bin, "local", "--data", nodes["016"], "geography", "--name", "aree", "--title", "Aree di prova", "--source", "test", "--licence", "CC0", filepath.Join(work, "aree.csv")); code != 0 || !strings.Contains(stdout, "valori calcolati") {
		t.Fatalf("local geography: exit %d %s%s", code, stdout, stderr)
	}
	hubCSV := httpGet(t, base+"/api/v1/data?indicator=attivazioni&freq=Y&format=csv&territory=cpi:"+cpiCodes[0])
	nodeCSV, err := os.ReadFile(filepath.Join(nodes["016"], "locale", "geografie", "aree", "indicatori.csv"))
	if err != nil {
		t.Fatal(err)
	}
	nodeVals := map[string]string{}
	for _, line := range strings.Split(string(nodeCSV), "\n") {
		if f := strings.Split(line, ","); len(f) == 11 && f[0] == "attivazioni" && f[1] == "workplace" && f[2] == "full" && f[3] == "Y" && f[5] == "a0" && f[7] == "" {
			nodeVals[f[4]] = f[9]
		}
	}
	compared := 0
	for _, line := range strings.Split(hubCSV, "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) < 5 || f[3] == "" || nodeVals[f[2]] == "" {
			continue
		}
		if nodeVals[f[2]] != f[3] {
			t.Errorf("hires %s in the area of CPI %s: node %s, hub %s", f[2], cpiCodes[0], nodeVals[f[2]], f[3])
		}
		compared++
	}
	if compared == 0 {
		t.Errorf("no yearly value to compare: hub %s node %v", hubCSV, nodeVals)
	}
	os.WriteFile(filepath.Join(work, "imprese.csv"), []byte("comune,imprese\n016024,2\n016030,12\n"), 0o644)
	os.WriteFile(filepath.Join(work, "imprese.json"), []byte(`{"title":"Imprese artigiane","source":"CCIAA","licence":"CC-BY 4.0","dimensions":["comune"],"counts":["imprese"]}`), 0o644)
	if _, stderr, code := proc(t, bin, "local", "--data", nodes["016"], "add", "--name", "imprese", filepath.Join(work, "imprese.csv")); code != 0 {
		t.Fatalf("local add: %s", stderr)
	}
	nodeBase, _ := startServe(t, bin, nodes["016"], `portal at (http://[0-9.:]+)/ `)
	for path, want := range map[string][]string{
		"/locale":                               {"Osservatorio della provincia di Bergamo", "Aree di prova", "Imprese artigiane", "non fanno parte delle statistiche comuni"},
		"/locale/geografie/aree":                {"Geografia locale", "Area 0 (", "Area 1 (", "<svg"},
		"/locale/dati/imprese/dati.csv":         {"016024,c", "016030,12"},
		"/locale/geografie/aree/indicatori.csv": {"indicatore,perimetro"},
	} {
		page := httpGet(t, nodeBase+path)
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}

	// Contributions: node 016 sends an analysis, a data set with small
	// counts and its chapter's introduction; the hub reviews them; the
	// approved ones appear on the hub's portal, marked as local.
	files := map[string]string{
		"analisi.md":  "# Il distretto del legno\n\nLe attivazioni nel distretto crescono.<script>alert(1)</script>\n\n```grafico\ntitolo: Attivazioni annuali\n/api/v1/data?indicator=attivazioni&territory=016&freq=Y\n```\n",
		"dati.csv":    "comune,settore,addetti\n016024,legno,2\n016024,metalli,40\n",
		"dati.json":   `{"title":"Addetti per distretto","source":"Osservatorio di Bergamo","licence":"CC-BY 4.0","dimensions":["comune","settore"],"counts":["addetti"]}`,
		"intro.txt":   "Il capitolo di Bergamo è curato dall'osservatorio provinciale.",
		"respinto.md": "# Bozza\n\nDa rivedere.\n",
	}
	for name, text := range files {
		os.WriteFile(filepath.Join(work, name), []byte(text), 0o644)
	}
	for _, name := range []string{"analisi.md", "dati.csv", "intro.txt", "respinto.md"} {
		if stdout, stderr, code := proc(t, bin, "contribute", "--data", nodes["016"], filepath.Join(work, name)); code != 0 || !strings.Contains(stdout, "in revisione") {
			t.Fatalf("contribute %s: exit %d: %s%s", name, code, stdout, stderr)
		}
	}
	if _, stderr, code := proc(t, bin, "contribute", "--data", nodes["017"], "--kind", "dati", "--metadata", filepath.Join(work, "dati.json"), filepath.Join(work, "analisi.md")); code == 0 {
		t.Errorf("a CSV that is not one was accepted: %s", stderr)
	}
	var pending []federation.Contribution
	stdout, _, _ := run(t, "contributions", "--data", hub, "list", "--status", federation.StatusPending, "--json")
	json.Unmarshal([]byte(stdout), &pending)
	if len(pending) != 4 {
		t.Fatalf("%d pending contributions: %s", len(pending), stdout)
	}
	cids := map[string]string{}
	for _, c := range pending {
		cids[c.File] = c.ID
		if c.Territory != "016" || !strings.Contains(c.Author, "node:016") {
			t.Errorf("contribution %s by %s of %s", c.ID, c.Author, c.Territory)
		}
	}
	if page := httpGet(t, base+"/contributi"); strings.Contains(page, "Il distretto del legno") {
		t.Error("a contribution is on the portal before review")
	}
	for _, f := range []string{"analisi.md", "dati.csv", "intro.txt"} {
		if stdout, stderr, code := run(t, "contributions", "--data", hub, "approve", cids[f]); code != 0 {
			t.Fatalf("approve %s: %s%s", f, stdout, stderr)
		}
	}
	if _, _, code := run(t, "contributions", "--data", hub, "reject", cids["respinto.md"]); code != exitUsage {
		t.Errorf("reject without a reason: exit %d", code)
	}
	run(t, "contributions", "--data", hub, "reject", cids["respinto.md"], "--reason", "incompleto")
	if _, stderr, code := run(t, "contributions", "--data", hub, "approve", cids["respinto.md"]); code != 1 || !strings.Contains(stderr, "già") {
		t.Errorf("approving a rejected contribution: exit %d %s", code, stderr)
	}
	list := httpGet(t, base+"/contributi")
	if !strings.Contains(list, "Il distretto del legno") || !strings.Contains(list, "Osservatorio della provincia di Bergamo") || strings.Contains(list, "Bozza") {
		t.Errorf("contributions page:\n%s", list)
	}
	analysis := httpGet(t, base+"/contributi/"+cids["analisi.md"])
	if !strings.Contains(analysis, "<h1>Il distretto del legno</h1>") && !strings.Contains(analysis, "Il distretto del legno</h1>") || strings.Contains(analysis, "<script>alert") || !strings.Contains(analysis, "Contributo locale") {
		t.Errorf("analysis page: script escaped %v, local mark %v", !strings.Contains(analysis, "<script>alert"), strings.Contains(analysis, "Contributo locale"))
	}
	if !strings.Contains(analysis, "<svg") || !strings.Contains(analysis, "Attivazioni annuali") {
		t.Error("the analysis's chart is not drawn from its API query")
	}
	os.WriteFile(filepath.Join(work, "rotto.md"), []byte("# Rotto\n\n```grafico\ntipo: torta\nindicator=saldo\n```\n"), 0o644)
	if _, stderr, code := proc(t, bin, "contribute", "--data", nodes["016"], filepath.Join(work, "rotto.md")); code == 0 || !strings.Contains(stderr, "grafico 1") {
		t.Errorf("an analysis with a malformed chart: exit %d %s", code, stderr)
	}
	csvOut := httpGet(t, base+"/contributi/"+cids["dati.csv"]+"/dati.csv")
	if !strings.Contains(csvOut, "016024,legno,c") || !strings.Contains(csvOut, "016024,metalli,40") {
		t.Errorf("published data set without disclosure control:\n%s", csvOut)
	}
	if intros, _ := os.ReadFile(filepath.Join(hub, "rapporti", "introduzioni", "016", "0001.txt")); !strings.Contains(string(intros), "curato dall'osservatorio provinciale") {
		t.Errorf("approved introduction not stored for the report: %q", intros)
	}
	if rep := httpGet(t, base+"/rapporti/016.html"); !strings.Contains(rep, "curato dall&#39;osservatorio provinciale") {
		t.Error("the report does not show the approved introduction")
	}

	// Hierarchy: the regional hub joins a national hub as member ITC4 and
	// sends its latest release, aggregates only; the national hub verifies
	// and publishes it on its network page, and refuses the member any
	// microdata.
	nat := t.TempDir()
	natToken, stderr, code := run(t, "token", "create", "--data", nat, "--role", "node:ITC4", "--expires", "3650d")
	if code != 0 {
		t.Fatalf("national token: %s", stderr)
	}
	natBase, _ := startHub(t, bin, nat)
	if stdout, stderr, code := proc(t, bin, "upstream", "--data", hub, "init", "--hub", natBase, "--token", strings.TrimSpace(natToken)); code != 0 || !strings.Contains(stdout, "membro ITC4") {
		t.Fatalf("upstream init: exit %d %s%s", code, stdout, stderr)
	}
	latest, _ := release.List(hub)
	// A release under embargo stays home.
	if _, stderr, code := proc(t, bin, "agenda", "add", "--data", hub, "--date", "2099-01-01", "--title", "Rilascio sotto embargo",
		"--release", latest[0].ID, "--embargo", "2099-01-01 10:00"); code != 0 {
		t.Fatalf("agenda add: %s", stderr)
	}
	if _, stderr, code := proc(t, bin, "upstream", "--data", hub, "push", "--release", latest[0].ID); code == 0 || !strings.Contains(stderr, "embargo") {
		t.Errorf("push of a release under embargo: exit %d %s", code, stderr)
	}
	agenda, _, _ := proc(t, bin, "agenda", "list", "--data", hub, "--json")
	var entries []struct{ ID int64 }
	if err := json.Unmarshal([]byte(agenda), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("agenda list: %v %s", err, agenda)
	}
	if _, stderr, code := proc(t, bin, "agenda", "remove", "--data", hub, strconv.FormatInt(entries[0].ID, 10)); code != 0 {
		t.Fatalf("agenda remove: %s", stderr)
	}
	var push federation.PushReport
	stdout, stderr, code = proc(t, bin, "upstream", "--data", hub, "push", "--json")
	if json.Unmarshal([]byte(stdout), &push); code != 0 || push.Release != latest[0].ID || push.Files != len(manifestOf(t, hub, latest[0].ID).Files)+3 || push.Info.ID != latest[0].ID {
		t.Fatalf("upstream push: exit %d %+v %s", code, push, stderr)
	}
	if stdout, _, code := proc(t, bin, "upstream", "--data", hub, "push"); code != 0 || !strings.Contains(stdout, "già") {
		t.Errorf("second push: exit %d %s", code, stdout)
	}
	if page := httpGet(t, natBase+"/rete"); !strings.Contains(page, "Lombardia") || !strings.Contains(page, latest[0].ID) {
		t.Errorf("network page lacks the member's release:\n%s", page)
	}
	if got, want := httpGet(t, natBase+"/rete/ITC4/"+latest[0].ID+"/manifest.json"), readFile(t, filepath.Join(hub, "releases", latest[0].ID, release.ManifestFile)); got != want {
		t.Error("the national hub serves another manifest than the member's")
	}
	if err := release.Verify(filepath.Join(nat, "federation", "network", "ITC4"), latest[0].ID); err != nil {
		t.Errorf("member release on the national hub: %v", err)
	}
	natCred, err := federation.ParseToken(strings.TrimSpace(natToken))
	if err != nil {
		t.Fatal(err)
	}
	natReq, _ := http.NewRequest(http.MethodGet, natBase+"/federation/v1/extracts/ITC4", nil)
	natCred.Sign(natReq, nil, time.Now())
	if resp, err := http.DefaultClient.Do(natReq); err != nil || resp.StatusCode != 403 {
		t.Errorf("a member asked for microdata: %v %v", err, resp)
	}

	// Node 016 cannot read 017's extract; requests are signed once.
	cred, err := federation.ParseToken(tokens["016"])
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, at time.Time, reuse *http.Request) (*http.Request, int, string) {
		req := reuse
		if req == nil {
			req, _ = http.NewRequest(http.MethodGet, base+"/federation/v1"+path, nil)
			cred.Sign(req, nil, at)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return req, resp.StatusCode, string(b)
	}
	if _, status, body := get("/extracts/017", time.Now(), nil); status != 403 || !strings.Contains(body, "forbidden") {
		t.Errorf("another territory's extract: %d %s", status, body)
	}
	if _, status, _ := get("/extracts/017/communications.parquet", time.Now(), nil); status != 403 {
		t.Errorf("another territory's extract file: %d", status)
	}
	req, status, _ := get("/releases", time.Now(), nil)
	if status != 200 {
		t.Fatalf("releases: %d", status)
	}
	if _, status, body := get("", time.Time{}, req); status != 401 || !strings.Contains(body, "ripetuta") {
		t.Errorf("replayed request: %d %s", status, body)
	}
	if _, status, body := get("/releases", time.Now().Add(time.Hour), nil); status != 401 || !strings.Contains(body, "orologio") {
		t.Errorf("clock an hour ahead: %d %s", status, body)
	}
	if resp, err := http.Get(base + "/federation/v1/releases"); err != nil || resp.StatusCode != 401 {
		t.Errorf("unsigned request: %v %v", err, resp)
	}

	// A tampered bundle: a cells file of a new release altered on the hub.
	if _, stderr, code := run(t, "release", "--data", hub); code != 0 {
		t.Fatalf("third release: %s", stderr)
	}
	ids, _ = release.List(hub)
	bad := ids[0].ID
	f := filepath.Join(hub, "releases", bad, "cells", "residence-core-Y.parquet")
	os.Chmod(f, 0o644)
	b, _ := os.ReadFile(f)
	b[len(b)/2] ^= 0xff
	os.WriteFile(f, b, 0o644)
	// A node that already holds the file (from an earlier release, by its
	// sha256) never fetches it; a new node downloads and refuses the
	// altered bytes, and installs nothing of that release.
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, stderr, code := proc(t, bin, "node", "init", "--data", fresh, "--hub", base, "--territory", "016", "--token", tokens["016"]); code != 0 {
		t.Fatalf("node init: %s", stderr)
	}
	if _, stderr, code := syncNode(t, bin, fresh); code != 1 || !strings.Contains(stderr, "sha256") {
		t.Errorf("tampered bundle: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(fresh, "releases", bad)); err == nil {
		t.Errorf("the tampered release %s was installed", bad)
	}
	// A manifest altered on the hub fails its signature.
	mf := filepath.Join(hub, "releases", bad, release.ManifestFile)
	os.Chmod(mf, 0o644)
	mb, _ := os.ReadFile(mf)
	os.WriteFile(mf, bytes.Replace(mb, []byte(`"events"`), []byte(`"eventz"`), 1), 0o644)
	if _, stderr, code := syncNode(t, bin, nodes["017"]); code != 1 || !strings.Contains(stderr, "firma") {
		t.Errorf("tampered manifest: exit %d: %s", code, stderr)
	}

	// The hub goes offline: a clear error, and the node keeps its data.
	hubCmd.Process.Kill()
	hubCmd.Wait()
	if _, stderr, code := syncNode(t, bin, nodes["097"]); code != 1 || !strings.Contains(stderr, "non raggiungibile") {
		t.Errorf("hub offline: exit %d: %s", code, stderr)
	}
	if _, stderr, code := proc(t, bin, "verify", "--data", nodes["097"]); code != 0 {
		t.Errorf("verify after a failed sync: exit %d: %s", code, stderr)
	}
}

func manifestOf(t *testing.T, data, id string) release.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "releases", id, release.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m release.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// httpGet returns the body of a 200 response.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
