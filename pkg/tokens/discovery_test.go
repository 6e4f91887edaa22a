package tokens

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDiscover(t *testing.T) {
	ft := newFakeTenant(t)
	fallback := newFakeTenant(t)
	fallback.noOIDC = true
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/"
	closed.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "openid") {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"issuer":"x","token_endpoint":"y"}`))
	}))
	t.Cleanup(broken.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>"))
	}))
	t.Cleanup(notJSON.Close)

	tests := []struct {
		name      string
		issuer    string
		wantToken string
		wantErr   string
		unreach   bool
	}{
		{name: "openid configuration", issuer: ft.url(), wantToken: ft.srv.URL + "/oauth/token"},
		{name: "no trailing slash", issuer: ft.srv.URL, wantToken: ft.srv.URL + "/oauth/token"},
		{name: "falls back to RFC 8414", issuer: fallback.url(), wantToken: fallback.srv.URL + "/oauth/token"},
		{name: "unreachable", issuer: closedURL, wantErr: "cannot reach the tenant at " + closedURL, unreach: true},
		{name: "server error is not hidden by the fallback", issuer: broken.URL + "/", wantErr: "500"},
		{name: "not JSON", issuer: notJSON.URL, wantErr: "not a JSON metadata document"},
		{name: "not a URL", issuer: "localhost:4000", wantErr: "set --issuer / ISSUER_URL"},
		{name: "empty", issuer: "", wantErr: "is not an http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d, err := Discover(ctx, &http.Client{Timeout: 5 * time.Second}, tc.issuer)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Discover(%q) error = %v, want it to contain %q", tc.issuer, err, tc.wantErr)
				}
				if got := errors.Is(err, ErrUnreachable); got != tc.unreach {
					t.Fatalf("errors.Is(err, ErrUnreachable) = %v, want %v", got, tc.unreach)
				}
				return
			}
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			if d.TokenEndpoint != tc.wantToken {
				t.Errorf("TokenEndpoint = %q, want %q", d.TokenEndpoint, tc.wantToken)
			}
			if d.Issuer != "http://localhost:4000/" {
				t.Errorf("Issuer = %q: the document's issuer must be kept even when it differs from the URL asked", d.Issuer)
			}
			if !d.IsStandIn() {
				t.Error("IsStandIn() = false for a document with mint_endpoint")
			}
		})
	}
}

func TestIsStandIn(t *testing.T) {
	var nilD *Discovery
	if nilD.IsStandIn() || (&Discovery{Issuer: "https://x.auth0.com/"}).IsStandIn() {
		t.Fatal("IsStandIn() true without a mint_endpoint")
	}
}
