package pseudo_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/regione-lombardia/oml/internal/pseudo"
)

func TestPseudonymIsTruncatedHMAC(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := pseudo.NewKey(secret).Hasher()
	// Computed independently with crypto/hmac on the normalised code.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("RSSMRA85T10A562S"))
	want := hex.EncodeToString(m.Sum(nil))[:pseudo.Len]
	for _, in := range []string{"RSSMRA85T10A562S", "rssmra85t10a562s", "  RSSMRA85T10A562S\t"} {
		if got := h.String(in); got != want {
			t.Errorf("pseudonym of %q = %s, want %s", in, got, want)
		}
	}
	if h.String("RSSMRA85T10A562T") == want {
		t.Error("different codes gave the same pseudonym")
	}
	other := pseudo.NewKey([]byte("another key, another key, another")).Hasher()
	if other.String("RSSMRA85T10A562S") == want {
		t.Error("different keys gave the same pseudonym")
	}
}

func TestLoadKeyCreatesFileOnce(t *testing.T) {
	dir := t.TempDir()
	noenv := func(string) string { return "" }
	k1, err := pseudo.LoadKey(dir, noenv)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, pseudo.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := pseudo.LoadKey(dir, noenv)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID() != k2.ID() {
		t.Error("second load gave a different key")
	}
}

func TestLoadKeyFromEnv(t *testing.T) {
	hexKey := "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	env := func(k string) string {
		if k == pseudo.EnvKey {
			return hexKey
		}
		return ""
	}
	dir := t.TempDir()
	k, err := pseudo.LoadKey(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(hexKey)
	if k.ID() != pseudo.NewKey(raw).ID() {
		t.Error("env key not used")
	}
	if _, err := os.Stat(filepath.Join(dir, pseudo.KeyFile)); err == nil {
		t.Error("key file written although the key came from the environment")
	}
	bad := func(string) string { return "zz" }
	if _, err := pseudo.LoadKey(dir, bad); err == nil {
		t.Error("invalid env key accepted")
	}
}

func BenchmarkPseudonym(b *testing.B) {
	h := pseudo.NewKey([]byte("0123456789abcdef0123456789abcdef")).Hasher()
	code := []byte("RSSMRA85T10A562S")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = h.Append(dst[:0], code)
	}
}
