package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/tokencheck/tokencheck/internal/testissuer"
)

// rawToken assembles header.claims.signature from already-encoded parts.
func rawToken(tb testing.TB, header, claims map[string]any, sig []byte) string {
	tb.Helper()
	return testissuer.Encode(tb, header) + "." + testissuer.Encode(tb, claims) + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// hs256 signs header.claims with HMAC-SHA256 under secret, as an algorithm-confusion attacker would.
func hs256(tb testing.TB, header, claims map[string]any, secret []byte) string {
	tb.Helper()
	input := testissuer.Encode(tb, header) + "." + testissuer.Encode(tb, claims)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestValidateRules(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, func(c *Config) { c.CacheSize = 0 })
	waitReady(t, v)
	key := iss.SigningKey()
	attacker := testissuer.NewKey(t, "attacker")

	// A jku/x5u target that must never be fetched.
	var jkuHits atomic.Int64
	jku := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		jkuHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"keys":[%s]}`, mustJSON(t, attacker.JWK()))
	}))
	t.Cleanup(jku.Close)

	pubDER, err := x509.MarshalPKIXPublicKey(&key.Private.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	now := time.Now().Unix()
	hdr := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"alg": "RS256", "typ": "JWT", "kid": key.ID}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := iss.Claims()
		if edit != nil {
			edit(c)
		}
		return c
	}
	signed := func(h, c map[string]any) string { return testissuer.Sign(t, h, c, key.Private) }
	withClaim := func(k string, val any) string {
		return signed(hdr(nil), claims(func(c map[string]any) { c[k] = val }))
	}
	withHeader := func(k string, val any) string {
		return signed(hdr(func(h map[string]any) { h[k] = val }), claims(nil))
	}
	noneToken := func(alg string) string {
		return rawToken(t, hdr(func(h map[string]any) { h["alg"] = alg }), claims(nil), nil)
	}

	tests := []struct {
		name  string
		token string
		want  Reason // "" means valid
	}{
		{"valid", iss.Token(t, nil), ""},
		{"alg none", noneToken("none"), ReasonBadAlg},
		{"alg None", noneToken("None"), ReasonBadAlg},
		{"alg NONE", noneToken("NONE"), ReasonBadAlg},
		{"alg nOnE", noneToken("nOnE"), ReasonBadAlg},
		{"HS256 with public key PEM", hs256(t, hdr(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), pubPEM), ReasonBadAlg},
		{"HS256 with public key DER", hs256(t, hdr(func(h map[string]any) { h["alg"] = "HS256" }), claims(nil), pubDER), ReasonBadAlg},
		{"RS512 header on RS256 signature", withHeader("alg", "RS512"), ReasonBadAlg},
		{"PS256 header", withHeader("alg", "PS256"), ReasonBadAlg},
		{"alg missing", signed(map[string]any{"typ": "JWT", "kid": key.ID}, claims(nil)), ReasonBadAlg},
		{"other key, known kid", testissuer.Sign(t, hdr(nil), claims(nil), attacker.Private), ReasonBadSignature},
		{"tampered claims", tamper(t, iss.Token(t, nil)), ReasonBadSignature},
		{"embedded jwk, attacker kid", testissuer.Sign(t, map[string]any{"alg": "RS256", "kid": "attacker", "jwk": attacker.JWK()}, claims(nil), attacker.Private), ReasonUnknownKID},
		{"embedded jwk, known kid", testissuer.Sign(t, hdr(func(h map[string]any) { h["jwk"] = attacker.JWK() }), claims(nil), attacker.Private), ReasonBadSignature},
		{"jku to attacker set", testissuer.Sign(t, map[string]any{"alg": "RS256", "kid": "attacker", "jku": jku.URL}, claims(nil), attacker.Private), ReasonUnknownKID},
		{"x5u to attacker", testissuer.Sign(t, map[string]any{"alg": "RS256", "kid": "attacker", "x5u": jku.URL}, claims(nil), attacker.Private), ReasonUnknownKID},
		{"valid with ignored jku", withHeader("jku", jku.URL), ""},
		{"no kid", signed(map[string]any{"alg": "RS256", "typ": "JWT"}, claims(nil)), ReasonUnknownKID},
		{"kid not a string", withHeader("kid", 7), ReasonMalformed},
		{"expired beyond leeway", withClaim("exp", now-60), ReasonExpired},
		{"expired within leeway", withClaim("exp", now-10), ""},
		{"exp missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "exp") })), ReasonMissingExp},
		{"exp not a number", withClaim("exp", "tomorrow"), ReasonMalformed},
		{"nbf beyond leeway", withClaim("nbf", now+60), ReasonNotYetValid},
		{"nbf within leeway", withClaim("nbf", now+10), ""},
		{"iat in future beyond leeway", withClaim("iat", now+60), ReasonIssuedInFuture},
		{"iat in future within leeway", withClaim("iat", now+10), ""},
		{"aud string", withClaim("aud", testissuer.Audience), ""},
		{"aud array containing", withClaim("aud", []string{"https://other/", testissuer.Audience}), ""},
		{"aud array without", withClaim("aud", []string{"https://other/", "https://x/"}), ReasonBadAudience},
		{"aud other string", withClaim("aud", "https://other/"), ReasonBadAudience},
		{"aud prefix", withClaim("aud", testissuer.Audience+"x"), ReasonBadAudience},
		{"aud missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "aud") })), ReasonBadAudience},
		{"iss without trailing slash", withClaim("iss", strings.TrimSuffix(iss.URL, "/")), ReasonBadIssuer},
		{"iss with extra slash", withClaim("iss", iss.URL+"/"), ReasonBadIssuer},
		{"iss other", withClaim("iss", "https://evil.example/"), ReasonBadIssuer},
		{"iss missing", signed(hdr(nil), claims(func(c map[string]any) { delete(c, "iss") })), ReasonBadIssuer},
		{"typ JWT", withHeader("typ", "JWT"), ""},
		{"typ jwt lower", withHeader("typ", "jwt"), ""},
		{"typ at+jwt", withHeader("typ", "at+jwt"), ""},
		{"typ application/at+JWT", withHeader("typ", "application/at+JWT"), ""},
		{"typ absent", signed(map[string]any{"alg": "RS256", "kid": key.ID}, claims(nil)), ""},
		{"typ JOSE", withHeader("typ", "JOSE"), ReasonBadTyp},
		{"typ id token style", withHeader("typ", "application/"), ReasonBadTyp},
		{"typ number", withHeader("typ", 1), ReasonBadTyp},
		{"crit", withHeader("crit", []string{"exp"}), ReasonCrit},
		{"crit empty", withHeader("crit", []string{}), ReasonCrit},
		{"not a JWT", "abc", ReasonMalformed},
		{"two segments", "a.b", ReasonMalformed},
		{"bad base64", "!!.!!.!!", ReasonMalformed},
		{"header not JSON", "YWJj.YWJj.YWJj", ReasonMalformed},
		{"empty", "", ReasonMalformed},
		{"huge", strings.Repeat("a", maxTokenBytes+1), ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Validate(context.Background(), tt.token)
			if got := ReasonOf(err); got != tt.want {
				t.Fatalf("reason = %q, want %q (err: %v)", got, tt.want, err)
			}
			if tt.want == "" && (c == nil || c.Subject != "test-client@clients" || c.KeyID() != key.ID) {
				t.Fatalf("claims = %+v", c)
			}
			if err != nil && tt.token != "" && len(tt.token) < 4096 && strings.Contains(err.Error(), tt.token) {
				t.Error("error message contains the token")
			}
		})
	}
	if n := jkuHits.Load(); n != 0 {
		t.Errorf("the jku/x5u URL was fetched %d times", n)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	enc := testissuer.Encode(tb, v)
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		tb.Fatal(err)
	}
	return string(raw)
}

// tamper flips the subject in a token's claims, keeping its signature.
func tamper(tb testing.TB, token string) string {
	tb.Helper()
	parts := strings.Split(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	raw = []byte(strings.Replace(string(raw), "test-client@clients", "admin@clients", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func TestValidateAudiencesAndIssuerConfig(t *testing.T) {
	iss := testissuer.New(t)
	tests := []struct {
		name string
		cfg  func(*Config)
		want Reason
	}{
		{"second configured audience", func(c *Config) { c.Audiences = []string{"https://other/", testissuer.Audience} }, ""},
		// With discovery the mismatch is refused before any key loads (TestDiscoveryRefusesForeignDocuments);
		// with an explicit JWKS URL the tokens themselves are refused.
		{"configured issuer without slash", func(c *Config) { c.Issuer = strings.TrimSuffix(iss.URL, "/"); c.JWKSURL = iss.JWKSURL() }, ReasonBadIssuer},
		{"explicit JWKS URL", func(c *Config) { c.JWKSURL = iss.JWKSURL() }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidator(t, iss, tt.cfg)
			waitReady(t, v)
			_, err := v.Validate(context.Background(), iss.Token(t, nil))
			if got := ReasonOf(err); got != tt.want {
				t.Fatalf("reason = %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"empty", Config{}, []string{"Issuer", "Audiences"}},
		{"http issuer", Config{Issuer: "http://tenant/", Audiences: []string{"a"}}, []string{"Issuer", "uses http", "AllowInsecure"}},
		{"relative issuer", Config{Issuer: "tenant", Audiences: []string{"a"}}, []string{"Issuer"}},
		{"http JWKS", Config{Issuer: "https://tenant/", JWKSURL: "http://tenant/jwks", Audiences: []string{"a"}}, []string{"JWKSURL"}},
		{"blank audience", Config{Issuer: "https://tenant/", Audiences: []string{" "}}, []string{"Audiences", "empty entry"}},
		{"negatives", Config{Issuer: "https://tenant/", Audiences: []string{"a"}, ClockSkew: -1, RefreshInterval: -1, CacheSize: -1},
			[]string{"ClockSkew", "RefreshInterval", "CacheSize"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := New(context.Background(), tt.cfg)
			if err == nil {
				_ = v.Close()
				t.Fatal("New accepted a bad config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

func TestDiscoveryFallbackOn404(t *testing.T) {
	key := testissuer.NewKey(t, "key-1")
	var jwksHits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		jwksHits.Add(1)
		_, _ = fmt.Fprintf(w, `{"keys":[%s]}`, mustJSON(t, key.JWK()))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	v, err := New(context.Background(), Config{
		Issuer: srv.URL + "/", Audiences: []string{testissuer.Audience}, AllowInsecure: true, Logger: quietLogger(),
	}, WithRetryBackoff(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	waitReady(t, v)
	claims := map[string]any{"iss": srv.URL + "/", "aud": testissuer.Audience, "exp": time.Now().Add(time.Hour).Unix(), "sub": "s"}
	tok := testissuer.Sign(t, map[string]any{"alg": "RS256", "kid": "key-1"}, claims, key.Private)
	if _, err := v.Validate(context.Background(), tok); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if jwksHits.Load() == 0 {
		t.Fatal("fallback JWKS never fetched")
	}
}

func TestKeyRotationAndRemoval(t *testing.T) {
	iss := testissuer.New(t)
	reg := prometheus.NewRegistry()
	v := newValidator(t, iss, func(c *Config) {
		c.RefreshInterval = 30 * time.Millisecond
		c.Registerer = reg
	}, WithUnknownKIDRefetch(time.Millisecond, 1, time.Second))
	waitReady(t, v)
	ctx := context.Background()
	old := iss.Token(t, nil)
	if _, err := v.Validate(ctx, old); err != nil {
		t.Fatalf("old key: %v", err)
	}
	if _, err := v.Validate(ctx, old); err != nil { // now served from the cache
		t.Fatalf("old key, cached: %v", err)
	}
	iss.Rotate(t, "key-2")
	fresh := iss.Token(t, nil)
	if _, err := v.Validate(ctx, fresh); err != nil {
		t.Fatalf("rotated key not accepted without restart: %v", err)
	}
	if n := v.cache.len(); n != 2 {
		t.Fatalf("cache holds %d entries, want 2", n)
	}
	iss.Unpublish("key-1")
	eventually(t, "cached validations of the removed kid dropped on refresh", func() bool { return v.cache.len() == 1 })
	eventually(t, "old kid rejected after refresh", func() bool {
		_, err := v.Validate(ctx, old)
		return ReasonOf(err) == ReasonUnknownKID
	})
	if _, err := v.Validate(ctx, fresh); err != nil {
		t.Fatalf("current key rejected after removal of the old one: %v", err)
	}
}

// TestRotationRefetchesUnknownKID: with no periodic refresh due, a new kid is learned by the unknown-kid refetch
// alone (TestKeyRotationAndRemoval's short refresh interval may learn it first, so it cannot count refetches).
func TestRotationRefetchesUnknownKID(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, func(c *Config) { c.RefreshInterval = time.Hour }, WithUnknownKIDRefetch(time.Millisecond, 1, time.Second))
	waitReady(t, v)
	iss.Rotate(t, "key-2")
	if _, err := v.Validate(context.Background(), iss.Token(t, nil)); err != nil {
		t.Fatalf("rotated key not accepted without restart: %v", err)
	}
	if counterValue(t, v.metrics.unknownKIDRefetch) < 1 {
		t.Error("unknown-kid refetch not counted")
	}
}

func TestTenantDownAtStartThenUp(t *testing.T) {
	iss := testissuer.New(t)
	iss.SetDown(true)
	v := newValidator(t, iss, nil)
	tok := iss.Token(t, nil)
	eventually(t, "a few failed attempts", func() bool { return iss.DiscoveryHits() >= 2 })
	if v.Ready() {
		t.Fatal("Ready while the tenant is down")
	}
	_, err := v.Validate(context.Background(), tok)
	if !errors.Is(err, ErrKeysUnavailable) || ReasonOf(err) != ReasonKeysUnavailable {
		t.Fatalf("err = %v, want keys_unavailable", err)
	}
	iss.SetDown(false)
	waitReady(t, v)
	if _, err := v.Validate(context.Background(), tok); err != nil {
		t.Fatalf("token rejected after the tenant came up: %v", err)
	}
}

func TestTenantDownAfterLoad(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, func(c *Config) { c.RefreshInterval = 10 * time.Millisecond; c.CacheSize = 0 })
	waitReady(t, v)
	iss.SetDown(true)
	eventually(t, "refresh failures", func() bool { return counterValue(t, v.metrics.refreshError) >= 2 })
	if !v.Ready() {
		t.Fatal("not ready after refresh failures")
	}
	if _, err := v.Validate(context.Background(), iss.Token(t, nil)); err != nil {
		t.Fatalf("valid token rejected while the tenant is down: %v", err)
	}
}

func TestTenantSlow(t *testing.T) {
	t.Run("after load, unknown kid", func(t *testing.T) {
		iss := testissuer.New(t)
		v := newValidator(t, iss, nil)
		waitReady(t, v)
		iss.SetDelay(30 * time.Second)
		iss.Rotate(t, "key-2")
		start := time.Now()
		_, err := v.Validate(context.Background(), iss.Token(t, nil))
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("request held %s by a slow JWKS", d)
		}
		if ReasonOf(err) != ReasonUnknownKID {
			t.Fatalf("err = %v, want unknown_kid", err)
		}
		iss.SetDelay(0)
	})
	t.Run("at start", func(t *testing.T) {
		iss := testissuer.New(t)
		iss.SetDelay(30 * time.Second)
		v := newValidator(t, iss, nil)
		start := time.Now()
		_, err := v.Validate(context.Background(), iss.Token(t, nil))
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("request held %s by a slow tenant", d)
		}
		if ReasonOf(err) != ReasonKeysUnavailable {
			t.Fatalf("err = %v, want keys_unavailable", err)
		}
		_ = v.Close()
		iss.SetDelay(0)
	})
}

func TestUnknownKIDFlood(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, nil)
	waitReady(t, v)
	before := iss.JWKSHits()
	parts := strings.Split(iss.Token(t, nil), ".")
	claims := parts[1] + "." + parts[2]
	start := time.Now()
	for i := range 2000 {
		h := testissuer.Encode(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": fmt.Sprintf("forged-%d", i)})
		if _, err := v.Validate(context.Background(), h+"."+claims); ReasonOf(err) != ReasonUnknownKID {
			t.Fatalf("token %d: err = %v, want unknown_kid", i, err)
		}
	}
	// The limiter allows its burst plus one refetch per interval elapsed, however many kids arrive.
	allowed := int64(DefaultUnknownKIDBurst) + int64(time.Since(start)/DefaultUnknownKIDInterval)
	if extra := iss.JWKSHits() - before; extra > allowed {
		t.Fatalf("2000 forged kids caused %d JWKS fetches, limiter allows %d", extra, allowed)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("flood took %s", d)
	}
}

// counterValue reads a counter's current value.
func counterValue(tb testing.TB, c prometheus.Counter) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestZeroClockSkew: CLOCK_SKEW=0s means no leeway at all, not the default.
func TestZeroClockSkew(t *testing.T) {
	iss := testissuer.New(t)
	now := time.Now().Unix()
	for _, tt := range []struct {
		name string
		skew time.Duration
		exp  int64
		want Reason
	}{
		{"no leeway, expired 5s ago", 0, now - 5, ReasonExpired},
		{"default leeway, expired 5s ago", DefaultClockSkew, now - 5, ""},
		{"no leeway, valid", 0, now + 60, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := newValidator(t, iss, func(c *Config) { c.ClockSkew = tt.skew })
			waitReady(t, v)
			_, err := v.Validate(t.Context(), iss.Token(t, func(c map[string]any) { c["exp"] = tt.exp }))
			if got := ReasonOf(err); got != tt.want {
				t.Fatalf("reason = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}
