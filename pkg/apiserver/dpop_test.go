package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/internal/testissuer"
	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

// TestDPoPSettingsReachTheAPI: the serverconfig fields for DPoP, the public URL, the resource and several issuers
// are what the running API uses (the wiring, not the rules, is under test here).
func TestDPoPSettingsReachTheAPI(t *testing.T) {
	iss, other := testissuer.New(t), testissuer.New(t)
	cfg := config(iss)
	cfg.ExtraIssuers = []string{other.URL}
	cfg.DPoPMode = auth.DPoPRequired
	cfg.DPoPAlgs = []string{"ES384"}
	cfg.PublicURL = "https://api.example.com"
	cfg.ResourceURL = "https://api.example.com/"
	r := start(t, cfg)

	resp, err := http.Get(r.url + api.ResourceMetadataPath) //nolint:noctx // test
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	servers, _ := doc["authorization_servers"].([]any)
	algs, _ := doc["dpop_signing_alg_values_supported"].([]any)
	if doc["resource"] != "https://api.example.com/" || len(servers) != 2 || servers[1] != other.URL ||
		len(algs) != 1 || algs[0] != "ES384" || doc["dpop_bound_access_tokens_required"] != true {
		t.Fatalf("metadata %v", doc)
	}

	req, _ := http.NewRequest(http.MethodGet, r.url+"/api/private", nil) //nolint:noctx // test
	req.Header.Set("Authorization", "Bearer "+other.Token(t, nil))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch := resp.Header.Values("WWW-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || len(ch) != 1 || !strings.HasPrefix(ch[0], `DPoP realm="api", algs="ES384", error="invalid_token"`) ||
		!strings.HasSuffix(ch[0], `resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"`) {
		t.Fatalf("a Bearer token in required mode: %d %q", resp.StatusCode, ch)
	}
	if !strings.Contains(r.logs.String(), `"dpop_mode":"required"`) {
		t.Errorf("start-up log lacks the DPoP mode:\n%s", r.logs)
	}
}

// TestTrustProxyReachesTheAPI: with TRUST_PROXY the challenge's resource_metadata follows X-Forwarded-Proto/-Host;
// without it, the request's own Host.
func TestTrustProxyReachesTheAPI(t *testing.T) {
	for _, trust := range []bool{false, true} {
		cfg := config(testissuer.New(t))
		cfg.TrustProxy = trust
		r := start(t, cfg)
		req, _ := http.NewRequest(http.MethodGet, r.url+"/api/private", nil) //nolint:noctx // test
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "api.example.com")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := r.url + api.ResourceMetadataPath
		if trust {
			want = "https://api.example.com" + api.ResourceMetadataPath
		}
		if ch := resp.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `resource_metadata="`+want+`"`) {
			t.Errorf("TRUST_PROXY=%v: challenge %q, want resource_metadata %s", trust, ch, want)
		}
	}
}
