package main

import (
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/regione-lombardia/oml"
	"github.com/regione-lombardia/oml/internal/classif"
	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/metastore"
	"github.com/regione-lombardia/oml/internal/method"
)

// openMeta opens the metadata store of dir. With create false a missing
// store is ENOTFOUND (a command that only reads should not create a data
// dir from a mistyped --data).
func (m *Main) openMeta(ctx context.Context, dir string, create bool) (*metastore.Store, error) {
	if !create {
		if _, err := os.Stat(filepath.Join(dir, metastore.File)); errors.Is(err, fs.ErrNotExist) {
			return nil, oml.Errorf(oml.ENOTFOUND, "nessun archivio dei metadati in %s / no metadata store in %s", dir, dir).
				WithHint("controllare --data; l'archivio nasce con il primo oml user add, oml token create o oml agenda add")
		}
	}
	return metastore.Open(ctx, dir, metastore.Options{Now: m.Now})
}

// actorContext returns ctx naming the command line's actor for the audit
// log: "cli:<user>", the user who ran oml (the one behind sudo when
// there is one), or "cli" when the environment does not say.
func (m *Main) actorContext(ctx context.Context) context.Context {
	return metastore.WithActor(ctx, m.actor())
}

func (m *Main) actor() string {
	for _, v := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if u := strings.TrimSpace(m.Getenv(v)); u != "" {
			return metastore.ActorCLIPrefix + u
		}
	}
	return "cli"
}

// parseRoles reads --role for an account or a token and checks each
// territory against the code lists: a Lombardy province or the region.
// "public" alone is no roles.
func parseRoles(s string) (oml.Roles, error) {
	if strings.TrimSpace(s) == "" {
		return nil, usageError{oml.Errorf(oml.EINVALID, "--role mancante / --role missing").
			WithHint("per esempio --role analyst:016 oppure --role editor:ITC4,analyst:ITC4 oppure --role admin")}
	}
	roles, err := oml.ParseRoles(s)
	if err != nil {
		return nil, usageError{err.(*oml.Error)}
	}
	if len(roles) == 1 && roles[0].Kind == oml.RolePublic {
		return nil, nil
	}
	lists, err := classif.Load()
	if err != nil {
		return nil, err
	}
	names := method.NewNames(lists)
	for _, r := range roles {
		if r.Territory == "" || r.Territory == oml.RegionCode {
			continue
		}
		if t, ok := names.Territory(r.Territory); !ok || t.Level != oml.LevelProvince {
			return nil, usageError{oml.Errorf(oml.EINVALID, "%s: %s non è una provincia lombarda / not a Lombardy province", r, r.Territory).
				WithHint("%s per la regione; province: %s", oml.RegionCode, provinceHint)}
		}
	}
	return roles, nil
}

const provinceHint = "012 Varese, 013 Como, 014 Sondrio, 015 Milano, 016 Bergamo, 017 Brescia, 018 Pavia, 019 Cremona, 020 Mantova, 097 Lecco, 098 Lodi, 108 Monza e della Brianza"

// rome is the time zone of the observatories, for dates people type and
// read.
func rome() *time.Location { return itfmt.Rome }

// parseWhen reads an instant: RFC 3339 ("2025-04-15T11:00:00+02:00"), or
// "AAAA-MM-GG HH:MM" in Italian time.
func parseWhen(flag, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04", s, rome()); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{oml.Errorf(oml.EINVALID, "%s %q non valido / invalid %s", flag, s, flag).
		WithHint("'AAAA-MM-GG HH:MM' in ora italiana (per esempio '2025-04-15 11:00') oppure RFC 3339 (2025-04-15T11:00:00+02:00)")}
}

// parseDay reads a calendar day, AAAA-MM-GG.
func parseDay(flag, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, usageError{oml.Errorf(oml.EINVALID, "%s %q non valida / invalid %s", flag, s, flag).WithHint("formato AAAA-MM-GG, per esempio 2025-04-15")}
	}
	return t, nil
}

// localTime formats t in Italian time for tables.
func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(rome()).Format("2006-01-02 15:04")
}

// parsePositional parses args with fs, allowing options after the
// positional arguments (list --json, revoke ID --data DIR), and returns
// the positional arguments.
func parsePositional(fs *flag.FlagSet, args []string) ([]string, error) {
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
