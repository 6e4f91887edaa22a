package conformance

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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

// TestFootingWaitsForTheTenantsNewKey: an API that has not yet fetched the stand-in's newest key (an earlier run
// rotated it, and the API limits its refetches) gets up to KeyWait to learn it before the suite blames the setup;
// one that never learns it is still reported as not knowing the tenant's keys.
func TestFootingWaitsForTheTenantsNewKey(t *testing.T) {
	t.Parallel()
	// unknownKey refuses valid tokens as a server without the signing key does, for the first refusals tries.
	unknownKey := func(refusals int64, tries *atomic.Int64) mutation {
		return func(_ *stack, next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "" && r.URL.Path == "/api/private" && tries.Add(1) <= refusals {
					w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="token is signed with an unknown key"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	tests := []struct {
		name      string
		refusals  int64
		keyWait   time.Duration
		wantErr   bool
		minTries  int64
		wantCause Cause
	}{
		{name: "learns the key after two refusals", refusals: 2, keyWait: 20 * time.Second, minTries: 3},
		{name: "never learns it", refusals: 1 << 30, keyWait: 3 * time.Second, wantErr: true, minTries: 2, wantCause: CauseKeys},
		{name: "no wait asked for", refusals: 1, keyWait: -1, wantErr: true, minTries: 1, wantCause: CauseKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tries atomic.Int64
			st := newStack(t, unknownKey(tt.refusals, &tries))
			cfg := Config{API: st.apiURL, Issuer: st.issuer, Audience: testAudience, Scope: testScope, Origin: testOrigin,
				HTTP: st.hc, KeyWait: tt.keyWait}
			env, err := Prepare(t.Context(), cfg)
			if err == nil {
				_ = env.Close()
			}
			fe, isFooting := errors.AsType[*FootingError](err)
			switch {
			case tt.wantErr && (!isFooting || fe.Cause != tt.wantCause):
				t.Fatalf("Prepare: %v; want a FootingError with cause %s", err, tt.wantCause)
			case !tt.wantErr && err != nil:
				t.Fatalf("Prepare: %v; want the suite to run once the API knows the key", err)
			}
			if got := tries.Load(); got < tt.minTries || (tt.keyWait < 0 && got != 1) {
				t.Errorf("the footing was tried %d times, want at least %d (exactly 1 without a wait)", got, tt.minTries)
			}
		})
	}
}
