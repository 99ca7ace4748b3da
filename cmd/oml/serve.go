package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/web"
)

func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.newFlagSet("serve", "serve [--data DIR] [--addr HOST:PORT]",
		`Pubblica il portale (/) e l'API /api/v1 sull'ultima release della cartella dati (le release precedenti restano
leggibili con &release=ID); le nuove release sono servite appena pubblicate, senza riavvio.
Serves the portal (/) and the /api/v1 API from the latest release of the data dir.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	addr := fs.String("addr", "127.0.0.1:8080", "indirizzo di ascolto / listen address")
	if err := parse(fs, args); err != nil {
		return err
	}
	return m.serve(ctx, m.dataDir(*data), *addr)
}

// serve serves the data dir on addr until ctx is cancelled.
func (m *Main) serve(ctx context.Context, dir, addr string) error {
	infos, err := release.List(dir)
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		return oml.Errorf(oml.EINVALID, "nessuna release in %s / no release to serve", dir).
			WithHint("pubblicarne una con oml release --data %s (oppure provare oml demo)", dir)
	}
	srv, err := web.New(web.Config{DataDir: dir, Logger: m.logger()})
	if err != nil {
		return err
	}
	// Open the latest release now, not on the first request.
	if err := srv.Preload(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return oml.Errorf(oml.EINVALID, "impossibile ascoltare su %s / cannot listen on %s", addr, addr).WithHint("%v (scegliere un'altra porta con --addr)", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(m.Stdout, "Portale su / portal at http://%[1]s/ , API su / API at http://%[1]s/api/v1/ (release %[2]s, dati al %[3]s); Ctrl-C per fermare / to stop\n",
		ln.Addr(), infos[0].ID, infos[0].Vintage)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		fmt.Fprintln(m.Stdout, "Server fermato / server stopped.")
		return nil
	}
}
