package auth

import (
	"context"
	"crypto/rsa"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestCacheLifetime(t *testing.T) {
	iss := testissuer.New(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		exp      time.Duration // token lifetime from now
		maxAge   time.Duration
		advance  time.Duration
		wantHit  bool
		wantFail Reason
	}{
		{"hit while fresh", time.Hour, time.Minute, 30 * time.Second, true, ""},
		{"miss after max age", time.Hour, time.Minute, 61 * time.Second, false, ""},
		{"miss after exp, leeway still accepts", time.Minute, 10 * time.Minute, 70 * time.Second, false, ""},
		{"miss after exp and leeway", time.Minute, 10 * time.Minute, 2 * time.Minute, false, ReasonExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			v := newValidator(t, iss, nil, WithClock(clk.now), WithCacheMaxAge(tt.maxAge))
			waitReady(t, v)
			tok := iss.Token(t, func(c map[string]any) { c["exp"] = clk.now().Add(tt.exp).Unix() })
			first, err := v.Validate(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			again, err := v.Validate(ctx, tok)
			if err != nil || again != first {
				t.Fatalf("immediate revalidation: err %v, same claims %v", err, again == first)
			}
			hits := counterValue(t, v.metrics.cacheHit)
			clk.advance(tt.advance)
			got, err := v.Validate(ctx, tok)
			if ReasonOf(err) != tt.wantFail {
				t.Fatalf("reason = %q, want %q (%v)", ReasonOf(err), tt.wantFail, err)
			}
			if hit := counterValue(t, v.metrics.cacheHit) > hits; hit != tt.wantHit {
				t.Fatalf("cache hit = %v, want %v", hit, tt.wantHit)
			}
			if tt.wantHit && got != first {
				t.Fatal("cache hit returned different claims")
			}
		})
	}
}

func TestCacheBounds(t *testing.T) {
	iss := testissuer.New(t)
	ctx := context.Background()
	t.Run("evicts beyond CacheSize", func(t *testing.T) {
		v := newValidator(t, iss, func(c *Config) { c.CacheSize = 2 })
		waitReady(t, v)
		for i := range 3 {
			if _, err := v.Validate(ctx, iss.Token(t, func(c map[string]any) { c["jti"] = fmt.Sprint(i) })); err != nil {
				t.Fatal(err)
			}
		}
		if got := counterValue(t, v.metrics.cacheEvict); got != 1 {
			t.Fatalf("evictions = %v, want 1", got)
		}
	})
	t.Run("large claims are not cached", func(t *testing.T) {
		v := newValidator(t, iss, nil)
		waitReady(t, v)
		perms := make([]string, 200)
		for i := range perms {
			perms[i] = fmt.Sprintf("perm:%03d", i)
		}
		tok := iss.Token(t, func(c map[string]any) { c["permissions"] = perms })
		for range 2 {
			c, err := v.Validate(ctx, tok)
			if err != nil || !c.HasScope("perm:199") {
				t.Fatalf("err %v", err)
			}
		}
		if got := counterValue(t, v.metrics.cacheHit); got != 0 {
			t.Fatalf("a large token was served from the cache (%v hits)", got)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		v := newValidator(t, iss, func(c *Config) { c.CacheSize = 0 })
		waitReady(t, v)
		tok := iss.Token(t, nil)
		a, _ := v.Validate(ctx, tok)
		b, _ := v.Validate(ctx, tok)
		if a == nil || a == b {
			t.Fatal("validations shared claims with the cache disabled")
		}
	})
	t.Run("failures are not cached", func(t *testing.T) {
		clk := newFakeClock()
		v := newValidator(t, iss, nil, WithClock(clk.now))
		waitReady(t, v)
		tok := iss.Token(t, func(c map[string]any) { c["nbf"] = clk.now().Add(time.Minute).Unix() })
		if _, err := v.Validate(ctx, tok); ReasonOf(err) != ReasonNotYetValid {
			t.Fatalf("err %v", err)
		}
		clk.advance(2 * time.Minute)
		if _, err := v.Validate(ctx, tok); err != nil {
			t.Fatalf("token rejected once valid: %v", err)
		}
	})
}

func TestCacheShardSizing(t *testing.T) {
	for _, size := range []int{1, 2, 63, 64, 100, 1000, DefaultCacheSize, 1 << 20} {
		c := newTokenCache(size, must(newMetrics(nil)))
		n := len(c.shards)
		if n&(n-1) != 0 || n > maxCacheShards || int(c.mask) != n-1 {
			t.Fatalf("size %d: %d shards, mask %d", size, n, c.mask)
		}
		if per := (size + n - 1) / n; per*n > size+n {
			t.Fatalf("size %d: capacity %d", size, per*n)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestConcurrentValidateDuringRotation(t *testing.T) {
	iss := testissuer.New(t)
	v := newValidator(t, iss, func(c *Config) { c.RefreshInterval = 5 * time.Millisecond; c.CacheSize = 64 },
		WithUnknownKIDRefetch(time.Millisecond, 1, time.Second))
	waitReady(t, v)
	tokens := []string{iss.Token(t, nil), iss.Token(t, func(c map[string]any) { c["sub"] = "other" })}
	iss.Rotate(t, "key-2")
	tokens = append(tokens, iss.Token(t, nil))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				if _, err := v.Validate(context.Background(), tokens[(g+i)%len(tokens)]); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestCacheHitNeedsTheSameToken: an entry answers only for the very token it was made from, even under the same
// key (a forced collision), so a forged token can never borrow a cached validation.
func TestCacheHitNeedsTheSameToken(t *testing.T) {
	c := newTokenCache(64, must(newMetrics(nil)))
	now := time.Now()
	pub := &rsa.PublicKey{}
	ks := &keySet{}
	snap := map[string]verifyKey{"k1": {pub: pub}}
	ks.snap.Store(&snap)
	entry := &cacheEntry{claims: Claims{keyID: "k1"}}
	entry.claims.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour))
	const token, forged = "header.claims.signature", "header.claims.forgery!!"
	key := c.key(token)
	c.add(key, token, entry, now, time.Minute, ks, pub)
	cases := []struct {
		name  string
		key   uint64
		token string
		hit   bool
	}{
		{"the token", key, token, true},
		{"another token under the same key", key, forged, false},
		{"a prefix of the token", key, token[:10], false},
	}
	for _, tc := range cases {
		if _, ok := c.get(tc.key, tc.token, now); ok != tc.hit {
			t.Errorf("%s: hit %v, want %v", tc.name, ok, tc.hit)
		}
	}
	e, ok := c.shard(key).Peek(key)
	if ok && e.token != token {
		t.Fatalf("entry holds %q", e.token)
	}
}
