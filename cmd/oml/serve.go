package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/federation"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/release"
	"github.com/regione-lombardia/oml/internal/web"
)

func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := m.newFlagSet("serve", "serve [--data DIR] [--addr HOST:PORT] [--tls-cert FILE --tls-key FILE] [--rate-limit N --rate-burst N] [--trusted-proxy CIDR] [--metrics-addr HOST:PORT]",
		`Pubblica il portale (/) e l'API /api/v1 sull'ultima release della cartella dati (le release precedenti restano
leggibili con &release=ID); le nuove release sono servite appena pubblicate, senza riavvio.
Se la cartella dati è un hub (ha emesso token di nodo con oml token create) serve anche /federation/v1
ai nodi. Con --tls-cert e --tls-key risponde in HTTPS.
Ogni client può mandare all'API al più --rate-limit richieste al secondo (--rate-burst di seguito), poi riceve 429.
Dietro un proxy inverso, --trusted-proxy indica la sua rete: solo allora X-Forwarded-For dice chi è il client.
/healthz e /readyz servono alle sonde; /metrics (Prometheus) risponde solo ai client locali, oppure su --metrics-addr.
Se la cartella dati ha utenti (oml user add) apre l'area riservata (/accedi, /amministrazione), i microdati
per gli analisti (/api/v1/microdata), i token API e l'embargo dell'agenda; con --oidc-issuer anche l'accesso
con SPID/CIE (segreto del client in OML_OIDC_CLIENT_SECRET).
Serves the portal (/) and the /api/v1 API from the latest release of the data dir, and
/federation/v1 when the data dir is a hub; each client may send --rate-limit API requests a second;
with accounts, the reserved area, microdata for analysts, API tokens and embargoes.`)
	data := fs.String("data", "", "cartella dati / data directory (default $OML_DATA o ./oml-data)")
	addr := fs.String("addr", "127.0.0.1:8080", "indirizzo di ascolto / listen address")
	cert := fs.String("tls-cert", "", "certificato TLS (PEM) / TLS certificate")
	key := fs.String("tls-key", "", "chiave del certificato TLS (PEM) / TLS key")
	o := defaultServeOptions()
	fs.Float64Var(&o.rate, "rate-limit", o.rate, "richieste al secondo per client sull'API, 0 = nessun limite / API requests a second per client, 0 = no limit")
	fs.IntVar(&o.burst, "rate-burst", o.burst, "richieste di seguito per client sull'API / API requests at once per client")
	fs.Var(&o.trusted, "trusted-proxy", "rete CIDR (o indirizzo) di un proxy inverso di cui credere X-Forwarded-For; ripetibile o separate da virgole / CIDR of a trusted reverse proxy")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "indirizzo di ascolto proprio per /metrics, /healthz, /readyz (vuoto: /metrics sull'indirizzo principale, solo per client locali) / own listen address for the metrics")
	fs.BoolVar(&o.hsts, "hsts", false, "invia Strict-Transport-Security anche senza --tls-cert (TLS terminato da un proxy); i cookie di sessione sono Secure / send HSTS behind a TLS proxy")
	fs.StringVar(&o.oidc.Issuer, "oidc-issuer", "", "URL dell'emittente OpenID Connect (fornitore di identità regionale, SPID/CIE) / OpenID Connect issuer")
	fs.StringVar(&o.oidc.ClientID, "oidc-client-id", "", "identificativo del portale presso il fornitore di identità / client id")
	fs.StringVar(&o.oidc.RedirectURL, "oidc-redirect-url", "", "indirizzo pubblico di ritorno, https://HOST/accedi/oidc/ritorno / redirect URL")
	fs.StringVar(&o.oidc.Label, "oidc-label", "", "testo del pulsante di accesso (predefinito: Entra con SPID o CIE) / login button text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*cert == "") != (*key == "") {
		return usageError{oml.Errorf(oml.EINVALID, "--tls-cert e --tls-key vanno dati insieme / give both --tls-cert and --tls-key")}
	}
	if o.rate < 0 || o.burst < 0 {
		return usageError{oml.Errorf(oml.EINVALID, "--rate-limit e --rate-burst non possono essere negativi / --rate-limit and --rate-burst must not be negative")}
	}
	o.addr, o.tls = *addr, tlsFiles{*cert, *key}
	return m.serve(ctx, m.dataDir(*data), o)
}

// tlsFiles are the certificate and key of HTTPS; empty for HTTP.
type tlsFiles struct{ cert, key string }

// serveOptions are the options of serve.
type serveOptions struct {
	addr        string
	tls         tlsFiles
	rate        float64 // API requests a second per client; 0: no limit
	burst       int
	trusted     prefixList
	metricsAddr string // "": /metrics on addr, for local clients only
	hsts        bool
	oidc        web.OIDCConfig // login with an identity provider when Issuer is set
}

func defaultServeOptions() serveOptions {
	return serveOptions{addr: "127.0.0.1:8080", rate: web.DefaultRate, burst: web.DefaultBurst}
}

// prefixList is a flag of network prefixes, repeatable and comma-separated;
// a bare address is its own /32 or /128.
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	var parts []string
	for _, x := range *p {
		parts = append(parts, x.String())
	}
	return strings.Join(parts, ",")
}

func (p *prefixList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if pr, err := netip.ParsePrefix(part); err == nil {
			*p = append(*p, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("%q non è una rete CIDR né un indirizzo / is not a CIDR network or address", part)
		}
		*p = append(*p, netip.PrefixFrom(a, a.BitLen()))
	}
	return nil
}

// serve serves the data dir until ctx is cancelled, then shuts down
// gracefully (web.Server.Serve).
func (m *Main) serve(ctx context.Context, dir string, o serveOptions) error {
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
	cfg := web.Config{
		DataDir:         dir,
		Logger:          m.logger(),
		RateLimit:       web.RateLimit{Rate: o.rate, Burst: o.burst},
		TrustedProxies:  o.trusted,
		HSTS:            o.hsts,
		SeparateMetrics: o.metricsAddr != "",
	}
	if _, err := os.Stat(filepath.Join(dir, federation.NodeFile)); err == nil {
		cfg.Territory = localTerritory(dir)
	}
	// Accounts, tokens, audit and agenda: when the data dir has a metadata
	// store (the first oml user add, token create or agenda add makes it).
	if _, err := os.Stat(filepath.Join(dir, metastore.File)); err == nil {
		st, err := m.openMeta(ctx, dir, false)
		if err != nil {
			return err
		}
		defer st.Close()
		cfg.Access = &web.Access{Store: st, SecureCookies: o.hsts}
		if o.oidc.Issuer != "" {
			if o.oidc.ClientSecret = m.Getenv("OML_OIDC_CLIENT_SECRET"); o.oidc.ClientSecret == "" {
				return usageError{oml.Errorf(oml.EINVALID, "manca il segreto del client OpenID Connect / OpenID Connect client secret missing").
					WithHint("indicarlo nella variabile d'ambiente OML_OIDC_CLIENT_SECRET (non sulla riga di comando, dove altri utenti lo vedrebbero)")}
			}
			oidc := o.oidc
			cfg.Access.OIDC = &oidc
		}
	} else if o.oidc.Issuer != "" {
		return usageError{oml.Errorf(oml.EINVALID, "--oidc-issuer richiede gli account: la cartella dati non ha un archivio dei metadati / --oidc-issuer needs accounts").
			WithHint("crearlo con il primo amministratore: oml user add --data %s --role admin NOME", dir)}
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
	listen := func(addr, flag string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, oml.Errorf(oml.EINVALID, "impossibile ascoltare su %s / cannot listen on %s", addr, addr).WithHint("%v (scegliere un'altra porta con %s)", err, flag)
		}
		return ln, nil
	}
	ln, err := listen(o.addr, "--addr")
	if err != nil {
		return err
	}
	opt := web.ServeOptions{CertFile: o.tls.cert, KeyFile: o.tls.key}
	if o.metricsAddr != "" {
		if opt.Metrics, err = listen(o.metricsAddr, "--metrics-addr"); err != nil {
			ln.Close()
			return err
		}
	}
	scheme := "http"
	if o.tls.cert != "" {
		scheme = "https"
	}
	if len(infos) > 0 {
		fmt.Fprintf(m.Stdout, "Portale su / portal at %[4]s://%[1]s/ , API su / API at %[4]s://%[1]s/api/v1/ (release %[2]s, dati al %[3]s); Ctrl-C per fermare / to stop\n",
			ln.Addr(), infos[0].ID, infos[0].Vintage, scheme)
	} else {
		fmt.Fprintf(m.Stdout, "Nessuna release propria: il portale risponde 404 fino alla prima, la rete è su / no release of its own yet; network at %s://%s/rete\n", scheme, ln.Addr())
	}
	if cfg.Access != nil {
		fmt.Fprintf(m.Stdout, "Area riservata / reserved area at %s://%s/accedi\n", scheme, ln.Addr())
	}
	if cfg.Federation != nil {
		fmt.Fprintf(m.Stdout, "Hub della federazione / federation hub at %s://%s/federation/v1/\n", scheme, ln.Addr())
	}
	if opt.Metrics != nil {
		fmt.Fprintf(m.Stdout, "Metriche / metrics at http://%s/metrics\n", opt.Metrics.Addr())
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, opt) }()
	// Open the latest release now, not on the first request; /readyz
	// answers 503 until it is open, requests wait for it.
	if err := srv.Preload(); err != nil {
		cancel()
		<-done
		return err
	}
	if err := <-done; err != nil {
		return err
	}
	fmt.Fprintln(m.Stdout, "Server fermato / server stopped.")
	return nil
}
