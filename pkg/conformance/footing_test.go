package conformance

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestFootingStopsOnASetupMistake(t *testing.T) {
	t.Parallel()
	unavailable := func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	tests := []struct {
		name     string
		mutate   mutation
		audience string
		scope    string
		cause    Cause
		route    string
		quote    string
	}{
		{name: "the suite's audience is not the API's", audience: "https://another/api", cause: CauseAudience,
			route: "/api/private", quote: "audience"},
		{name: "the API wants another scope", scope: "admin:all", cause: CauseScope, route: "/api/private-scoped",
			quote: "insufficient_scope"},
		{name: "the API cannot verify tokens", mutate: unavailable, cause: CauseUnavailable, route: "/api/private", quote: "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newStack(t, tt.mutate)
			cfg := Config{API: st.apiURL, Issuer: st.issuer, Audience: testAudience, Scope: testScope, Origin: testOrigin, HTTP: st.hc}
			if tt.audience != "" {
				cfg.Audience = tt.audience
			}
			if tt.scope != "" {
				cfg.Scope = tt.scope
			}
			env, err := Prepare(t.Context(), cfg)
			if err == nil {
				_ = env.Close()
				t.Fatal("Prepare ran the suite on a setup where the API refuses every valid token")
			}
			var fe *FootingError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FootingError", err)
			}
			if fe.Cause != tt.cause || fe.Route != tt.route || !strings.Contains(err.Error(), tt.quote) {
				t.Errorf("cause %s on %s: %v; want %s on %s quoting %q", fe.Cause, fe.Route, err, tt.cause, tt.route, tt.quote)
			}
		})
	}
}

func TestClassifyFooting(t *testing.T) {
	tests := []struct {
		status int
		desc   string
		scoped bool
		want   Cause
	}{
		{401, "token audience is not accepted", false, CauseAudience},
		{401, "token issuer is not trusted", false, CauseIssuer},
		{401, "token signing key is unknown", false, CauseKeys},
		{401, "signature is invalid", false, CauseKeys},
		{401, "", false, CauseUnknown},
		{403, "", true, CauseScope},
		{503, "", false, CauseUnavailable},
		{500, "", false, CauseServerError},
	}
	for _, tt := range tests {
		if got := classify(&FootingError{Status: tt.status, Description: tt.desc}, tt.scoped); got != tt.want {
			t.Errorf("%d %q scoped=%v: %s, want %s", tt.status, tt.desc, tt.scoped, got, tt.want)
		}
	}
}
