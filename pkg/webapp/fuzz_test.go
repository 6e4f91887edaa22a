package webapp_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/webapp"
)

var sourcePattern = regexp.MustCompile(`^('self'|https?://[A-Za-z0-9.\-\[\]:]+)$`)

// FuzzNew checks that whatever settings New accepts, they cannot add or end a CSP directive, and the JSON the page
// reads holds no raw <, > or &.
func FuzzNew(f *testing.F) {
	f.Add("http://localhost:3010", "http://localhost:4000/", "spa", "https://quickstarts/api", "")
	f.Add("http://a;script-src *", "http://x/", "a b", "<x>", "openid")
	f.Add("https://[::1]:8443/v1", "HTTP://Tenant.Example", "id&x", "urn:a", "openid profile")
	f.Add("http://a/%3B", "http://b'/", "c", "d", "openid\x00")
	f.Fuzz(func(t *testing.T, api, issuer, clientID, audience, scope string) {
		h, err := webapp.New(webapp.Config{APIURL: api, IssuerURL: issuer, ClientID: clientID, Audience: audience, Scope: scope})
		if err != nil {
			return
		}
		for _, path := range []string{"/", "/config.json"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", path, rec.Code)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if n := strings.Count(csp, ";"); n != 7 {
				t.Fatalf("CSP has %d directives separators, want 7: %q", n, csp)
			}
			for d := range strings.SplitSeq(csp, ";") {
				fields := strings.Fields(d)
				if len(fields) > 0 && fields[0] == "connect-src" {
					for _, src := range fields[1:] {
						if !sourcePattern.MatchString(src) {
							t.Fatalf("connect-src source %q is not an origin: %q", src, csp)
						}
					}
				}
			}
			if path == "/config.json" && strings.ContainsAny(rec.Body.String(), "<>&") {
				t.Fatalf("config.json holds a raw <, > or &: %s", rec.Body.String())
			}
		}
	})
}
