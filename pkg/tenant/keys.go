package tenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"

	"github.com/MicahParks/jwkset"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// keyBits is the RSA modulus size of every key the tenant creates, as Auth0's tenants use.
const keyBits = 2048

// maxPublished is how many RSA keys have signed and stay in the JWKS: the signing key and the one it replaced, so
// tokens signed before a rotation keep validating until the next one. A staged next key comes on top of these.
const maxPublished = 2

// signingKey is one RSA key, its kid (the RFC 7638 thumbprint of its public part) and its JWKS entry, with the
// self-signed certificate the JWKS publishes as x5c.
type signingKey struct {
	kid  string
	priv *rsa.PrivateKey
	pub  jwkset.JWKMarshal // the JWKS entry with the certificate (x5c, x5t), made once when created or loaded
}

// ecKey is the tenant's P-256 key (--ec-key): it signs ES256 tokens minted on request, never /oauth/token's.
type ecKey struct {
	kid  string
	priv *ecdsa.PrivateKey
	pub  jwkset.JWKMarshal // the JWKS entry with the certificate (x5c, x5t), made once when created or loaded
}

// keySet is everything the key file holds; the store swaps whole sets so readers never see half a rotation.
type keySet struct {
	keys []signingKey // RSA keys that signed, oldest first; the last one signs
	next *signingKey  // staged: published before it signs, as Auth0 does
	ec   *ecKey       // kept in the file even when the tenant runs without Options.ECKey, so toggling it loses nothing
}

// keyStore holds the published keys. With a file they survive restarts.
type keyStore struct {
	file      string // "" keeps keys in memory only
	ecEnabled bool   // publish and sign with set.ec

	rotateMu sync.Mutex // serialises changes so the file and memory agree on the order
	mu       sync.RWMutex
	set      keySet
}

// openKeyStore is loadKeyStore without an EC key, the tenant's default.
func openKeyStore(file string) (*keyStore, error) { return loadKeyStore(file, false) }

// loadKeyStore is loadKeyStoreLogged without a logger.
func loadKeyStore(file string, withEC bool) (*keyStore, error) {
	return loadKeyStoreLogged(file, withEC, nil)
}

// loadKeyStoreLogged loads the keys in file, creating it with a fresh key when it does not exist; file "" means
// memory. withEC adds a P-256 key (created and persisted if the file has none). A file others may read loads with
// a warning on log naming the file and the fix: the keys sign every token.
func loadKeyStoreLogged(file string, withEC bool, log *slog.Logger) (*keyStore, error) {
	s := &keyStore{file: file, ecEnabled: withEC}
	var (
		set   keySet
		dirty bool // set differs from the file, which must be written before anything is signed
		data  []byte
		err   error
	)
	if file != "" {
		data, err = os.ReadFile(file) //nolint:gosec // the operator names the key file on purpose
	}
	switch {
	case file == "" || errors.Is(err, fs.ErrNotExist):
		k, err := newSigningKey()
		if err != nil {
			return nil, err
		}
		set.keys, dirty = []signingKey{k}, file != ""
	case err != nil:
		return nil, &KeyFileError{File: file, Op: KeyFileRead, Err: err}
	default:
		warnLooseMode(log, file)
		if set, err = decodeKeys(data); err != nil {
			return nil, &KeyFileError{File: file, Op: KeyFileRead, Err: err, Unusable: true, JSON: looksLikeJSON(data)}
		}
		if len(set.keys) > maxPublished {
			set.keys = set.keys[len(set.keys)-maxPublished:]
		}
	}
	if withEC && set.ec == nil {
		k, err := newECKey()
		if err != nil {
			return nil, err
		}
		set.ec, dirty = &k, dirty || file != ""
	}
	if dirty {
		if err := s.persist(set); err != nil {
			return nil, err
		}
	}
	s.set = set
	return s, nil
}

func newSigningKey() (signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return signingKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	return rsaSigningKey(priv)
}

// rsaSigningKey names priv by its thumbprint and makes its certificate.
func rsaSigningKey(priv *rsa.PrivateKey) (signingKey, error) {
	kid, err := dpop.Thumbprint(&priv.PublicKey)
	if err != nil {
		return signingKey{}, fmt.Errorf("name RSA key: %w", err)
	}
	cert, err := selfSignedCert(priv, kid)
	if err != nil {
		return signingKey{}, err
	}
	pub, err := publicJWK(&priv.PublicKey, jwkset.AlgRS256, kid, cert)
	if err != nil {
		return signingKey{}, err
	}
	return signingKey{kid: kid, priv: priv, pub: pub}, nil
}

func newECKey() (ecKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return ecKey{}, fmt.Errorf("generate P-256 key: %w", err)
	}
	return p256Key(priv)
}

// p256Key names priv by its thumbprint and makes its certificate.
func p256Key(priv *ecdsa.PrivateKey) (ecKey, error) {
	kid, err := dpop.Thumbprint(&priv.PublicKey)
	if err != nil {
		return ecKey{}, fmt.Errorf("name P-256 key: %w", err)
	}
	cert, err := selfSignedCert(priv, kid)
	if err != nil {
		return ecKey{}, err
	}
	pub, err := publicJWK(&priv.PublicKey, jwkset.AlgES256, kid, cert)
	if err != nil {
		return ecKey{}, err
	}
	return ecKey{kid: kid, priv: priv, pub: pub}, nil
}

// snapshot is the current key set; its slices are never modified in place.
func (s *keyStore) snapshot() keySet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.set
}

// current is the RSA key that signs new tokens.
func (s *keyStore) current() signingKey {
	set := s.snapshot()
	return set.keys[len(set.keys)-1]
}

// published are the RSA keys the JWKS shows, oldest first: the previous and current signers, then a staged key.
func (s *keyStore) published() []signingKey { return s.snapshot().published() }

func (set keySet) published() []signingKey {
	keys := append([]signingKey(nil), set.keys...)
	if set.next != nil {
		keys = append(keys, *set.next)
	}
	return keys
}

// staged is the next key, published but not yet signing, if /dev/rotate staged one.
func (s *keyStore) staged() (signingKey, bool) {
	set := s.snapshot()
	if set.next == nil {
		return signingKey{}, false
	}
	return *set.next, true
}

// ec is the P-256 key, if the tenant runs with one.
func (s *keyStore) ec() (ecKey, bool) { return s.ecOf(s.snapshot()) }

func (s *keyStore) ecOf(set keySet) (ecKey, bool) {
	if !s.ecEnabled || set.ec == nil {
		return ecKey{}, false
	}
	return *set.ec, true
}

// rotate makes the staged key the signing key, or a new key when none is staged; the previous signer stays
// published and older ones are dropped. With a key file the new set is on disk before any token is signed with
// the new key.
func (s *keyStore) rotate() (signingKey, error) {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	set := s.snapshot()
	var k signingKey
	if set.next != nil {
		k = *set.next
	} else {
		var err error
		if k, err = newSigningKey(); err != nil {
			return signingKey{}, err
		}
	}
	keys := append(append([]signingKey(nil), set.keys...), k)
	if len(keys) > maxPublished {
		keys = keys[len(keys)-maxPublished:]
	}
	if err := s.replace(keySet{keys: keys, ec: set.ec}); err != nil {
		return signingKey{}, err
	}
	return k, nil
}

// prepublish stages a new key: published in the JWKS at once, signing only after the next rotate, so verifiers
// that cache the JWKS already know it when it starts signing. A key already staged is kept and returned, so a
// repeated call never takes a published key back.
func (s *keyStore) prepublish() (signingKey, error) {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	set := s.snapshot()
	if set.next != nil {
		return *set.next, nil
	}
	k, err := newSigningKey()
	if err != nil {
		return signingKey{}, err
	}
	set.next = &k
	if err := s.replace(set); err != nil {
		return signingKey{}, err
	}
	return k, nil
}

// replace writes set to the key file (if any), then makes it the one served. Callers hold rotateMu.
func (s *keyStore) replace(set keySet) error {
	if s.file != "" {
		if err := s.persist(set); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
	return nil
}

// jwks is the public JSON Web Key of every published key: RSA oldest first, then the EC key.
func (s *keyStore) jwks() []jwkset.JWKMarshal { return s.jwksOf(s.snapshot()) }

func (s *keyStore) jwksOf(set keySet) []jwkset.JWKMarshal {
	keys := set.published()
	out := make([]jwkset.JWKMarshal, 0, len(keys)+1)
	for _, k := range keys {
		out = append(out, k.pub)
	}
	if ec, ok := s.ecOf(set); ok {
		out = append(out, ec.pub)
	}
	return out
}

// status is what /dev/rotate answers, read from one snapshot so a concurrent rotation cannot mix two states: the
// signing kid, the published kids in JWKS order and the staged kid ("" if none).
func (s *keyStore) status() (current string, published []string, next string) {
	set := s.snapshot()
	for _, k := range s.jwksOf(set) {
		published = append(published, k.KID)
	}
	if set.next != nil {
		next = set.next.kid
	}
	return set.keys[len(set.keys)-1].kid, published, next
}
