package tenant

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkClientCredentials measures one /oauth/token client_credentials exchange (parse, authenticate, sign).
func BenchmarkClientCredentials(b *testing.B) {
	ten, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/"})
	if err != nil {
		b.Fatal(err)
	}
	h := ten.Handler()
	body := url.Values{"grant_type": {"client_credentials"}, "client_id": {"quickstart-read"}, "client_secret": {"read-secret"},
		"audience": {"https://quickstarts/api"}}.Encode()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "http://localhost:4000"+PathToken, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkMint measures /dev/mint with a few overrides, as load tests use it to make many distinct tokens.
func BenchmarkMint(b *testing.B) {
	ten, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/"})
	if err != nil {
		b.Fatal(err)
	}
	h := ten.Handler()
	const body = `{"claims":{"sub":"bench@clients","scope":"read:messages"}}`
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "http://localhost:4000"+PathMint, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
}
