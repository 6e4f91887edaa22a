package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// pathFamily runs the rows below on the routes' own cases and the paths cases: their mutations change only how
// paths other than the routes' are served, which the rest of the matrix never sends.
var pathFamily = regexp.MustCompile(`^(quickstart|paths)/`)

// TestPathsCasesCatchTheirFlaw puts, in front of the real API, access control that matches the path as written and a
// router that normalises it in one way per row: the suite must flag exactly the spellings that reach the private
// handler, at high severity, and nothing else.
func TestPathsCasesCatchTheirFlaw(t *testing.T) {
	t.Parallel()
	trimSlash := func(p string) string { return strings.TrimSuffix(p, "/") }
	merge := regexp.MustCompile(`/{2,}`)
	runRows(t, []suiteRow{
		{name: "router ignores a trailing slash", opts: stackOptions{mutate: confusedRouter(writtenPath, trimSlash)},
			only: pathFamily, fails: []string{"paths/trailing-slash"}, check: failsWith(High, "paths/trailing-slash")},
		{name: "case-insensitive router", opts: stackOptions{mutate: confusedRouter(writtenPath, strings.ToLower)},
			only: pathFamily, fails: []string{"paths/upper-case"}},
		// The access control reads the path as sent (RequestURI, RawPath), the router the decoded one.
		{name: "router decodes what the check read encoded", opts: stackOptions{mutate: confusedRouter(
			func(r *http.Request) string { return r.URL.EscapedPath() }, func(p string) string {
				d, err := url.PathUnescape(p)
				if err != nil {
					return p
				}
				return d
			})}, only: pathFamily, fails: []string{"paths/percent-encoded"}},
		{name: "router merges slashes", opts: stackOptions{mutate: confusedRouter(writtenPath, func(p string) string {
			return merge.ReplaceAllString(p, "/")
		})}, only: pathFamily, fails: []string{"paths/empty-segment"}},
		{name: "router strips ;parameters", opts: stackOptions{mutate: confusedRouter(writtenPath, func(p string) string {
			before, _, _ := strings.Cut(p, ";")
			return before
		})}, only: pathFamily, fails: []string{"paths/path-parameter"}},
		// path.Clean drops dot segments, repeated slashes and the trailing slash alike.
		{name: "router cleans the path", opts: stackOptions{mutate: confusedRouter(writtenPath, path.Clean)},
			only: pathFamily, fails: []string{"paths/trailing-slash", "paths/dot-segment", "paths/empty-segment",
				"paths/public-dot-dot"}},
		// Everything under the public prefix passes unchecked, and the router cleans the path afterwards.
		{name: "public allow-list by prefix", opts: stackOptions{mutate: publicPrefixAllowList},
			only: pathFamily, fails: []string{"paths/public-dot-dot"}, check: failsWith(High, "paths/public-dot-dot")},
		{name: "router follows X-Original-URL", opts: stackOptions{mutate: followsOriginalURL}, only: pathFamily,
			fails: []string{"paths/original-url-header"}, check: failsWith(High, "paths/original-url-header")},
		// Answers that differ in words from one request to the next cannot be compared: a 2xx is then skipped.
		{name: "router ignores a trailing slash, answers vary in words", opts: stackOptions{
			mutate: chain(confusedRouter(writtenPath, trimSlash), wordsVary)},
			only: pathFamily, skips: []string{"paths/trailing-slash", "paths/original-url-header"},
			check: skippedFor(map[string]string{"paths/trailing-slash": "changes from one request to the next"})},
		// A request id in every answer is masked, so the private route's answer is still recognised.
		{name: "router ignores a trailing slash, answers carry a request id", opts: stackOptions{
			mutate: chain(confusedRouter(writtenPath, trimSlash), requestIDInBody)},
			only: pathFamily, fails: []string{"paths/trailing-slash"}},
	})
}

// TestPathsLegitimateVariants runs the paths cases against correct servers that route other spellings of the private
// path in their own legitimate ways: none may fail.
func TestPathsLegitimateVariants(t *testing.T) {
	t.Parallel()
	runRows(t, []suiteRow{
		// A single-page app's server answers every path it does not have with its index page; the whole matrix runs,
		// since every case's unknown path now gets a 200.
		{name: "index page for any unknown path", opts: stackOptions{mutate: indexForUnknownPaths},
			check: noted(map[string]string{
				"paths/trailing-slash": "what the API answers for a path it does not have",
				"paths/upper-case":     "what the API answers for a path it does not have",
			})},
		// net/http's ServeMux redirects an unclean path to its clean form.
		{name: "redirects to the clean path", opts: stackOptions{mutate: redirectsToCleanPath}, only: pathFamily,
			check: noted(map[string]string{
				"paths/dot-segment": "redirected (307) to /api/private", "paths/public-dot-dot": "redirected (307)",
			})},
		// A router that normalises every spelling before the access control runs: each gets the route's 401.
		{name: "normalises before the access control", opts: stackOptions{mutate: normalisesFirst}, only: pathFamily,
			check: func(t *testing.T, _ *Env, results []Result) {
				for _, r := range results {
					want := http.StatusUnauthorized
					if r.Case.Name == "original-url-header" {
						want = http.StatusOK // the public route, which it asks for
					}
					if r.Case.Category == PathSpellings && r.Got != want {
						t.Errorf("%s got %d, want %d", r.Case.ID(), r.Got, want)
					}
				}
			}},
		// Another page at a spelling of the path: a 200 that is not the private route's answer.
		{name: "another page at the path with a slash", opts: stackOptions{mutate: otherPageAt("/api/private/")},
			only: pathFamily, check: noted(map[string]string{"paths/trailing-slash": "not with the private route's content"})},
	})
}

// TestServedElsewhere judges 2xx answers against references the API could give.
func TestServedElsewhere(t *testing.T) {
	t.Parallel()
	const private = `{"message":"private","at":1733000000}`
	tests := []struct {
		name    string
		ref     pathRef
		body    string
		verdict Verdict
	}{
		{"the private answer", pathRef{private: masked([]byte(private))}, `{"message":"private","at":1733000042}`, Fail},
		{"the unknown path's page", pathRef{private: masked([]byte(private)), unknown: "<html>"}, "<html>\n", Pass},
		{"another page", pathRef{private: masked([]byte(private))}, "<html>", Pass},
		{"no reference", pathRef{why: "it changes"}, private, Skip},
		{"no reference, but the unknown path's page", pathRef{why: "it changes", unknown: "<html>"}, "<html>", Pass},
		{"no reference, but the public route's answer", pathRef{why: "it changes", public: "public"}, "public", Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &Env{pathRefs: &pathRefCache{ref: &tc.ref}, Paths: DefaultPaths()}
			c := Case{Name: "x", Category: PathSpellings, Severity: High, Why: "w", Check: servedElsewhere,
				Expect: Expect{Status: http.StatusUnauthorized, AnyRefusal: true, Elsewhere: true}}
			j := NewRunner().judge(t.Context(), env, &c, c.Expect, &httpcall.Response{Status: http.StatusOK, Body: []byte(tc.body)})
			if j.verdict != tc.verdict {
				t.Errorf("verdict %s (%s), want %s", j.verdict, j.detail, tc.verdict)
			}
			if tc.verdict == Fail && j.finding.Severity != High {
				t.Errorf("severity %s, want high", j.finding.Severity)
			}
		})
	}
}

func TestMasked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"at":1733000000,"n":7}`, `{"at":1733000042,"n":8}`, true},
		{`{"request_id":"5f0c9a7e-1b2d-4c3e-9f00-aa11bb22cc33","m":"hi"}`, `{"request_id":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","m":"hi"}`, true},
		{`{"trace":"01HF8Z3K9Q2W7M4N6P8R0T2V4X"}`, `{"trace":"01HF8Z3KB1C3D5E7F9G1H3J5K7"}`, true},
		{`at 2026-12-01T16:36:23.827Z`, `at 2027-01-02T01:02:03.004Z`, true},
		{" <html>\n", "<html>", true},
		{`{"message":"private"}`, `{"message":"public"}`, false},
		{`{"message":"authenticated"}`, `{"message":"authorization"}`, false},
		{`{"v":"v1"}`, `{"v":"v2"}`, true},
		{`{"v":"abc"}`, `{"v":"abd"}`, false},
	}
	for _, tc := range tests {
		if got := masked([]byte(tc.a)) == masked([]byte(tc.b)); got != tc.same {
			t.Errorf("masked(%q) == masked(%q) is %v, want %v (%q, %q)", tc.a, tc.b, got, tc.same,
				masked([]byte(tc.a)), masked([]byte(tc.b)))
		}
	}
}

// writtenPath is the path as an access control that reads r.URL.Path sees it: decoded, never normalised.
func writtenPath(r *http.Request) string { return r.URL.Path }

// confusedRouter is access control that requires a token only when the path, as seen reads it, is the private
// route's, in front of a router that serves the private handler for whatever normalise turns into that path. The
// handler then runs as if authorised: the API is sent the request with a valid token of its own.
func confusedRouter(seen func(*http.Request) string, normalise func(string) string) mutation {
	return func(st *stack, next http.Handler) http.Handler {
		token := validToken(st)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := seen(r)
			if p == "/api/private" || normalise(p) != "/api/private" {
				next.ServeHTTP(w, r)
				return
			}
			serveAuthorised(w, r, next, token)
		})
	}
}

// publicPrefixAllowList lets everything under /api/public through without a token and routes the cleaned path.
func publicPrefixAllowList(st *stack, next http.Handler) http.Handler {
	token := validToken(st)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/public/") || path.Clean(r.URL.Path) != "/api/private" {
			next.ServeHTTP(w, r)
			return
		}
		serveAuthorised(w, r, next, token)
	})
}

// serveAuthorised sends r to the API at the private path with a valid token, as a router that already dispatched
// to the private handler behind a check that did not run.
func serveAuthorised(w http.ResponseWriter, r *http.Request, next http.Handler, token func(context.Context) (string, error)) {
	tok, err := token(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	r = r.Clone(r.Context())
	r.URL.Path, r.URL.RawPath = "/api/private", ""
	r.Header.Set("Authorization", "Bearer "+tok)
	next.ServeHTTP(w, r)
}

// validToken mints, on first use, a valid token for the private route.
func validToken(st *stack) func(context.Context) (string, error) {
	var (
		mu  sync.Mutex
		tok string
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if tok != "" {
			return tok, nil
		}
		t, err := st.minter.MintAlg(ctx, "", nil, map[string]any{"aud": testAudience, "scope": testScope})
		tok = t
		return t, err
	}
}

// followsOriginalURL checks the token by the request line's path, then routes by X-Original-URL when present.
func followsOriginalURL(st *stack, next http.Handler) http.Handler {
	token := validToken(st)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/private" || r.Header.Get("X-Original-Url") != "/api/private" {
			next.ServeHTTP(w, r)
			return
		}
		serveAuthorised(w, r, next, token)
	})
}

// chain applies mutations so that the first is outermost.
func chain(ms ...mutation) mutation {
	return func(st *stack, next http.Handler) http.Handler {
		for i := len(ms) - 1; i >= 0; i-- {
			next = ms[i](st, next)
		}
		return next
	}
}

// requestIDInBody adds a random request id to every 2xx JSON answer's body, so no two answers are alike.
func requestIDInBody(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code/100 == 2 && bytes.HasPrefix(body, []byte("{")) {
			id := make([]byte, 8)
			_, _ = rand.Read(id)
			body = fmt.Appendf(nil, `{"request_id":%q,%s`, hex.EncodeToString(id), body[1:])
		}
		copyRecorded(w, rec, body)
	})
}

// wordsVary adds to every 2xx JSON answer a word no earlier answer had (the request's number in letters).
func wordsVary(_ *stack, next http.Handler) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code/100 == 2 && bytes.HasPrefix(body, []byte("{")) {
			var letters []byte
			for i := n.Add(1); i > 0; i /= 26 {
				letters = append(letters, byte('a'+i%26))
			}
			body = fmt.Appendf(nil, `{"word":%q,%s`, letters, body[1:])
		}
		copyRecorded(w, rec, body)
	})
}

// indexForUnknownPaths answers what the API would 404 with a single-page app's index page.
func indexForUnknownPaths(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code != http.StatusNotFound {
			copyRecorded(w, rec, rec.Body.Bytes())
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>app</title><div id=root></div>\n"))
	})
}

// copyRecorded writes a recorded answer with body in place of the recorded one.
func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// redirectsToCleanPath answers an unclean path with a redirect to its clean form, as net/http's ServeMux does.
func redirectsToCleanPath(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := path.Clean(r.URL.Path); c != r.URL.Path && r.URL.Path != "/" {
			http.Redirect(w, r, c, http.StatusTemporaryRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// normalisesFirst routes every spelling of a path (case, encoding, dot and empty segments, trailing slash,
// ;parameters) to the path itself before the API, and so its access control, sees it.
func normalisesFirst(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _, _ := strings.Cut(r.URL.Path, ";")
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = path.Clean(strings.ToLower(p)), ""
		next.ServeHTTP(w, r)
	})
}

// otherPageAt serves a page of its own at p, without a token.
func otherPageAt(p string) mutation {
	return func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != p {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"links":["/api/private"]}`))
		})
	}
}
