package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml/internal/metastore"
)

// TestEmbargo publishes a second release under an embargo on the agenda
// and reads it, with an injected clock, before and after the embargo
// ends: invisible to the public in the API, the portal, the reports, the
// feeds and the federation before; visible to analysts as a preview; and
// visible to everyone after, without a restart.
func TestEmbargo(t *testing.T) {
	e := newAccessEnv(t)
	ctx := context.Background()
	first := e.f.Info.ID
	second := publishAgain(t, e.f, e.dir).ID
	until := e.clock.now().Add(2 * time.Hour)
	if _, err := e.store.AddPlanned(ctx, metastore.Planned{Release: second, Title: "Rilascio sotto embargo", Date: until, EmbargoUntil: until}); err != nil {
		t.Fatal(err)
	}
	e.clock.add(listInterval) // the server lists the releases again

	public := e.client(t)
	analyst := e.loggedIn(t, "ana016")
	node := e.nodeClient(t, "016")

	latest := func(c *client) string {
		t.Helper()
		r := c.do("GET", "/api/v1/releases/latest", nil)
		var in struct{ ID string }
		if err := json.Unmarshal(r.body, &in); err != nil || r.StatusCode != 200 {
			t.Fatalf("latest: %d %s", r.StatusCode, r.body)
		}
		return in.ID
	}
	// status checks the status of each path for c.
	status := func(c *client, who string, want int, paths ...string) {
		t.Helper()
		for _, p := range paths {
			if r := c.do("GET", p, nil); r.StatusCode != want {
				t.Errorf("%s GET %s: %d, want %d\n%s", who, p, r.StatusCode, want, firstLine(r.body))
			}
		}
	}
	// mentions checks whether the bodies of paths name the second release.
	mentions := func(c *client, who string, want bool, paths ...string) {
		t.Helper()
		for _, p := range paths {
			r := c.do("GET", p, nil)
			if r.StatusCode != 200 {
				t.Errorf("%s GET %s: %d", who, p, r.StatusCode)
				continue
			}
			if got := strings.Contains(string(r.body), second); got != want {
				t.Errorf("%s GET %s names %s: %v, want %v", who, p, second, got, want)
			}
		}
	}
	byID := []string{"/api/v1/releases/" + second, "/api/v1/releases/" + second + "/manifest", "/api/v1/releases/" + second + "/pubkey",
		"/api/v1/data?indicator=attivazioni&territory=016&freq=Y&release=" + second, "/api/v1/indicators?release=" + second,
		"/rilasci/" + second, "/rapporti/016.html?release=" + second}
	lists := []string{"/api/v1/releases", "/rilasci", "/rilasci.atom", "/rilasci.rss", "/agenda", "/agenda.ics", "/"}

	// Before the embargo ends.
	if got := latest(public); got != first {
		t.Errorf("public latest = %s, want %s", got, first)
	}
	status(public, "public", http.StatusNotFound, byID...)
	mentions(public, "public", false, lists...)
	if r := public.do("GET", "/agenda", nil); !strings.Contains(string(r.body), "Rilascio sotto embargo") {
		t.Error("the agenda hides the entry's title: the agenda is public, only the release is not")
	}
	status(node, "node", http.StatusNotFound, "/federation/v1/releases/"+second+"/manifest.json")
	mentions(node, "node", false, "/federation/v1/releases")
	// The analyst previews it, flagged, in private responses.
	if got := latest(analyst); got != second {
		t.Errorf("analyst latest = %s, want the preview %s", got, second)
	}
	status(analyst, "analyst", http.StatusOK, byID...)
	if r := analyst.do("GET", "/api/v1/data?indicator=attivazioni&territory=016&freq=Y", nil); r.Header.Get("X-OML-Embargo") != until.UTC().Format(time.RFC3339) {
		t.Errorf("analyst's preview data: X-OML-Embargo %q", r.Header.Get("X-OML-Embargo"))
	}
	home := analyst.do("GET", "/", nil)
	if !strings.Contains(string(home.body), "Anteprima riservata") || home.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("analyst home: no preview banner or not private (%q)", home.Header.Get("Cache-Control"))
	}
	// ... which did not leak into the cache of public pages.
	mentions(public, "public after the preview", false, "/", "/rilasci")

	// After.
	e.clock.add(2*time.Hour + time.Second)
	if got := latest(public); got != second {
		t.Errorf("public latest after the embargo = %s, want %s", got, second)
	}
	status(public, "public after", http.StatusOK, byID...)
	mentions(public, "public after", true, lists...)
	status(node, "node after", http.StatusOK, "/federation/v1/releases/"+second+"/manifest.json")
	mentions(node, "node after", true, "/federation/v1/releases")
	if r := analyst.do("GET", "/", nil); strings.Contains(string(r.body), "Anteprima riservata") {
		t.Error("preview banner after the embargo")
	}
}
