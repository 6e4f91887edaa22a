package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/internal/testissuer"
)

// jwksServer serves discovery (naming issuer, or the server's own URL when issuer is "") and a JWKS document
// that the test may replace; delay slows every JWKS answer.
type jwksServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	doc   []byte
	hits  atomic.Int64
	delay time.Duration
}

func newJWKSServer(t *testing.T, keys ...any) *jwksServer {
	t.Helper()
	js := &jwksServer{}
	js.set(t, keys...)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, js.srv.URL+"/", js.srv.URL+"/.well-known/jwks.json")
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		js.mu.Lock()
		doc, delay := js.doc, js.delay
		js.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	js.srv = httptest.NewServer(mux)
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) set(t *testing.T, keys ...any) {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	js.mu.Lock()
	js.doc = doc
	js.mu.Unlock()
}

func (js *jwksServer) issuer() string { return js.srv.URL + "/" }

// token signs the usual claims for js's issuer under kid with key.
func (js *jwksServer) token(t *testing.T, kid string, key testissuer.Key, edit func(map[string]any)) string {
	t.Helper()
	c := map[string]any{"iss": js.issuer(), "aud": testissuer.Audience, "sub": "s", "exp": time.Now().Add(time.Hour).Unix(),
		"iat": time.Now().Unix()}
	if edit != nil {
		edit(c)
	}
	return testissuer.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, c, key.Private)
}

// with returns k's public JWK under kid with edit applied.
func with(k testissuer.Key, kid string, edit func(map[string]any)) map[string]any {
	m := k.JWK()
	m["kid"] = kid
	if edit != nil {
		edit(m)
	}
	return m
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestJWKSMembersJudgedOneByOne: one malformed or unusable member of the JWKS never takes the good keys down; it
// is skipped (its kid refused as bad_key, without refetches) and logged.
func TestJWKSMembersJudgedOneByOne(t *testing.T) {
	good := testissuer.NewKey(t, "good")
	other := testissuer.NewKey(t, "other")
	one := big.NewInt(1).Bytes()
	priv := with(other, "private", func(m map[string]any) { m["d"] = b64u(other.Private.D.Bytes()) })
	members := []any{
		good.JWK(),
		with(other, "bad-n", func(m map[string]any) { m["n"] = "!!!not base64!!!" }),
		with(other, "e-one", func(m map[string]any) { m["e"] = b64u(one) }),
		with(other, "junk-x5c", func(m map[string]any) { m["x5c"] = []string{"bm90IGEgY2VydGlmaWNhdGU"} }),
		map[string]any{"kty": "EC", "crv": "P-256", "kid": "bad-ec", "x": b64u(make([]byte, 32)), "y": b64u(one)},
		with(other, "enc-only", func(m map[string]any) { m["use"] = "enc" }),
		with(other, "ops-encrypt", func(m map[string]any) { delete(m, "use"); m["key_ops"] = []string{"encrypt"} }),
		with(other, "ops-verify", func(m map[string]any) { delete(m, "use"); m["key_ops"] = []string{"verify"} }),
		with(other, "dup", nil),
		with(good, "dup", nil),
		with(other, "same-twice", nil),
		with(other, "same-twice", nil),
		priv,
		"not an object",
		map[string]any{"kty": "RSA", "n": 5},
	}
	js := newJWKSServer(t, members...)
	var logs testhttp.SyncBuffer
	v := newValidatorFor(t, js.issuer(), func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	waitReady(t, v)
	hits := js.hits.Load()
	tests := []struct {
		kid  string
		key  testissuer.Key
		want Reason
	}{
		{"good", good, ""},
		{"bad-n", other, ReasonBadKey},
		{"e-one", other, ReasonBadKey},
		{"junk-x5c", other, ReasonBadKey},
		{"bad-ec", other, ReasonBadKey},
		{"enc-only", other, ReasonBadKey},
		{"ops-encrypt", other, ReasonBadKey},
		{"ops-verify", other, ""},
		{"dup", other, ReasonBadKey},
		{"dup", good, ReasonBadKey},
		{"same-twice", other, ""},
		{"private", other, ""},
	}
	for _, tt := range tests {
		t.Run(tt.kid, func(t *testing.T) {
			_, err := v.Validate(context.Background(), js.token(t, tt.kid, tt.key, nil))
			if got := ReasonOf(err); got != tt.want {
				t.Fatalf("reason %q (%v), want %q", got, err, tt.want)
			}
		})
	}
	if n := js.hits.Load() - hits; n != 0 {
		t.Errorf("known-but-unusable kids caused %d refetches", n)
	}
	out := logs.String()
	for _, w := range []string{"bad-n", "e-one", "junk-x5c", "bad-ec", `\"dup\": several different keys share it`,
		"private key material", "not a JSON Web Key"} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, b64u(other.Private.D.Bytes())) {
		t.Error("the private exponent reached the log")
	}
	if strings.Contains(out, "same-twice") {
		t.Error("an identical duplicate was reported as ambiguous")
	}
}

// TestDiscoveryRefusesForeignDocuments: discovery must come from the configured issuer (OIDC Discovery §4.3,
// RFC 8414 §3.3) and keep the key fetch on its host; an explicit JWKS URL may point anywhere.
func TestDiscoveryRefusesForeignDocuments(t *testing.T) {
	key := testissuer.NewKey(t, "key-1")
	elsewhere := newJWKSServer(t, key.JWK())
	tests := []struct {
		name      string
		issuer    func(self string) string // the discovery document's issuer
		jwksURI   func(self string) string
		redirect  func(self string) string // where /.well-known/jwks.json redirects; "" serves it
		explicit  bool                     // configure JWKSURL = elsewhere instead of discovering
		ready     bool
		wantInLog []string
	}{
		{name: "matching", issuer: same, jwksURI: own, ready: true},
		{name: "issuer with extra slash", issuer: func(s string) string { return s + "/" }, jwksURI: own,
			wantInLog: []string{`"configured_issuer"`, `"discovered_issuer"`, "differ only by a trailing slash"}},
		{name: "other issuer", issuer: func(string) string { return "https://evil.example/" }, jwksURI: own,
			wantInLog: []string{"https://evil.example/"}},
		{name: "jwks_uri on another host", issuer: same, jwksURI: func(string) string { return elsewhere.srv.URL + "/.well-known/jwks.json" },
			wantInLog: []string{"not on the issuer's host"}},
		{name: "redirect to another host", issuer: same, jwksURI: own,
			redirect:  func(string) string { return elsewhere.srv.URL + "/.well-known/jwks.json" },
			wantInLog: []string{"redirect to another host"}},
		{name: "redirect on the same host", issuer: same, jwksURI: own, redirect: func(s string) string { return s + "keys" }, ready: true},
		{name: "explicit JWKS URL elsewhere", issuer: same, jwksURI: own, explicit: true, ready: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var self string
			mux := http.NewServeMux()
			mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, tt.issuer(self), tt.jwksURI(self))
			})
			serve := func(w http.ResponseWriter, _ *http.Request) {
				_, _ = fmt.Fprintf(w, `{"keys":[%s]}`, mustJSON(t, key.JWK()))
			}
			mux.HandleFunc("GET /keys", serve)
			mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
				if tt.redirect != nil {
					http.Redirect(w, r, tt.redirect(self), http.StatusFound)
					return
				}
				serve(w, r)
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			self = srv.URL + "/"
			var logs testhttp.SyncBuffer
			v := newValidatorFor(t, self, func(c *Config) {
				c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
				if tt.explicit {
					c.JWKSURL = elsewhere.srv.URL + "/.well-known/jwks.json"
				}
			})
			if tt.ready {
				waitReady(t, v)
				claims := map[string]any{"iss": self, "aud": testissuer.Audience, "exp": time.Now().Add(time.Hour).Unix()}
				tok := testissuer.Sign(t, map[string]any{"alg": "RS256", "kid": "key-1"}, claims, key.Private)
				if _, err := v.Validate(context.Background(), tok); err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			eventually(t, "the refusal logged", func() bool { return strings.Contains(logs.String(), tt.wantInLog[0]) })
			time.Sleep(100 * time.Millisecond) // a few more attempts
			if v.Ready() {
				t.Fatal("ready with a refused discovery document")
			}
			out := logs.String()
			for _, w := range tt.wantInLog {
				if !strings.Contains(out, w) {
					t.Errorf("log lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(tt.name, "issuer") && strings.Count(out, "discovery document names another issuer") != 1 {
				t.Errorf("issuer mismatch not logged exactly once:\n%s", out)
			}
		})
	}
}

func same(s string) string { return s }
func own(s string) string  { return s + ".well-known/jwks.json" }

// TestUnknownKIDFloodLearnsRotation: attackers flooding random kids take every limiter slot, yet a slow JWKS
// (150 ms) still completes each refetch (they run detached, under their own timeout), so a newly rotated key is
// learned within seconds and no request waits more than about a second.
func TestUnknownKIDFloodLearnsRotation(t *testing.T) {
	old := testissuer.NewKey(t, "old")
	js := newJWKSServer(t, old.JWK())
	v := newValidatorFor(t, js.issuer(), func(c *Config) { c.RefreshInterval = time.Hour; c.CacheSize = 0 },
		WithUnknownKIDRefetch(300*time.Millisecond, 1, time.Second))
	waitReady(t, v)
	js.mu.Lock()
	js.delay = 150 * time.Millisecond
	js.mu.Unlock()

	stop := make(chan struct{})
	var flood sync.WaitGroup
	var slowest atomic.Int64
	var sent atomic.Int64
	for w := range 8 {
		flood.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				start := time.Now()
				_, err := v.Validate(context.Background(), js.token(t, fmt.Sprintf("forged-%d-%d", w, i), old, nil))
				if d := time.Since(start); int64(d) > slowest.Load() {
					slowest.Store(int64(d))
				}
				sent.Add(1)
				if ReasonOf(err) != ReasonUnknownKID {
					t.Errorf("forged kid: %v", err)
					return
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // the flood holds the limiter
	fresh := testissuer.NewKey(t, "fresh")
	js.set(t, old.JWK(), fresh.JWK())
	rotated := time.Now()
	tok := js.token(t, "fresh", fresh, nil)
	var err error
	for {
		if _, err = v.Validate(context.Background(), tok); err == nil || time.Since(rotated) > 5*time.Second {
			break
		}
	}
	close(stop)
	flood.Wait()
	if err != nil {
		t.Fatalf("rotated key not learned %s into a flood of %d forged kids: %v", time.Since(rotated), sent.Load(), err)
	}
	if d := time.Duration(slowest.Load()); d > 1500*time.Millisecond {
		t.Errorf("a forged-kid request waited %s", d)
	}
	t.Logf("rotated key learned after %s; %d forged requests, %d JWKS fetches", time.Since(rotated), sent.Load(), js.hits.Load())
}

// TestNumericDatesBeyondInt64: exp, nbf and iat far beyond int64 seconds are malformed, never wrapped around.
func TestNumericDatesBeyondInt64(t *testing.T) {
	key := testissuer.NewKey(t, "k")
	js := newJWKSServer(t, key.JWK())
	v := newValidatorFor(t, js.issuer(), nil)
	waitReady(t, v)
	for _, tt := range []struct {
		claim string
		value any
	}{
		{"exp", 1e300}, {"exp", -1e300}, {"nbf", 1e300}, {"nbf", -1e300}, {"iat", 1e300}, {"iat", -1e300},
		{"exp", 9.3e18}, {"iat", -9.3e18},
	} {
		t.Run(fmt.Sprintf("%s=%g", tt.claim, tt.value), func(t *testing.T) {
			_, err := v.Validate(context.Background(), js.token(t, "k", key, func(c map[string]any) { c[tt.claim] = tt.value }))
			if got := ReasonOf(err); got != ReasonMalformed {
				t.Fatalf("reason %q (%v), want malformed", got, err)
			}
		})
	}
}

// newValidatorFor is newValidator for an issuer that is not a testissuer.
func newValidatorFor(tb testing.TB, issuer string, edit func(*Config), opts ...Option) *Validator {
	tb.Helper()
	return newValidator(tb, &testissuer.Issuer{URL: issuer}, edit, opts...)
}
