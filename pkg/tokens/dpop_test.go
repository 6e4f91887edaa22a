package tokens

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/dpop"
)

func TestLoadDPoPKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	first, err := LoadDPoPKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, DPoPKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode())
	}
	again, err := LoadDPoPKey(dir)
	if err != nil || !again.Equal(first) {
		t.Fatalf("second load: %v, same key %v", err, again.Equal(first))
	}
	path := filepath.Join(dir, DPoPKeyFile)
	cases := []struct {
		name  string
		setup func(t *testing.T)
	}{
		{"loose mode", func(t *testing.T) { _ = os.Chmod(path, 0o644) }},
		{"garbage", func(t *testing.T) { _ = os.WriteFile(path, []byte("not a key"), 0o600) }},
		{"a directory", func(t *testing.T) { _ = os.Remove(path); _ = os.Mkdir(path, 0o700) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.RemoveAll(path)
			if _, err := LoadDPoPKey(dir); err != nil {
				t.Fatal(err)
			}
			tc.setup(t)
			_, err := LoadDPoPKey(dir)
			if _, ok := errors.AsType[*DPoPKeyError](err); !ok {
				t.Fatalf("LoadDPoPKey = %v, want a *DPoPKeyError (never a silently replaced key)", err)
			}
		})
	}
}

// TestClientCredentialsWithDPoP: through WithDPoP, the stand-in tenant issues a token bound to the key.
func TestClientCredentialsWithDPoP(t *testing.T) {
	_, d := standIn(t)
	key, err := LoadDPoPKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	hc := WithDPoP(&http.Client{Timeout: 10 * time.Second}, s)
	tok, err := ClientCredentials(t.Context(), hc, d, Request{ClientID: "quickstart-read", ClientSecret: "read-secret",
		Audience: "https://quickstarts/api"})
	if err != nil {
		t.Fatal(err)
	}
	_, claims, err := DecodeUnverified(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	cnf, _ := claims["cnf"].(map[string]any)
	if tok.TokenType != "DPoP" || cnf == nil || cnf["jkt"] != s.Thumbprint() {
		t.Fatalf("token_type %q, cnf %v: want a DPoP token bound to %s", tok.TokenType, cnf, s.Thumbprint())
	}
}
