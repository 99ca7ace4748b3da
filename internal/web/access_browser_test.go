package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReservedAreaInBrowser logs in through the form in Chromium, as an
// administrator, adds an entry to the agenda from the administration page
// and logs out; every page of the way passes axe-core, with no console
// error and no CSP violation (the forms need no inline script).
func TestReservedAreaInBrowser(t *testing.T) {
	e := newAccessEnv(t)
	b := newTab(t)
	base := e.ts.URL

	b.do(t, chromedp.Navigate(base+"/rilasci"), chromedp.WaitVisible(chromedp.CSS(".oml-account a")))
	b.do(t, chromedp.Click(chromedp.CSS(".oml-account a")), chromedp.WaitVisible(chromedp.CSS("#nome")))
	checkAxe(t, b, "/accedi")
	b.do(t, chromedp.SendKeys(chromedp.CSS("#nome"), "ammin"), chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Submit(chromedp.CSS("form.oml-login")))
	// Back to the page the login started from, logged in.
	b.do(t, chromedp.WaitVisible(chromedp.CSS(`.oml-account a[href="/amministrazione"]`)))
	if loc := b.location(t); !strings.HasSuffix(loc, "/rilasci") {
		t.Errorf("after login: %s, want back on /rilasci", loc)
	}
	for _, page := range []string{"/area-riservata", "/amministrazione"} {
		b.do(t, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		checkAxe(t, b, page)
	}
	if txt := b.text(t, "main"); !strings.Contains(txt, "Catena di impronte verificata") || !strings.Contains(txt, "login") {
		t.Errorf("the administration page shows no verified log with the login:\n%.500s", txt)
	}

	b.do(t, chromedp.Navigate(base+"/amministrazione/agenda"), chromedp.WaitVisible(chromedp.CSS("#titolo")))
	checkAxe(t, b, "/amministrazione/agenda")
	b.do(t, chromedp.SetValue(chromedp.CSS("#data"), "2026-12-15"), chromedp.SendKeys(chromedp.CSS("#titolo"), "Flussi di novembre"),
		chromedp.SetValue(chromedp.CSS("#embargo"), "2026-12-15T11:00"), chromedp.Submit(chromedp.CSS("form.oml-agenda-form")),
		chromedp.WaitVisible(chromedp.CSS("tbody form")))
	if txt := b.text(t, "tbody"); !strings.Contains(txt, "Flussi di novembre") || !strings.Contains(txt, "2026-12-15 11:00") {
		t.Errorf("the new entry is not in the agenda: %q", txt)
	}
	b.do(t, chromedp.Navigate(base+"/agenda"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if txt := b.text(t, "main"); !strings.Contains(txt, "Flussi di novembre") || !strings.Contains(txt, "dalle 11:00") {
		t.Errorf("public agenda: %q", txt)
	}

	b.do(t, chromedp.Click(chromedp.CSS(".oml-account button")), chromedp.WaitVisible(chromedp.CSS(`.oml-account a[href^="/accedi"]`)))
	b.do(t, chromedp.Navigate(base+"/amministrazione"), chromedp.WaitVisible(chromedp.CSS("#nome")))
	if loc := b.location(t); !strings.Contains(loc, "/accedi?dopo=") {
		t.Errorf("administration after logout: %s", loc)
	}
	for _, f := range b.failures() {
		t.Error(f)
	}
}
