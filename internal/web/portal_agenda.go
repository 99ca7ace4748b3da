package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/gorilla/feeds"

	"github.com/regione-lombardia/oml/internal/itfmt"
	"github.com/regione-lombardia/oml/internal/release"
)

// The public side of the release agenda (agenda dei rilasci): the page
// /agenda, the iCalendar feed /agenda.ics of the planned publications, and
// the Atom and RSS feeds of the published releases. None of them shows a
// release under embargo to a reader who may not see it: an entry of the
// agenda keeps its date and title (the agenda is public) but not the
// release's id or link until the embargo ends.

// agendaEntry is an entry of the agenda as a reader sees it.
type agendaEntry struct {
	ID             int64
	Updated        time.Time
	Title, Content string
	Date           time.Time
	EmbargoUntil   time.Time
	Release        string // the release's id, when published and visible
	Past           bool
}

// agendaFor returns the agenda as the reader of r sees it: every entry,
// with the release id only when that release is published and visible.
// Without accounts there is no agenda.
func (s *Server) agendaFor(r *http.Request) ([]agendaEntry, error) {
	if s.access == nil {
		return nil, nil
	}
	list, err := s.access.Store.Agenda(r.Context())
	if err != nil {
		return nil, err
	}
	visible := map[string]bool{}
	if infos, err := s.visibleReleases(r); err == nil {
		for _, in := range infos {
			visible[in.ID] = true
		}
	}
	today := s.releases.now().In(rome)
	y, m, d := today.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	out := make([]agendaEntry, 0, len(list))
	for _, p := range list {
		e := agendaEntry{ID: p.ID, Updated: p.Updated, Title: p.Title, Content: p.Content, Date: p.Date, EmbargoUntil: p.EmbargoUntil, Past: p.Date.Before(start)}
		if visible[p.Release] {
			e.Release = p.Release
		}
		out = append(out, e)
	}
	return out, nil
}

// agendaPage is the body of the agenda template.
type agendaPage struct {
	Upcoming, Past []agendaEntry
	Enabled        bool
}

// pageAgenda serves GET /agenda.
func (s *Server) pageAgenda(w http.ResponseWriter, r *http.Request) {
	list, err := s.agendaFor(r)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	body := agendaPage{Enabled: s.access != nil}
	for _, e := range list {
		if e.Past {
			body.Past = append([]agendaEntry{e}, body.Past...) // most recent first
		} else {
			body.Upcoming = append(body.Upcoming, e)
		}
	}
	s.showPage(w, r, &page{name: "agenda", nav: "/agenda", title: "Agenda dei rilasci", body: body,
		description: "Le date di pubblicazione dei rilasci degli osservatori del mercato del lavoro lombardo, con gli orari di fine embargo."})
}

// baseURL is the scheme and host the reader used, for the absolute links
// of feeds.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.hsts {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveAgendaICS serves GET /agenda.ics: one event per entry, all day on
// its date, or at the end of the embargo when there is one (that is when
// the figures become public).
func (s *Server) serveAgendaICS(w http.ResponseWriter, r *http.Request) {
	list, err := s.agendaFor(r)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	base := s.baseURL(r)
	cal := ics.NewCalendar()
	cal.SetMethod(ics.MethodPublish)
	cal.SetProductId("-//Regione Lombardia//oml agenda dei rilasci//IT")
	cal.SetName("Agenda dei rilasci · Competenze, Lavoro in Lombardia")
	cal.SetXWRCalName("Agenda dei rilasci · Competenze, Lavoro in Lombardia")
	cal.SetXWRTimezone("Europe/Rome")
	cal.SetRefreshInterval("PT6H")
	stamp := s.releases.now().UTC()
	for _, e := range list {
		ev := cal.AddEvent("agenda-" + strconv.FormatInt(e.ID, 10) + "@" + r.Host)
		ev.SetDtStampTime(stamp)
		ev.SetModifiedAt(e.Updated)
		ev.SetSummary(e.Title)
		desc := e.Content
		if !e.EmbargoUntil.IsZero() {
			desc = strings.TrimSpace(desc + "\n\nDati sotto embargo fino alle " + e.EmbargoUntil.In(rome).Format("15:04") + " del " + itfmt.Date(e.EmbargoUntil.In(rome).Format(time.DateOnly)) + ".")
		}
		if desc != "" {
			ev.SetDescription(desc)
		}
		if e.EmbargoUntil.IsZero() {
			ev.SetAllDayStartAt(e.Date)
			ev.SetAllDayEndAt(e.Date.AddDate(0, 0, 1))
		} else {
			ev.SetStartAt(e.EmbargoUntil.UTC())
			ev.SetEndAt(e.EmbargoUntil.UTC().Add(time.Hour))
		}
		if e.Release != "" {
			ev.SetURL(base + "/rilasci/" + e.Release)
		} else {
			ev.SetURL(base + "/agenda")
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Disposition", `inline; filename="agenda-rilasci.ics"`)
	h.Set("Cache-Control", "public, max-age=300")
	cal.SerializeTo(w)
}

// serveFeed serves GET /rilasci.atom and /rilasci.rss: the releases the
// reader may see, newest first, each with its agenda title if the agenda
// names it.
func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request) {
	list, err := s.visibleReleases(r)
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	titles := map[string]string{}
	if agenda, err := s.agendaFor(r); err == nil {
		for _, e := range agenda {
			if e.Release != "" {
				titles[e.Release] = e.Title
			}
		}
	}
	base := s.baseURL(r)
	f := &feeds.Feed{
		Title:       "Rilasci · Competenze, Lavoro in Lombardia",
		Link:        &feeds.Link{Href: base + "/rilasci"},
		Description: "I rilasci degli indicatori comuni degli osservatori del mercato del lavoro lombardo (Comunicazioni Obbligatorie).",
		Author:      &feeds.Author{Name: "Regione Lombardia · Osservatori provinciali del mercato del lavoro"},
		Id:          "tag:" + r.Host + ",2017:rilasci",
	}
	for _, in := range list {
		f.Items = append(f.Items, feedItem(base, r.Host, in, titles[in.ID]))
	}
	if len(list) > 0 {
		f.Updated = list[0].PublishedAt
	}
	var body string
	if strings.HasSuffix(r.URL.Path, ".rss") {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		body, err = f.ToRss()
	} else {
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		body, err = f.ToAtom()
	}
	if err != nil {
		s.pageError(w, r, nil, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAgeLatest.Seconds())))
	w.Write([]byte(body))
}

// feedItem is the entry of a release in the feeds.
func feedItem(base, host string, in release.Info, title string) *feeds.Item {
	if title == "" {
		title = "Rilascio " + in.ID
	} else {
		title += " (rilascio " + in.ID + ")"
	}
	return &feeds.Item{
		Title: title,
		Link:  &feeds.Link{Href: base + "/rilasci/" + in.ID},
		Id:    "tag:" + host + "," + in.PublishedAt.UTC().Format(time.DateOnly) + ":rilasci/" + in.ID,
		Description: "Dati al " + itfmt.Date(in.Vintage) + ", periodo " + in.First + " – " + in.Last +
			", metodologia v" + in.MethodVersion + ". API: " + base + "/api/v1/releases/" + in.ID,
		Created: in.PublishedAt,
		Updated: in.PublishedAt,
	}
}
