package federation

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/regione-lombardia/oml"
)

func TestTokens(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	token, tok, err := Issue(key, "node:014", 90*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Territory != "014" || !tok.Expires.Equal(now.Add(90*24*time.Hour)) {
		t.Fatalf("token %+v", tok)
	}
	cred, err := ParseToken(token)
	if err != nil || cred.Token != tok {
		t.Fatalf("parse: %v %+v", err, cred.Token)
	}
	other, _, _ := Issue(make([]byte, 32), "node:014", time.Hour, now) // another hub's key
	otherCred, _ := ParseToken(other)
	// A node that rewrites its token's territory keeps its secret, which
	// no longer matches.
	forged := cred
	b, _ := json.Marshal(Token{ID: tok.ID, Role: "node:015", Territory: "015", Expires: tok.Expires})
	forged.Payload = base64.RawURLEncoding.EncodeToString(b)

	clock := now
	v := NewVerifier(key, func() time.Time { return clock })
	signed := func(c Credentials, at time.Time) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://hub/federation/v1/releases?x=1", nil)
		c.Sign(r, nil, at)
		return r
	}
	ok := signed(cred, now)
	tests := []struct {
		name string
		req  *http.Request
		at   time.Time
		want string // "" = accepted
	}{
		{"valid", ok, now, ""},
		{"replayed", ok, now, "ripetuta"},
		{"clock ahead", signed(cred, now.Add(6*time.Minute)), now, "orologio"},
		{"clock behind", signed(cred, now.Add(-6*time.Minute)), now, "orologio"},
		{"small skew", signed(cred, now.Add(4*time.Minute)), now, ""},
		{"other hub", signed(otherCred, now), now, "firma"},
		{"territory rewritten", signed(forged, now), now, "firma"},
		{"expired", signed(cred, now.Add(91*24*time.Hour)), now.Add(91 * 24 * time.Hour), "scaduto"},
		{"no token", func() *http.Request { r, _ := http.NewRequest("GET", "http://hub/x", nil); return r }(), now, "senza token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = tt.at
			_, err := v.Authenticate(tt.req, nil)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || oml.ErrorCode(err) != oml.EUNAUTHORIZED):
				t.Fatalf("got %v, want an unauthorized error with %q", err, tt.want)
			}
		})
	}

	// The signature covers the address: a signed request replayed to
	// another address fails.
	clock = now
	r := signed(cred, now)
	r.URL.Path = "/federation/v1/extracts/015"
	if _, err := v.Authenticate(r, nil); err == nil {
		t.Error("a signature was accepted for another address")
	}

	for _, role := range []string{"node:14", "admin", "node:01a", "node:"} {
		if _, _, err := Issue(key, role, time.Hour, now); err == nil {
			t.Errorf("role %q accepted", role)
		}
	}
	for _, s := range []string{"", "omlfed1.", "omlfed1.abc", token[:len(token)-3], strings.Replace(token, "omlfed1.", "x.", 1)} {
		if _, err := ParseToken(s); err == nil {
			t.Errorf("ParseToken(%q) accepted", s)
		}
	}
}
