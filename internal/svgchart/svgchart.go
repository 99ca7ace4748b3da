// Package svgchart draws the charts of the reports as SVG on the server:
// vector graphics that print sharp in a PDF and need no script. Bars and
// lines over categories (periods, codes), vertical or horizontal, with a
// zero line, a legend, axes labelled in Italian number format, and a
// <title> and <desc> for screen readers. A missing value (nil) is a gap.
package svgchart

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/regione-lombardia/oml/internal/itfmt"
)

// Kind is how a series is drawn.
type Kind int

const (
	Bar Kind = iota
	Line
)

// Series is one named set of values, one per category.
type Series struct {
	Name   string
	Kind   Kind
	Values []*float64 // nil: no value (withheld or unavailable)
}

// Chart is a chart to draw. Width and Height default to 640 × 320.
type Chart struct {
	Title      string
	Desc       string // what the chart shows, for screen readers
	Categories []string
	Series     []Series
	Horizontal bool // categories down the side, values across (bars only)
	Width      int
	Height     int
}

// Colours are those of the portal: blue, red, green, then more.
var Colours = []string{"#0066cc", "#cc334d", "#008055", "#a35e00", "#5c2d91", "#00838f", "#7a7a00", "#b0006e"}

// V returns a pointer to v, for literal values.
func V(v float64) *float64 { return &v }

// SVG draws the chart.
func (c Chart) SVG() string {
	w, h := float64(c.Width), float64(c.Height)
	if w == 0 {
		w = 640
	}
	if h == 0 {
		h = 320
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" font-family="Titillium Web, sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<title>%s</title><desc>%s</desc>`, esc(c.Title), esc(c.Desc))

	// Legend across the top.
	x := 8.0
	for i, s := range c.Series {
		col := Colours[i%len(Colours)]
		if s.Kind == Line {
			fmt.Fprintf(&b, `<line x1="%g" y1="12" x2="%g" y2="12" stroke="%s" stroke-width="2"/>`, x, x+14, col)
		} else {
			fmt.Fprintf(&b, `<rect x="%g" y="6" width="14" height="12" fill="%s"/>`, x, col)
		}
		fmt.Fprintf(&b, `<text x="%g" y="16">%s</text>`, x+18, esc(s.Name))
		x += 30 + 6*float64(len([]rune(s.Name)))
	}

	lo, hi := c.extent()
	ticks := niceTicks(lo, hi, 5)
	lo, hi = math.Min(lo, ticks[0]), math.Max(hi, ticks[len(ticks)-1])
	n := len(c.Categories)
	if n == 0 {
		b.WriteString(`</svg>`)
		return b.String()
	}
	if c.Horizontal {
		c.horizontal(&b, w, h, lo, hi, ticks)
	} else {
		c.vertical(&b, w, h, lo, hi, ticks)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func (c Chart) vertical(b *strings.Builder, w, h, lo, hi float64, ticks []float64) {
	left, right, top, bottom := 64.0, 12.0, 30.0, 36.0
	pw, ph := w-left-right, h-top-bottom
	y := func(v float64) float64 { return top + ph*(hi-v)/(hi-lo) }
	for _, t := range ticks {
		fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#e0e0e0"/>`, left, y(t), w-right, y(t))
		fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, left-6, y(t)+4, itfmt.Number(t, decimals(ticks)))
	}
	fmt.Fprintf(b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#5c6f82"/>`, left, y(0), w-right, y(0))
	n := len(c.Categories)
	slot := pw / float64(n)
	every := int(math.Ceil(float64(n) / 12))
	for i, cat := range c.Categories {
		if i%every == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, left+slot*(float64(i)+0.5), h-bottom+16, esc(cat))
		}
	}
	var bars []int
	for i, s := range c.Series {
		if s.Kind == Bar {
			bars = append(bars, i)
		}
	}
	bw := slot * 0.8 / math.Max(1, float64(len(bars)))
	for k, i := range bars {
		for j, v := range c.Series[i].Values {
			if v == nil {
				continue
			}
			x0 := left + slot*float64(j) + slot*0.1 + bw*float64(k)
			y0, y1 := y(math.Max(*v, 0)), y(math.Min(*v, 0))
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x0, y0, bw, math.Max(y1-y0, 0.5), Colours[i%len(Colours)], esc(c.Series[i].Name), esc(c.Categories[j]), itfmt.Number(*v, 0))
		}
	}
	for i, s := range c.Series {
		if s.Kind != Line {
			continue
		}
		col := Colours[i%len(Colours)]
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, col, strings.Join(pts, " "))
			}
			pts = pts[:0]
		}
		for j, v := range s.Values {
			if v == nil {
				flush()
				continue
			}
			px, py := left+slot*(float64(j)+0.5), y(*v)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			if n <= 24 {
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s, %s: %s</title></circle>`, px, py, col, esc(s.Name), esc(c.Categories[j]), itfmt.Number(*v, 0))
			}
		}
		flush()
	}
}

func (c Chart) horizontal(b *strings.Builder, w, h, lo, hi float64, ticks []float64) {
	// The left margin fits the longest label (cut at labelMax runes), at
	// about 5.6 px a rune of 11 px type, within 80 px and 45% of the width.
	longest := 0
	for _, cat := range c.Categories {
		longest = max(longest, len([]rune(truncate(cat, labelMax))))
	}
	left, right, top, bottom := math.Min(math.Max(80, 5.6*float64(longest)+12), 0.45*w), 16.0, 30.0, 24.0
	pw, ph := w-left-right, h-top-bottom
	x := func(v float64) float64 { return left + pw*(v-lo)/(hi-lo) }
	for _, t := range ticks {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#e0e0e0"/>`, x(t), top, x(t), h-bottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, x(t), h-bottom+14, itfmt.Number(t, decimals(ticks)))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#5c6f82"/>`, x(0), top, x(0), h-bottom)
	n := len(c.Categories)
	slot := ph / float64(n)
	bh := slot * 0.8 / math.Max(1, float64(len(c.Series)))
	for j, cat := range c.Categories {
		fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, left-6, top+slot*(float64(j)+0.5)+4, esc(truncate(cat, labelMax)))
	}
	for i, s := range c.Series {
		for j, v := range s.Values {
			if v == nil {
				continue
			}
			x0, x1 := x(math.Min(*v, 0)), x(math.Max(*v, 0))
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
				x0, top+slot*float64(j)+slot*0.1+bh*float64(i), math.Max(x1-x0, 0.5), bh, Colours[i%len(Colours)], esc(s.Name), esc(c.Categories[j]), itfmt.Number(*v, 0))
		}
	}
}

// extent is the range of the values, with 0 in it.
func (c Chart) extent() (lo, hi float64) {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if v != nil {
				lo, hi = math.Min(lo, *v), math.Max(hi, *v)
			}
		}
	}
	if lo == hi {
		hi = lo + 1
	}
	return lo, hi
}

// niceTicks returns about n round tick values covering [lo, hi]: steps of
// 1, 2 or 5 times a power of ten.
func niceTicks(lo, hi float64, n int) []float64 {
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	// Ticks are whole multiples of step, rounded to its decimals so that
	// 3 × 0.2 is 0.6.
	dec := max(0, int(math.Ceil(-math.Log10(step))))
	round := func(k float64) float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(k*step, 'f', dec, 64), 64)
		return v
	}
	var out []float64
	k := math.Floor(lo / step)
	for ; round(k) <= hi+step*1e-9; k++ {
		out = append(out, round(k))
	}
	if out[len(out)-1] < hi {
		out = append(out, round(k))
	}
	return out
}

// decimals is how many decimals the tick labels need.
func decimals(ticks []float64) int {
	if len(ticks) < 2 {
		return 0
	}
	step := ticks[1] - ticks[0]
	if step >= 1 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step)))
}

// labelMax is the longest category label of a horizontal chart, in runes;
// longer ones end with "…".
const labelMax = 42

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }
