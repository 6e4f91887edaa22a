package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/api"
)

// TestSameResponse: the baseline answers /api/public with the real router's status, Content-Type and body.
func TestSameResponse(t *testing.T) {
	get := func(h http.Handler) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/public", nil))
		return rec
	}
	base, real := get(newRouter()), get(api.NewRouter(api.Options{}))
	if base.Code != real.Code || base.Body.String() != real.Body.String() ||
		base.Header().Get("Content-Type") != real.Header().Get("Content-Type") {
		t.Errorf("baseline %d %q %q, router %d %q %q", base.Code, base.Header().Get("Content-Type"), base.Body,
			real.Code, real.Header().Get("Content-Type"), real.Body)
	}
}

func TestLoopbackOnly(t *testing.T) {
	if err := run(t.Context(), "0.0.0.0:0"); err == nil {
		t.Error("a non-loopback address was accepted")
	}
}
