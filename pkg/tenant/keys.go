package tenant

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
)

// keyBits is the RSA modulus size of every key the tenant creates, as Auth0's tenants use.
const keyBits = 2048

// maxPublished is how many keys the JWKS shows: the signing key and the one it replaced, so tokens signed before a
// rotation keep validating until the next one.
const maxPublished = 2

// signingKey is one RSA key and its kid (the RFC 7638 thumbprint of its public part).
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
}

// keyStore holds the published keys, oldest first; the last one signs. With a file it survives restarts.
type keyStore struct {
	file string // "" keeps keys in memory only

	rotateMu sync.Mutex // serialises rotations so the file and memory agree on the order
	mu       sync.RWMutex
	keys     []signingKey
}

// openKeyStore loads the keys in file, creating it with a fresh key when it does not exist; file "" means memory.
func openKeyStore(file string) (*keyStore, error) {
	s := &keyStore{file: file}
	if file == "" {
		k, err := newSigningKey()
		if err != nil {
			return nil, err
		}
		s.keys = []signingKey{k}
		return s, nil
	}
	data, err := os.ReadFile(file) //nolint:gosec // the operator names the key file on purpose
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k, err := newSigningKey()
		if err != nil {
			return nil, err
		}
		s.keys = []signingKey{k}
		if err := s.persist(s.keys); err != nil {
			return nil, err
		}
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("read key file (--key-file) %s: %w", file, err)
	}
	keys, err := decodeKeys(data)
	if err != nil {
		return nil, fmt.Errorf("key file (--key-file) %s is not usable: %w; fix it, or move it away to start with new keys", file, err)
	}
	if len(keys) > maxPublished {
		keys = keys[len(keys)-maxPublished:]
	}
	s.keys = keys
	return s, nil
}

func newSigningKey() (signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return signingKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	return signingKey{kid: thumbprint(&priv.PublicKey), priv: priv}, nil
}

// current is the key that signs new tokens.
func (s *keyStore) current() signingKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keys[len(s.keys)-1]
}

// published are the keys the JWKS shows, oldest first.
func (s *keyStore) published() []signingKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]signingKey(nil), s.keys...)
}

// rotate makes a new key the signing key, keeps the previous one published and drops older ones; with a key file
// the new set is on disk before any token is signed with the new key.
func (s *keyStore) rotate() (signingKey, error) {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	k, err := newSigningKey()
	if err != nil {
		return signingKey{}, err
	}
	next := append(s.published(), k)
	if len(next) > maxPublished {
		next = next[len(next)-maxPublished:]
	}
	if s.file != "" {
		if err := s.persist(next); err != nil {
			return signingKey{}, err
		}
	}
	s.mu.Lock()
	s.keys = next
	s.mu.Unlock()
	return k, nil
}

// persist writes keys as PKCS#8 PEM blocks, oldest first.
func (s *keyStore) persist(keys []signingKey) error {
	var buf bytes.Buffer
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return fmt.Errorf("encode key %s: %w", k.kid, err)
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			return fmt.Errorf("encode key %s: %w", k.kid, err)
		}
	}
	if err := writeFileAtomic(s.file, buf.Bytes()); err != nil {
		return fmt.Errorf("write key file (--key-file) %s: %w", s.file, err)
	}
	return nil
}

// decodeKeys parses the PEM blocks of a key file; anything else in it is an error, so a damaged file is noticed.
func decodeKeys(data []byte) ([]signingKey, error) {
	var keys []signingKey
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("PEM block %d is %q, want \"PRIVATE KEY\" (PKCS#8)", len(keys)+1, block.Type)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", len(keys)+1, err)
		}
		priv, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PEM block %d is a %T, want an RSA key", len(keys)+1, parsed)
		}
		if priv.N.BitLen() < keyBits {
			return nil, fmt.Errorf("PEM block %d is a %d-bit RSA key, want at least %d bits", len(keys)+1, priv.N.BitLen(), keyBits)
		}
		keys = append(keys, signingKey{kid: thumbprint(&priv.PublicKey), priv: priv})
	}
	switch {
	case bytes.Contains(rest, []byte("-----BEGIN")):
		return nil, fmt.Errorf("PEM block %d is incomplete (truncated?)", len(keys)+1)
	case len(keys) == 0:
		return nil, errors.New("no PEM \"PRIVATE KEY\" block found")
	case len(bytes.TrimSpace(rest)) > 0:
		return nil, fmt.Errorf("unexpected data after PEM block %d (edited?)", len(keys))
	}
	return keys, nil
}

// writeFileAtomic replaces path with data so that a crash at any point leaves either the old or the new content:
// a temporary file in the same directory, written, synced and renamed over path, then the directory synced.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { //nolint:gosec // the directory of the operator's key file
		_ = d.Sync() // best effort: some filesystems cannot sync a directory
		_ = d.Close()
	}
	return nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an RSA public key, base64url: a stable kid across restarts.
func thumbprint(pub *rsa.PublicKey) string {
	// Members in lexicographic order, no whitespace, as RFC 7638 §3 requires.
	canonical := `{"e":"` + b64(big.NewInt(int64(pub.E)).Bytes()) + `","kty":"RSA","n":"` + b64(pub.N.Bytes()) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return b64(sum[:])
}

// jwk is the public JSON Web Key of k as the JWKS publishes it.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (k signingKey) jwk() jwk {
	pub := k.priv.PublicKey
	return jwk{Kty: "RSA", Use: "sig", Alg: "RS256", Kid: k.kid, N: b64(pub.N.Bytes()), E: b64(big.NewInt(int64(pub.E)).Bytes())}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
