package conformance

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// claimsCases are tokens signed by the issuer's own key with one thing wrong (or one unusual thing right): only the
// stand-in tenant can mint them.
func claimsCases() []Case {
	var cs []Case
	invalid := Expect{Status: http.StatusUnauthorized, Error: "invalid_token"}
	ok := Expect{Status: http.StatusOK, JSON: true}
	forbidden := Expect{Status: http.StatusForbidden, Error: "insufficient_scope"}
	add := func(name, why string, expect Expect, scoped bool, token func(env *Env, now time.Time) (header, claims map[string]any)) {
		cs = append(cs, Case{
			Name: name, Category: Claims, NeedsKey: true, Why: why, Expect: expect,
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				h, c := token(env, time.Now())
				tok, err := env.mintExact(ctx, h, c)
				path := env.Paths.Private
				if scoped {
					path = env.Paths.Scoped
				}
				return request(env, path, bearer(tok)), err
			},
		})
	}
	claims := func(c map[string]any) func(*Env, time.Time) (map[string]any, map[string]any) {
		return func(*Env, time.Time) (map[string]any, map[string]any) { return nil, c }
	}
	times := func(f func(now time.Time) map[string]any) func(*Env, time.Time) (map[string]any, map[string]any) {
		return func(_ *Env, now time.Time) (map[string]any, map[string]any) { return nil, f(now) }
	}
	header := func(h map[string]any) func(*Env, time.Time) (map[string]any, map[string]any) {
		return func(*Env, time.Time) (map[string]any, map[string]any) { return h, nil }
	}

	add("expired", "an expired token must be refused, or a leaked token works forever", invalid, false,
		times(func(now time.Time) map[string]any {
			return map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-10 * time.Minute).Unix()}
		}))
	add("expired-within-leeway", "a token expired by a few seconds of clock skew should still pass (leeway)", ok, false,
		times(func(now time.Time) map[string]any {
			return map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-5 * time.Second).Unix()}
		}))
	add("nbf-future", "a token not valid before a future time must be refused until then", invalid, false,
		times(func(now time.Time) map[string]any {
			return map[string]any{"nbf": now.Add(10 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
		}))
	add("iat-future", "a token issued in the future is forged or from a broken clock", invalid, false,
		times(func(now time.Time) map[string]any {
			return map[string]any{"iat": now.Add(10 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
		}))
	add("exp-missing", "a token without exp never expires", invalid, false, claims(map[string]any{"exp": nil}))
	add("aud-wrong", "a token for another API must not be accepted here", invalid, false,
		claims(map[string]any{"aud": "https://another-api.example/"}))
	add("aud-array-with-api", "an aud array containing this API is valid (RFC 7519 §4.1.3)", ok, false,
		func(env *Env, _ time.Time) (map[string]any, map[string]any) {
			return nil, map[string]any{"aud": []string{"https://another-api.example/", env.Audience}}
		})
	add("aud-array-without-api", "an aud array that does not contain this API must be refused", invalid, false,
		claims(map[string]any{"aud": []string{"https://another-api.example/", "https://third-api.example/"}}))
	add("aud-missing", "a token without aud is meant for no API in particular", invalid, false,
		claims(map[string]any{"aud": nil}))
	add("iss-wrong", "a token from another issuer must not be accepted", invalid, false,
		claims(map[string]any{"iss": "https://attacker.example/"}))
	add("iss-no-trailing-slash", "iss must match exactly; a near-miss issuer is another issuer", invalid, false,
		func(env *Env, _ time.Time) (map[string]any, map[string]any) {
			iss := strings.TrimSuffix(env.Issuer, "/")
			if iss == env.Issuer {
				iss += "/"
			}
			return nil, map[string]any{"iss": iss}
		})
	add("iss-missing", "a token without iss cannot be tied to the trusted issuer", invalid, false,
		claims(map[string]any{"iss": nil}))
	for _, alg := range []string{"PS256", "RS384", "RS512", "HS256", "ES256"} {
		add("alg-header-"+strings.ToLower(alg), "an alg header the API does not allow ("+alg+") must be refused", invalid, false,
			header(map[string]any{"alg": alg}))
	}
	add("kid-unknown", "a key id that is not in the key set must be refused, not tried against any key", invalid, false,
		header(map[string]any{"kid": "no-such-key"}))
	add("typ-at-jwt", "typ at+jwt (RFC 9068 access tokens) is a valid access token type", ok, false,
		header(map[string]any{"typ": "at+jwt"}))
	add("typ-wrong", "a token of another type (dpop+jwt) must not be used as an access token", invalid, false,
		header(map[string]any{"typ": "dpop+jwt"}))
	add("crit-unknown", "a crit header the API does not understand must be refused (RFC 7515 §4.1.11)", invalid, false,
		header(map[string]any{"crit": []string{"urn:tokencheck:unknown"}, "urn:tokencheck:unknown": true}))

	scope := func(f func(s string) map[string]any) func(*Env, time.Time) (map[string]any, map[string]any) {
		return func(env *Env, _ time.Time) (map[string]any, map[string]any) {
			c := f(env.Scope)
			if _, set := c["permissions"]; !set {
				c["permissions"] = nil
			}
			return nil, c
		}
	}
	add("scope-superstring", "scope matching by substring grants a longer scope the required one", forbidden, true,
		scope(func(s string) map[string]any { return map[string]any{"scope": s + ":all"} }))
	add("scope-prefix", "a scope that is a prefix of the required one is another scope", forbidden, true,
		scope(func(s string) map[string]any { return map[string]any{"scope": s[:len(s)-1]} }))
	add("scope-case", "scopes are case-sensitive (RFC 6749 §3.3)", forbidden, true,
		scope(func(s string) map[string]any { return map[string]any{"scope": strings.ToUpper(s)} }))
	add("scope-comma-list", "scope is space-separated; a comma list is one unknown scope", forbidden, true,
		scope(func(s string) map[string]any { return map[string]any{"scope": "openid," + s} }))
	add("scope-among-others", "the required scope among others must be found", ok, true,
		scope(func(s string) map[string]any { return map[string]any{"scope": "openid " + s + " profile"} }))
	add("permissions-claim", "Auth0 RBAC grants scopes in the permissions claim", ok, true,
		scope(func(s string) map[string]any {
			return map[string]any{"scope": nil, "permissions": []string{s}}
		}))
	add("permissions-other", "a permissions claim without the required scope must not reach the scoped route",
		forbidden, true, scope(func(s string) map[string]any {
			return map[string]any{"scope": nil, "permissions": []string{s + ":all"}}
		}))
	return cs
}
