package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// runTenantCLI runs `client tenant args...` as a user would and returns its exit code and output.
func runTenantCLI(ctx context.Context, stderr *testhttp.SyncBuffer, args ...string) int {
	a := &app{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: stderr, getenv: func(string) string { return "" }}
	return a.run(ctx, append([]string{"tenant"}, args...))
}

func TestTenantCLIRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("apis:\n  - audience: https://a/\nclients:\n  - id: m2m\n    grants: {https://a/: []}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unknownField := filepath.Join(dir, "unknown.yaml")
	if err := os.WriteFile(unknownField, []byte("token_ttl: 1h\napis:\n  - audience: https://a/\n    scope: [x]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badKeys := filepath.Join(dir, "keys.pem")
	if err := os.WriteFile(badKeys, []byte("-----BEGIN PRIVATE KEY-----\nMIIE"), 0o600); err != nil {
		t.Fatal(err)
	}
	jsonKeys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(jsonKeys, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	bigConfig := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(bigConfig, make([]byte, 1<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	noDirKeys := filepath.Join(dir, "missing", "keys.pem")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"config field and line", []string{"--config", badConfig, "--addr", "127.0.0.1:0"}, []string{badConfig + ":4: clients[0].secret:", `client "m2m" needs a secret`}},
		{"unknown config field", []string{"--config", unknownField, "--addr", "127.0.0.1:0"}, []string{unknownField + `:4: apis[0].scope: unknown field "scope"`}},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, []string{"bad --config: ", "nope.yaml"}},
		{"unreadable config", []string{"--config", dir}, []string{"bad --config: read tenant config " + dir}},
		{"huge config", []string{"--config", bigConfig}, []string{"bad --config: ", bigConfig, "larger than", "is --config the right file?"}},
		{"relative issuer", []string{"--issuer", "localhost:4000", "--addr", "127.0.0.1:0"}, []string{"bad --issuer: ", `"localhost:4000"`, "absolute http(s) URL"}},
		{"relative issuer with TLS", []string{"--tls", "--tls-ca", filepath.Join(dir, "ca.pem"), "--issuer", "tenant:4000"}, []string{"bad --issuer: ", `"tenant:4000"`}},
		{"corrupt key file", []string{"--key-file", badKeys, "--addr", "127.0.0.1:0"}, []string{badKeys, "bad --key-file: ", "truncated", "move it away"}},
		{"unreadable key file", []string{"--key-file", dir, "--addr", "127.0.0.1:0"}, []string{"bad --key-file: read PEM key file " + dir}},
		{"unwritable key file", []string{"--key-file", noDirKeys, "--addr", "127.0.0.1:0"}, []string{"bad --key-file: write key file " + noDirKeys}},
		{"bad address", []string{"--addr", "127.0.0.1:99999"}, []string{"--addr 127.0.0.1:99999"}},
		{"bad allowed host", []string{"--allowed-hosts", "localhost,a b", "--addr", "127.0.0.1:0"}, []string{"bad --allowed-hosts", `"a b"`}},
		{"empty allowed hosts", []string{"--allowed-hosts", " , ", "--addr", "127.0.0.1:0"}, []string{"--allowed-hosts", "names no host"}},
		{"JSON key file", []string{"--key-file", jsonKeys, "--addr", "127.0.0.1:0"}, []string{jsonKeys, "--key-file", "PEM", "looks like JSON", "keys.pem"}},
		{"stray argument", []string{"extra"}, []string{`unknown command "extra"`}},
		{"unknown flag", []string{"--port", "4000"}, []string{"unknown flag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr testhttp.SyncBuffer
			code := runTenantCLI(context.Background(), &stderr, tc.args...)
			if code != exitCannotGo {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestTenantCLIServesAndShutsDown(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "keys.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr testhttp.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runTenantCLI(ctx, &stderr, "--addr", "127.0.0.1:0", "--issuer", "http://tenant.example:4000", "--key-file", keyFile)
	}()

	addrRE := regexp.MustCompile(`msg="tenant listening" addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("tenant exited %d before listening:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant did not log its address:\n%s", stderr.String())
		}
	}
	base := "http://" + addr
	hc := &http.Client{Timeout: 5 * time.Second}

	resp, err := hc.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if err != nil || disc["issuer"] != "http://tenant.example:4000/" || disc["token_endpoint"] != base+"/oauth/token" {
		t.Fatalf("discovery %v (%v)", disc, err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"quickstart-read"}, "client_secret": {"read-secret"},
		"audience": {"https://quickstarts/api"}}
	resp, err = hc.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	cancel() // as SIGINT does through main's signal context
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("exit %d after shutdown, want 0:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("tenant did not shut down")
	}
	out := stderr.String()
	for _, w := range []string{"DEVELOPMENT AND TESTS ONLY", "issuer=http://tenant.example:4000/", "name=mint", "tenant stopped", "path=/oauth/token status=200"} {
		if !strings.Contains(out, w) {
			t.Errorf("log does not contain %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "read-secret") {
		t.Error("the log contains a client secret")
	}
}

// startTenantCLI runs `client tenant args...` until the test ends and returns the address it listens on; stop
// shuts it down as SIGINT does and returns its exit code.
func startTenantCLI(t *testing.T, args ...string) (addr string, stderr *testhttp.SyncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &testhttp.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- runTenantCLI(ctx, stderr, append([]string{"--addr", "127.0.0.1:0"}, args...)...) }()
	exited := -1
	stop = func() int {
		if exited >= 0 {
			return exited
		}
		cancel()
		select {
		case exited = <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("tenant did not shut down")
		}
		return exited
	}
	t.Cleanup(func() { stop() })
	addrRE := regexp.MustCompile(`msg="tenant listening" addr=(127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr, stop
		}
		select {
		case exited = <-done:
			t.Fatalf("tenant exited %d before listening:\n%s", exited, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant did not log its address:\n%s", stderr.String())
		}
	}
}

// getJSON GETs url with hc and decodes the JSON object answered.
func getJSON(t *testing.T, hc *http.Client, url string, header http.Header) (map[string]any, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d (%v)", url, resp.StatusCode, err)
	}
	return m, nil
}

// trusting is an HTTP client that trusts only the PEM certificates in caFile ("" : trusts nothing).
func trusting(t *testing.T, caFile string) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatalf("CA file: %v", err)
		}
		if !roots.AppendCertsFromPEM(data) {
			t.Fatalf("%s holds no PEM certificate", caFile)
		}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
}

func TestTenantCLITLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr, stderr, stop := startTenantCLI(t, "--tls", "--ec-key", "--key-file", filepath.Join(dir, "keys.pem"))
	caFile := filepath.Join(dir, "tenant-ca.pem") // the default: beside --key-file
	if fi, err := os.Stat(caFile); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("CA file: %v %v, want mode 0644", fi, err)
	}
	base := "https://" + addr

	disc, err := getJSON(t, trusting(t, caFile), base+"/.well-known/openid-configuration", nil)
	if err != nil {
		t.Fatalf("discovery over https with the written CA: %v", err)
	}
	if disc["issuer"] != "https://localhost:4000/" || disc["token_endpoint"] != base+"/oauth/token" {
		t.Fatalf("discovery %v: want the https default issuer and https endpoints", disc)
	}
	if _, err := getJSON(t, trusting(t, ""), base+"/.well-known/openid-configuration", nil); err == nil ||
		!strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("a client without the CA: %v; want an unknown-authority error", err)
	}
	// --ec-key reached the tenant: an EC key is published.
	jwks, err := getJSON(t, trusting(t, caFile), base+"/.well-known/jwks.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ktys []string
	for _, k := range jwks["keys"].([]any) {
		ktys = append(ktys, k.(map[string]any)["kty"].(string))
	}
	if strings.Join(ktys, ",") != "RSA,EC" {
		t.Fatalf("JWKS key types %v, want RSA,EC", ktys)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
	for _, w := range []string{"scheme=https", "file=" + caFile, "url=" + base + "/dev/mint"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("log does not contain %q:\n%s", w, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "PRIVATE KEY") {
		t.Error("the log contains a private key")
	}
}

func TestTenantCLIOwnCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dev, err := tenant.NewDevTLS([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(dev.Certificate.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, caFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for file, data := range map[string][]byte{
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dev.Certificate.Certificate[0]}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		caFile:   dev.CAPEM,
	} {
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr, _, _ := startTenantCLI(t, "--tls-cert", certFile, "--tls-key", keyFile, "--issuer", "https://tenant.example/",
		"--key-file", filepath.Join(dir, "keys.pem"))
	disc, err := getJSON(t, trusting(t, caFile), "https://"+addr+"/.well-known/openid-configuration", nil)
	if err != nil {
		t.Fatalf("discovery over https with the given certificate: %v", err)
	}
	if disc["issuer"] != "https://tenant.example/" {
		t.Fatalf("issuer %v: an explicit --issuer wins", disc["issuer"])
	}
	if _, err := os.Stat(filepath.Join(dir, "tenant-ca.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a CA file was written with --tls-cert: %v", err)
	}
}

func TestTenantCLITrustProxy(t *testing.T) {
	t.Parallel()
	fwd := http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"tenant.example"}}
	tests := []struct {
		name string
		args []string
		want func(addr string) string
	}{
		{"--trust-proxy follows X-Forwarded-*", []string{"--trust-proxy"}, func(string) string { return "https://tenant.example/oauth/token" }},
		{"without it they are ignored", nil, func(addr string) string { return "http://" + addr + "/oauth/token" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr, _, _ := startTenantCLI(t, tc.args...)
			disc, err := getJSON(t, &http.Client{Timeout: 5 * time.Second}, "http://"+addr+"/.well-known/openid-configuration", fwd)
			if err != nil {
				t.Fatal(err)
			}
			if disc["token_endpoint"] != tc.want(addr) {
				t.Fatalf("token_endpoint %v, want %s", disc["token_endpoint"], tc.want(addr))
			}
		})
	}
}

func TestTenantCLITLSRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.pem")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"hosts without tls", []string{"--tls-hosts", "a.example"}, []string{"--tls-hosts needs --tls"}},
		{"ca without tls", []string{"--tls-ca", filepath.Join(dir, "ca.pem")}, []string{"--tls-ca needs --tls"}},
		{"cert without key", []string{"--tls-cert", filepath.Join(dir, "c.pem")}, []string{"--tls-cert and --tls-key go together"}},
		{"key without cert", []string{"--tls", "--tls-key", filepath.Join(dir, "k.pem")}, []string{"--tls-cert and --tls-key go together"}},
		{"ca with own cert", []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem"}, []string{"--tls-ca applies to the generated certificate only"}},
		{"missing cert files", []string{"--tls-cert", filepath.Join(dir, "c.pem"), "--tls-key", filepath.Join(dir, "k.pem")}, []string{"bad --tls-cert/--tls-key", "c.pem"}},
		{"bad host", []string{"--tls", "--tls-hosts", "localhost,bad host", "--key-file", keys}, []string{"bad --tls-hosts", `"bad host"`}},
		{"empty hosts", []string{"--tls", "--tls-hosts", " , ", "--key-file", keys}, []string{"bad --tls-hosts", "empty"}},
		{"unwritable CA file", []string{"--tls", "--tls-ca", filepath.Join(dir, "missing", "ca.pem"), "--key-file", keys}, []string{"cannot write --tls-ca", "missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr testhttp.SyncBuffer
			code := runTenantCLI(context.Background(), &stderr, append([]string{"--addr", "127.0.0.1:0"}, tc.args...)...)
			if code != exitCannotGo {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not name %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestTenantCLIHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}
	if code := a.run(context.Background(), []string{"tenant", "--help"}); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, w := range []string{"--ec-key", "--trust-proxy", "--tls", "--tls-hosts", "--tls-ca", "--tls-cert", "--tls-key",
		`{"alg":"RS256","header":{...},"claims":{...}}`, `{"prepublish":true}`, "PS512", "ES256", "x5c", "localhost,127.0.0.1,tenant"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help does not mention %q", w)
		}
	}
}

// TestTenantCLIAllowedHosts runs the tenant with --allowed-hosts and sends Hosts in and out of the list.
func TestTenantCLIAllowedHosts(t *testing.T) {
	t.Parallel()
	addr, _, _ := startTenantCLI(t, "--allowed-hosts", "tenant.test, Other.Test")
	hc := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		host   string
		status int
	}{
		{"tenant.test:4000", 200},
		{"other.test", 200},
		{"localhost:4000", 200}, // the --issuer host is always allowed
		{addr, 421},             // 127.0.0.1 is in the default list only
		{"evil.example", 421},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/.well-known/jwks.json", nil)
			req.Host = tc.host
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

// TestTenantCLIHTTPHints: the tenant's HTTP answers that mean it must be started differently name the flag to
// give client tenant, which is what its user can change.
func TestTenantCLIHTTPHints(t *testing.T) {
	t.Parallel()
	addr, _, _ := startTenantCLI(t)
	hc := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		name, host, path, body string
		status                 int
		want                   string
	}{
		{"host not allowed", "evil.example", "/.well-known/jwks.json", "", http.StatusMisdirectedRequest,
			`host "evil.example" is not one of this tenant's allowed hosts; start the tenant with --allowed-hosts to add it`},
		{"ES256 without --ec-key", "localhost:4000", "/dev/mint", `{"alg":"ES256"}`, http.StatusBadRequest,
			"alg ES256 needs the tenant's P-256 key: start the tenant with --ec-key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, contentType := http.MethodGet, ""
			var body io.Reader
			if tc.body != "" {
				method, contentType, body = http.MethodPost, "application/json", strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), method, "http://"+addr+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			req.Host = tc.host
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || answer["error"] != "invalid_request" || answer["error_description"] != tc.want {
				t.Fatalf("%d %v, want %d invalid_request %q", resp.StatusCode, answer, tc.status, tc.want)
			}
		})
	}
}

// TestTenantCLILooseKeyFile starts the tenant on a key file others can read: it serves, with a warning naming the
// file and chmod 600.
func TestTenantCLILooseKeyFile(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "keys.pem")
	_, first, stop := startTenantCLI(t, "--key-file", keyFile)
	if code := stop(); code != exitOK {
		t.Fatalf("first run exit %d:\n%s", code, first.String())
	}
	if strings.Contains(first.String(), "chmod 600") {
		t.Fatalf("a 0600 key file was warned about:\n%s", first.String())
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, second, _ := startTenantCLI(t, "--key-file", keyFile)
	if out := second.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "chmod 600 "+keyFile) {
		t.Fatalf("no warning for a 0644 key file:\n%s", out)
	}
}
