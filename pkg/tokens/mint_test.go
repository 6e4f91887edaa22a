package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/tenant"
)

func TestMint(t *testing.T) {
	ft := newFakeTenant(t)
	d := discover(t, ft.url())
	hc := &http.Client{Timeout: 5 * time.Second}
	m, err := NewMinter(d, hc)
	if err != nil {
		t.Fatalf("NewMinter: %v", err)
	}
	tok, err := m.Mint(context.Background(), map[string]any{"kid": "other"}, map[string]any{"aud": "https://wrong", "sub": nil})
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	header, claims, err := DecodeUnverified(tok)
	if err != nil {
		t.Fatalf("decode minted token: %v", err)
	}
	if header["kid"] != "other" || claims["aud"] != "https://wrong" {
		t.Errorf("header %v claims %v: overrides not applied", header, claims)
	}
	if _, ok := claims["sub"]; ok {
		t.Errorf("claims %v: a nil claim must remove it", claims)
	}
	ft.mu.Lock()
	sent, hasSub := ft.minted["sub"]
	ft.mu.Unlock()
	if !hasSub || sent != nil {
		t.Errorf("mint request claims %v: sub must be sent as JSON null", ft.minted)
	}
}

func TestMintErrors(t *testing.T) {
	ft := newFakeTenant(t)
	if _, err := NewMinter(&Discovery{TokenEndpoint: "x"}, nil); !errors.Is(err, ErrNotStandIn) || !strings.Contains(err.Error(), "stand-in") {
		t.Errorf("NewMinter without mint_endpoint: %v", err)
	}
	var m Minter
	if _, err := m.Mint(context.Background(), nil, nil); err == nil {
		t.Error("Mint with no endpoint succeeded")
	}
	bad := Minter{Endpoint: ft.srv.URL + "/oauth/token"} // answers 401 JSON errors to a JSON body
	if _, err := bad.Mint(context.Background(), nil, map[string]any{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("Mint against a refusing endpoint: %v", err)
	}
	ft.srv.Close()
	gone := Minter{Endpoint: ft.srv.URL + "/dev/mint", HTTP: &http.Client{Timeout: time.Second}}
	_, err := gone.Mint(context.Background(), nil, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the tenant") || !isUnreachable("tenant", gone.Endpoint)(err) {
		t.Errorf("Mint against a closed tenant: %v, want an *UnreachableError for %s", err, gone.Endpoint)
	}
	assertNoCLIWords(t, err)
}

func TestRotate(t *testing.T) {
	ft := newFakeTenant(t)
	d := discover(t, ft.url())
	if err := Rotate(context.Background(), &http.Client{Timeout: 5 * time.Second}, d); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if n := ft.rotates.Load(); n != 1 {
		t.Fatalf("tenant saw %d rotations, want 1", n)
	}
	if err := Rotate(context.Background(), nil, &Discovery{}); err == nil {
		t.Fatal("Rotate on a non-stand-in tenant succeeded")
	}
}

func TestRotateURL(t *testing.T) {
	tests := []struct{ mint, want string }{
		{"http://localhost:4000/dev/mint", "http://localhost:4000/dev/rotate"},
		{"http://tenant:4000/t1/dev/mint?x=1", "http://tenant:4000/t1/dev/rotate?x=1"},
		{"https://h/mint", "https://h/rotate"},
	}
	for _, tc := range tests {
		got, err := RotateURL(tc.mint)
		if err != nil || got != tc.want {
			t.Errorf("RotateURL(%q) = %q, %v; want %q", tc.mint, got, err, tc.want)
		}
	}
	if _, err := RotateURL("not a url"); err == nil {
		t.Error("RotateURL accepted a non-URL")
	}
}

// standInWith starts the stand-in tenant with opts (issuer http://tenant:4000/) and returns its discovery.
func standInWith(t *testing.T, opts tenant.Options) (*httptest.Server, *Discovery) {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	opts.Issuer = "http://tenant:4000/"
	tn, err := tenant.New(tenant.DefaultConfig(), opts)
	if err != nil {
		t.Fatalf("tenant.New: %v", err)
	}
	srv.Config.Handler = tn.Handler()
	return srv, discover(t, srv.URL+"/")
}

// jwksKeys fetches the JWKS d names and parses it with jwkset: kid -> public key.
func jwksKeys(t *testing.T, d *Discovery) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, d.JWKSURI, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]any{}
	for _, raw := range set.Keys {
		j, err := jwkset.NewJWKFromRawJSON(raw, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			t.Fatalf("JWK %s: %v", raw, err)
		}
		keys[j.Marshal().KID] = j.Key()
	}
	return keys
}

// verifyAs checks tok with golang-jwt alone: alg the only accepted method, the key its kid names in the JWKS.
func verifyAs(t *testing.T, d *Discovery, tok, alg string) error {
	t.Helper()
	keys := jwksKeys(t, d)
	_, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
		kid, _ := tk.Header["kid"].(string)
		if k, ok := keys[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("kid %q not in the JWKS", kid)
	}, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer("http://tenant:4000/"), jwt.WithExpirationRequired())
	return err
}

func TestMintAlg(t *testing.T) {
	_, d := standInWith(t, tenant.Options{ECKey: true})
	m, err := NewMinter(d, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		alg     string
		header  map[string]any
		wantAlg string // what signs
		wantHdr string // what the header says
		wantErr string
	}{
		{alg: "", wantAlg: "RS256", wantHdr: "RS256"},
		{alg: "RS384", wantAlg: "RS384", wantHdr: "RS384"},
		{alg: "RS512", wantAlg: "RS512", wantHdr: "RS512"},
		{alg: "PS256", wantAlg: "PS256", wantHdr: "PS256"},
		{alg: "PS384", wantAlg: "PS384", wantHdr: "PS384"},
		{alg: "PS512", wantAlg: "PS512", wantHdr: "PS512"},
		{alg: "ES256", wantAlg: "ES256", wantHdr: "ES256"},
		{alg: "PS256", header: map[string]any{"alg": "RS256"}, wantAlg: "PS256", wantHdr: "RS256"},
		{alg: "HS256", wantErr: `400 Bad Request: invalid_request alg "HS256" is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.alg+" header "+tc.wantHdr, func(t *testing.T) {
			tok, err := m.MintAlg(context.Background(), tc.alg, tc.header, map[string]any{"sub": "auth0|minted"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("MintAlg(%q) = %v; want %q", tc.alg, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("MintAlg(%q): %v", tc.alg, err)
			}
			h, c, err := DecodeUnverified(tok)
			if err != nil || h["alg"] != tc.wantHdr || c["sub"] != "auth0|minted" {
				t.Fatalf("header %v claims %v (%v)", h, c, err)
			}
			if tc.wantHdr == tc.wantAlg {
				if err := verifyAs(t, d, tok, tc.wantAlg); err != nil {
					t.Fatalf("golang-jwt does not verify the %s token: %v", tc.wantAlg, err)
				}
			} else if err := verifyAs(t, d, tok, tc.wantHdr); err == nil {
				t.Fatalf("a %s token verifies as the %s its header claims", tc.wantAlg, tc.wantHdr)
			}
		})
	}
	// Mint is MintAlg with the tenant's default.
	tok, err := m.Mint(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyAs(t, d, tok, "RS256"); err != nil {
		t.Fatalf("Mint: %v", err)
	}
}

func TestMintAlgWithoutECKey(t *testing.T) {
	// The hint client tenant gives: the tenant's answer reaches the minting user as it is.
	_, d := standInWith(t, tenant.Options{Hints: tenant.Hints{ECKey: "start the tenant with --ec-key"}})
	m, err := NewMinter(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.MintAlg(context.Background(), "ES256", nil, nil); err == nil || !strings.Contains(err.Error(), "--ec-key") {
		t.Fatalf("ES256 without an EC key: %v; want the tenant's 400 naming --ec-key", err)
	}
}

func TestPrepublishKey(t *testing.T) {
	_, d := standInWith(t, tenant.Options{})
	hc := &http.Client{Timeout: 5 * time.Second}
	m, err := NewMinter(d, hc)
	if err != nil {
		t.Fatal(err)
	}
	kidOf := func() string {
		t.Helper()
		tok, err := m.Mint(context.Background(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		h, _, _ := DecodeUnverified(tok)
		return h["kid"].(string)
	}
	signer := kidOf()
	next, err := PrepublishKey(context.Background(), hc, d)
	if err != nil {
		t.Fatalf("PrepublishKey: %v", err)
	}
	if next == "" || next == signer {
		t.Fatalf("staged kid %q (signer %s)", next, signer)
	}
	if _, published := jwksKeys(t, d)[next]; !published {
		t.Fatal("the staged key is not in the JWKS")
	}
	if kidOf() != signer {
		t.Fatal("the staged key signs before Rotate")
	}
	if again, err := PrepublishKey(context.Background(), hc, d); err != nil || again != next {
		t.Fatalf("second PrepublishKey = %q, %v; want the same staged %s", again, err, next)
	}
	if err := Rotate(context.Background(), hc, d); err != nil {
		t.Fatal(err)
	}
	if got := kidOf(); got != next {
		t.Fatalf("after Rotate the signer is %s, want the staged %s", got, next)
	}
	if keys := jwksKeys(t, d); len(keys) != 2 || keys[signer] == nil || keys[next] == nil {
		t.Fatalf("JWKS after the promotion: %v; want the previous and the current key", keys)
	}
}

func TestPrepublishKeyErrors(t *testing.T) {
	if _, err := PrepublishKey(context.Background(), nil, &Discovery{}); err == nil || !strings.Contains(err.Error(), "not the stand-in") {
		t.Fatalf("PrepublishKey on a non-stand-in tenant: %v", err)
	}
	ft := newFakeTenant(t) // answers /dev/rotate with {"kid":"k2"}: no staged key
	if _, err := PrepublishKey(context.Background(), nil, discover(t, ft.url())); err == nil || !strings.Contains(err.Error(), `without "next"`) {
		t.Fatalf("PrepublishKey against a tenant that cannot stage: %v", err)
	}
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "could not rotate keys"})
	}))
	t.Cleanup(refusing.Close)
	d := &Discovery{MintEndpoint: refusing.URL + "/dev/mint"}
	if _, err := PrepublishKey(context.Background(), nil, d); err == nil || !strings.Contains(err.Error(), "prepublish key: POST") || !strings.Contains(err.Error(), "could not rotate keys") {
		t.Fatalf("PrepublishKey against a failing tenant: %v", err)
	}
	if err := Rotate(context.Background(), nil, d); err == nil || !strings.Contains(err.Error(), "rotate: POST") {
		t.Fatalf("Rotate against a failing tenant: %v", err)
	}
}
