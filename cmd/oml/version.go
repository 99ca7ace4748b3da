package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
)

func (m *Main) runVersion(ctx context.Context, args []string) error {
	fs := m.newFlagSet("version", "version [--sources]", "Stampa la versione; con --sources le fonti e le licenze dei dati incorporati.\nPrints the version; with --sources, the sources and licences of the embedded data.")
	sources := fs.Bool("sources", false, "elenca le fonti dei dati incorporati / list the embedded data sources")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "oml %s (%s, %s/%s)\n", oml.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if !*sources {
		return nil
	}
	fmt.Fprintln(m.Stdout)
	fmt.Fprintln(m.Stdout, "Fonti dei dati incorporati / embedded data sources:")
	for _, s := range classif.Sources() {
		fmt.Fprintf(m.Stdout, "\n- %s\n  editore / publisher: %s\n  licenza / licence: %s\n  origine / origin: %s\n  file: %s\n",
			s.Name, s.Publisher, s.Licence, s.Origin, strings.Join(s.Files, ", "))
	}
	return nil
}
