package auth

import (
	"context"
	"crypto/rsa"
	"sync"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
)

// minRSABits refuses keys too weak to trust; Auth0 and the stand-in tenant publish 2048-bit keys.
const minRSABits = 2048

// verifyKey is one parsed JWKS entry. A known kid whose key is unusable (not RSA, wrong alg/use, too short) keeps
// an entry with pub nil, so tokens naming it are rejected without triggering refetches.
type verifyKey struct {
	pub *rsa.PublicKey
}

// keySet is the jwkset storage behind keyfunc. It keeps the library's memory storage and, each time a fetch
// replaces the keys, publishes an immutable kid→key snapshot that the hot path reads without locks.
type keySet struct {
	*jwkset.MemoryJWKSet
	mu       sync.Mutex // serialises replacements from the refresh goroutine and unknown-kid refetches
	snap     atomic.Pointer[map[string]verifyKey]
	onChange func(ctx context.Context, old, cur map[string]verifyKey)
}

func newKeySet(onChange func(ctx context.Context, old, cur map[string]verifyKey)) *keySet {
	return &keySet{MemoryJWKSet: jwkset.NewMemoryStorage(), onChange: onChange}
}

// KeyReplaceAll is called by jwkset after every successful fetch and parse of the JWKS.
func (k *keySet) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	var oldMap map[string]verifyKey
	if old := k.snap.Load(); old != nil {
		oldMap = *old
	}
	cur := make(map[string]verifyKey, len(given))
	for _, j := range given {
		m := j.Marshal()
		if m.KID == "" {
			continue
		}
		vk := verifyKey{pub: usableRSA(j.Key(), string(m.ALG), string(m.USE))}
		// Keep the previous pointer for an unchanged key, so cached validations can be checked by identity.
		if was, ok := oldMap[m.KID]; ok && was.pub != nil && vk.pub != nil && was.pub.Equal(vk.pub) {
			vk = was
		}
		cur[m.KID] = vk
	}
	k.snap.Store(&cur)
	if k.onChange != nil {
		k.onChange(ctx, oldMap, cur)
	}
	return nil
}

// KeyRead is what keyfunc reads after an unknown-kid refetch: a kid known to name an unusable key is refused here,
// so keyfunc never hands it out.
func (k *keySet) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	if vk, ok := k.lookup(kid); ok && vk.pub == nil {
		return jwkset.JWK{}, errBadKey
	}
	return k.MemoryJWKSet.KeyRead(ctx, kid)
}

// usableRSA returns the RSA public key if it may verify RS256 signatures, else nil.
func usableRSA(key any, alg, use string) *rsa.PublicKey {
	if (alg != "" && alg != "RS256") || (use != "" && use != "sig") {
		return nil
	}
	var pub *rsa.PublicKey
	switch k := key.(type) {
	case *rsa.PublicKey:
		pub = k
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	default:
		return nil
	}
	if pub.N == nil || pub.N.BitLen() < minRSABits {
		return nil
	}
	return pub
}

// loaded reports whether any JWKS fetch has succeeded.
func (k *keySet) loaded() bool { return k.snap.Load() != nil }

// lookup finds kid in the current snapshot.
func (k *keySet) lookup(kid string) (verifyKey, bool) {
	p := k.snap.Load()
	if p == nil {
		return verifyKey{}, false
	}
	vk, ok := (*p)[kid]
	return vk, ok
}
