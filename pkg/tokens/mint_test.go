package tokens

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
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
	if _, err := NewMinter(&Discovery{TokenEndpoint: "x"}, nil); err == nil || !strings.Contains(err.Error(), "stand-in") {
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
	if _, err := gone.Mint(context.Background(), nil, nil); err == nil || !strings.Contains(err.Error(), "cannot reach the tenant") {
		t.Errorf("Mint against a closed tenant: %v", err)
	}
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
