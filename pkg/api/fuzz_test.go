package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/auth"
)

// FuzzAuthorization sends arbitrary Authorization values (and query tokens) through the real router and
// validator: the answer is never a 5xx, and never a 200 on a private route unless the token really is valid.
func FuzzAuthorization(f *testing.F) {
	fx := newFixture(f, fixtureConfig{cacheSize: auth.DefaultCacheSize})
	valid := fx.iss.Token(f, nil)
	for _, seed := range []string{
		"", "Bearer", "Bearer ", "Bearer abc", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer " + valid,
		"bearer " + valid, "Bearer " + valid + " ", "Bearer " + valid + "x", "Bearer e30.e30.", "Bearer ..",
		"Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer\t" + valid, "Bearer " + valid[:len(valid)/2],
	} {
		f.Add(seed, "")
	}
	f.Add("", "access_token="+valid)
	f.Add("Bearer "+valid, "access_token=x")
	f.Fuzz(func(t *testing.T, authorization, query string) {
		for _, path := range []string{"/api/private", "/api/private-scoped", "/api/public"} {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.URL.Path = path
			req.URL.RawQuery = query
			if authorization != "" {
				req.Header.Set("Authorization", authorization)
			}
			rec := httptest.NewRecorder()
			fx.router.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s with %q ?%q: %d %s", path, authorization, query, rec.Code, rec.Body)
			}
			if path != "/api/public" && rec.Code == http.StatusOK {
				if _, err := fx.v.Validate(t.Context(), extractBearer(authorization)); err != nil {
					t.Fatalf("%s with %q ?%q: 200 but the token does not validate: %v", path, authorization, query, err)
				}
			}
		}
	})
}

// extractBearer is the token after the scheme; only the Authorization header can authenticate a request.
func extractBearer(authorization string) string {
	if len(authorization) < 7 {
		return ""
	}
	return strings.Trim(authorization[7:], " \t")
}
