// Package pseudo replaces fiscal codes with keyed pseudonyms.
//
// A pseudonym is the HMAC-SHA256 of the upper-cased, trimmed code under a
// secret key, truncated to 128 bits and written as 32 lower-case hex digits.
// The same code always gives the same pseudonym under the same key, so
// workers and employers can be followed across communications, but the code
// cannot be recovered without the key. The key lives in the data directory
// (file pseudo.key, mode 0600) or comes from the environment variable
// OML_PSEUDO_KEY; it is never written into the database.
package pseudo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/regione-lombardia/oml"
)

// KeyFile is the name of the key file inside the data directory.
const KeyFile = "pseudo.key"

// EnvKey is the environment variable that, when set, gives the key as hex
// (at least 32 bytes, i.e. 64 hex digits) and overrides the key file.
const EnvKey = "OML_PSEUDO_KEY"

// Len is the length of a pseudonym in characters.
const Len = 32

// Key is a pseudonymisation key.
type Key struct {
	secret []byte
}

// LoadKey returns the key from OML_PSEUDO_KEY if set (getenv is os.Getenv in
// production), otherwise from dataDir/pseudo.key, creating that file with a
// fresh random key and mode 0600 on first use.
func LoadKey(dataDir string, getenv func(string) string) (*Key, error) {
	if v := strings.TrimSpace(getenv(EnvKey)); v != "" {
		b, err := hex.DecodeString(v)
		if err != nil || len(b) < 32 {
			return nil, oml.Errorf(oml.EINVALID, "la chiave di pseudonimizzazione in %s non è valida / %s is not a valid key", EnvKey, EnvKey).
				WithHint("serve una stringa esadecimale di almeno 64 cifre, ad esempio: openssl rand -hex 32 / use at least 64 hex digits")
		}
		return &Key{secret: b}, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) < 32 {
			return nil, oml.Errorf(oml.EINVALID, "il file chiave %s è danneggiato / the key file %s is corrupt", path, path).
				WithHint("ripristinarlo dal backup: senza la stessa chiave i nuovi pseudonimi non corrispondono ai vecchi / restore it from a backup")
		}
		return &Key{secret: k}, nil
	case errors.Is(err, fs.ErrNotExist):
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("generate pseudonymisation key: %w", err)
		}
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		// O_EXCL: two processes starting at once must not write two keys.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadKey(dataDir, getenv)
		}
		if err != nil {
			return nil, fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("sync key file: %w", err)
		}
		return &Key{secret: k}, f.Close()
	default:
		return nil, fmt.Errorf("read key file: %w", err)
	}
}

// NewKey returns a key from raw bytes; tests use it with fixed keys.
func NewKey(secret []byte) *Key { return &Key{secret: append([]byte(nil), secret...)} }

// ID returns a short public fingerprint of the key. The database records it
// so that an ingest with a different key, whose pseudonyms would not match
// the stored ones, is refused.
func (k *Key) ID() string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("oml key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Hasher computes pseudonyms. It is not safe for concurrent use: each
// goroutine takes its own from Key.Hasher.
type Hasher struct {
	mac hash.Hash
	sum []byte
}

// Hasher returns a new Hasher for the key.
func (k *Key) Hasher() *Hasher {
	return &Hasher{mac: hmac.New(sha256.New, k.secret), sum: make([]byte, 0, sha256.Size)}
}

// Append appends the pseudonym of code to dst. The code is upper-cased and
// trimmed of spaces first, so "rssmra85t10a562s " and "RSSMRA85T10A562S"
// have the same pseudonym.
func (h *Hasher) Append(dst []byte, code []byte) []byte {
	h.mac.Reset()
	code = trimSpace(code)
	var buf [32]byte
	if len(code) <= len(buf) {
		n := copy(buf[:], code)
		upper(buf[:n])
		h.mac.Write(buf[:n])
	} else {
		h.mac.Write([]byte(strings.ToUpper(string(code))))
	}
	h.sum = h.mac.Sum(h.sum[:0])
	return hex.AppendEncode(dst, h.sum[:Len/2])
}

// String returns the pseudonym of code.
func (h *Hasher) String(code string) string {
	return string(h.Append(make([]byte, 0, Len), []byte(code)))
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func upper(b []byte) {
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
}
