package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

func TestResourceMetadata(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	tests := []struct {
		name        string
		resourceURL string
		scope       string
		want        map[string]any
	}{
		{name: "defaults", want: map[string]any{
			"resource":                          testissuer.Audience,
			"authorization_servers":             []any{f.iss.URL},
			"scopes_supported":                  []any{"read:messages"},
			"bearer_methods_supported":          []any{"header"},
			"dpop_signing_alg_values_supported": []any{"ES256", "RS256", "PS256"},
		}},
		{name: "resource URL and scope", resourceURL: "https://api.example.com/", scope: "write:messages", want: map[string]any{
			"resource":                          "https://api.example.com/",
			"authorization_servers":             []any{f.iss.URL},
			"scopes_supported":                  []any{"write:messages"},
			"bearer_methods_supported":          []any{"header"},
			"dpop_signing_alg_values_supported": []any{"ES256", "RS256", "PS256"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, NewRouter(Options{Auth: f.v, ResourceURL: tc.resourceURL, RequiredScope: tc.scope}))
			r := get(t, srv, ResourceMetadataPath, http.Header{"Origin": {DefaultAllowedOrigin}})
			if r.status != http.StatusOK || r.header.Get("Content-Type") != contentTypeJSON {
				t.Fatalf("status %d, type %q", r.status, r.header.Get("Content-Type"))
			}
			if r.header.Get("Access-Control-Allow-Origin") != DefaultAllowedOrigin {
				t.Errorf("no CORS for the allowed origin: %v", r.header)
			}
			var got map[string]any
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("metadata\n got %v\nwant %v", got, tc.want)
			}
		})
	}
	// Without a validator the document cannot be vouched for: 503, like the private routes.
	srv := newServer(t, NewRouter(Options{}))
	if r := get(t, srv, ResourceMetadataPath, nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("no validator: %d, want 503", r.status)
	}
}

// TestCORSPreflightAllowsDPoP: a browser app with a DPoP-bound token sends a DPoP header, which its preflight must
// be allowed to ask for.
func TestCORSPreflightAllowsDPoP(t *testing.T) {
	f := newFixture(t, fixtureConfig{})
	r := f.do(t, http.MethodOptions, "/api/private", http.Header{
		"Origin":                         {DefaultAllowedOrigin},
		"Access-Control-Request-Method":  {"GET"},
		"Access-Control-Request-Headers": {"authorization, dpop"},
	})
	if r.status != http.StatusNoContent {
		t.Fatalf("preflight: %d %s", r.status, r.body)
	}
	mustContainAll(t, "Allow-Headers", r.header.Get("Access-Control-Allow-Headers"), "Authorization", "Dpop")
}
