package conformance

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// pathsCases send the private route's path, spelled another way, without a token. Access control that matches the
// path as written (a middleware keyed on the exact string, an allow-list by prefix) in front of a router that
// normalises it (trailing slash, case, percent-encoding, dot segments, empty segments, path parameters) lets the
// request reach the private handler: path confusion (CWE-178, CWE-22; OWASP WSTG-ATHZ-02).
//
// A correct API refuses such a spelling (401 when it routes it to the private handler, 404 when it does not),
// redirects it to the canonical path, or serves another page: a 2xx fails only when it carries the private route's
// own answer (pathReference).
func pathsCases() []Case {
	expect := Expect{Status: http.StatusUnauthorized, AnyRefusal: true, Elsewhere: true}
	cases := []struct {
		name, why string
		spell     func(env *Env) (string, error)
	}{
		{"trailing-slash", "a router that ignores a trailing slash", func(env *Env) (string, error) {
			p := env.Paths.Private
			if strings.HasSuffix(p, "/") {
				return strings.TrimSuffix(p, "/"), nil
			}
			return p + "/", nil
		}},
		{"upper-case", "a case-insensitive router", func(env *Env) (string, error) {
			p := strings.ToUpper(env.Paths.Private)
			if p == env.Paths.Private {
				return "", skipf("the private path %q has no letter to change the case of", p)
			}
			return p, nil
		}},
		// RFC 3986 §2.3, §6.2.2.2: a percent-encoded unreserved character is the same URI as the character.
		{"percent-encoded", "a router that decodes the path after the access control read it encoded",
			func(env *Env) (string, error) {
				p := env.Paths.Private
				for i := len(p) - 1; i >= 0 && p[i] != '/'; i-- {
					if c := p[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
						return fmt.Sprintf("%s%%%02X%s", p[:i], c, p[i+1:]), nil
					}
				}
				return "", skipf("the private path %q ends in no letter to percent-encode", p)
			}},
		// RFC 3986 §5.2.4 removes "." segments; routers that clean paths (path.Clean) do so too.
		{"dot-segment", "a router that removes dot segments", func(env *Env) (string, error) {
			dir, last := splitLast(env.Paths.Private)
			return dir + "/./" + last, nil
		}},
		{"empty-segment", "a router that merges repeated slashes", func(env *Env) (string, error) {
			dir, last := splitLast(env.Paths.Private)
			return dir + "//" + last, nil
		}},
		// RFC 3986 §3.3 lets a segment carry parameters after ';'; Java servlet containers strip them before routing.
		{"path-parameter", "a router that strips ;parameters from the path", func(env *Env) (string, error) {
			return env.Paths.Private + ";tokencheck", nil
		}},
		// The public route's path, then as many ".." as it has segments, then the private path: an allow-list by
		// prefix sees the public route, a router that removes dot segments serves the private one.
		{"public-dot-dot", "an allow-list by path prefix in front of a router that removes dot segments",
			func(env *Env) (string, error) {
				pub := strings.Trim(env.Paths.Public, "/")
				if env.Paths.Public == "" || pub == "" {
					return "", skipf("needs a public route below the root")
				}
				return "/" + pub + strings.Repeat("/..", strings.Count(pub, "/")+1) + env.Paths.Private, nil
			}},
	}
	out := make([]Case, 0, len(cases)+1)
	for _, pc := range cases {
		out = append(out, Case{
			Name: pc.name, Severity: High,
			Why: "the private route's content is served without a token at another spelling of its path: " +
				pc.why + " behind access control that matches the path as written (path confusion)",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				p, err := pc.spell(env)
				if err != nil {
					return httpcall.Request{}, err
				}
				return request(env, p, nil), nil
			},
			Expect: expect,
			Check:  servedElsewhere,
		})
	}
	// IIS URL Rewrite, Symfony before 4.4 and Zend route by X-Original-URL or X-Rewrite-URL when present, while a
	// check in front of them saw the request line's path: the public route asked for, the private one served.
	out = append(out, Case{
		Name: "original-url-header", Severity: High,
		Why: "the private route's content is served without a token to a request for another path that names it in " +
			"X-Original-URL or X-Rewrite-URL: the router follows the header, the access control the request line",
		Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
			carrier := env.Paths.Public
			if carrier == "" {
				carrier = unknownPath
			}
			return request(env, carrier, http.Header{
				"X-Original-Url": {env.Paths.Private}, "X-Rewrite-Url": {env.Paths.Private},
			}), nil
		},
		Expect: expect,
		Check:  servedElsewhere,
	})
	return out
}

// splitLast splits a path before its last segment: "/api/private" is "/api" and "private".
func splitLast(p string) (dir, last string) {
	i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// servedElsewhere judges an answer a paths case accepted by its status: a refusal or a redirect passes, and so does
// a 2xx unless it is the private route's own answer to a valid token.
func servedElsewhere(ctx context.Context, env *Env, resp *httpcall.Response) (string, error) {
	switch {
	case resp.Status >= 400:
		return "", nil
	case resp.Status >= 300:
		return fmt.Sprintf("redirected (%d) to %s", resp.Status, httpcall.RedactURL(resp.Header.Get("Location"))), nil
	}
	ref, err := env.pathReference(ctx)
	if err != nil {
		return "", skipf("answered %d without a token, and the answers to compare it with could not be fetched: %v",
			resp.Status, err)
	}
	got := masked(resp.Body)
	switch {
	case ref.private != "" && got == ref.private:
		return "", fmt.Errorf("answered %d without a token with the private route's own answer to a valid token",
			resp.Status)
	case ref.unknown != "" && got == ref.unknown:
		return fmt.Sprintf("answered %d with what the API answers for a path it does not have", resp.Status), nil
	case ref.public != "" && got == ref.public:
		return fmt.Sprintf("answered %d with the public route's own answer", resp.Status), nil
	case ref.private == "":
		return "", skipf("answered %d without a token, and %s, so the tester cannot tell whether this is the "+
			"private route's content: check this path by hand", resp.Status, ref.why)
	}
	return fmt.Sprintf("answered %d without a token, but not with the private route's content (another page)",
		resp.Status), nil
}

// pathRef is what the paths cases compare a 2xx with: the private route's answer to a valid token and the API's
// answer to a path it cannot have, both as masked makes them.
type pathRef struct {
	private string // "" when it cannot tell the private content apart; why then says why
	unknown string // "" unless such a path gets a 2xx
	public  string // the public route's answer, "" without one
	why     string
}

// pathRefCache keeps the reference once it was fetched, for every paths case of a run.
type pathRefCache struct {
	mu  sync.Mutex
	ref *pathRef
}

// unknownPath is a path no API has; its answer tells a catch-all page (a single-page app's index) from a route.
const unknownPath = "/tokencheck-no-such-route-8f3a"

// pathReference fetches (once per Env) what the paths cases compare a 2xx answer with. Only transport errors are
// returned, and they are not kept: the next case asks again.
func (e *Env) pathReference(ctx context.Context) (*pathRef, error) {
	if e.pathRefs != nil {
		e.pathRefs.mu.Lock()
		defer e.pathRefs.mu.Unlock()
		if e.pathRefs.ref != nil {
			return e.pathRefs.ref, nil
		}
	}
	get := func(path string, header http.Header) (*httpcall.Response, error) {
		return e.do(ctx, request(e, path, header), nil)
	}
	ref := &pathRef{}
	unknown, err := get(unknownPath, nil)
	if err != nil {
		return nil, err
	}
	if unknown.Status >= 200 && unknown.Status < 300 {
		ref.unknown = masked(unknown.Body)
	}
	first, err := get(e.Paths.Private, bearer(e.ScopedToken))
	if err != nil {
		return nil, err
	}
	second, err := get(e.Paths.Private, bearer(e.ScopedToken))
	if err != nil {
		return nil, err
	}
	private := masked(first.Body)
	switch {
	case e.ScopedToken == "" || first.Status < 200 || first.Status >= 300:
		ref.why = fmt.Sprintf("the private route answered %d to the valid token", first.Status)
	case private == "":
		ref.why = "the private route answers a valid token with an empty body"
	case masked(second.Body) != private:
		ref.why = "the private route's answer to a valid token changes from one request to the next"
	case private == ref.unknown:
		ref.why = "the API answers a path it does not have as it answers the private route"
	default:
		ref.private = private
	}
	if e.Paths.Public != "" {
		public, err := get(e.Paths.Public, nil)
		if err != nil {
			return nil, err
		}
		if public.Status >= 200 && public.Status < 300 {
			ref.public = masked(public.Body)
		}
		if ref.private != "" && ref.public == private {
			ref.private, ref.why = "", "the public route answers as the private one does"
		}
	}
	if e.pathRefs != nil {
		e.pathRefs.ref = ref
	}
	return ref, nil
}

// word is a run of the characters ids are written in (UUIDs, hex, base64url, ULIDs, timestamps' parts).
var word = regexp.MustCompile(`[A-Za-z0-9_-]+`)

// idLength is the length from which a word with a digit in it is taken for an id (a request id, a UUID, a nonce)
// and masked whole; shorter ones (counters, times) keep their letters and lose their digits.
const idLength = 12

// masked is a body as the paths cases compare it: ids and digits masked, so a timestamp, a counter or a request
// id in an answer does not make the same page look like another; surrounding space trimmed.
func masked(body []byte) string {
	return strings.TrimSpace(word.ReplaceAllStringFunc(string(body), func(w string) string {
		if !strings.ContainsAny(w, "0123456789") {
			return w
		}
		if len(w) >= idLength {
			return "#"
		}
		return strings.Map(func(r rune) rune {
			if '0' <= r && r <= '9' {
				return '0'
			}
			return r
		}, w)
	}))
}
