package release

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/regione-lombardia/oml"
)

// KeyFile is the signing key of a data dir, relative to it: an ed25519
// private key in PEM (PKCS #8), readable by its owner only.
const KeyFile = "keys/release.key"

// LoadKey returns the release signing key of dataDir, creating it on first
// use: <dataDir>/keys/release.key, mode 0600 in a directory of mode 0700.
// The key is created atomically (written under another name, then linked),
// so two processes starting at once end up with the same key.
func LoadKey(dataDir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dataDir, KeyFile)
	key, err := readKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".release.key-")
	if err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("release key: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("release key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("release key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	// Link fails if another process created the key meanwhile: then its key wins.
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("release key: %w", err)
	}
	syncDir(filepath.Dir(path))
	return readKey(path)
}

// readKey reads a PEM PKCS #8 ed25519 private key.
func readKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, oml.Errorf(oml.EINTEGRITY, "chiave di firma %s illeggibile / unreadable signing key", path).
			WithHint("il file deve contenere una chiave ed25519 PEM PKCS#8; spostarlo per generarne una nuova / the file must hold a PEM PKCS#8 ed25519 key; move it away to create a new one")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	priv, ok := k.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, oml.Errorf(oml.EINTEGRITY, "chiave di firma %s non ed25519 / signing key is not ed25519", path)
	}
	return priv, nil
}

// encodePublicKey returns pub as a PEM PKIX "PUBLIC KEY" block, the form
// openssl reads.
func encodePublicKey(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // cannot fail for an ed25519 key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// decodePublicKey reads a public key written by encodePublicKey, or 32 raw
// bytes.
func decodePublicKey(data []byte) (ed25519.PublicKey, error) {
	if len(data) == ed25519.PublicKeySize {
		return ed25519.PublicKey(data), nil
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("not an ed25519 key")
	}
	return pub, nil
}

// syncDir flushes a directory's entries to disk; errors are ignored, as
// some file systems do not support it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
