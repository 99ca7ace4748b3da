package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/chromedp/chromedp"

	"github.com/regione-lombardia/oml"
)

// Chromium returns the path of a Chromium (or Chrome) on the machine, or
// an error saying how to install it.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", oml.Errorf(oml.EUNAVAILABLE, "Chromium non trovato: serve per il PDF / Chromium not found: the PDF needs it").
		WithHint("installarlo con `make chromium` (Debian: apt-get install chromium), oppure scegliere --format html o xlsx")
}

// footer is printed at the bottom of every page.
const footer = `<div style="font-size:8px;width:100%;padding:0 16mm;color:#3d4d5c;font-family:sans-serif;display:flex;justify-content:space-between">` +
	`<span class="title"></span><span>pagina <span class="pageNumber"></span> di <span class="totalPages"></span></span></div>`

// Printer prints reports to PDF in one headless Chromium, a new tab per
// report: starting the browser costs about a second, printing a chapter a
// fraction of it. It is not safe for concurrent use.
type Printer struct {
	dir     string
	cancels []context.CancelFunc
	browser context.Context
}

// NewPrinter starts Chromium; Close stops it. ctx bounds its whole life.
func NewPrinter(ctx context.Context) (*Printer, error) {
	exe, err := Chromium()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oml-report-")
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	p := &Printer{dir: dir, browser: bctx, cancels: []context.CancelFunc{cancelB, cancelA}}
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		p.Close()
		return nil, fmt.Errorf("report: chromium: %w", err)
	}
	return p, nil
}

// Close stops the browser and removes its profile.
func (p *Printer) Close() {
	for _, c := range p.cancels {
		c()
	}
	os.RemoveAll(p.dir)
}

// Print prints r on A4 paper, with the title and the page number at the
// foot of every page, and writes the PDF to w. The charts are SVG in the
// HTML: nothing is drawn by scripts.
func (p *Printer) Print(r *Report, w io.Writer) error {
	var html bytes.Buffer
	if err := r.HTML(&html); err != nil {
		return err
	}
	f, err := os.CreateTemp(p.dir, "rapporto-*.html")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(html.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	tab, cancel := chromedp.NewContext(p.browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate("file://"+f.Name())); err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	pdf, err := chromedp.Run(tab, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground(),
		chromedp.PDFHeaderTemplate("<div></div>"), chromedp.PDFFooterTemplate(footer), chromedp.PDFOutlineAndTagged(), chromedp.PDFStream()))
	if err != nil {
		return fmt.Errorf("report: pdf: %w", err)
	}
	_, err = w.Write(pdf)
	return err
}

// PDF prints the report in a Chromium of its own (see Printer).
func (r *Report) PDF(ctx context.Context, w io.Writer) error {
	p, err := NewPrinter(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Print(r, w)
}
