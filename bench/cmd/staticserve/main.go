// Command staticserve is the peer of `oml serve` in the API benchmark: a
// minimal net/http server that answers each request URI captured by
// benchtable with the exact response oml served for it (headers and body),
// doing no other work, so that comparing the two isolates what oml adds to
// HTTP and moving the same bytes. Any other URI is 404. It stops on SIGINT
// or SIGTERM.
//
//	staticserve -responses responses.json -addr 127.0.0.1:8081
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// response is one captured response; benchtable declares the same type.
type response struct {
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

func main() {
	file := flag.String("responses", "responses.json", "captured responses, a JSON array of {path, header, body}")
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *file, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "staticserve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, file, addr string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var rs []response
	if err := json.Unmarshal(b, &rs); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	byPath := make(map[string]response, len(rs))
	for _, r := range rs {
		byPath[r.Path] = r
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, ok := byPath[r.URL.RequestURI()]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		for k, v := range resp.Header {
			h[k] = v
		}
		w.Write(resp.Body)
	})
	// The same timeouts as oml serve.
	hs := &http.Server{Addr: addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan error, 1)
	go func() { done <- hs.ListenAndServe() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
