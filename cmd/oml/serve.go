package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/web"
)

func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.newFlagSet("serve", "serve [--data DIR] [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE]",
		`Pubblica il portale (/) e l'API /api/v1 sull'ultima release della cartella dati (le release precedenti restano
leggibili con &release=ID); le nuove release sono servite appena pubblicate, senza riavvio.
Se la cartella dati è un hub (ha emesso token di nodo con oml token create) serve anche /federation/v1
ai nodi. Con --tls-cert e --tls-key risponde in HTTPS.
Serves the portal (/) and the /api/v1 API from the latest release of the data dir, and
/federation/v1 when the data dir is a hub.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	addr := fs.String("addr", "127.0.0.1:8080", "indirizzo di ascolto / listen address")
	cert := fs.String("tls-cert", "", "certificato TLS (PEM) / TLS certificate")
	key := fs.String("tls-key", "", "chiave del certificato TLS (PEM) / TLS key")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return usageError{oml.Errorf(oml.EINVALID, "--tls-cert e --tls-key vanno dati insieme / give both --tls-cert and --tls-key")}
	}
	return m.serve(ctx, m.dataDir(*data), *addr, tlsFiles{*cert, *key})
}

// tlsFiles are the certificate and key of HTTPS; empty for HTTP.
type tlsFiles struct{ cert, key string }

// serve serves the data dir on addr until ctx is cancelled.
func (m *Main) serve(ctx context.Context, dir, addr string, tls tlsFiles) error {
	infos, err := release.List(dir)
	if err != nil {
		return err
	}
	_, keyErr := os.Stat(filepath.Join(dir, federation.KeyFile))
	hub := keyErr == nil
	if len(infos) == 0 && !hub {
		return oml.Errorf(oml.EINVALID, "nessuna release in %s / no release to serve", dir).
			WithHint("pubblicarne una con oml release --data %s (oppure provare oml demo)", dir)
	}
	cfg := web.Config{DataDir: dir, Logger: m.logger()}
	if _, err := os.Stat(filepath.Join(dir, federation.NodeFile)); err == nil {
		cfg.Territory = localTerritory(dir)
	}
	if hub {
		key, err := federation.LoadKey(dir)
		if err != nil {
			return err
		}
		lists, err := classif.Load()
		if err != nil {
			return err
		}
		cfg.Federation = &web.Federation{Hub: federation.NewHub(dir, lists), Verifier: federation.NewVerifier(key, nil)}
	}
	srv, err := web.New(cfg)
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
	scheme := "http"
	if tls.cert != "" {
		scheme = "https"
	}
	if len(infos) > 0 {
		fmt.Fprintf(m.Stdout, "Portale su / portal at %[4]s://%[1]s/ , API su / API at %[4]s://%[1]s/api/v1/ (release %[2]s, dati al %[3]s); Ctrl-C per fermare / to stop\n",
			ln.Addr(), infos[0].ID, infos[0].Vintage, scheme)
	} else {
		fmt.Fprintf(m.Stdout, "Nessuna release propria: il portale risponde 404 fino alla prima, la rete è su / no release of its own yet; network at %s://%s/rete\n", scheme, ln.Addr())
	}
	if cfg.Federation != nil {
		fmt.Fprintf(m.Stdout, "Hub della federazione / federation hub at %s://%s/federation/v1/\n", scheme, ln.Addr())
	}
	done := make(chan error, 1)
	go func() {
		if tls.cert != "" {
			done <- hs.ServeTLS(ln, tls.cert, tls.key)
			return
		}
		done <- hs.Serve(ln)
	}()
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
