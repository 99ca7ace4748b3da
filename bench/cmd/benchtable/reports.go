package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/report"
)

// Targets for the 13 territorial reports (the region and 12 provinces).
const (
	reportsHTMLTarget = 10 * time.Second
	reportsPDFTarget  = 60 * time.Second
)

// reportTerritories are the 13 chapters of the regional report.
var reportTerritories = []string{"ITC4", "012", "013", "014", "015", "016", "017", "018", "019", "020", "097", "098", "108"}

// reportsBench measures `oml report --split` writing the 13 reports of
// release id as HTML and as PDF, each a process of its own that opens the
// release, against two peers in the same run: DuckDB alone reading the
// figures the reports show (the monthly cells of the 13 territories over
// the last 24 months, every breakdown) from the release's Parquet, and
// headless Chromium alone printing the 13 HTML files to PDF, one process
// each (`chromium --headless --print-to-pdf`). It returns false if a run
// fails or a file is missing.
func reportsBench(heading, omlBin, peer, omlData, id, dir string) bool {
	list, err := release.List(omlData)
	check(err)
	var first, last oml.Period
	for _, in := range list {
		if in.ID == id {
			first, err = oml.ParsePeriod(in.First)
			check(err)
			last, err = oml.ParsePeriod(in.Last)
			check(err)
		}
	}
	from := last.Add(-23)
	if from.Index() < first.Index() {
		from = first
	}

	out := filepath.Join(dir, "reports")
	os.RemoveAll(out)
	html := measure(exec.Command(omlBin, "report", "--data", omlData, "--release", id, "--split", "--format", "html", "--out", out))
	htmlFiles, _ := filepath.Glob(filepath.Join(out, "*.html"))
	pdf := measure(exec.Command(omlBin, "report", "--data", omlData, "--release", id, "--split", "--format", "pdf", "--out", out))
	pdfFiles, _ := filepath.Glob(filepath.Join(out, "*.pdf"))
	if len(htmlFiles) != len(reportTerritories) || len(pdfFiles) != len(reportTerritories) {
		fmt.Fprintf(os.Stderr, "benchtable: reports: %d HTML and %d PDF files, want %d each\n", len(htmlFiles), len(pdfFiles), len(reportTerritories))
		return false
	}

	quoted := make([]string, len(reportTerritories))
	for i, t := range reportTerritories {
		quoted[i] = "'" + t + "'"
	}
	sql := fmt.Sprintf(`SELECT territory, dims, codes, period, attivazioni, attivazioni_status, cessazioni, cessazioni_status, saldo, saldo_status, trasformazioni, trasformazioni_status
FROM read_parquet('%s') WHERE territory IN (%s) AND period >= '%s' ORDER BY ALL`,
		filepath.Join(omlData, "releases", id, "cells", "workplace-full-M.parquet"), strings.Join(quoted, ","), from)
	ph := measure(exec.Command(peer, "-db", "", "-query", sql, "-out", filepath.Join(dir, "peer-reports.parquet")))
	peerRows, err := strconv.ParseInt(strings.TrimSpace(string(ph.stdout)), 10, 64)
	check(err)

	chromium, _ := report.Chromium()
	var pp time.Duration
	if chromium != "" {
		start := time.Now()
		for _, f := range htmlFiles {
			// Chromium's own chatter (D-Bus, GPU) goes nowhere unless it fails.
			cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
				"--user-data-dir="+filepath.Join(dir, "chromium-profile"), "--print-to-pdf="+strings.TrimSuffix(f, ".html")+".peer.pdf", "file://"+f)
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "benchtable: chromium %s: %v\n%s", f, err, out)
				return false
			}
		}
		pp = time.Since(start)
	}

	var kib int64
	for _, f := range pdfFiles {
		if st, err := os.Stat(f); err == nil {
			kib += st.Size() >> 10
		}
	}
	fmt.Printf("\n## Reports benchmark (%s)\n\n", heading)
	fmt.Println("| step | wall time (s) | files | peak RSS (MiB) | ratio to peer |")
	fmt.Println("|---|---:|---:|---:|---:|")
	fmt.Printf("| DuckDB alone: the monthly cells of the 13 territories, last 24 months, every breakdown (%d rows) from the release's Parquet | %.2f | 1 | %.0f | 1.00 |\n",
		peerRows, ph.wall.Seconds(), float64(ph.maxRSS)/(1<<20))
	fmt.Printf("| `oml report --split --format html` (13 reports: open the release, every figure, commentary, SVG charts) | %.2f | %d | %.0f | %.1f |\n",
		html.wall.Seconds(), len(htmlFiles), float64(html.maxRSS)/(1<<20), html.wall.Seconds()/ph.wall.Seconds())
	if pp > 0 {
		fmt.Printf("| Chromium alone: `chromium --headless --print-to-pdf` of the 13 HTML files, one process each | %.2f | %d | | 1.00 |\n", pp.Seconds(), len(htmlFiles))
	}
	ratio := "–"
	if pp > 0 {
		ratio = fmt.Sprintf("%.2f", pdf.wall.Seconds()/pp.Seconds())
	}
	fmt.Printf("| `oml report --split --format pdf` (13 reports, the HTML printed in one Chromium, %d KiB in all) | %.2f | %d | %.0f | %s |\n",
		kib, pdf.wall.Seconds(), len(pdfFiles), float64(pdf.maxRSS)/(1<<20), ratio)
	fmt.Println("\npeak RSS of `oml report` is the Go process's (Chromium runs as its children).")
	for _, t := range []struct {
		what        string
		got, target time.Duration
	}{{"all 13 reports as HTML", html.wall, reportsHTMLTarget}, {"all 13 reports as PDF", pdf.wall, reportsPDFTarget}} {
		verdict := "met"
		if t.got > t.target {
			verdict = "**not met**"
		}
		fmt.Printf("\n**Target:** %s under %.0f s — %s here (%.1f s).\n", t.what, t.target.Seconds(), verdict, t.got.Seconds())
	}
	return true
}
