package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testhttp"
)

// runAppCLI runs `client app args...` with env as the environment and returns its exit code.
func runAppCLI(ctx context.Context, stderr io.Writer, env map[string]string, args ...string) int {
	a := &app{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: stderr, getenv: func(k string) string { return env[k] }}
	return a.run(ctx, append([]string{"app"}, args...))
}

func TestAppCLIRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"API URL from the environment", map[string]string{"APP_API_URL": "localhost:3010"}, nil,
			[]string{"--api-url / APP_API_URL", `"localhost:3010"`, "http://"}},
		{"issuer flag", nil, []string{"--issuer-url", "ftp://tenant/"},
			[]string{"--issuer-url / APP_ISSUER_URL", "http://"}},
		{"every bad setting at once", map[string]string{"APP_CLIENT_ID": `a"b`}, []string{"--audience", "<x>", "--scope", "profile"},
			[]string{"--client-id / APP_CLIENT_ID", "--audience / APP_AUDIENCE", "--scope / APP_SCOPE", "openid"}},
		{"bad address", nil, []string{"--addr", "127.0.0.1:99999"}, []string{"--addr 127.0.0.1:99999"}},
		{"stray argument", nil, []string{"extra"}, []string{"unknown command", "client --help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if code := runAppCLI(t.Context(), &stderr, tt.env, tt.args...); code != exitCannotGo {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitCannotGo, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestAppCLIServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &testhttp.SyncBuffer{}
	env := map[string]string{"APP_API_URL": "http://api.example:8080", "APP_CLIENT_ID": "my-spa"}
	done := make(chan int, 1)
	go func() { done <- runAppCLI(ctx, stderr, env, "--addr", "127.0.0.1:0", "--audience", "urn:test") }()

	addrRE := regexp.MustCompile(`web app listening" addr=(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no listening line:\n%s", stderr.String())
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/config.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// Environment, flag and default each reach the page.
	for _, w := range []string{`"apiUrl":"http://api.example:8080"`, `"clientId":"my-spa"`, `"audience":"urn:test"`,
		`"issuerUrl":"http://localhost:4000/"`} {
		if !strings.Contains(string(body), w) {
			t.Errorf("config.json lacks %s: %s", w, body)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' http://api.example:8080 http://localhost:4000") {
		t.Errorf("CSP %q does not allow the configured API and issuer", csp)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d after shutdown, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client app did not stop after its context was cancelled")
	}
}
