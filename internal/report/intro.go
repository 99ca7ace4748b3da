package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/regione-lombardia/oml"
)

// IntroDir is where the observatories' introductions are kept, relative
// to the data dir: one directory per territory, one file per version
// (0001.txt, 0002.txt...), never overwritten, so that every earlier text
// stays available.
const IntroDir = "rapporti/introduzioni"

// maxIntro is the longest introduction accepted, in bytes.
const maxIntro = 20_000

// SaveIntro stores a new version of a territory's introduction and
// returns its version number. The text is plain, paragraphs separated by
// a blank line.
func SaveIntro(dataDir, code, text string) (int, error) {
	text = strings.TrimSpace(text)
	if len(text) > maxIntro {
		return 0, oml.Errorf(oml.EINVALID, "introduzione troppo lunga (%d byte) / introduction too long", len(text)).
			WithHint("al massimo %d byte", maxIntro)
	}
	dir := filepath.Join(dataDir, IntroDir, code)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	versions, err := introVersions(dir)
	if err != nil {
		return 0, err
	}
	n := 1
	if len(versions) > 0 {
		n = versions[len(versions)-1] + 1
	}
	tmp, err := os.CreateTemp(dir, ".intro-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text + "\n"); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, err
	}
	tmp.Close()
	// A link never replaces an existing file: two editors saving at once
	// cannot overwrite each other's version.
	if err := os.Link(tmp.Name(), filepath.Join(dir, fmt.Sprintf("%04d.txt", n))); err != nil {
		return 0, oml.Errorf(oml.ECONFLICT, "versione %d dell'introduzione già salvata / version %d already saved", n, n).WithHint("riprovare")
	}
	return n, nil
}

// Intros returns the latest introduction of every territory that has one.
func Intros(dataDir string) (map[string]string, error) {
	root := filepath.Join(dataDir, IntroDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		versions, err := introVersions(dir)
		if err != nil || len(versions) == 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%04d.txt", versions[len(versions)-1])))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = strings.TrimSpace(string(b))
	}
	return out, nil
}

func introVersions(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		var n int
		if _, err := fmt.Sscanf(e.Name(), "%04d.txt", &n); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}
