package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/tokens"
)

func TestExplainTokensError(t *testing.T) {
	t.Parallel()
	plain := errors.New("something else")
	unreachable := &tokens.UnreachableError{What: "tenant", URL: "http://127.0.0.1:1/", Err: errors.New("connection refused")}
	tests := []struct {
		name string
		err  error
		want string // the whole message the user sees
	}{
		{"nil", nil, ""},
		{"not the library's", plain, "something else"},
		{"no client id", tokens.ErrNoClientID, "no client id: set --client-id or AUTH0_CLIENT_ID"},
		{"no client id for the device flow", fmt.Errorf("%w: the device code grant needs a native application's client id", tokens.ErrNoClientID),
			"no client id: the device code grant needs a native application's client id: set --client-id or AUTH0_CLIENT_ID"},
		{"no client secret", tokens.ErrNoClientSecret, "no client secret: set --client-secret or AUTH0_CLIENT_SECRET"},
		{"tenant unreachable", unreachable,
			"cannot reach the tenant at http://127.0.0.1:1/: connection refused; is it running? set --issuer / ISSUER_URL"},
		{"tenant unreachable, wrapped", fmt.Errorf("mint: %w", unreachable),
			"mint: cannot reach the tenant at http://127.0.0.1:1/: connection refused; is it running? set --issuer / ISSUER_URL"},
		{"token endpoint unreachable", &tokens.UnreachableError{What: "token endpoint", URL: "http://t/oauth/token", Err: errors.New("timeout")},
			"cannot reach the token endpoint at http://t/oauth/token: timeout; is the tenant running? check --issuer / ISSUER_URL"},
		{"not an http(s) issuer", &tokens.BadIssuerError{Issuer: "localhost:4000"},
			`issuer "localhost:4000" is not an http(s) URL: set --issuer / ISSUER_URL (e.g. http://localhost:4000/) or AUTH0_DOMAIN`},
		{"no discovery document", &tokens.DiscoveryError{URL: "http://x/", Err: errors.New("GET http://x/.well-known/openid-configuration answered 404 Not Found")},
			"tenant at http://x/ has no usable discovery document: GET http://x/.well-known/openid-configuration answered 404 Not Found; " +
				"check --issuer / ISSUER_URL"},
		{"no cache directory", fmt.Errorf("%w: %w", tokens.ErrNoCacheDir, errors.New("$HOME is not defined")),
			"no cache directory: $HOME is not defined; set XDG_CACHE_HOME or use --no-cache"},
		{"not the stand-in", tokens.ErrNotStandIn,
			"the tenant has no mint_endpoint: minting needs the stand-in tenant (start one with client tenant and point --issuer at it)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := explainTokensError(tc.err)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("explainTokensError(nil) = %v", got)
				}
				return
			}
			if got.Error() != tc.want {
				t.Errorf("explainTokensError:\n got %q\nwant %q", got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("the worded error no longer wraps %v", tc.err)
			}
		})
	}
}

func TestExplainRefusals(t *testing.T) {
	t.Parallel()
	refusal := func(code, hint string) error {
		return &tokens.TokenError{Status: 400, Code: code, Description: "nope", Endpoint: "http://t/oauth/token", Hint: hint}
	}
	const (
		credentials = "; check --client-id / AUTH0_CLIENT_ID, --client-secret / AUTH0_CLIENT_SECRET and --audience / AUTH0_AUDIENCE"
		scope       = "; check --scope against the scopes granted to the client"
		device      = `; the device flow needs a public (native) application and sends no client secret; "svc" is not one: ` +
			"pass the --client-id / AUTH0_CLIENT_ID of a public client (the stand-in's is cli), or drop --device to use " +
			"client credentials with --client-secret"
		login = "; run client login again"
	)
	tests := []struct {
		name    string
		explain func(error) error
		err     error
		suffix  string // what the wording adds, "" for nothing
	}{
		{"credentials: invalid_client", explainCredentialsError, refusal("invalid_client", ""), credentials},
		{"credentials: unauthorized_client", explainCredentialsError, refusal("unauthorized_client", ""), credentials},
		{"credentials: access_denied", explainCredentialsError, refusal("access_denied", ""), credentials},
		{"credentials: invalid_scope", explainCredentialsError, refusal("invalid_scope", ""), scope},
		{"credentials: another code", explainCredentialsError, refusal("server_error", ""), ""},
		{"credentials: wrapped", explainCredentialsError, fmt.Errorf("get a token: %w", refusal("invalid_client", "")), credentials},
		{"credentials: not a refusal", explainCredentialsError, errors.New("x"), ""},
		{"device: invalid_client", func(err error) error { return explainDeviceError(err, "svc") }, refusal("invalid_client", ""), device},
		{"device: unauthorized_client", func(err error) error { return explainDeviceError(err, "svc") }, refusal("unauthorized_client", ""), device},
		{"device: denied, explained by the flow", func(err error) error { return explainDeviceError(err, "svc") },
			refusal("access_denied", "the request was denied on the approval page"), ""},
		{"refresh: invalid_grant", explainRefreshError, refusal("invalid_grant", "the login was revoked or has expired"), login},
		{"refresh: another code", explainRefreshError, refusal("invalid_client", ""), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.explain(tc.err)
			if want := tc.err.Error() + tc.suffix; got.Error() != want {
				t.Errorf("worded:\n got %q\nwant %q", got, want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("the worded error no longer wraps %v", tc.err)
			}
		})
	}
}

// TestTokensErrorsWordedForUsers runs each command that reaches the tenant as a user does and checks that the
// library's facts come with the flag or variable to fix, once.
func TestTokensErrorsWordedForUsers(t *testing.T) {
	ten := tokTenant(t)
	issuer := ten.URL + "/"
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/"
	down.Close()
	notTenant := httptest.NewServer(http.NotFoundHandler()) // answers, but 404 for every discovery document
	t.Cleanup(notTenant.Close)
	noTokenEndpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, downURL, down.URL+"/oauth/token")
	}))
	t.Cleanup(noTokenEndpoint.Close)
	api := httptest.NewServer(http.NotFoundHandler()) // an API that answers, for client test to get to the tenant
	t.Cleanup(api.Close)

	const (
		tenantHint   = "; is it running? set --issuer / ISSUER_URL"
		endpointHint = "; is the tenant running? check --issuer / ISSUER_URL"
		credHint     = "; check --client-id / AUTH0_CLIENT_ID, --client-secret / AUTH0_CLIENT_SECRET and --audience / AUTH0_AUDIENCE"
	)
	cc := func(iss string) map[string]string { return tokEnv(t, iss, api.URL, "quickstart-read", "read-secret") }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // each must appear exactly once
	}{
		{"token: tenant down", cc(downURL), []string{"token"}, []string{"client: cannot reach the tenant at " + downURL + ": ", tenantHint}},
		{"token: not an http(s) issuer", cc("ftp://tenant.example/"), []string{"token"},
			[]string{`issuer "ftp://tenant.example/" is not an http(s) URL: set --issuer / ISSUER_URL (e.g. http://localhost:4000/) or AUTH0_DOMAIN`}},
		{"token: no discovery document", cc(notTenant.URL + "/"), []string{"token"},
			[]string{"tenant at " + notTenant.URL + "/ has no usable discovery document", "; check --issuer / ISSUER_URL"}},
		{"token: token endpoint down", cc(noTokenEndpoint.URL + "/"), []string{"token"},
			[]string{"cannot reach the token endpoint at " + down.URL + "/oauth/token: ", endpointHint}},
		{"token: audience not granted", cc(issuer), []string{"token", "--audience", "https://nope"}, []string{"access_denied", credHint}},
		{"token: scope not granted", cc(issuer), []string{"token", "--scope", "admin:all"},
			[]string{"invalid_scope", "; check --scope against the scopes granted to the client"}},
		{"call: tenant down", cc(downURL), []string{"call", "/api/private"}, []string{"cannot reach the tenant at " + downURL, tenantHint}},
		{"login: tenant down", cc(downURL), []string{"login", "--no-browser"}, []string{"cannot reach the tenant at " + downURL, tenantHint}},
		{"load: tenant down", cc(downURL), []string{"load", "--requests", "1"}, []string{"cannot reach the tenant at " + downURL, tenantHint}},
		{"load: bad secret", tokEnv(t, issuer, api.URL, "quickstart-read", "wrong"), []string{"load", "--requests", "1"},
			[]string{"invalid_client", credHint}},
		{"test: tenant down", cc(downURL), []string{"test"},
			[]string{"discover the tenant: cannot reach the tenant at " + downURL, tenantHint}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := tokRun(t, tc.env, tc.args...)
			if code != exitCannotGo || stdout != "" {
				t.Fatalf("exit %d stdout %q, want 2 and nothing on stdout (stderr %s)", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if n := strings.Count(stderr, w); n != 1 {
					t.Errorf("stderr says %q %d times, want once:\n%s", w, n, stderr)
				}
			}
		})
	}
}

// TestNoCacheDirWarning: without any cache directory the token still comes, with a warning that says how to have
// a cache or to go without one. Not parallel: it changes the process's environment, which os.UserCacheDir reads.
func TestNoCacheDirWarning(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("the cache directory comes from HOME or XDG_CACHE_HOME only on Unix")
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	ten := tokTenant(t)
	env := tokEnv(t, ten.URL+"/", "", "quickstart-read", "read-secret")
	delete(env, "XDG_CACHE_HOME")
	code, stdout, stderr := tokRun(t, env, "token")
	if code != 0 || strings.Count(stdout, ".") != 2 {
		t.Fatalf("exit %d stdout %q stderr %s: want the token despite no cache", code, stdout, stderr)
	}
	for _, w := range []string{"client: warning: no cache directory: ", "; set XDG_CACHE_HOME or use --no-cache"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %q", stderr, w)
		}
	}
}
