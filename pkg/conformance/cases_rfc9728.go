package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// rfc9728Cases check the API's protected resource metadata (RFC 9728), which clients (MCP clients among them) read
// to find the authorization server and the proof algorithms. Publishing it is optional, so an API without it passes
// with a note; what it publishes must be usable.
func rfc9728Cases() []Case {
	return []Case{
		{
			Name: "metadata", Severity: Low,
			Why: "clients that discover the API's authorization server from its metadata (RFC 9728) get a " +
				"document they must discard",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return httpcall.Request{Method: http.MethodGet, URL: env.URL(PathResourceMetadata)}, nil
			},
			Expect: Expect{Status: http.StatusOK, Also: []int{http.StatusNotFound}},
			Check: func(_ context.Context, env *Env, resp *httpcall.Response) (string, error) {
				if resp.Status != http.StatusOK {
					return "the API publishes no RFC 9728 metadata (optional; MCP servers must publish it)", nil
				}
				return checkResourceMetadata(env, resp)
			},
		},
		{
			Name: "challenge-points-to-metadata", Severity: Low,
			Why: "the challenge's resource_metadata (RFC 9728 §5.1) leads a client to metadata it cannot use",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, nil), nil
			},
			Expect: Expect{Status: http.StatusUnauthorized},
			Check: func(ctx context.Context, env *Env, resp *httpcall.Response) (string, error) {
				chs, err := httpcall.Challenges(resp.Header)
				if err != nil {
					return "", nil //nolint:nilerr // the challenge's form is judged by the rfc6750 checks
				}
				var link string
				for _, ch := range chs {
					if v, ok := ch.Param("resource_metadata"); ok {
						link = v
						break
					}
				}
				if link == "" {
					return "no resource_metadata in the challenge (optional in RFC 9728 §5.1; MCP clients rely on it)", nil
				}
				u, err := url.Parse(link)
				if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
					return "", findingf(Low, "", "resource_metadata %q is not an absolute http(s) URL", link)
				}
				got, err := env.do(ctx, httpcall.Request{Method: http.MethodGet, URL: link}, nil)
				if err != nil {
					return "", findingf(Low, "", "resource_metadata %q does not answer: %v", link, err)
				}
				if got.Status != http.StatusOK {
					return "", findingf(Low, "", "resource_metadata %q answers %d, want 200", link, got.Status)
				}
				return fmt.Sprintf("resource_metadata=%q", link), nil
			},
		},
	}
}

// checkResourceMetadata applies RFC 9728 §2 and §3.3 to a 200 answer of the metadata URL.
func checkResourceMetadata(env *Env, resp *httpcall.Response) (string, error) {
	md, err := decodeResourceMetadata(resp)
	if err != nil {
		return "", findingf(Low, "", "%v", err)
	}
	var notes []string
	// §3.3: the resource must be the identifier the well-known path was added to, here the API's base URL.
	want := strings.TrimSuffix(env.API, "/")
	switch {
	case md.Resource == "":
		return "", findingf(Low, "", "the metadata has no resource (RFC 9728 §2 requires it)")
	case strings.TrimSuffix(md.Resource, "/") != want:
		return "", findingf(Low, "", "resource is %q, but the metadata was fetched for %q: RFC 9728 §3.3 makes "+
			"clients discard it (the server's RESOURCE_URL or equivalent should be the API's own URL)", md.Resource, want)
	}
	if len(md.AuthorizationServers) > 0 && !slices.ContainsFunc(md.AuthorizationServers, func(s string) bool {
		return strings.TrimSuffix(s, "/") == strings.TrimSuffix(env.Issuer, "/")
	}) {
		return "", findingf(Low, "", "authorization_servers %q does not list the issuer %q whose tokens the API accepts",
			md.AuthorizationServers, env.Issuer)
	}
	for _, a := range md.DPoPAlgs {
		if a == "none" || strings.HasPrefix(a, "HS") {
			return "", findingf(Medium, "", "dpop_signing_alg_values_supported lists %q: proofs need an asymmetric "+
				"algorithm (RFC 9449 §4.2)", a)
		}
	}
	if slices.Contains(md.BearerMethods, "query") {
		notes = append(notes, "bearer_methods_supported lists query, which RFC 6750 §2.3 discourages")
	}
	if len(md.DPoPAlgs) > 0 {
		notes = append(notes, "DPoP algorithms: "+strings.Join(md.DPoPAlgs, " "))
	}
	return strings.Join(notes, "; "), nil
}
