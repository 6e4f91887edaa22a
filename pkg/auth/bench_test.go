package auth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/tokencheck/tokencheck/internal/testissuer"
)

// benchTokens signs n distinct tokens (distinct jti) with the issuer's current key.
func benchTokens(b *testing.B, iss *testissuer.Issuer, n int) []string {
	b.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = iss.Token(b, func(c map[string]any) { c["jti"] = fmt.Sprintf("bench-%d", i) })
	}
	return out
}

// BenchmarkRSAVerify is the floor: hashing the signing input and one RSA-2048 PKCS#1 v1.5 verification.
func BenchmarkRSAVerify(b *testing.B) {
	iss := testissuer.New(b)
	tok := iss.Token(b, nil)
	i := strings.LastIndexByte(tok, '.')
	input := tok[:i]
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &iss.SigningKey().Private.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256([]byte(input))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateCold validates tokens never seen before: 2048 distinct tokens cycled through a 1024-entry LRU,
// so every call misses, verifies, inserts and evicts.
func BenchmarkValidateCold(b *testing.B) { benchValidate(b, 1024, 2048) }

// BenchmarkValidateNoCache is the uncached path alone (CacheSize 0).
func BenchmarkValidateNoCache(b *testing.B) { benchValidate(b, 0, 64) }

// benchValidate validates n distinct tokens in turn through a validator whose cache holds cacheSize entries.
func benchValidate(b *testing.B, cacheSize, n int) {
	iss := testissuer.New(b)
	v := newValidator(b, iss, func(c *Config) { c.CacheSize = cacheSize })
	waitReady(b, v)
	tokens := benchTokens(b, iss, n)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := v.Validate(ctx, tokens[i%len(tokens)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkValidateCached presents the same token again and again.
func BenchmarkValidateCached(b *testing.B) {
	iss := testissuer.New(b)
	v := newValidator(b, iss, nil)
	waitReady(b, v)
	tok := iss.Token(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Validate(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMiddleware runs a scoped request through a Gin engine (no network), with a cached token.
func BenchmarkMiddleware(b *testing.B) {
	iss := testissuer.New(b)
	v := newValidator(b, iss, nil)
	waitReady(b, v)
	r := gin.New()
	r.GET("/p", v.Middleware(), RequireScope("read:messages"), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	req := httptest.NewRequest(http.MethodGet, "/p", nil)
	req.Header.Set("Authorization", "Bearer "+iss.Token(b, nil))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkColdVsRSAVerify interleaves one raw RSA verification and one Validate of a token never seen before per
// iteration and reports their time ratio, which stays meaningful on a noisy machine where separate runs drift
// apart. "cache-off" is the bare path; "cache-miss" is production's (hash, miss, insert, evict on every request).
func BenchmarkColdVsRSAVerify(b *testing.B) {
	for _, bc := range []struct {
		name      string
		cacheSize int
		tokens    int
	}{
		{"cache-off", 0, 64},
		{"cache-miss", 1024, 2048}, // cycling 2048 tokens through 1024 entries: every lookup misses
	} {
		b.Run(bc.name, func(b *testing.B) { benchColdVsRSAVerify(b, bc.cacheSize, bc.tokens) })
	}
}

func benchColdVsRSAVerify(b *testing.B, cacheSize, n int) {
	iss := testissuer.New(b)
	v := newValidator(b, iss, func(c *Config) { c.CacheSize = cacheSize })
	waitReady(b, v)
	tokens := benchTokens(b, iss, n)
	pub := &iss.SigningKey().Private.PublicKey
	type raw struct {
		input string
		sig   []byte
	}
	raws := make([]raw, len(tokens))
	for i, tok := range tokens {
		j := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[j+1:])
		if err != nil {
			b.Fatal(err)
		}
		raws[i] = raw{tok[:j], sig}
	}
	ctx := context.Background()
	var rawNS, coldNS time.Duration
	i := 0
	for b.Loop() {
		r := raws[i%len(raws)]
		t0 := time.Now()
		sum := sha256.Sum256([]byte(r.input))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], r.sig); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := v.Validate(ctx, tokens[i%len(tokens)]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		rawNS += t1.Sub(t0)
		coldNS += t2.Sub(t1)
		i++
	}
	b.ReportMetric(float64(coldNS)/float64(rawNS), "cold/raw")
	b.ReportMetric(float64(rawNS)/float64(i), "raw-ns/op")
	b.ReportMetric(float64(coldNS)/float64(i), "cold-ns/op")
}
