package tokens

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
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
		typed     func(error) bool // the error's type, for the caller to word
	}{
		{name: "openid configuration", issuer: ft.url(), wantToken: ft.srv.URL + "/oauth/token"},
		{name: "no trailing slash", issuer: ft.srv.URL, wantToken: ft.srv.URL + "/oauth/token"},
		{name: "falls back to RFC 8414", issuer: fallback.url(), wantToken: fallback.srv.URL + "/oauth/token"},
		{name: "unreachable", issuer: closedURL, wantErr: "cannot reach the tenant at " + closedURL, unreach: true,
			typed: isUnreachable("tenant", closedURL)},
		{name: "server error is not hidden by the fallback", issuer: broken.URL + "/", wantErr: "500",
			typed: isDiscoveryError(broken.URL + "/")},
		{name: "not JSON", issuer: notJSON.URL, wantErr: "not a JSON metadata document", typed: isDiscoveryError(notJSON.URL + "/")},
		{name: "not a URL", issuer: "localhost:4000", wantErr: `issuer "localhost:4000" is not an http(s) URL`,
			typed: isBadIssuer("localhost:4000")},
		{name: "empty", issuer: "", wantErr: "is not an http(s) URL", typed: isBadIssuer("")},
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
				if !tc.typed(err) {
					t.Fatalf("error %#v is not of the type the case wants", err)
				}
				assertNoCLIWords(t, err)
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

// isUnreachable, isDiscoveryError and isBadIssuer check an error's type and the facts it carries.
func isUnreachable(what, u string) func(error) bool {
	return func(err error) bool {
		e, ok := errors.AsType[*UnreachableError](err)
		return ok && e.What == what && e.URL == u && e.Err != nil
	}
}

func isDiscoveryError(u string) func(error) bool {
	return func(err error) bool {
		e, ok := errors.AsType[*DiscoveryError](err)
		return ok && e.URL == u && e.Err != nil
	}
}

func isBadIssuer(issuer string) func(error) bool {
	return func(err error) bool {
		e, ok := errors.AsType[*BadIssuerError](err)
		return ok && e.Issuer == issuer
	}
}

// cliWords are what only a command line may name: its flags and environment variables. The package reports facts
// in typed errors; its caller says which setting to change.
var cliWords = regexp.MustCompile(`--[a-z]{3,}|AUTH0_|ISSUER_URL|XDG_`)

// assertNoCLIWords fails the test when err's text names a flag or an environment variable.
func assertNoCLIWords(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if w := cliWords.FindString(err.Error()); w != "" {
		t.Errorf("error %q names %q: a library error must not word the CLI's hints", err, w)
	}
}
