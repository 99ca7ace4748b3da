package synth

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/cofile"
	"github.com/regione-lombardia/oml/internal/pseudo"
)

// TestReconcileWithDecoder decodes the files with the platform's decoder
// (internal/cofile) and resolves ids the way the store does (a resent
// communication is a duplicate, an id reused with other content and an R or
// X naming an unknown communication are rejected). Every file must give
// exactly the rows, rejections by reason and duplicates of the manifest:
// each defect produces exactly the reason recorded.
func TestReconcileWithDecoder(t *testing.T) {
	for _, format := range []string{FormatCanonical, FormatOpenData} {
		t.Run(format, func(t *testing.T) {
			dir, sum := generate(t, Config{Seed: 21, From: month(2021, 10), To: month(2022, 9), Scale: 0.01,
				Format: format, Dirty: 0.2})
			key := pseudo.NewKey([]byte("synth test key"))
			seen := map[string]oml.Event{}
			accepted := map[oml.EventType]int64{}
			for _, fs := range sum.Files {
				f, err := os.Open(filepath.Join(dir, fs.Path))
				if err != nil {
					t.Fatal(err)
				}
				dec, err := cofile.NewDecoder(f, cofile.Options{Format: cofile.Format(format), Name: fs.Path,
					Lists: testLists(t), Key: key})
				if err != nil {
					t.Fatal(err)
				}
				got := FileSummary{Path: fs.Path, DirtyByReason: map[oml.Reason]int64{}}
				var rec cofile.Record
				for {
					err := dec.Next(&rec)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got.Rows++
					reason := rec.Reject.Reason
					if reason == "" && format == FormatCanonical {
						e := rec.Event
						prev, dup := seen[e.CommID]
						switch {
						case dup && prev == e:
							got.Duplicates++
							continue
						case dup:
							reason = oml.DuplicateDifferent
						case e.Type == oml.Annullamento || e.Type == oml.Rettifica:
							if _, ok := seen[e.RefID]; !ok {
								reason = oml.RefUnknown
							}
						}
						if reason == "" {
							seen[e.CommID] = e
						}
					}
					if reason != "" {
						got.Dirty++
						got.DirtyByReason[reason]++
						continue
					}
					accepted[rec.Event.Type]++
				}
				f.Close()
				if !reflect.DeepEqual(got, fs) {
					t.Errorf("%s:\ndecoder  %+v\nmanifest %+v", fs.Path, got, fs)
				}
			}
			if !reflect.DeepEqual(accepted, sum.Events) {
				t.Errorf("accepted by type: decoder %v, manifest %v", accepted, sum.Events)
			}
		})
	}
}
