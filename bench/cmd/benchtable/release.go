package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// releaseTarget is the stated target for `oml release` at scale 1.
const releaseTarget = 60 * time.Second

// peerReleaseSQL is the release peer's work: the simplest aggregation
// comparable to the cube, events by province of the workplace, month and
// type, over the same current events oml reads.
const peerReleaseSQL = `SELECT prov_lavoro, date_trunc('month', data) AS mese, tipo, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL`

// releaseBench measures `oml release` on the data bank omlData against
// DuckDB alone (duckload -query) and prints their table. It returns the id
// of the release published.
func releaseBench(heading string, scale float64, omlBin, peer, omlData, dir string) string {
	p := measure(exec.Command(peer, "-db", filepath.Join(omlData, "oml.duckdb"), "-query", peerReleaseSQL, "-out", filepath.Join(dir, "peer.parquet")))
	peerRows, err := strconv.ParseInt(strings.TrimSpace(string(p.stdout)), 10, 64)
	check(err)
	os.Remove(filepath.Join(dir, "peer.parquet"))

	rel := measure(exec.Command(omlBin, "release", "--data", omlData, "--json"))
	var out struct {
		Release        string `json:"release"`
		ManifestSHA256 string `json:"manifest_sha256"`
	}
	check(json.Unmarshal(rel.stdout, &out))
	if out.Release == "" {
		check(fmt.Errorf("oml release --json printed no release id: %s", rel.stdout))
	}
	cells, files, size := manifestTotals(filepath.Join(omlData, "releases", out.Release, "manifest.json"))

	fmt.Printf("\n## Release benchmark (%s)\n\n", heading)
	fmt.Println("| step | wall time (s) | rows written | peak RSS (MiB) | ratio to DuckDB alone |")
	fmt.Println("|---|---:|---:|---:|---:|")
	fmt.Printf("| DuckDB alone: `COPY (SELECT province, month, type, count(*) FROM events GROUP BY ALL) TO 'x.parquet'` | %.1f | %d | %.0f | 1.00 |\n",
		p.wall.Seconds(), peerRows, float64(p.maxRSS)/(1<<20))
	fmt.Printf("| `oml release` (indicator cube, disclosure control, signed Parquet) | %.1f | %d | %.0f | %.1f |\n",
		rel.wall.Seconds(), cells, float64(rel.maxRSS)/(1<<20), rel.wall.Seconds()/p.wall.Seconds())
	fmt.Printf("\nrelease %s: %d cells in %d Parquet files, %.1f MiB\n", out.Release, cells, files, float64(size)/(1<<20))
	verdict := "met"
	if rel.wall > releaseTarget {
		verdict = "**not met**"
	}
	fmt.Printf("\n**Target:** release under %.0f s at scale 1 — %s here (%.1f s", releaseTarget.Seconds(), verdict, rel.wall.Seconds())
	if scale != 1 {
		fmt.Printf(" at scale %g, so not the target's conditions", scale)
	}
	fmt.Println(").")
	return out.Release
}

// manifestTotals returns the cells (rows of the Parquet files), the number
// of Parquet files and their bytes listed in a release's manifest.
func manifestTotals(path string) (cells int64, files int, size int64) {
	b, err := os.ReadFile(path)
	check(err)
	var m struct {
		Files []struct {
			Path  string
			Bytes int64
			Rows  int64
		}
	}
	check(json.Unmarshal(b, &m))
	for _, f := range m.Files {
		if strings.HasSuffix(f.Path, ".parquet") {
			cells += f.Rows
			files++
			size += f.Bytes
		}
	}
	return cells, files, size
}
