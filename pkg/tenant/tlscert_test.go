package tenant

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTLSHosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list string
		want []string
		bad  bool
	}{
		{list: DefaultTLSHosts, want: []string{"localhost", "127.0.0.1", "tenant"}},
		{list: " a.example , 10.0.0.1,, a.example ", want: []string{"a.example", "10.0.0.1"}},
		{list: "::1,[::1],my_tenant,*.svc.local", want: []string{"::1", "my_tenant", "*.svc.local"}},
		{list: "", bad: true},
		{list: " , ", bad: true},
		{list: "bad host", bad: true},
		{list: "a..b", bad: true},
		{list: "-a.example", bad: true},
		{list: "https://a.example", bad: true},
		{list: "a.example:443", bad: true},
		{list: strings.Repeat("a", 64) + ".example", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.list, func(t *testing.T) {
			got, err := ParseTLSHosts(tc.list)
			if tc.bad {
				if !errors.Is(err, ErrTLSHost) {
					t.Fatalf("ParseTLSHosts(%q) = %v, %v; want ErrTLSHost", tc.list, got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("ParseTLSHosts(%q) = %v, %v; want %v", tc.list, got, err, tc.want)
			}
		})
	}
}

// tlsTenant serves a tenant over real TLS on loopback with cfg and returns its address.
func tlsTenant(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ten, err := New(DefaultConfig(), Options{Issuer: "https://localhost:4000/"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Handshakes the tests make fail on purpose would be logged; the client's error is what they check.
	srv := &http.Server{Handler: ten.Handler(), TLSConfig: cfg, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// clientFor trusts only roots (nil: an empty pool, trusting nothing) and dials addr whatever the URL's host, so
// each name of the certificate can be tried without DNS.
func clientFor(roots *x509.CertPool, addr string, maxVersion uint16) *http.Client {
	if roots == nil {
		roots = x509.NewCertPool()
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: maxVersion}, //nolint:gosec // tests that old versions are refused
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

func TestDevTLS(t *testing.T) {
	t.Parallel()
	hosts, err := ParseTLSHosts(DefaultTLSHosts)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := NewDevTLS(hosts)
	if err != nil {
		t.Fatal(err)
	}
	caFile := DefaultCAFile(filepath.Join(t.TempDir(), "keys.pem"))
	if err := WriteCAFile(caFile, dev.CAPEM); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(caFile); err != nil || fi.Mode().Perm() != 0o644 || filepath.Base(caFile) != CAFileName {
		t.Fatalf("CA file %s: %v %v, want mode 0644", caFile, fi, err)
	}
	// What a client does: read the written file and trust only it.
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA file holds no PEM certificate")
	}
	if block, _ := pem.Decode(caPEM); block == nil || block.Type != "CERTIFICATE" || strings.Contains(string(caPEM), "PRIVATE") {
		t.Fatal("the CA file must hold the CA certificate only")
	}
	leaf := dev.Certificate.Leaf
	if !slices.Equal(leaf.DNSNames, []string{"localhost", "tenant"}) || len(leaf.IPAddresses) != 1 || !leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("SANs DNS %v IP %v; IP literals belong in IP SANs", leaf.DNSNames, leaf.IPAddresses)
	}
	addr := tlsTenant(t, ServerTLSConfig(dev.Certificate))
	_, port, _ := net.SplitHostPort(addr)

	tests := []struct {
		name    string
		host    string
		roots   *x509.CertPool
		max     uint16
		wantErr string
	}{
		{"trusted CA, 127.0.0.1", "127.0.0.1", roots, 0, ""},
		{"trusted CA, localhost", "localhost", roots, 0, ""},
		{"trusted CA, tenant", "tenant", roots, 0, ""},
		{"trusted CA, TLS 1.2 only", "localhost", roots, tls.VersionTLS12, ""},
		{"no CA", "localhost", nil, 0, "certificate signed by unknown authority"},
		{"name not in the certificate", "other.example", roots, 0, "certificate is valid for"},
		{"TLS 1.1 refused", "localhost", roots, tls.VersionTLS11, "protocol version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := "https://" + net.JoinHostPort(tc.host, port)
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, base+PathOpenIDConfiguration, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := clientFor(tc.roots, addr, tc.max).Do(req)
			if tc.wantErr != "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET over TLS succeeded; want %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET discovery over TLS: %v", err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var d map[string]any
			if err := json.Unmarshal(raw, &d); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
			}
			// On TLS the endpoint URLs are https, from the Host the client used.
			if d["jwks_uri"] != base+PathJWKS || d["issuer"] != "https://localhost:4000/" {
				t.Fatalf("discovery %v", d)
			}
		})
	}
}

func TestLoadTLSCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev, err := NewDevTLS([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(dev.Certificate.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dev.Certificate.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := LoadTLSCertificate(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr := tlsTenant(t, ServerTLSConfig(cert))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(dev.CAPEM)
	_, port, _ := net.SplitHostPort(addr)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://localhost:"+port+PathJWKS, nil)
	resp, err := clientFor(roots, addr, 0).Do(req)
	if err != nil {
		t.Fatalf("the loaded certificate does not serve: %v", err)
	}
	resp.Body.Close()

	if _, err := LoadTLSCertificate(keyFile, certFile); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Fatalf("swapped files: %v", err)
	}
	if _, err := LoadTLSCertificate(filepath.Join(dir, "missing.pem"), keyFile); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestWriteCAFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, CAFileName)
	for _, content := range []string{"first\n", "second\n"} {
		if err := WriteCAFile(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, path); got != content {
			t.Fatalf("CA file %q, want %q", got, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("leftover files: %v", entries)
	}
	if err := WriteCAFile(filepath.Join(dir, "missing", CAFileName), []byte("x")); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	if DefaultCAFile("") != CAFileName || DefaultCAFile("/var/lib/tenant/keys.pem") != "/var/lib/tenant/"+CAFileName {
		t.Fatal("DefaultCAFile")
	}
}
