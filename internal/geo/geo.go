// Package geo draws the maps of the portal: the 12 provinces of Lombardy,
// and the comuni of one province, as SVG paths projected from ISTAT's
// generalised boundaries at 1 January 2025 (CC-BY 4.0), embedded in the
// binary (data/SOURCES.md).
//
// The projection is equirectangular around the middle latitude of the map
// (longitudes scaled by its cosine): at the size of a region its
// distortion is far below what a choropleth shows. Paths are simplified
// (Douglas-Peucker) to a fraction of a drawing unit and rounded to one
// decimal, so that a map weighs tens of kilobytes.
package geo

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Attribution is the credit every map drawn from these boundaries shows.
const Attribution = "Confini: ISTAT, unità amministrative al 1° gennaio 2025 (generalizzati), CC-BY 4.0"

// Width is the width of every map in drawing units (the SVG viewBox).
const Width = 600

//go:embed data/*.geojson
var files embed.FS

// Shape is one territory of a map.
type Shape struct {
	Code string // province "015" (historical ISTAT code) or comune "015146"
	Name string
	Path string // SVG path data in the map's drawing units
}

// Map is a set of shapes drawn in a box Width wide and Height high.
type Map struct {
	Height float64
	Shapes []Shape // in code order
}

// ViewBox is the SVG viewBox attribute of the map.
func (m *Map) ViewBox() string {
	return fmt.Sprintf("0 0 %d %s", Width, strconv.FormatFloat(math.Ceil(m.Height), 'f', -1, 64))
}

// Atlas holds the projected maps: one of the provinces and one of the
// comuni of each province.
type Atlas struct {
	provinces *Map
	comuni    map[string]*Map
}

// Load reads and projects the embedded boundaries. It fails only if the
// embedded files are broken.
func Load() (*Atlas, error) {
	prov, err := read("data/lombardia_province_20250101.geojson", func(p map[string]string) (string, string) {
		return pad3(p["COD_PROV"]), p["DEN_UTS"]
	})
	if err != nil {
		return nil, err
	}
	com, err := read("data/lombardia_comuni_20250101_semplificati.geojson", func(p map[string]string) (string, string) {
		return p["PRO_COM_T"], p["COMUNE"]
	})
	if err != nil {
		return nil, err
	}
	a := &Atlas{provinces: project(prov), comuni: map[string]*Map{}}
	byProv := map[string][]feature{}
	for _, f := range com {
		byProv[f.code[:3]] = append(byProv[f.code[:3]], f)
	}
	for p, fs := range byProv {
		a.comuni[p] = project(fs)
	}
	return a, nil
}

// Provinces returns the map of the 12 provinces.
func (a *Atlas) Provinces() *Map { return a.provinces }

// Comuni returns the map of the comuni of a province (historical ISTAT
// code, "015"), and false for a code that is not a Lombardy province.
func (a *Atlas) Comuni(province string) (*Map, bool) {
	m, ok := a.comuni[province]
	return m, ok
}

// feature is one territory in lon/lat: polygons of rings of points.
type feature struct {
	code, name string
	polygons   [][][][2]float64
}

func read(name string, key func(map[string]string) (code, label string)) ([]feature, error) {
	data, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
			Geometry   struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, fmt.Errorf("geo: %s: %w", name, err)
	}
	out := make([]feature, 0, len(fc.Features))
	for i, f := range fc.Features {
		props := map[string]string{}
		for k, v := range f.Properties {
			props[k] = fmt.Sprint(v)
		}
		code, label := key(props)
		ft := feature{code: code, name: label}
		switch f.Geometry.Type {
		case "Polygon":
			var p [][][2]float64
			err = json.Unmarshal(f.Geometry.Coordinates, &p)
			ft.polygons = [][][][2]float64{p}
		case "MultiPolygon":
			err = json.Unmarshal(f.Geometry.Coordinates, &ft.polygons)
		default:
			err = fmt.Errorf("geometry %q", f.Geometry.Type)
		}
		if err != nil || len(code) < 3 || len(ft.polygons) == 0 {
			return nil, fmt.Errorf("geo: %s: feature %d (%q): bad geometry or code: %v", name, i, code, err)
		}
		out = append(out, ft)
	}
	return out, nil
}

func pad3(s string) string {
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// tolerance is the Douglas-Peucker tolerance in drawing units.
const tolerance = 0.35

// project draws features in a box Width wide.
func project(fs []feature) *Map {
	minLon, maxLon, minLat, maxLat := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, f := range fs {
		for _, p := range f.polygons {
			for _, r := range p {
				for _, pt := range r {
					minLon, maxLon = min(minLon, pt[0]), max(maxLon, pt[0])
					minLat, maxLat = min(minLat, pt[1]), max(maxLat, pt[1])
				}
			}
		}
	}
	k := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	scale := Width / ((maxLon - minLon) * k)
	m := &Map{Height: (maxLat - minLat) * scale}
	for _, f := range fs {
		var b strings.Builder
		for _, p := range f.polygons {
			for _, r := range p {
				pts := make([][2]float64, len(r))
				for i, pt := range r {
					pts[i] = [2]float64{(pt[0] - minLon) * k * scale, (maxLat - pt[1]) * scale}
				}
				writeRing(&b, simplify(pts, tolerance))
			}
		}
		m.Shapes = append(m.Shapes, Shape{Code: f.code, Name: f.name, Path: b.String()})
	}
	slices.SortFunc(m.Shapes, func(a, b Shape) int { return strings.Compare(a.Code, b.Code) })
	return m
}

// writeRing appends a closed ring as "M x y L x y ... Z", dropping points
// that round to the previous one. A ring reduced to fewer than 3 points is
// left out.
func writeRing(b *strings.Builder, pts [][2]float64) {
	var out []string
	last := ""
	for _, p := range pts {
		s := num(p[0]) + " " + num(p[1])
		if s != last {
			out = append(out, s)
			last = s
		}
	}
	if len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	if len(out) < 3 {
		return
	}
	b.WriteString("M")
	b.WriteString(out[0])
	b.WriteString("L")
	b.WriteString(strings.Join(out[1:], " "))
	b.WriteString("Z")
}

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// simplify is Douglas-Peucker on an open or closed polyline: the first
// and last points are kept.
func simplify(pts [][2]float64, tol float64) [][2]float64 {
	if len(pts) < 4 {
		return pts
	}
	keep := make([]bool, len(pts))
	keep[0], keep[len(pts)-1] = true, true
	type span struct{ i, j int }
	stack := []span{{0, len(pts) - 1}}
	// A closed ring has equal ends: split it at its farthest point first,
	// so that the segment test has a real segment to measure against.
	if pts[0] == pts[len(pts)-1] {
		far, d := 0, -1.0
		for i := 1; i < len(pts)-1; i++ {
			if x := dist2(pts[i], pts[0]); x > d {
				far, d = i, x
			}
		}
		keep[far] = true
		stack = []span{{0, far}, {far, len(pts) - 1}}
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		far, d := -1, tol*tol
		for i := s.i + 1; i < s.j; i++ {
			if x := segDist2(pts[i], pts[s.i], pts[s.j]); x > d {
				far, d = i, x
			}
		}
		if far >= 0 {
			keep[far] = true
			stack = append(stack, span{s.i, far}, span{far, s.j})
		}
	}
	out := make([][2]float64, 0, len(pts)/4)
	for i, p := range pts {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out
}

func dist2(a, b [2]float64) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

// segDist2 is the squared distance from p to the segment ab.
func segDist2(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := dx*dx + dy*dy
	if l == 0 {
		return dist2(p, a)
	}
	t := ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / l
	t = max(0, min(1, t))
	return dist2(p, [2]float64{a[0] + t*dx, a[1] + t*dy})
}
