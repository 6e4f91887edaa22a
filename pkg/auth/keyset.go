package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/MicahParks/jwkset"
)

// minRSABits refuses keys too weak to trust; Auth0 and the stand-in tenant publish 2048-bit keys.
const minRSABits = 2048

// verifyKey is one kid of the key set. A known kid whose key is unusable (not RSA, wrong alg/use/key_ops, too
// short, ambiguous) keeps an entry with pub nil, so tokens naming it are rejected without triggering refetches.
type verifyKey struct {
	kid string // the snapshot's own copy, which cached claims share instead of each token's decoded copy
	pub *rsa.PublicKey
	jwk *jwkset.JWK // what keyfunc reads; its Key() is pub, so the cache can compare keys by identity
}

// errReadOnly refuses writes to the key set: only a fetch of the issuer's JWKS changes it.
var errReadOnly = errors.New("auth: the key set is read-only; it changes only by fetching the issuer's JWKS")

// keySet is the jwkset storage behind keyfunc. Each fetch replaces an immutable kid→key snapshot that the hot path
// reads without locks; KeyRead, what keyfunc calls for a kid not in the snapshot, waits (boundedly) for an
// unknown-kid refetch before answering.
type keySet struct {
	mu       sync.Mutex // serialises replacements
	snap     atomic.Pointer[map[string]verifyKey]
	onChange func(ctx context.Context, old, cur map[string]verifyKey)
	refetch  func(ctx context.Context) // waits for an unknown-kid refetch, at most a second; nil: none
	log      *slog.Logger
	problems string // the last fetch's skipped entries, so an unchanged JWKS is not logged again every refresh
}

var _ jwkset.Storage = (*keySet)(nil)

func newKeySet(log *slog.Logger, onChange func(ctx context.Context, old, cur map[string]verifyKey)) *keySet {
	return &keySet{log: log, onChange: onChange}
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

// KeyRead is what keyfunc reads: the snapshot's key for kid, after an unknown-kid refetch if kid is not there. A
// kid known to name an unusable key is refused, so keyfunc never hands it out.
func (k *keySet) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	vk, ok := k.lookup(kid)
	if !ok && k.refetch != nil {
		k.refetch(ctx)
		vk, ok = k.lookup(kid)
	}
	switch {
	case !ok:
		return jwkset.JWK{}, fmt.Errorf("%w: kid %q", jwkset.ErrKeyNotFound, kid)
	case vk.pub == nil:
		return jwkset.JWK{}, errBadKey
	}
	return *vk.jwk, nil
}

// KeyReadAll returns the usable keys.
func (k *keySet) KeyReadAll(context.Context) ([]jwkset.JWK, error) {
	p := k.snap.Load()
	if p == nil {
		return nil, nil
	}
	out := make([]jwkset.JWK, 0, len(*p))
	for _, vk := range *p {
		if vk.pub != nil {
			out = append(out, *vk.jwk)
		}
	}
	return out, nil
}

// KeyReplaceAll publishes already-parsed keys as the new snapshot (see replace for a fetched document).
func (k *keySet) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	entries := make([]entry, 0, len(given))
	for _, j := range given {
		entries = append(entries, entry{jwk: j, marshal: j.Marshal()})
	}
	k.publish(ctx, entries, nil)
	return nil
}

// KeyWrite is refused: only a fetch changes the key set.
func (k *keySet) KeyWrite(context.Context, jwkset.JWK) error { return errReadOnly }

// KeyDelete is refused: only a fetch changes the key set.
func (k *keySet) KeyDelete(context.Context, string) (bool, error) { return false, errReadOnly }

// memory copies the usable keys into jwkset's memory storage, for the JSON and Marshal views.
func (k *keySet) memory(ctx context.Context) *jwkset.MemoryJWKSet {
	m := jwkset.NewMemoryStorage()
	keys, _ := k.KeyReadAll(ctx)
	_ = m.KeyReplaceAll(ctx, keys)
	return m
}

// JSON is the usable keys as a JWK Set.
func (k *keySet) JSON(ctx context.Context) (json.RawMessage, error) { return k.memory(ctx).JSON(ctx) }

// JSONPublic is the usable keys as a JWK Set (they are public keys only).
func (k *keySet) JSONPublic(ctx context.Context) (json.RawMessage, error) {
	return k.memory(ctx).JSONPublic(ctx)
}

// JSONPrivate is the same as JSONPublic: private parts are dropped when a JWKS is parsed.
func (k *keySet) JSONPrivate(ctx context.Context) (json.RawMessage, error) {
	return k.memory(ctx).JSONPrivate(ctx)
}

// JSONWithOptions is jwkset's view of the usable keys.
func (k *keySet) JSONWithOptions(ctx context.Context, m jwkset.JWKMarshalOptions, v jwkset.JWKValidateOptions) (json.RawMessage, error) {
	return k.memory(ctx).JSONWithOptions(ctx, m, v)
}

// Marshal is jwkset's view of the usable keys.
func (k *keySet) Marshal(ctx context.Context) (jwkset.JWKSMarshal, error) {
	return k.memory(ctx).Marshal(ctx)
}

// MarshalWithOptions is jwkset's view of the usable keys.
func (k *keySet) MarshalWithOptions(ctx context.Context, m jwkset.JWKMarshalOptions, v jwkset.JWKValidateOptions) (jwkset.JWKSMarshal, error) {
	return k.memory(ctx).MarshalWithOptions(ctx, m, v)
}

// entry is one JWKS member after parsing: the JWK, its metadata, or why it was skipped.
type entry struct {
	jwk     jwkset.JWK
	marshal jwkset.JWKMarshal
}

// replace parses a fetched JWKS document key by key and publishes the result. Only a document that is not a JWK
// Set at all fails; a malformed member (bad n, e=1, junk x5c, an EC point off its curve, …) is skipped and logged,
// so one bad key never takes the issuer's good keys down with it.
func (k *keySet) replace(ctx context.Context, body []byte) error {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("JWKS is not a JSON Web Key Set: %w", err)
	}
	var problems []string
	entries := make([]entry, 0, len(doc.Keys))
	for i, raw := range doc.Keys {
		e, problem := parseEntry(raw)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("key %d (kid %q): %s", i, truncate(e.marshal.KID), problem))
		}
		if e.marshal.KID != "" {
			// A bad member keeps its kid with no usable key, so tokens naming it fail fast without refetches.
			entries = append(entries, e)
		}
	}
	k.publish(ctx, entries, problems)
	return nil
}

// parseEntry parses one JWKS member with jwkset. Private parts are reported and stripped before parsing: a
// verifier needs only the public key, and a JWKS that publishes private ones is a leak the operator must hear of.
func parseEntry(raw json.RawMessage) (entry, string) {
	var m jwkset.JWKMarshal
	if err := json.Unmarshal(raw, &m); err != nil {
		return entry{}, "not a JSON Web Key: " + err.Error()
	}
	warning := ""
	if m.D != "" || m.P != "" || m.Q != "" || m.DP != "" || m.DQ != "" || m.QI != "" || len(m.OTH) > 0 || m.K != "" {
		warning = "warning: the JWKS publishes private key material for this key; rotate it at the issuer"
		m.D, m.P, m.Q, m.DP, m.DQ, m.QI, m.OTH, m.K = "", "", "", "", "", "", nil, ""
	}
	if m.KID == "" {
		return entry{marshal: m}, "no kid: tokens could never name it"
	}
	j, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	if err != nil {
		if warning != "" && m.KTY == jwkset.KtyOct {
			return entry{marshal: m}, warning
		}
		return entry{marshal: m}, "skipped: " + err.Error()
	}
	return entry{jwk: j, marshal: j.Marshal()}, warning
}

// publish builds and stores the snapshot. Keys that jwkset parsed but that cannot verify RS256 keep a nil entry.
// A kid carried by several different keys is ambiguous and refused: which key a token meant cannot be known.
func (k *keySet) publish(ctx context.Context, entries []entry, problems []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var oldMap map[string]verifyKey
	if old := k.snap.Load(); old != nil {
		oldMap = *old
	}
	cur := make(map[string]verifyKey, len(entries))
	ambiguous := map[string]bool{}
	for _, e := range entries {
		j := e.jwk
		vk := verifyKey{kid: e.marshal.KID, pub: usableJWK(j.Key(), e.marshal), jwk: &j}
		if why := weakRSA(j.Key()); why != "" {
			problems = append(problems, fmt.Sprintf("kid %q: %s", truncate(e.marshal.KID), why))
		}
		if prev, dup := cur[e.marshal.KID]; dup {
			if prev.pub == nil || vk.pub == nil || !prev.pub.Equal(vk.pub) {
				ambiguous[e.marshal.KID] = true
			}
			continue
		}
		// Keep the previous pointers for an unchanged key, so cached validations can be checked by identity.
		if was, ok := oldMap[e.marshal.KID]; ok && was.pub != nil && vk.pub != nil && was.pub.Equal(vk.pub) {
			vk = was
		}
		cur[e.marshal.KID] = vk
	}
	for kid := range ambiguous {
		cur[kid] = verifyKey{}
		problems = append(problems, fmt.Sprintf("kid %q: several different keys share it; tokens naming it are refused", truncate(kid)))
	}
	if p := strings.Join(problems, "; "); p != k.problems {
		k.problems = p
		for _, msg := range problems {
			k.log.Warn("JWKS entry not used as published", "problem", msg)
		}
	}
	k.snap.Store(&cur)
	if k.onChange != nil {
		k.onChange(ctx, oldMap, cur)
	}
}

// usableJWK returns the RSA public key if the JWK may verify RS256 signatures: alg absent or RS256, use absent or
// sig, key_ops absent or including verify; else nil.
func usableJWK(key any, m jwkset.JWKMarshal) *rsa.PublicKey {
	if (m.ALG != "" && m.ALG != jwkset.AlgRS256) || (m.USE != "" && m.USE != jwkset.UseSig) {
		return nil
	}
	if len(m.KEYOPS) > 0 && !slices.Contains(m.KEYOPS, jwkset.KeyOpsVerify) {
		return nil
	}
	return usableRSA(key)
}

// weakRSA says why an RSA key is refused as too weak or broken, or "" (also for keys that are not RSA at all).
func weakRSA(key any) string {
	if usableRSA(key) != nil {
		return ""
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N == nil || k.N.BitLen() < minRSABits {
			return fmt.Sprintf("RSA key shorter than %d bits; skipped", minRSABits)
		}
		return fmt.Sprintf("RSA exponent %d is not a usable public exponent; skipped", k.E)
	}
	return ""
}

// usableRSA returns the RSA public key if it is one strong enough to trust, else nil.
func usableRSA(key any) *rsa.PublicKey {
	var pub *rsa.PublicKey
	switch k := key.(type) {
	case *rsa.PublicKey:
		pub = k
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	default:
		return nil
	}
	// e must be odd and at least 3: e=1 makes "signatures" trivially forgeable, even e is not an RSA key.
	if pub == nil || pub.N == nil || pub.N.BitLen() < minRSABits || pub.E < 3 || pub.E%2 == 0 {
		return nil
	}
	return pub
}
