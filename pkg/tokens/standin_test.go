package tokens

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// standIn starts tokencheck's stand-in tenant (default config) on loopback and returns its discovery document,
// read through a URL whose host differs from the configured issuer, as docker compose does.
func standIn(t *testing.T) (*httptest.Server, *Discovery) {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	tn, err := tenant.New(tenant.DefaultConfig(), tenant.Options{Issuer: "http://tenant:4000/", DevicePollInterval: 500 * time.Millisecond})
	if err != nil {
		t.Fatalf("tenant.New: %v", err)
	}
	srv.Config.Handler = tn.Handler()
	return srv, discover(t, srv.URL+"/")
}

func TestStandInDiscovery(t *testing.T) {
	srv, d := standIn(t)
	if d.Issuer != "http://tenant:4000/" || !d.IsStandIn() {
		t.Errorf("discovery %+v: issuer must be the configured one and mint_endpoint present", d)
	}
	if d.TokenEndpoint != srv.URL+"/oauth/token" || d.DeviceAuthorizationEndpoint == "" {
		t.Errorf("endpoints %+v must be built from the address asked", d)
	}
}

func TestStandInClientCredentials(t *testing.T) {
	_, d := standIn(t)
	tests := []struct {
		id, secret, scope, wantScope string
		wantErr                      string
	}{
		{id: "quickstart-noscope", secret: "noscope-secret", wantScope: ""},
		{id: "quickstart-read", secret: "read-secret", wantScope: "read:messages"},
		{id: "quickstart-write", secret: "write-secret", wantScope: "write:messages"},
		{id: "quickstart-readwrite", secret: "readwrite-secret", wantScope: "read:messages write:messages"},
		{id: "quickstart-readwrite", secret: "readwrite-secret", scope: "read:messages", wantScope: "read:messages"},
		{id: "quickstart-read", secret: "wrong", wantErr: "invalid_client"},
		{id: "nobody", secret: "x", wantErr: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.id+"/"+tc.scope+tc.wantErr, func(t *testing.T) {
			tok, err := ClientCredentials(context.Background(), &http.Client{Timeout: 5 * time.Second}, d,
				Request{ClientID: tc.id, ClientSecret: tc.secret, Audience: "https://quickstarts/api", Scope: tc.scope})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ClientCredentials: %v", err)
			}
			h, c, err := DecodeUnverified(tok.AccessToken)
			if err != nil || h["alg"] != "RS256" || c["sub"] != tc.id+"@clients" || c["iss"] != "http://tenant:4000/" {
				t.Fatalf("header %v claims %v err %v", h, c, err)
			}
			if got, _ := c["scope"].(string); got != tc.wantScope {
				t.Errorf("scope claim %q, want %q", got, tc.wantScope)
			}
		})
	}
}

func TestStandInDeviceFlow(t *testing.T) {
	srv, d := standIn(t)
	approve := func(t *testing.T, code, action string) {
		form := url.Values{"user_code": {code}, "username": {"alice"}, "password": {"alice-password"}, "action": {action}}
		resp, err := http.PostForm(srv.URL+"/activate", form) //nolint:noctx // the test plays the user's browser
		if err != nil {
			t.Errorf("activate: %v", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("activate answered %d", resp.StatusCode)
		}
	}
	for _, action := range []string{"approve", "deny"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			tok, err := Device(context.Background(), &http.Client{Timeout: 5 * time.Second}, d, DeviceRequest{
				ClientID: "cli", Audience: "https://quickstarts/api", Scope: "read:messages",
				Prompt: func(p DevicePrompt) { approve(t, p.UserCode, action) },
			})
			if action == "deny" {
				if err == nil || !strings.Contains(err.Error(), "access_denied") {
					t.Fatalf("denied device flow: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Device: %v", err)
			}
			if _, c, _ := DecodeUnverified(tok.AccessToken); c["sub"] != "auth0|alice" {
				t.Fatalf("claims %v", c)
			}
		})
	}
}

func TestStandInMintAndRotate(t *testing.T) {
	_, d := standIn(t)
	hc := &http.Client{Timeout: 5 * time.Second}
	m, err := NewMinter(d, hc)
	if err != nil {
		t.Fatal(err)
	}
	before, err := m.Mint(context.Background(), nil, map[string]any{"scope": "x:y", "azp": nil})
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	h1, c, _ := DecodeUnverified(before)
	if c["scope"] != "x:y" || c["iss"] != "http://tenant:4000/" {
		t.Errorf("minted claims %v", c)
	}
	if _, ok := c["azp"]; ok {
		t.Errorf("claims %v: a nil value must remove azp", c)
	}
	if err := Rotate(context.Background(), hc, d); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	after, err := m.Mint(context.Background(), nil, nil)
	if err != nil {
		t.Fatalf("Mint after rotate: %v", err)
	}
	h2, _, _ := DecodeUnverified(after)
	if h1["kid"] == h2["kid"] {
		t.Fatalf("kid %v unchanged after Rotate", h1["kid"])
	}
}
