package dpop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

var (
	keysOnce sync.Once
	ecKey    *ecdsa.PrivateKey
	ec384Key *ecdsa.PrivateKey
	otherEC  *ecdsa.PrivateKey
	rsaKey   *rsa.PrivateKey
	rsa1024  *rsa.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil && err == nil {
				err = e
			}
		}
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		var e error
		ec384Key, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(e)
		otherEC, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(e)
		rsaKey, e = rsa.GenerateKey(rand.Reader, 2048)
		must(e)
		rsa1024, e = rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // deliberately weak: the verifier must refuse it
		must(e)
		if err != nil {
			panic(err)
		}
	})
}

func newSigner(t testing.TB, key crypto.Signer, opts ...dpop.SignerOption) *dpop.Signer {
	t.Helper()
	s, err := dpop.NewSigner(key, append([]dpop.SignerOption{dpop.WithSignerClock(func() time.Time { return now })}, opts...)...)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

// craft signs arbitrary header and claims with golang-jwt, for proofs a Signer would never make.
func craft(t testing.TB, method jwt.SigningMethod, key any, header, claims map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
			continue
		}
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("craft: %v", err)
	}
	return s
}

const (
	testURL   = "https://api.example.com/api/private"
	testToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func newVerifier(algs ...string) *dpop.Verifier {
	return dpop.NewVerifier(dpop.VerifierOptions{Algs: algs, Now: func() time.Time { return now }})
}

func TestVerify(t *testing.T) {
	keys(t)
	es := newSigner(t, ecKey)
	rs := newSigner(t, rsaKey)
	ps := newSigner(t, rsaKey, dpop.WithAlg("PS256"))
	es384 := newSigner(t, ec384Key)
	iat := now.Unix()
	good := func() map[string]any {
		return map[string]any{"jti": "j-" + rand.Text(), "htm": "GET", "htu": testURL, "iat": iat, "ath": dpop.ATH(testToken)}
	}
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hdr := func(jwk any) map[string]any { return map[string]any{"typ": "dpop+jwt", "jwk": jwk} }
	ecJWK := es.PublicJWK()
	privJWK := es.PublicJWK()
	rawPriv, err := ecKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	privJWK["d"] = b64(rawPriv)
	weak := newSignerNoCheck(t, rsa1024)

	tests := []struct {
		name   string
		proof  func() string
		method string
		url    string
		token  string
		algs   []string
		want   error
	}{
		{name: "ES256 ok", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }},
		{name: "RS256 ok", proof: func() string { return mustProof(t, rs, "GET", testURL, testToken) }},
		{name: "PS256 ok", proof: func() string { return mustProof(t, ps, "GET", testURL, testToken) }},
		{name: "ES384 ok when allowed", algs: []string{"ES384"}, proof: func() string { return mustProof(t, es384, "GET", testURL, testToken) }},
		{name: "ES384 refused by default", proof: func() string { return mustProof(t, es384, "GET", testURL, testToken) }, want: dpop.ErrAlg},
		{name: "no token, no ath needed", token: "-", proof: func() string { return mustProof(t, es, "GET", testURL, "") }},
		{name: "proof url query ignored", proof: func() string { return mustProof(t, es, "GET", testURL+"?a=1#f", testToken) }},
		{name: "request url query ignored", url: testURL + "?x=y", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }},
		{name: "scheme host case and default port", url: "HTTPS://API.Example.COM:443/api/private", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }},
		{name: "unreserved percent-encoding", url: "https://api.example.com/api/%70rivate", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }},
		{name: "other path", url: "https://api.example.com/api/public", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }, want: dpop.ErrURL},
		{name: "other host", url: "https://evil.example.com/api/private", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }, want: dpop.ErrURL},
		{name: "other port", url: "https://api.example.com:8443/api/private", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }, want: dpop.ErrURL},
		{name: "other scheme", url: "http://api.example.com/api/private", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }, want: dpop.ErrURL},
		{name: "encoded slash is not a slash", url: "https://api.example.com/api%2Fprivate", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }, want: dpop.ErrURL},
		{name: "htu relative", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("htu", "/api/private")) }, want: dpop.ErrURL},
		{name: "htu missing", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("htu", nil)) }, want: dpop.ErrURL},
		{name: "htu with userinfo", proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("htu", "https://u@api.example.com/api/private"))
		}, want: dpop.ErrURL},
		{name: "htm other method", method: "POST", proof: func() string { return mustProof(t, es, "GET", testURL, testToken) }, want: dpop.ErrMethod},
		{name: "htm lower case", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("htm", "get")) }, want: dpop.ErrMethod},
		{name: "ath missing", proof: func() string { return mustProof(t, es, "GET", testURL, "") }, want: dpop.ErrATH},
		{name: "ath of other token", proof: func() string { return mustProof(t, es, "GET", testURL, "other") }, want: dpop.ErrATH},
		{name: "typ missing", proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": nil, "jwk": ecJWK}, good())
		}, want: dpop.ErrType},
		{name: "typ JWT", proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "JWT", "jwk": ecJWK}, good())
		}, want: dpop.ErrType},
		{name: "typ upper case accepted", proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "DPoP+JWT", "jwk": ecJWK}, good())
		}},
		{name: "alg none", proof: func() string {
			return craft(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, hdr(ecJWK), good())
		}, want: dpop.ErrAlg},
		{name: "alg HS256 with the jwk as secret", proof: func() string {
			return craft(t, jwt.SigningMethodHS256, []byte("secret"), hdr(map[string]any{"kty": "oct", "k": "c2VjcmV0"}), good())
		}, want: dpop.ErrAlg},
		{name: "alg HS256 allowed list cannot add it", algs: []string{"HS256"}, proof: func() string {
			return craft(t, jwt.SigningMethodHS256, []byte("secret"), hdr(ecJWK), good())
		}, want: dpop.ErrAlg},
		{name: "alg RS256 with EC jwk", proof: func() string {
			return craft(t, jwt.SigningMethodRS256, rsaKey, hdr(ecJWK), good())
		}, want: dpop.ErrAlg},
		{name: "alg ES256 with P-384 jwk", algs: []string{"ES256", "ES384"}, proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, hdr(es384.PublicJWK()), good())
		}, want: dpop.ErrAlg},
		{name: "jwk missing", proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "dpop+jwt"}, good())
		}, want: dpop.ErrKey},
		{name: "jwk private d", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(privJWK), good()) }, want: dpop.ErrKey},
		{name: "jwk private RSA members", proof: func() string {
			j := rs.PublicJWK()
			j["p"] = "AQAB"
			return craft(t, jwt.SigningMethodRS256, rsaKey, hdr(j), good())
		}, want: dpop.ErrKey},
		{name: "jwk not an object", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr("key"), good()) }, want: dpop.ErrKey},
		{name: "jwk point off curve", proof: func() string {
			j := es.PublicJWK()
			j["y"] = j["x"]
			return craft(t, jwt.SigningMethodES256, ecKey, hdr(j), good())
		}, want: dpop.ErrKey},
		{name: "jwk RSA 1024 bits", proof: func() string { return craft(t, jwt.SigningMethodRS256, rsa1024, hdr(weak), good()) }, want: dpop.ErrKey},
		{name: "signature by another key", proof: func() string { return craft(t, jwt.SigningMethodES256, otherEC, hdr(ecJWK), good()) }, want: dpop.ErrSignature},
		{name: "signature altered", proof: func() string {
			p := mustProof(t, es, "GET", testURL, testToken)
			i := strings.LastIndexByte(p, '.') + 5
			c := byte('A')
			if p[i] == 'A' {
				c = 'B'
			}
			return p[:i] + string(c) + p[i+1:]
		}, want: dpop.ErrSignature},
		{name: "iat too old", proof: func() string {
			return mustProof(t, es, "GET", testURL, testToken, dpop.WithIssuedAt(now.Add(-61*time.Second)))
		}, want: dpop.ErrIssuedAt},
		{name: "iat at window edge ok", proof: func() string {
			return mustProof(t, es, "GET", testURL, testToken, dpop.WithIssuedAt(now.Add(-60*time.Second)))
		}},
		{name: "iat within future leeway ok", proof: func() string {
			return mustProof(t, es, "GET", testURL, testToken, dpop.WithIssuedAt(now.Add(5*time.Second)))
		}},
		{name: "iat beyond future leeway", proof: func() string {
			return mustProof(t, es, "GET", testURL, testToken, dpop.WithIssuedAt(now.Add(6*time.Second)))
		}, want: dpop.ErrIssuedAt},
		{name: "iat missing", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("iat", nil)) }, want: dpop.ErrIssuedAt},
		{name: "iat a string", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("iat", "now")) }, want: dpop.ErrMalformed},
		{name: "jti missing", proof: func() string { return craft(t, jwt.SigningMethodES256, ecKey, hdr(ecJWK), with("jti", nil)) }, want: dpop.ErrReplay},
		{name: "crit header", proof: func() string {
			return craft(t, jwt.SigningMethodES256, ecKey, map[string]any{"typ": "dpop+jwt", "jwk": ecJWK, "crit": []string{"x"}}, good())
		}, want: dpop.ErrMalformed},
		{name: "empty", proof: func() string { return "" }, want: dpop.ErrMissing},
		{name: "two segments", proof: func() string { return "a.b" }, want: dpop.ErrMalformed},
		{name: "header not base64url", proof: func() string { return "!!!.e30.c2ln" }, want: dpop.ErrMalformed},
		{name: "header not JSON", proof: func() string { return b64([]byte("nope")) + ".e30.c2ln" }, want: dpop.ErrMalformed},
		{name: "two proofs joined", proof: func() string {
			return mustProof(t, es, "GET", testURL, testToken) + ", " + mustProof(t, es, "GET", testURL, testToken)
		}, want: dpop.ErrMalformed},
		{name: "too long", proof: func() string { return strings.Repeat("a", 9000) + ".b.c" }, want: dpop.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(tc.algs...)
			method, url, token := tc.method, tc.url, tc.token
			if method == "" {
				method = "GET"
			}
			if url == "" {
				url = testURL
			}
			switch token {
			case "":
				token = testToken
			case "-":
				token = ""
			}
			p, err := v.Verify(tc.proof(), method, url, token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if p.JKT == "" || p.JTI == "" || p.Alg == "" || p.IssuedAt.IsZero() {
					t.Fatalf("incomplete proof result %+v", p)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", err, tc.want)
			}
			var de *dpop.Error
			if !errors.As(err, &de) || de.Reason == "" {
				t.Fatalf("error %v is not a *dpop.Error with a reason", err)
			}
		})
	}
}

func TestVerifyResultMatchesSigner(t *testing.T) {
	keys(t)
	for _, key := range []crypto.Signer{ecKey, ec384Key, rsaKey} {
		s := newSigner(t, key)
		tp, err := dpop.Thumbprint(key.Public())
		if err != nil || tp != s.Thumbprint() {
			t.Fatalf("Thumbprint = %q, %v; signer says %q", tp, err, s.Thumbprint())
		}
		v := newVerifier("ES256", "ES384", "RS256")
		p, err := v.Verify(mustProof(t, s, "POST", "https://t.example/oauth/token", "", dpop.WithJTI("abc"), dpop.WithNonce("n1")), "POST", "https://t.example/oauth/token", "")
		if err != nil {
			t.Fatalf("%s: %v", s.Alg(), err)
		}
		if p.JKT != s.Thumbprint() || p.JTI != "abc" || p.Alg != s.Alg() || p.Nonce != "n1" || !p.IssuedAt.Equal(now) {
			t.Fatalf("%s: proof %+v, signer jkt %s", s.Alg(), p, s.Thumbprint())
		}
	}
}

// TestThumbprintRFC7638 checks the example of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	pub := &rsa.PublicKey{N: bigFromB64(t, n), E: 65537}
	got, err := dpop.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("Thumbprint = %s, want %s", got, want)
	}
	if _, err := dpop.Thumbprint("not a key"); !errors.Is(err, dpop.ErrKey) {
		t.Fatalf("Thumbprint(string) error = %v, want ErrKey", err)
	}
}

func TestReplay(t *testing.T) {
	keys(t)
	s := newSigner(t, ecKey)
	v := newVerifier()
	p := mustProof(t, s, "GET", testURL, testToken)
	if _, err := v.Verify(p, "GET", testURL, testToken); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := v.Verify(p, "GET", testURL, testToken); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("second use error = %v, want ErrReplay", err)
	}
	// Same jti with a new iat is still a reuse of the jti within the window.
	p2 := mustProof(t, s, "GET", testURL, testToken, dpop.WithJTI("fixed"))
	p3 := mustProof(t, s, "GET", testURL, testToken, dpop.WithJTI("fixed"), dpop.WithIssuedAt(now.Add(-2*time.Second)))
	if _, err := v.Verify(p2, "GET", testURL, testToken); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(p3, "GET", testURL, testToken); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("reused jti error = %v, want ErrReplay", err)
	}
	// Another key may use the same jti: the cache is scoped by thumbprint.
	o := newSigner(t, otherEC)
	if _, err := v.Verify(mustProof(t, o, "GET", testURL, testToken, dpop.WithJTI("fixed")), "GET", testURL, testToken); err != nil {
		t.Fatalf("other key, same jti: %v", err)
	}
	// A proof that fails a check is not recorded, so the honest retry is not refused as a replay.
	bad := mustProof(t, s, "GET", testURL, testToken, dpop.WithJTI("retry"))
	if _, err := v.Verify(bad, "POST", testURL, testToken); !errors.Is(err, dpop.ErrMethod) {
		t.Fatalf("wrong method error = %v", err)
	}
	if _, err := v.Verify(mustProof(t, s, "POST", testURL, testToken, dpop.WithJTI("retry")), "POST", testURL, testToken); err != nil {
		t.Fatalf("retry after a failed check: %v", err)
	}
}

// TestReplayCacheFull checks the cap: the oldest second is evicted and becomes a floor, so an evicted proof is
// refused rather than accepted a second time, while fresh proofs still pass.
func TestReplayCacheFull(t *testing.T) {
	keys(t)
	s := newSigner(t, ecKey)
	clock := now
	v := dpop.NewVerifier(dpop.VerifierOptions{MaxReplayEntries: 3, Now: func() time.Time { return clock }})
	old := mustProof(t, s, "GET", testURL, "", dpop.WithIssuedAt(now.Add(-10*time.Second)))
	if _, err := v.Verify(old, "GET", testURL, ""); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := v.Verify(mustProof(t, s, "GET", testURL, "", dpop.WithIssuedAt(now.Add(time.Duration(i-3)*time.Second))), "GET", testURL, ""); err != nil {
			t.Fatalf("fresh proof %d: %v", i, err)
		}
	}
	if _, err := v.Verify(old, "GET", testURL, ""); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("evicted proof replayed: error = %v, want ErrReplay", err)
	}
	older := mustProof(t, s, "GET", testURL, "", dpop.WithIssuedAt(now.Add(-20*time.Second)))
	if _, err := v.Verify(older, "GET", testURL, ""); !errors.Is(err, dpop.ErrReplay) {
		t.Fatalf("proof below the floor: error = %v, want ErrReplay", err)
	}
	if _, err := v.Verify(mustProof(t, s, "GET", testURL, ""), "GET", testURL, ""); err != nil {
		t.Fatalf("fresh proof after eviction: %v", err)
	}
	// Time passes: entries expire with the window and the cache has room again.
	clock = now.Add(2 * time.Minute)
	for i := range 3 {
		if _, err := v.Verify(mustProof(t, s, "GET", testURL, "", dpop.WithIssuedAt(clock)), "GET", testURL, ""); err != nil {
			t.Fatalf("after expiry %d: %v", i, err)
		}
	}
}

func TestNewSigner(t *testing.T) {
	keys(t)
	tests := []struct {
		name string
		key  crypto.Signer
		opts []dpop.SignerOption
		alg  string
		want error
	}{
		{name: "P-256", key: ecKey, alg: "ES256"},
		{name: "P-384", key: ec384Key, alg: "ES384"},
		{name: "RSA default", key: rsaKey, alg: "RS256"},
		{name: "RSA PS256", key: rsaKey, opts: []dpop.SignerOption{dpop.WithAlg("PS256")}, alg: "PS256"},
		{name: "RSA with ES256", key: rsaKey, opts: []dpop.SignerOption{dpop.WithAlg("ES256")}, want: dpop.ErrAlg},
		{name: "RSA with HS256", key: rsaKey, opts: []dpop.SignerOption{dpop.WithAlg("HS256")}, want: dpop.ErrAlg},
		{name: "EC with ES384", key: ecKey, opts: []dpop.SignerOption{dpop.WithAlg("ES384")}, want: dpop.ErrAlg},
		{name: "nil", key: (*ecdsa.PrivateKey)(nil), want: dpop.ErrKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := dpop.NewSigner(tc.key, tc.opts...)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || s.Alg() != tc.alg {
				t.Fatalf("NewSigner = %v, %v; want alg %s", s, err, tc.alg)
			}
			for _, m := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := s.PublicJWK()[m]; ok {
					t.Fatalf("public jwk carries %s", m)
				}
			}
		})
	}
}

func TestProofURL(t *testing.T) {
	keys(t)
	s := newSigner(t, ecKey)
	for _, bad := range []string{"", "/relative", "://x", "mailto:a@b"} {
		if _, err := s.Proof("GET", bad, ""); !errors.Is(err, dpop.ErrURL) {
			t.Errorf("Proof(%q) error = %v, want ErrURL", bad, err)
		}
	}
	p := mustProof(t, s, "GET", "https://a.example/x?q=secret#frag", "")
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(p, claims); err != nil {
		t.Fatal(err)
	}
	if claims["htu"] != "https://a.example/x" {
		t.Fatalf("htu = %v, want query and fragment stripped", claims["htu"])
	}
}
