package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/dpop"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// TestTokenDPoP: client token --dpop gets a token bound to the CLI's own key, kept 0600 beside the cache, and
// caches it apart from the Bearer token of the same client.
func TestTokenDPoP(t *testing.T) {
	srv := tokTenant(t)
	env := tokEnv(t, srv.URL+"/", "", "quickstart-read", "read-secret")
	var bound tokenJSON
	code, stdout, stderr := tokRun(t, env, "token", "--dpop", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &bound); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(env["XDG_CACHE_HOME"], "tokencheck", tokens.DPoPKeyFile)
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %s: %v (mode %v), want 0600", keyFile, err, st.Mode())
	}
	key, err := tokens.LoadDPoPKey(filepath.Dir(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	cnf, _ := bound.Claims["cnf"].(map[string]any)
	if bound.TokenResponse["token_type"] != "DPoP" || cnf == nil || cnf["jkt"] != jkt {
		t.Fatalf("token_type %v, cnf %v; want DPoP bound to %s", bound.TokenResponse["token_type"], cnf, jkt)
	}
	// The Bearer token of the same client is another entry; the bound one is cached under its key.
	_, plain, _ := tokRun(t, env, "token")
	if strings.TrimSpace(plain) == bound.TokenResponse["access_token"] {
		t.Fatal("client token (Bearer) returned the DPoP-bound token")
	}
	var again tokenJSON
	_, stdout, _ = tokRun(t, env, "token", "--dpop", "--json")
	if err := json.Unmarshal([]byte(stdout), &again); err != nil || !again.Cached ||
		again.TokenResponse["access_token"] != bound.TokenResponse["access_token"] {
		t.Fatalf("second --dpop run: cached %v, same token %v (%v)", again.Cached,
			again.TokenResponse["access_token"] == bound.TokenResponse["access_token"], err)
	}
	if code, _, stderr := tokRun(t, env, "token", "--dpop", "--user"); code != 2 || !strings.Contains(stderr, "--dpop") {
		t.Fatalf("--dpop --user: exit %d, %s", code, stderr)
	}
}

// TestCallDPoP: client call --dpop sends "Authorization: DPoP" and one proof for exactly this request, tied to the
// token by ath, and a fresh proof each time; the API here is a recorder that checks them as RFC 9449 says.
func TestCallDPoP(t *testing.T) {
	ten := tokTenant(t)
	v := dpop.NewVerifier(dpop.VerifierOptions{})
	var mu sync.Mutex
	var seen []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		proofs := r.Header.Values("DPoP")
		if scheme != "DPoP" || len(proofs) != 1 {
			http.Error(w, "want the DPoP scheme and one proof", http.StatusUnauthorized)
			return
		}
		p, err := v.Verify(proofs[0], r.Method, "http://"+r.Host+r.URL.Path, tok)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, claims, _ := tokens.DecodeUnverified(tok)
		if cnf, _ := claims["cnf"].(map[string]any); cnf == nil || cnf["jkt"] != p.JKT {
			http.Error(w, "token not bound to the proof's key", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		seen = append(seen, p.JTI)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message":"ok"}`))
	}))
	t.Cleanup(api.Close)
	env := tokEnv(t, ten.URL+"/", api.URL, "quickstart-read", "read-secret")
	for i := range 2 { // the second call reuses the cached token with a new proof (a replayed one would be a 401)
		if code, stdout, stderr := tokRun(t, env, "call", "/api/private?x=1", "--dpop", "--expect", "200"); code != 0 {
			t.Fatalf("call %d: exit %d\n%s\n%s", i, code, stdout, stderr)
		}
	}
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Fatalf("proof ids %v: want two distinct proofs", seen)
	}
	if code, _, stderr := tokRun(t, env, "call", "/api/private", "--dpop", "--no-token"); code != 2 || !strings.Contains(stderr, "--no-token") {
		t.Fatalf("--dpop --no-token: exit %d, %s", code, stderr)
	}
}

// TestCallDPoPRetryForgetsTheBoundToken: when the API rejects a cached DPoP-bound token (401), call forgets that
// token, not the Bearer one of the same client, and retries once with a new bound token.
func TestCallDPoPRetryForgetsTheBoundToken(t *testing.T) {
	ten := tokTenant(t)
	var mu sync.Mutex
	rejected := map[string]bool{}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		mu.Lock()
		defer mu.Unlock()
		if rejected[tok] {
			http.Error(w, "rejected", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message":"ok"}`))
	}))
	t.Cleanup(api.Close)
	env := tokEnv(t, ten.URL+"/", api.URL, "quickstart-read", "read-secret")
	_, bearer, _ := tokRun(t, env, "token")
	_, bound, _ := tokRun(t, env, "token", "--dpop")
	mu.Lock()
	rejected[strings.TrimSpace(bound)] = true // as after a tenant restart: the cached bound token is no longer good
	mu.Unlock()
	if code, stdout, stderr := tokRun(t, env, "call", "/api/private", "--dpop", "--expect", "200"); code != 0 {
		t.Fatalf("call with a rejected cached bound token: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, again, _ := tokRun(t, env, "token", "--dpop"); again == bound {
		t.Fatal("the rejected bound token is still cached")
	}
	if _, again, _ := tokRun(t, env, "token"); again != bearer {
		t.Fatal("the retry of a DPoP call forgot the client's Bearer token")
	}
}
