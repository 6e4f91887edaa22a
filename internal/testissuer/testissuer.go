// Package testissuer is a minimal OIDC issuer for tests: a real RSA key set served over httptest with discovery,
// and helpers to sign tokens with any header and claims. It lets packages test token validation through real HTTP
// without depending on the stand-in tenant.
package testissuer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/jwk"
	"github.com/tokencheck/tokencheck/internal/local"
)

// Audience is the audience tokens get unless a test overrides it.
const Audience = local.Audience

// Key is one RSA signing key with its key id.
type Key struct {
	ID      string
	Private *rsa.PrivateKey
}

// NewKey generates an RSA-2048 key with the given kid, failing the test on error.
func NewKey(tb testing.TB, kid string) Key {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("generate RSA key: %v", err)
	}
	return Key{ID: kid, Private: k}
}

// JWK is the public JSON Web Key of k, as a JWKS publishes it.
func (k Key) JWK() map[string]any {
	out, err := jwk.RSAPublic(&k.Private.PublicKey, k.ID)
	if err != nil {
		panic(err) // a generated 2048-bit key always encodes
	}
	return out
}

// Issuer serves discovery and a JWKS on a loopback httptest server.
type Issuer struct {
	Server *httptest.Server
	// URL is the issuer identifier: the server URL with a trailing slash, as Auth0 writes iss.
	URL string

	mu        sync.Mutex
	published []Key // keys in the JWKS
	signing   Key   // key Sign uses
	down      bool
	delay     time.Duration

	jwksHits      atomic.Int64
	discoveryHits atomic.Int64
}

// New starts an issuer with one key ("key-1") published and signing; it is closed with the test.
func New(tb testing.TB) *Issuer {
	tb.Helper()
	iss := &Issuer{}
	iss.signing = NewKey(tb, "key-1")
	iss.published = []Key{iss.signing}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", iss.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", iss.serveJWKS)
	iss.Server = httptest.NewServer(mux)
	iss.URL = iss.Server.URL + "/"
	tb.Cleanup(iss.Server.Close)
	return iss
}

func (iss *Issuer) gate(w http.ResponseWriter, r *http.Request) bool {
	iss.mu.Lock()
	down, delay := iss.down, iss.delay
	iss.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return false
		}
	}
	if down {
		http.Error(w, "tenant down", http.StatusServiceUnavailable)
		return false
	}
	return true
}

func (iss *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	iss.discoveryHits.Add(1)
	if !iss.gate(w, r) {
		return
	}
	writeJSON(w, map[string]any{
		"issuer":   iss.URL,
		"jwks_uri": iss.URL + ".well-known/jwks.json",
	})
}

func (iss *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	iss.jwksHits.Add(1)
	if !iss.gate(w, r) {
		return
	}
	iss.mu.Lock()
	keys := make([]map[string]any, 0, len(iss.published))
	for _, k := range iss.published {
		keys = append(keys, k.JWK())
	}
	iss.mu.Unlock()
	writeJSON(w, map[string]any{"keys": keys})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// JWKSURL is the key set's URL.
func (iss *Issuer) JWKSURL() string { return iss.URL + ".well-known/jwks.json" }

// JWKSHits counts JWKS requests served (or refused while down).
func (iss *Issuer) JWKSHits() int64 { return iss.jwksHits.Load() }

// DiscoveryHits counts discovery requests.
func (iss *Issuer) DiscoveryHits() int64 { return iss.discoveryHits.Load() }

// SetDown makes every endpoint answer 503 (true) or serve again (false).
func (iss *Issuer) SetDown(down bool) { iss.mu.Lock(); iss.down = down; iss.mu.Unlock() }

// SetDelay makes every endpoint wait d before answering.
func (iss *Issuer) SetDelay(d time.Duration) { iss.mu.Lock(); iss.delay = d; iss.mu.Unlock() }

// SigningKey is the key Sign uses.
func (iss *Issuer) SigningKey() Key { iss.mu.Lock(); defer iss.mu.Unlock(); return iss.signing }

// Rotate publishes a new key and signs with it from now on; the previous keys stay published.
func (iss *Issuer) Rotate(tb testing.TB, kid string) Key {
	tb.Helper()
	k := NewKey(tb, kid)
	iss.mu.Lock()
	iss.published = append(iss.published, k)
	iss.signing = k
	iss.mu.Unlock()
	return k
}

// Unpublish removes the key with kid from the JWKS (it can still sign, as a leaked or retired key would).
func (iss *Issuer) Unpublish(kid string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	kept := iss.published[:0]
	for _, k := range iss.published {
		if k.ID != kid {
			kept = append(kept, k)
		}
	}
	iss.published = kept
}

// Claims returns a normal access token's claims for this issuer: iss, sub, aud, iat, exp (1h), scope, azp, gty.
func (iss *Issuer) Claims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":   iss.URL,
		"sub":   "test-client@clients",
		"aud":   Audience,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"scope": "read:messages",
		"azp":   "test-client",
		"gty":   "client-credentials",
	}
}

// Token signs the normal claims with the current key, after applying edit (which may be nil) to the claims.
func (iss *Issuer) Token(tb testing.TB, edit func(claims map[string]any)) string {
	tb.Helper()
	claims := iss.Claims()
	if edit != nil {
		edit(claims)
	}
	k := iss.SigningKey()
	return Sign(tb, map[string]any{"alg": "RS256", "typ": "JWT", "kid": k.ID}, claims, k.Private)
}

// Sign builds a compact JWS with exactly the given header and claims, signed RS256 with key. The header's alg is
// written as given, so tests can produce tokens whose header lies about how they were signed.
func Sign(tb testing.TB, header, claims map[string]any, key *rsa.PrivateKey) string {
	tb.Helper()
	signingInput := Encode(tb, header) + "." + Encode(tb, claims)
	sum := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatalf("sign token: %v", err)
	}
	return signingInput + "." + b64(sig)
}

// Encode is the base64url (unpadded) JSON encoding of v, as JWT segments use.
func Encode(tb testing.TB, v any) string {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("encode %v: %v", v, err)
	}
	return b64(raw)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// String describes the issuer for test logs.
func (iss *Issuer) String() string { return fmt.Sprintf("testissuer(%s)", iss.URL) }
