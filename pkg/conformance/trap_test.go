package conformance

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

func TestTrapCountsFetchesPerCase(t *testing.T) {
	ctx := context.Background()
	trap, err := StartTrap(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = trap.Close() })
	hc := httpcall.NewClient(0)

	keys, err := fetchJWKS(ctx, hc, trap.JWKSURL("jku-case"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Kid != trap.Kid || keys[0].rsa == nil || !keys[0].rsa.Equal(&trap.Key.PublicKey) {
		t.Fatalf("trap JWKS = %+v", keys)
	}
	resp, err := httpcall.Do(ctx, hc, httpcall.Request{Method: http.MethodGet, URL: trap.CertURL("x5u-case")})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(resp.Body)
	if block == nil {
		t.Fatalf("x5u body is not PEM: %q", resp.Body)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !trap.Key.PublicKey.Equal(cert.PublicKey) {
		t.Errorf("x5u certificate is not for the trap key")
	}
	if trap.Hits("jku-case") != 1 || trap.Hits("x5u-case") != 1 || trap.Hits("other") != 0 {
		t.Errorf("hits jku=%d x5u=%d other=%d", trap.Hits("jku-case"), trap.Hits("x5u-case"), trap.Hits("other"))
	}
}

func TestTrapConclusive(t *testing.T) {
	tests := []struct {
		trapURL, api, issuer string
		want                 bool
	}{
		{"http://127.0.0.1:5000", "http://localhost:3010", "http://localhost:4000/", true},
		{"http://127.0.0.1:5000", "http://api:3010", "http://tenant:4000/", false},
		{"http://tester:5000", "http://api:3010", "http://tenant:4000/", true},
		{"http://[::1]:5000", "http://[::1]:3010", "http://[::1]:4000/", true},
		{"http://localhost:5000", "https://api.example.com", "https://tenant.example.com/", false},
		// A container's published port on the host: the issuer's compose name gives it away.
		{"http://127.0.0.1:5000", "http://localhost:3010", "http://tenant:4000/", false},
		{"http://127.0.0.1:5000", "http://localhost:3010", "https://dev-x.us.auth0.com/", true},
	}
	for _, tt := range tests {
		got, why := (&Trap{URL: tt.trapURL}).Conclusive(tt.api, tt.issuer)
		if got != tt.want || (!got && why == "") || strings.Contains(why, "--") {
			t.Errorf("Conclusive(trap %s, api %s) = %v %q, want %v", tt.trapURL, tt.api, got, why, tt.want)
		}
	}
}

func TestTrapAdvertisesLoopbackForWildcard(t *testing.T) {
	trap, err := StartTrap(context.Background(), "0.0.0.0:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer trap.Close()
	if host := hostOf(trap.URL); host != "127.0.0.1" {
		t.Errorf("trap URL %s: host %q, want 127.0.0.1", trap.URL, host)
	}
	trap2, err := StartTrap(context.Background(), "127.0.0.1:0", "http://tester:8085/")
	if err != nil {
		t.Fatal(err)
	}
	defer trap2.Close()
	if got := trap2.JWKSURL("a b"); got != "http://tester:8085/jku/a%20b/jwks.json" {
		t.Errorf("JWKSURL = %s", got)
	}
}
