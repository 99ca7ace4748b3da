// Package release writes, verifies and reads the releases of the indicator
// cube: immutable, signed snapshots in Parquet that the API, the portal and
// the reports serve.
//
// A release lives in <data dir>/releases/<id>/ and holds:
//
//	cells/<perimeter>-<scope>-<freq>.parquet  the cube's cells, one file per perimeter, scope and frequency
//	catalogo.json                              the catalogue the cube was computed with
//	manifest.json                              format, Info, disclosure rule, inputs, and sha256, size and rows of every file
//	manifest.sig                               ed25519 signature of manifest.json (64 raw bytes)
//	pubkey                                     the signer's public key (PEM, PKIX "PUBLIC KEY")
//
// The same cube and metadata give byte-identical files: rows are written
// in a fixed order (level, breakdown, territory, codes in their natural
// order, period) with fixed writer settings. Every Parquet file has the key
// columns perimeter, scope, freq, level, territory, dims, codes and period
// (strings; period "2024-06", "2024-Q2" or "2024"), then for every indicator
// of the catalogue, in catalogue order, a column <id> (optional DOUBLE, null
// when the value is withheld or unavailable) and a column <id>_status ("A",
// "P", "C" or "M"). Any engine reads them:
//
//	SELECT territory, period, saldo, saldo_status
//	FROM read_parquet('releases/20241231-1/cells/*.parquet')
//	WHERE level = 'province' AND dims = '' AND freq = 'M';
//
// [Publish] writes a release, [List] and [Verify] inspect the releases of a
// data dir, and [Open] verifies one and loads it into a compact in-memory
// index that answers [Release.Select] in microseconds.
package release

import (
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/method"
)

// FormatVersion is the version of the release layout written in
// manifest.json. Open refuses releases of a newer format.
const FormatVersion = 1

// Info describes a release for listings and for every response.
type Info struct {
	ID            string    `json:"id"`             // "<vintage YYYYMMDD>-<n>", n counting from 1
	Vintage       string    `json:"vintage"`        // YYYY-MM-DD
	MethodVersion string    `json:"method_version"` // "1.0.0"
	PublishedAt   time.Time `json:"published_at"`
	First         string    `json:"first"` // first month covered, "2017-01"
	Last          string    `json:"last"`  // last month covered, the vintage's
	HasIDs        bool      `json:"has_ids"`
}

// Meta is what the publisher states about a release besides the cube.
type Meta struct {
	PublishedAt time.Time // recorded in the manifest; tests fix it for byte-identical output. Zero: now.
	Inputs      []string  // sha256 of every ingested file, sorted
	Events      int64     // current events in the data bank
	// TerritoryDigests are the digests of the cells of every province (its
	// CPIs and comuni with it) as computed, before disclosure control
	// (method.Cube.Digest): a federated node recomputes its own and
	// compares. Nil leaves them out of the manifest.
	TerritoryDigests map[string]string
	// BeforeVisible, when set, is called with the release's id once the
	// release is complete, signed and verified, just before it becomes
	// visible in the data dir (an atomic rename); an error abandons the
	// publication. `oml release --embargo-until` puts the release under
	// embargo on the agenda there, so that no reader ever sees it before.
	BeforeVisible func(id string) error
}

// Query selects one indicator's observations from a release.
type Query struct {
	Indicator   string
	Territories []string   // explicit territory codes, of any level; duplicates are dropped
	Freq        oml.Freq   // M, Q or Y; zero means M
	From, To    oml.Period // inclusive bounds at Freq; the zero Period leaves that side open
	// By lists breakdown dimensions of the catalogue (not cpi/comune, which
	// are territorial levels). A permutation of a published breakdown is
	// accepted and answered in the catalogue's order, which Dataset.By
	// reports.
	By        []string
	Perimeter oml.Perimeter // zero means workplace
	Scope     oml.Scope     // zero means full
	// Transform derives a series from the published cells: "" none, "yoy",
	// "yoy_pct", "roll12", "sa".
	Transform string
	// Limit is the most observations the answer may hold; a query beyond
	// it fails with oml.ETOOLARGE. 0: no limit.
	Limit int
}

// The transforms of Query.Transform.
const (
	TransformNone   = ""
	TransformYoY    = "yoy"     // x[t] - x[t-1 year]
	TransformYoYPct = "yoy_pct" // 100 * (x[t] / x[t-1 year] - 1)
	TransformRoll12 = "roll12"  // sum of the last 12 months (4 quarters); additive flows only
	TransformSA     = "sa"      // seasonally adjusted by STL (internal/tseries)
)

// Transforms lists the transforms, "" first.
var Transforms = []string{TransformNone, TransformYoY, TransformYoYPct, TransformRoll12, TransformSA}

// Revision is one published figure that changed between two releases: its
// value changed, or it became withheld (C or M) or published (A or P).
type Revision struct {
	Indicator string
	Key       method.CellKey
	// Old and New are NaN when the figure is withheld or unavailable. A
	// count cell absent from a release is 0, as Select answers it.
	Old, New  float64
	OldStatus oml.Status
	NewStatus oml.Status
}

// Delta returns New - Old, NaN when either is withheld.
func (r Revision) Delta() float64 { return r.New - r.Old }

// published reports whether a status carries a value.
func published(s oml.Status) bool { return s == oml.StatusNormal || s == oml.StatusProvisional }
