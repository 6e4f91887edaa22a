package tokens

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestUserErrorsAreTyped: a refused refresh and an unreachable end_session_endpoint come back as facts the caller
// can word (the refusal's code, what could not be reached), naming no flag or variable.
func TestUserErrorsAreTyped(t *testing.T) {
	t.Parallel()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown refresh token")
	}))
	t.Cleanup(refusing.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	hc := &http.Client{Timeout: 5 * time.Second}
	tests := []struct {
		name  string
		call  func() error
		check func(error) bool
	}{
		{"refresh refused", func() error {
			_, err := Refresh(context.Background(), hc, &Discovery{TokenEndpoint: refusing.URL + "/token"}, "native",
				&Token{RefreshToken: "rt"})
			return err
		}, func(err error) bool {
			te, ok := errors.AsType[*TokenError](err)
			return ok && te.Code == "invalid_grant" && te.Hint == "the login was revoked or has expired"
		}},
		{"refresh unreachable", func() error {
			_, err := Refresh(context.Background(), hc, &Discovery{TokenEndpoint: closed.URL + "/token"}, "native",
				&Token{RefreshToken: "rt"})
			return err
		}, isUnreachable("token endpoint", closed.URL+"/token")},
		{"end session unreachable", func() error {
			return EndSession(context.Background(), hc, &Discovery{EndSessionEndpoint: closed.URL + "/logout"}, "native", "")
		}, isUnreachable("end_session_endpoint", closed.URL+"/logout")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call()
			if err == nil || !tc.check(err) {
				t.Fatalf("error %#v is not the typed error the case wants", err)
			}
			assertNoCLIWords(t, err)
		})
	}
}
