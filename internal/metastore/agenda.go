package metastore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/regione-lombardia/oml"
)

// Planned is an entry of the release agenda: a publication announced for
// a date. Release is the id of the release (empty until it is published);
// Date the planned day (only its calendar date counts: the store keeps
// year, month and day as read in Date's location and returns midnight
// UTC); EmbargoUntil, when set, the instant before which the release is
// shown only to roles that see embargoed releases.
type Planned struct {
	ID           int64     `json:"id"`
	Release      string    `json:"release,omitempty"`
	Title        string    `json:"title"`
	Content      string    `json:"content,omitempty"`
	Date         time.Time `json:"date"`
	EmbargoUntil time.Time `json:"embargo_until,omitzero"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// Embargoed reports whether p's embargo is still running at now.
func (p Planned) Embargoed(now time.Time) bool {
	return p.Release != "" && !p.EmbargoUntil.IsZero() && now.Before(p.EmbargoUntil)
}

// validate checks p's fields.
func (p *Planned) validate() error {
	p.Title, p.Release = strings.TrimSpace(p.Title), strings.TrimSpace(p.Release)
	switch {
	case p.Title == "" || utf8.RuneCountInString(p.Title) > 300 || !utf8.ValidString(p.Title) || strings.ContainsFunc(p.Title, unicode.IsControl):
		return oml.Errorf(oml.EINVALID, "titolo mancante o non valido (una riga, al massimo 300 caratteri) / title missing or invalid")
	case !utf8.ValidString(p.Content) || len(p.Content) > 1<<20:
		return oml.Errorf(oml.EINVALID, "testo non valido o più lungo di 1 MiB / content invalid or longer than 1 MiB")
	case p.Date.IsZero():
		return oml.Errorf(oml.EINVALID, "data di pubblicazione mancante / publication date missing").WithHint("formato AAAA-MM-GG")
	}
	for _, r := range p.Release {
		if !(r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')) || len(p.Release) > 64 {
			return oml.Errorf(oml.EINVALID, "identificativo di release %q non valido / invalid release id", p.Release).
				WithHint("l'identificativo stampato da oml release, per esempio 20241231-1")
		}
	}
	y, m, d := p.Date.Date()
	p.Date = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if !p.EmbargoUntil.IsZero() {
		p.EmbargoUntil = p.EmbargoUntil.UTC().Truncate(time.Microsecond)
	}
	return nil
}

const plannedColumns = `id, release, title, content, date, embargo_until, created, updated`

func scanPlanned(row scanner) (Planned, error) {
	var p Planned
	var date string
	var embargo, created, updated sql.NullString
	if err := row.Scan(&p.ID, &p.Release, &p.Title, &p.Content, &date, &embargo, &created, &updated); err != nil {
		return Planned{}, err
	}
	var err error
	if p.Date, err = time.Parse(time.DateOnly, date); err != nil {
		return Planned{}, fmt.Errorf("metastore: agenda %d: %w", p.ID, err)
	}
	if p.EmbargoUntil, err = parseTS(embargo); err != nil {
		return Planned{}, err
	}
	if p.Created, err = parseTS(created); err != nil {
		return Planned{}, err
	}
	p.Updated, err = parseTS(updated)
	return p, err
}

// errReleaseTaken is the answer to a release id that another entry has.
func errReleaseTaken(release string, id int64) error {
	return oml.Errorf(oml.ECONFLICT, "la release %s è già nella voce %d dell'agenda / release %s is already on agenda entry %d", release, id, release, id).
		WithHint("una release compare una volta sola nell'agenda: modificare la voce %d", id)
}

// checkRelease refuses a release id that another entry than id has.
func checkRelease(ctx context.Context, tx *sql.Tx, release string, id int64) error {
	if release == "" {
		return nil
	}
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM agenda WHERE release = ? AND id <> ?`, release, id).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return errReleaseTaken(release, other)
}

func (p Planned) summary() string {
	s := p.Date.Format(time.DateOnly) + " " + strconv.Quote(p.Title)
	if p.Release != "" {
		s += ", release " + p.Release
	}
	if !p.EmbargoUntil.IsZero() {
		s += ", embargo " + p.EmbargoUntil.Format(time.RFC3339)
	}
	return s
}

// AddPlanned adds p to the agenda (its ID, Created and Updated are
// ignored) and appends agenda_change; it returns the entry as stored. A
// title and a date are required; a release id already on the agenda is
// ECONFLICT.
func (s *Store) AddPlanned(ctx context.Context, p Planned) (Planned, error) {
	if err := p.validate(); err != nil {
		return Planned{}, err
	}
	p.ID = 0
	p.Created = s.now().UTC().Truncate(time.Microsecond)
	p.Updated = p.Created
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := checkRelease(ctx, tx, p.Release, 0); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO agenda (release, title, content, date, embargo_until, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.Release, p.Title, p.Content, p.Date.Format(time.DateOnly), nullTS(p.EmbargoUntil), ts(p.Created), ts(p.Updated))
		if err != nil {
			return err
		}
		if p.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		_, err = s.appendTx(ctx, tx, Entry{Action: ActionAgendaChange, Object: strconv.FormatInt(p.ID, 10), Detail: "aggiunta / added: " + p.summary()})
		return err
	})
	return p, err
}

// UpdatePlanned replaces every field of the entry p.ID with p's (Created
// is kept) and appends agenda_change with the entry before and after. An
// unknown id is ENOTFOUND.
func (s *Store) UpdatePlanned(ctx context.Context, p Planned) (Planned, error) {
	if err := p.validate(); err != nil {
		return Planned{}, err
	}
	p.Updated = s.now().UTC().Truncate(time.Microsecond)
	err := s.write(ctx, func(tx *sql.Tx) error {
		before, err := plannedBy(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if err := checkRelease(ctx, tx, p.Release, p.ID); err != nil {
			return err
		}
		p.Created = before.Created
		if _, err := tx.ExecContext(ctx, `UPDATE agenda SET release = ?, title = ?, content = ?, date = ?, embargo_until = ?, updated = ? WHERE id = ?`,
			p.Release, p.Title, p.Content, p.Date.Format(time.DateOnly), nullTS(p.EmbargoUntil), ts(p.Updated), p.ID); err != nil {
			return err
		}
		_, err = s.appendTx(ctx, tx, Entry{Action: ActionAgendaChange, Object: strconv.FormatInt(p.ID, 10),
			Detail: "modificata / changed: " + before.summary() + " -> " + p.summary()})
		return err
	})
	return p, err
}

// DeletePlanned removes the entry id from the agenda and appends
// agenda_change. An unknown id is ENOTFOUND. Its release, if any, is no
// longer under embargo.
func (s *Store) DeletePlanned(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		p, err := plannedBy(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM agenda WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = s.appendTx(ctx, tx, Entry{Action: ActionAgendaChange, Object: strconv.FormatInt(id, 10), Detail: "rimossa / removed: " + p.summary()})
		return err
	})
}

// Planned returns the agenda entry id; ENOTFOUND when there is none.
func (s *Store) Planned(ctx context.Context, id int64) (Planned, error) {
	return plannedBy(ctx, s.r, id)
}

func plannedBy(ctx context.Context, q querier, id int64) (Planned, error) {
	p, err := scanPlanned(q.QueryRowContext(ctx, `SELECT `+plannedColumns+` FROM agenda WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Planned{}, notFound("voce dell'agenda", "agenda entry", strconv.FormatInt(id, 10)).WithHint("oml agenda list elenca le voci")
	}
	return p, err
}

// Agenda returns every entry, by date and then by id.
func (s *Store) Agenda(ctx context.Context) ([]Planned, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+plannedColumns+` FROM agenda ORDER BY date, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Planned
	for rows.Next() {
		p, err := scanPlanned(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// EmbargoedReleases returns the ids of the releases whose embargo is still
// running at now (EmbargoUntil after now), with the end of each embargo.
// The server hides these releases from readers whose roles do not see
// embargoed releases (oml.Roles.SeesEmbargoed), and serves them from the
// instant the embargo ends without a restart: it asks again, or keeps the
// map only until its earliest time. The map is empty, not nil, when
// nothing is under embargo.
func (s *Store) EmbargoedReleases(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT release, embargo_until FROM agenda WHERE release <> '' AND embargo_until > ?`, ts(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var until sql.NullString
		if err := rows.Scan(&id, &until); err != nil {
			return nil, err
		}
		if out[id], err = parseTS(until); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}
