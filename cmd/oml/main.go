// Command oml is the platform of the Lombardy labour-market observatories:
// one binary that ingests the Comunicazioni Obbligatorie, computes the common
// indicators and serves them. Run `oml help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // Europe/Rome for the dates people type and read, on machines without a zone database

	"golang.org/x/term"

	"github.com/regione-lombardia/oml"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, StderrIsTerminal: isTerminal(os.Stderr)}
	// OML_CPUPROFILE=FILE writes a CPU profile of the run, for `go tool pprof`.
	if path := os.Getenv("OML_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := m.Run(ctx, os.Args[1:])
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main is the program with its environment injected, so that end-to-end
// tests run it in-process exactly as the binary does.
type Main struct {
	Stdin            io.Reader
	Stdout, Stderr   io.Writer
	Getenv           func(string) string
	Now              func() time.Time
	StderrIsTerminal bool // show progress bars
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// errUsage is returned by a subcommand whose arguments are wrong; the
// subcommand has already printed its usage.
var errUsage = errors.New("usage")

type command struct {
	name, summary string
	run           func(m *Main, ctx context.Context, args []string) error
}

func (m *Main) commands() []command {
	return []command{
		{"demo", "genera dati sintetici realistici, li carica e mostra i passi successivi / synthetic data end to end", (*Main).runDemo},
		{"synth", "genera file CO sintetici realistici / generate synthetic CO files", (*Main).runSynth},
		{"ingest", "carica file CO nella banca dati / ingest CO files", (*Main).runIngest},
		{"release", "calcola gli indicatori e pubblica una release firmata / compute and publish a signed release", (*Main).runRelease},
		{"serve", "pubblica il portale e l'API /api/v1 / serve the portal and the API", (*Main).runServe},
		{"report", "produce il Rapporto territoriale in HTML, PDF o XLSX / territorial report", (*Main).runReport},
		{"agenda", "calendario delle pubblicazioni ed embarghi / release agenda and embargoes", (*Main).runAgenda},
		{"user", "utenti del portale e loro ruoli / portal accounts and roles", (*Main).runUser},
		{"token", "token dei nodi della federazione e delle API / node and API tokens", (*Main).runToken},
		{"audit", "mostra e verifica il registro di audit / show and verify the audit log", (*Main).runAudit},
		{"node", "registra la cartella dati come nodo di un hub / register a node", (*Main).runNode},
		{"sync", "scarica release ed estratto dall'hub (nodo) / pull from the hub", (*Main).runSync},
		{"verify", "ricalcola il territorio e lo confronta con l'hub (nodo) / verify against the hub", (*Main).runVerify},
		{"contribute", "invia un contributo all'hub (nodo) / send a contribution to the hub", (*Main).runContribute},
		{"contributions", "rivede i contributi dei nodi (hub) / review the nodes' contributions", (*Main).runContributions},
		{"upstream", "invia le release a un hub superiore (hub) / send releases to a higher hub", (*Main).runUpstream},
		{"local", "dati e geografie locali dell'osservatorio / local data sets and geographies", (*Main).runLocal},
		{"version", "versione e fonti dei dati incorporati / version and data sources", (*Main).runVersion},
	}
}

// Run runs the command line args and returns the exit status.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.usage(m.Stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range m.commands() {
		if c.name == args[0] {
			err := c.run(m, ctx, args[1:])
			switch {
			case err == nil:
				return exitOK
			case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
				if errors.Is(err, flag.ErrHelp) {
					return exitOK
				}
				return exitUsage
			default:
				m.printError(err)
				if oml.ErrorCode(err) == oml.EINVALID && isUsageError(err) {
					return exitUsage
				}
				return exitFail
			}
		}
	}
	fmt.Fprintf(m.Stderr, "oml: comando sconosciuto %q / unknown command %q\n\n", args[0], args[0])
	m.usage(m.Stderr)
	return exitUsage
}

func (m *Main) usage(w io.Writer) {
	fmt.Fprintln(w, "oml — piattaforma degli osservatori del mercato del lavoro della Lombardia")
	fmt.Fprintln(w, "oml — platform of the Lombardy labour-market observatories")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Uso / usage: oml COMANDO [opzioni]")
	fmt.Fprintln(w)
	for _, c := range m.commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "`oml COMANDO -h` descrive le opzioni / describes the options.")
	fmt.Fprintln(w, "Cartella dati / data dir: --data DIR, oppure $OML_DATA, oppure ./oml-data")
}

// printError writes err for a person: message, hint, and the cause only for
// internal errors (which are bugs or machine faults worth reporting).
func (m *Main) printError(err error) {
	fmt.Fprintf(m.Stderr, "errore / error: %s\n", oml.ErrorMessage(err))
	if h := oml.ErrorHint(err); h != "" {
		fmt.Fprintf(m.Stderr, "suggerimento / hint: %s\n", h)
	}
	if oml.ErrorCode(err) == oml.EINTERNAL {
		fmt.Fprintf(m.Stderr, "dettaglio / detail: %v\n", err)
	}
}

// usageError marks an *oml.Error caused by the command line itself.
type usageError struct{ err *oml.Error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// newFlagSet returns a flag set that prints its usage with a description
// to m.Stderr and reports errors instead of exiting.
func (m *Main) newFlagSet(name, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Uso / usage: oml %s\n\n%s\n\nOpzioni / options:\n", synopsis, description)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, mapping flag errors to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return flag.ErrHelp
		}
		return errUsage
	}
	return nil
}

// parseInterspersed parses args where options may follow the positional
// arguments (list --status S, reject ID --reason R): it parses again after
// each positional argument and returns them in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
}

// dataDir returns the data directory: the flag, else $OML_DATA, else ./oml-data.
func (m *Main) dataDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := m.Getenv("OML_DATA"); v != "" {
		return v
	}
	return "oml-data"
}

// logger returns the structured logger on stderr; OML_LOG=debug shows the
// timing of every step, OML_LOG=info the main events (default: warnings).
func (m *Main) logger() *slog.Logger {
	level := slog.LevelWarn
	switch strings.ToLower(m.Getenv("OML_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
