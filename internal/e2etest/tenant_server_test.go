// Package e2etest runs the real stand-in tenant and the real API router together in-process, over loopback
// HTTP, to check that tokens the tenant issues get the status codes the contract promises from the API.
package e2etest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/teststack"
	"github.com/tokencheck/tokencheck/pkg/auth"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

const audience = "https://quickstarts/api"

// stack is a tenant and an API that trusts it.
type stack struct {
	t      *testing.T
	tenant *httptest.Server
	ten    *tenant.Tenant
	api    *httptest.Server
}

func newStack(t *testing.T) *stack {
	t.Helper()
	tsrv, ten := teststack.Tenant(t, tenant.Options{})
	asrv, _ := teststack.API(t, ten.Issuer(), teststack.APIOptions{
		AuthOptions: []auth.Option{auth.WithUnknownKIDRefetch(10*time.Millisecond, 1, time.Second)},
	})
	return &stack{t: t, tenant: tsrv, ten: ten, api: asrv}
}

func (s *stack) post(path string, contentType, body string) map[string]any {
	s.t.Helper()
	resp, err := s.tenant.Client().Post(s.tenant.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("POST %s: %d %v %v", path, resp.StatusCode, m, err)
	}
	return m
}

func (s *stack) clientToken(id, secret string) string {
	s.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {audience}}
	return s.post(tenant.PathToken, "application/x-www-form-urlencoded", form.Encode())["access_token"].(string)
}

func (s *stack) mint(claims map[string]any) string {
	s.t.Helper()
	raw, err := json.Marshal(tenant.MintRequest{Claims: claims})
	if err != nil {
		s.t.Fatal(err)
	}
	return s.post(tenant.PathMint, "application/json", string(raw))["access_token"].(string)
}

// call GETs path on the API with token and returns the status and WWW-Authenticate.
func (s *stack) call(path, token string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.api.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.api.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func TestTenantTokensAgainstTheAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	tests := []struct {
		name, path string
		token      func() string
		status     int
		challenge  string // substring of WWW-Authenticate
	}{
		{"read token on the scoped route", "/api/private-scoped", func() string { return s.clientToken("quickstart-read", "read-secret") }, 200, ""},
		{"readwrite token on the scoped route", "/api/private-scoped", func() string { return s.clientToken("quickstart-readwrite", "readwrite-secret") }, 200, ""},
		{"noscope token on the private route", "/api/private", func() string { return s.clientToken("quickstart-noscope", "noscope-secret") }, 200, ""},
		{"noscope token on the scoped route", "/api/private-scoped", func() string { return s.clientToken("quickstart-noscope", "noscope-secret") }, 403, `error="insufficient_scope"`},
		{"write token on the scoped route", "/api/private-scoped", func() string { return s.clientToken("quickstart-write", "write-secret") }, 403, `error="insufficient_scope"`},
		{"minted expired token", "/api/private", func() string { return s.mint(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}) }, 401, `error="invalid_token"`},
		{"minted token for another audience", "/api/private", func() string { return s.mint(map[string]any{"aud": "https://other/api"}) }, 401, `error="invalid_token"`},
		{"minted token with a crit header", "/api/private", func() string {
			raw, _ := json.Marshal(tenant.MintRequest{Header: map[string]any{"crit": []string{"exp"}}})
			return s.post(tenant.PathMint, "application/json", string(raw))["access_token"].(string)
		}, 401, `error="invalid_token"`},
		{"minted default token on the secured ping", "/secured/ping", func() string { return s.mint(nil) }, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, challenge := s.call(tc.path, tc.token())
			if status != tc.status || !strings.Contains(challenge, tc.challenge) {
				t.Fatalf("GET %s: %d %q, want %d with %q", tc.path, status, challenge, tc.status, tc.challenge)
			}
		})
	}
}

func TestTenantRotationReachesTheAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	before := s.clientToken("quickstart-read", "read-secret")
	if status, _ := s.call("/api/private-scoped", before); status != 200 {
		t.Fatalf("before rotation: %d", status)
	}
	s.post(tenant.PathRotate, "application/json", "")
	after := s.clientToken("quickstart-read", "read-secret")
	if status, challenge := s.call("/api/private-scoped", after); status != 200 {
		t.Fatalf("token signed with the new key: %d %s", status, challenge)
	}
	if status, _ := s.call("/api/private-scoped", before); status != 200 {
		t.Fatalf("token signed with the previous key after one rotation: %d", status)
	}
}

func TestTenantDeviceFlowTokenAgainstTheAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	d := s.post(tenant.PathDeviceCode, "application/x-www-form-urlencoded",
		url.Values{"client_id": {"cli"}, "audience": {audience}, "scope": {"openid read:messages"}}.Encode())
	approve := url.Values{"user_code": {d["user_code"].(string)}, "username": {"alice"}, "password": {"alice-password"}, "action": {"approve"}}
	resp, err := s.tenant.Client().PostForm(s.tenant.URL+tenant.PathActivate, approve)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	tok := s.post(tenant.PathToken, "application/x-www-form-urlencoded", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {"cli"}, "device_code": {d["device_code"].(string)}}.Encode())["access_token"].(string)
	if status, challenge := s.call("/api/private-scoped", tok); status != 200 {
		t.Fatalf("alice's device-flow token: %d %s", status, challenge)
	}
}
