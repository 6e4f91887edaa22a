package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// tenantSyncBuffer is an io.Writer safe to read while the tenant command still logs into it.
type tenantSyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *tenantSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *tenantSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// runTenantCLI runs `client tenant args...` as a user would and returns its exit code and output.
func runTenantCLI(ctx context.Context, stderr *tenantSyncBuffer, args ...string) int {
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
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"config field and line", []string{"--config", badConfig, "--addr", "127.0.0.1:0"}, []string{badConfig + ":4: clients[0].secret:", `client "m2m" needs a secret`}},
		{"unknown config field", []string{"--config", unknownField, "--addr", "127.0.0.1:0"}, []string{unknownField + `:4: apis[0].scope: unknown field "scope"`}},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, []string{"--config", "nope.yaml"}},
		{"relative issuer", []string{"--issuer", "localhost:4000", "--addr", "127.0.0.1:0"}, []string{"--issuer", "absolute http(s) URL"}},
		{"corrupt key file", []string{"--key-file", badKeys, "--addr", "127.0.0.1:0"}, []string{badKeys, "--key-file", "truncated"}},
		{"bad address", []string{"--addr", "127.0.0.1:99999"}, []string{"--addr 127.0.0.1:99999"}},
		{"stray argument", []string{"extra"}, []string{`unknown command "extra"`}},
		{"unknown flag", []string{"--port", "4000"}, []string{"unknown flag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr tenantSyncBuffer
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
	var stderr tenantSyncBuffer
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
