package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		err  []string
	}{
		{"no configuration", nil, nil, 2, []string{"AUTH0_DOMAIN", "AUTH0_AUDIENCE"}},
		{"bad values", []string{"--port=x"}, map[string]string{"AUTH0_DOMAIN": "a.auth0.com", "AUTH0_AUDIENCE": "api", "CLOCK_SKEW": "x"},
			2, []string{"PORT (--port)", "CLOCK_SKEW (--clock-skew)", "2 problems"}},
		{"http issuer", nil, map[string]string{"ISSUER_URL": "http://localhost:4000/", "AUTH0_AUDIENCE": "api"}, 2, []string{"ALLOW_INSECURE_ISSUER=true"}},
		{"unknown flag", []string{"--bogus"}, nil, 2, []string{"bogus"}},
		{"help", []string{"--help"}, nil, 0, []string{"AUTH0_AUDIENCE", "\n  --port port\n", "\n  --log-level level\n"}},
		{"healthcheck help", []string{"healthcheck", "-h"}, nil, 0, []string{"-url"}},
		{"healthcheck bad flag", []string{"healthcheck", "--nope"}, nil, 2, nil},
		{"healthcheck stray arg", []string{"healthcheck", "x"}, nil, 2, []string{"unexpected argument"}},
		{"healthcheck bad url", []string{"healthcheck", "--url", "http://[::1"}, nil, 2, []string{"bad --url", "http://[::1"}},
		{"healthcheck nothing listening", []string{"healthcheck", "--url", "http://127.0.0.1:1/readyz", "--timeout", "1s"}, nil, 1, []string{"server: healthcheck"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A .env in the test's working directory must not leak in: run from an empty directory.
			t.Chdir(t.TempDir())
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb, envOf(tt.env))
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errb.String())
			}
			for _, w := range tt.err {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
		})
	}
}

// TestBinary builds the real binary and runs it as an operator would: bad configuration exits 2, a .env in the
// working directory is read, the healthcheck subcommand works, and SIGTERM stops it cleanly with exit 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("bad configuration exits 2", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"PORT=nope"}
		var errb bytes.Buffer
		cmd.Stderr = &errb
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Fatalf("exit: %v", err)
		}
		for _, w := range []string{"PORT", "AUTH0_AUDIENCE", "AUTH0_DOMAIN"} {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("stderr lacks %s:\n%s", w, errb.String())
			}
		}
	})

	t.Run("serves from .env and stops on SIGTERM", func(t *testing.T) {
		iss := testissuer.New(t)
		port := freePort(t)
		work := t.TempDir()
		dotenv := "ISSUER_URL=" + iss.URL + "\nAUTH0_AUDIENCE=" + testissuer.Audience + "\nALLOW_INSECURE_ISSUER=true\nPORT=1\n"
		if err := os.WriteFile(filepath.Join(work, ".env"), []byte(dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin)
		cmd.Dir = work
		cmd.Env = []string{"PORT=" + strconv.Itoa(port)} // the real environment wins over .env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()

		check := func() error {
			hc := exec.Command(bin, "healthcheck")
			hc.Env = []string{"PORT=" + strconv.Itoa(port)}
			return hc.Run()
		}
		deadline := time.Now().Add(15 * time.Second)
		for check() != nil {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("never healthy; stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("exit after SIGTERM: %v\n%s", err, errb.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("server did not stop after SIGTERM")
		}
		for _, w := range []string{`"msg":"server starting"`, `"issuer":"` + iss.URL + `"`, `"msg":"server stopped"`} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("log lacks %s:\n%s", w, out.String())
			}
		}
	})
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
