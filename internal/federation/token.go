// Package federation is the protocol between the regional hub and the
// provincial nodes: node tokens and signed requests, the territory extracts
// the hub prepares, and the node's side (init, sync, verify).
//
// A node token names its role (node:<province>) and expiry and carries a
// secret derived from the hub's federation key, so the hub keeps no table
// of secrets. The node never sends the secret: it signs each request
// (method, address, time, a fresh nonce, the body's sha256) with it, and
// the hub refuses a signature that does not verify, an expired token, a
// request time more than MaxSkew from its clock, and a nonce it has seen.
package federation

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regione-lombardia/oml"
)

// KeyFile is the hub's federation key in its data dir (32 random bytes,
// mode 0600): every node token's secret derives from it.
const KeyFile = "keys/federation.key"

// MaxSkew is the largest difference between a request's time and the
// hub's clock that the hub accepts.
const MaxSkew = 5 * time.Minute

// Request headers of a signed request.
const (
	HeaderAuth      = "Authorization" // "OML-Token <payload>"
	HeaderDate      = "X-Oml-Date"    // Unix seconds
	HeaderNonce     = "X-Oml-Nonce"   // 32 hex digits, never reused
	HeaderSignature = "X-Oml-Signature"
	authScheme      = "OML-Token "
	tokenPrefix     = "omlfed1."
)

// Token is what a node token states: who it is for and until when.
type Token struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`      // "node:014"
	Territory string    `json:"territory"` // the province of the role
	Expires   time.Time `json:"expires"`
}

// LoadKey returns the federation key of a hub's data dir, creating it on
// first use.
func LoadKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, KeyFile)
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != 32 {
			return nil, oml.Errorf(oml.EINTEGRITY, "chiave di federazione %s non valida / invalid federation key", path)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".federation.key-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	tmp.Close()
	// Another process may have created it meanwhile: then its key wins.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return LoadKey(dataDir)
}

// ParseRole checks a node role and returns its territory: a province's
// ISTAT code ("node:014"), or a region's NUTS-2 code ("node:ITC4") for a
// regional hub that is a member of a higher, national hub.
func ParseRole(role string) (string, error) {
	t, ok := strings.CutPrefix(role, "node:")
	province := len(t) == 3 && strings.Trim(t, "0123456789") == ""
	region := len(t) == 4 && strings.HasPrefix(t, "IT") && strings.Trim(t[2:], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
	if !ok || !province && !region {
		return "", oml.Errorf(oml.EINVALID, "ruolo %q non valido / invalid role %q", role, role).
			WithHint("un nodo ha il ruolo node:<codice ISTAT della provincia>, per esempio node:014; un hub regionale membro di un hub nazionale node:<codice NUTS-2>, per esempio node:ITC4")
	}
	return t, nil
}

// IsProvince reports whether a node's territory is a province (nodes that
// receive microdata extracts) rather than a region (members of a higher
// hub, which exchange aggregates only).
func IsProvince(territory string) bool { return len(territory) == 3 }

// Issue returns a new token for role, valid for ttl from now.
func Issue(key []byte, role string, ttl time.Duration, now time.Time) (string, Token, error) {
	terr, err := ParseRole(role)
	if err != nil {
		return "", Token{}, err
	}
	id := make([]byte, 8)
	rand.Read(id)
	tok := Token{ID: hex.EncodeToString(id), Role: role, Territory: terr, Expires: now.Add(ttl).UTC().Truncate(time.Second)}
	b, _ := json.Marshal(tok)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return tokenPrefix + payload + "." + base64.RawURLEncoding.EncodeToString(secret(key, payload)), tok, nil
}

func secret(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("oml federation token\x00" + payload))
	return m.Sum(nil)
}

// Credentials are a node's token, split for signing.
type Credentials struct {
	Payload string
	Secret  []byte
	Token   Token
}

// ParseToken reads a token printed by Issue (on the node, which cannot
// check its secret: the hub does on every request).
func ParseToken(s string) (Credentials, error) {
	bad := func(why string) error {
		return oml.Errorf(oml.EINVALID, "token non valido (%s) / invalid token", why).
			WithHint("copiare il token intero stampato da oml token create sull'hub")
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), tokenPrefix)
	if !ok {
		return Credentials{}, bad("prefisso / prefix")
	}
	payload, sec, ok := strings.Cut(rest, ".")
	if !ok {
		return Credentials{}, bad("forma / shape")
	}
	c := Credentials{Payload: payload}
	var err error
	if c.Secret, err = base64.RawURLEncoding.DecodeString(sec); err != nil || len(c.Secret) != sha256.Size {
		return Credentials{}, bad("segreto / secret")
	}
	if c.Token, err = decodePayload(payload); err != nil {
		return Credentials{}, bad("contenuto / payload")
	}
	return c, nil
}

func decodePayload(payload string) (Token, error) {
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Token{}, err
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return Token{}, err
	}
	if _, err := ParseRole(t.Role); err != nil || t.ID == "" {
		return Token{}, fmt.Errorf("bad token payload")
	}
	return t, nil
}

// stringToSign is what a request's signature covers.
func stringToSign(method, uri, date, nonce, bodySHA string) string {
	return method + "\n" + uri + "\n" + date + "\n" + nonce + "\n" + bodySHA
}

// Sign adds the signature headers to r for credentials c at time now;
// body is the request's body (nil for none).
func (c Credentials) Sign(r *http.Request, body []byte, now time.Time) {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	date := strconv.FormatInt(now.Unix(), 10)
	n := hex.EncodeToString(nonce)
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, c.Secret)
	m.Write([]byte(stringToSign(r.Method, r.URL.RequestURI(), date, n, hex.EncodeToString(sum[:]))))
	r.Header.Set(HeaderAuth, authScheme+c.Payload)
	r.Header.Set(HeaderDate, date)
	r.Header.Set(HeaderNonce, n)
	r.Header.Set(HeaderSignature, hex.EncodeToString(m.Sum(nil)))
}

// Verifier checks signed requests on the hub. It remembers the nonces of
// the last 2×MaxSkew, so a request cannot be played twice. Safe for
// concurrent use.
type Verifier struct {
	key []byte
	now func() time.Time

	mu     sync.Mutex
	nonces map[string]time.Time // nonce -> when it may be forgotten
}

// NewVerifier returns a verifier for the hub's federation key; now is its
// clock (time.Now when nil).
func NewVerifier(key []byte, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{key: key, now: now, nonces: map[string]time.Time{}}
}

// Authenticate checks the signature of r, whose body is body, and returns
// its token. Errors are oml.EUNAUTHORIZED, with a message saying which
// check failed.
func (v *Verifier) Authenticate(r *http.Request, body []byte) (Token, error) {
	unauth := func(it, en string) *oml.Error {
		return oml.Errorf(oml.EUNAUTHORIZED, "%s / %s", it, en)
	}
	payload, ok := strings.CutPrefix(r.Header.Get(HeaderAuth), authScheme)
	if !ok {
		return Token{}, unauth("richiesta senza token di nodo", "request without a node token").
			WithHint("ogni richiesta di federazione è firmata dal nodo con il suo token (oml node init)")
	}
	tok, err := decodePayload(payload)
	if err != nil {
		return Token{}, unauth("token illeggibile", "unreadable token")
	}
	date, nonce, sig := r.Header.Get(HeaderDate), r.Header.Get(HeaderNonce), r.Header.Get(HeaderSignature)
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, secret(v.key, payload))
	m.Write([]byte(stringToSign(r.Method, r.URL.RequestURI(), date, nonce, hex.EncodeToString(sum[:]))))
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, m.Sum(nil)) {
		return Token{}, unauth("firma della richiesta non valida: token falso o revocato, o richiesta alterata", "invalid request signature")
	}
	now := v.now()
	if !now.Before(tok.Expires) {
		return Token{}, unauth(fmt.Sprintf("token %s scaduto il %s", tok.ID, tok.Expires.Format(time.DateOnly)), "token expired").
			WithHint("chiedere all'hub un nuovo token (oml token create) e ripetere oml node init")
	}
	secs, err := strconv.ParseInt(date, 10, 64)
	if err != nil {
		return Token{}, unauth("ora della richiesta mancante", "request time missing")
	}
	if skew := time.Unix(secs, 0).Sub(now); skew > MaxSkew || skew < -MaxSkew {
		return Token{}, unauth(fmt.Sprintf("l'orologio del nodo differisce di %s da quello dell'hub (al massimo %s)", skew.Round(time.Second), MaxSkew),
			"the node's clock is off").WithHint("sincronizzare l'orologio del nodo (NTP); ora dell'hub: %s", now.UTC().Format(time.RFC3339))
	}
	if len(nonce) != 32 {
		return Token{}, unauth("nonce mancante", "nonce missing")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for n, until := range v.nonces {
		if now.After(until) {
			delete(v.nonces, n)
		}
	}
	if _, seen := v.nonces[nonce]; seen {
		return Token{}, unauth("richiesta già ricevuta (ripetuta)", "replayed request")
	}
	v.nonces[nonce] = now.Add(2 * MaxSkew)
	return tok, nil
}
