package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/regione-lombardia/oml/internal/release"
)

// syncTarget is the stated target for a full sync of the largest province.
const syncTarget = 30 * time.Second

// fedTerritory is the node measured: Milano, the largest province.
const fedTerritory = "015"

// fedBench measures a node's sync from a hub on loopback: a hub dir is made
// of hard links to hubData's data bank and keys and to one release (the
// one before the latest when there are two, else the latest); `oml serve`
// serves it; a new node of Milano runs `oml node init` and `oml sync`
// (every release file, verified, and the province's pseudonymised extract,
// cut by the hub on first request, checked and put in use in place); then the latest release
// is linked in (when there are two) and `oml sync` runs again (only the
// files that changed move). The peer downloads the same files from a
// stdlib file server with a stdlib client, with no signature, check or
// import. It returns false on failure.
func fedBench(heading, omlBin, hubData, dir string) bool {
	infos, err := release.List(hubData)
	check(err)
	if len(infos) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: federation: no release")
		return false
	}
	first, next := infos[0].ID, ""
	if len(infos) > 1 {
		first, next = infos[1].ID, infos[0].ID
	}
	hub := filepath.Join(dir, "fed-hub")
	os.RemoveAll(hub)
	check(linkTree(filepath.Join(hubData, "oml.duckdb"), filepath.Join(hub, "oml.duckdb")))
	check(linkTree(filepath.Join(hubData, "keys", "release.key"), filepath.Join(hub, "keys", "release.key")))
	check(linkTree(filepath.Join(hubData, "releases", first), filepath.Join(hub, "releases", first)))
	tok := measure(exec.Command(omlBin, "token", "create", "--data", hub, "--role", "node:"+fedTerritory, "--expires", "1d"))
	addr := freeAddr()
	srv, err := startServer(omlBin, "serve", "--data", hub, "--addr", addr)
	check(err)
	defer srv.stop()
	if _, err := srv.waitReady("/readyz", 2*time.Minute); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable: federation:", err)
		return false
	}
	node := filepath.Join(dir, "fed-node-"+fedTerritory)
	os.RemoveAll(node)
	run("node init", exec.Command(omlBin, "node", "init", "--data", node, "--hub", srv.base, "--territory", fedTerritory, "--token", strings.TrimSpace(string(tok.stdout))))

	type syncOut struct {
		Releases []string
		Bytes    int64
		Files    int
		Reused   int   `json:"files_reused"`
		Comms    int64 `json:"communications"`
	}
	doSync := func() (result, syncOut) {
		r := measure(exec.Command(omlBin, "sync", "--data", node, "--json"))
		var o syncOut
		check(json.Unmarshal(r.stdout, &o))
		return r, o
	}
	full, fo := doSync()

	// The peer: the same files over plain HTTP.
	var files []string
	man, err := os.ReadFile(filepath.Join(hub, "releases", first, release.ManifestFile))
	check(err)
	var m release.Manifest
	check(json.Unmarshal(man, &m))
	for _, f := range m.Files {
		files = append(files, "releases/"+first+"/"+f.Path)
	}
	for _, f := range []string{release.ManifestFile, release.SignatureFile, release.PublicKeyFile} {
		files = append(files, "releases/"+first+"/"+f)
	}
	exDirs, _ := filepath.Glob(filepath.Join(hub, "federation", "extracts", fedTerritory+"-*"))
	for _, d := range exDirs {
		names, _ := os.ReadDir(d)
		for _, n := range names {
			rel, _ := filepath.Rel(hub, filepath.Join(d, n.Name()))
			files = append(files, filepath.ToSlash(rel))
		}
	}
	peerWall, peerBytes := plainDownload(hub, files, filepath.Join(dir, "fed-peer"))

	var again result
	var ao syncOut
	if next != "" {
		check(linkTree(filepath.Join(hubData, "releases", next), filepath.Join(hub, "releases", next)))
		again, ao = doSync()
	}
	_, err = srv.stop()
	check(err)

	fmt.Printf("\n## Federation benchmark (%s)\n\n", heading)
	fmt.Printf("A new node of Milano (%s) syncs from a hub on loopback: release %s and the province's extract (%d communications).\n\n", fedTerritory, first, fo.Comms)
	fmt.Println("| step | wall time (s) | files | MiB moved | peak RSS (MiB) | ratio to peer |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	fmt.Printf("| plain HTTP: stdlib file server and client, the same files, no signature, check or import | %.2f | %d | %.1f | | 1.00 |\n",
		peerWall.Seconds(), len(files), float64(peerBytes)/(1<<20))
	fmt.Printf("| `oml sync`, new node: release %s verified + extract cut by the hub, fetched, verified, put in use | %.2f | %d | %.1f | %.0f | %.1f |\n",
		first, full.wall.Seconds(), fo.Files, float64(fo.Bytes)/(1<<20), float64(full.maxRSS)/(1<<20), full.wall.Seconds()/peerWall.Seconds())
	if next != "" {
		fmt.Printf("| `oml sync` after the new release %s (files reused from %s: %d) | %.1f | %d | %.1f | %.0f | |\n",
			next, first, ao.Reused, again.wall.Seconds(), ao.Files, float64(ao.Bytes)/(1<<20), float64(again.maxRSS)/(1<<20))
	}
	verdict := "met"
	if full.wall > syncTarget {
		verdict = "**not met**"
	}
	fmt.Printf("\n**Target:** full sync of Milano under %.0f s — %s here (%.1f s).\n", syncTarget.Seconds(), verdict, full.wall.Seconds())
	return true
}

// linkTree hard-links src (a file or a directory tree) to dst.
func linkTree(src, dst string) error {
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.Link(path, target)
	})
}

// plainDownload serves root with http.FileServer and fetches files one by
// one into out, returning the time and bytes.
func plainDownload(root string, files []string, out string) (time.Duration, int64) {
	addr := freeAddr()
	srv := &http.Server{Addr: addr, Handler: http.FileServer(http.Dir(root))}
	go srv.ListenAndServe()
	defer srv.Close()
	time.Sleep(100 * time.Millisecond)
	os.RemoveAll(out)
	start := time.Now()
	var total int64
	for _, f := range files {
		resp, err := http.Get("http://" + addr + "/" + f)
		check(err)
		dst := filepath.Join(out, filepath.FromSlash(f))
		check(os.MkdirAll(filepath.Dir(dst), 0o755))
		w, err := os.Create(dst)
		check(err)
		n, err := io.Copy(w, resp.Body)
		check(err)
		resp.Body.Close()
		check(w.Close())
		total += n
	}
	wall := time.Since(start)
	os.RemoveAll(out)
	return wall, total
}
