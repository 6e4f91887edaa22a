package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// claimSpec is one claims case: the token's header and claims, built when the case runs (times are relative to
// then), and the route it goes to.
type claimSpec struct {
	name, why string
	sev       Severity
	expect    Expect
	scoped    bool
	alg       string // the alg the tenant signs with; "" is its default (RS256)
	token     func(env *Env, now time.Time) (header, claims map[string]any, err error)
	check     func(ctx context.Context, env *Env, resp *httpcall.Response) (string, error)
}

// claimsCases are tokens signed by the issuer's own key with one thing wrong (or one unusual thing right): only the
// stand-in tenant can mint them.
func claimsCases() []Case {
	var specs []claimSpec
	specs = append(specs, timeSpecs()...)
	specs = append(specs, audienceSpecs()...)
	specs = append(specs, issuerSpecs()...)
	specs = append(specs, headerSpecs()...)
	specs = append(specs, scopeSpecs()...)
	cs := make([]Case, 0, len(specs))
	for _, sp := range specs {
		cs = append(cs, Case{
			Name: sp.name, Category: Claims, NeedsKey: true, Severity: sp.sev, Why: sp.why, Expect: sp.expect,
			Check: sp.check,
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				h, c, err := sp.token(env, time.Now())
				if err != nil {
					return httpcall.Request{}, err
				}
				tok, err := env.mintExactAlg(ctx, sp.alg, h, c)
				path := env.Paths.Private
				if sp.scoped {
					path = env.Paths.Scoped
				}
				return request(env, path, bearer(tok)), err
			},
		})
	}
	return cs
}

var (
	invalidToken = Expect{Status: http.StatusUnauthorized, Error: "invalid_token"}
	okJSON       = Expect{Status: http.StatusOK, JSON: true}
	forbidden    = Expect{Status: http.StatusForbidden, Error: "insufficient_scope"}
	// invalidOrMalformed also takes the 400 an API may answer a claim of the wrong JSON type with.
	invalidOrMalformed = Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusBadRequest}}
)

type tokenFunc = func(env *Env, now time.Time) (map[string]any, map[string]any, error)

// claims is a token with fixed claim overrides.
func claims(c map[string]any) tokenFunc {
	return func(*Env, time.Time) (map[string]any, map[string]any, error) { return nil, c, nil }
}

// header is a token with fixed header overrides.
func header(h map[string]any) tokenFunc {
	return func(*Env, time.Time) (map[string]any, map[string]any, error) { return h, nil, nil }
}

// fromEnv is a token whose claims depend on the Env (issuer, audience).
func fromEnv(f func(env *Env) map[string]any) tokenFunc {
	return func(env *Env, _ time.Time) (map[string]any, map[string]any, error) { return nil, f(env), nil }
}

// withLeeway is a token whose times depend on the API's leeway; it skips when the leeway is unknown.
func withLeeway(f func(leeway time.Duration, now time.Time) (map[string]any, error)) tokenFunc {
	return func(env *Env, now time.Time) (map[string]any, map[string]any, error) {
		l, err := env.leeway()
		if err != nil {
			return nil, nil, err
		}
		c, err := f(l, now)
		return nil, c, err
	}
}

// aheadBy is the NumericDate at least d after now (rounded up, so whole seconds never shrink it), and less than
// d+1s after; a negative d is a time at most -d before now.
func aheadBy(now time.Time, d time.Duration) int64 {
	return now.Add(d).Add(time.Second - 1).Unix()
}

// halfLeeway is a time inside the API's leeway, or a skip when it has none to speak of.
func halfLeeway(l time.Duration) (time.Duration, error) {
	if l < 2*time.Second {
		return 0, skipf("the API has no leeway to test (%s)", l)
	}
	return (l / 2).Truncate(time.Second), nil
}

func timeSpecs() []claimSpec {
	return []claimSpec{
		{name: "expired", sev: High, expect: invalidToken,
			why: "the API accepts a token that expired an hour ago: a leaked token works forever",
			token: func(_ *Env, now time.Time) (map[string]any, map[string]any, error) {
				return nil, map[string]any{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}, nil
			}},
		{name: "expired-within-leeway", sev: Medium, expect: okJSON,
			why: "the API refuses a token expired by less than its own leeway: clients with a slightly slow clock fail",
			token: withLeeway(func(l time.Duration, now time.Time) (map[string]any, error) {
				half, err := halfLeeway(l)
				// Rounded up: expired by at most half the leeway, so whole seconds never push it past the leeway.
				return map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": aheadBy(now, -half)}, err
			})},
		{name: "expired-beyond-leeway", sev: High, expect: invalidToken,
			why: "the API accepts a token expired by more than its leeway: exp is not enforced as configured",
			token: withLeeway(func(l time.Duration, now time.Time) (map[string]any, error) {
				return map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-l - 10*time.Second).Unix()}, nil
			})},
		{name: "leeway-at-most-5m", sev: Medium, expect: invalidToken,
			why: "the API accepts tokens expired more than 5 minutes ago: leeway is for a few minutes of clock " +
				"skew, more keeps expired tokens alive",
			token: func(_ *Env, now time.Time) (map[string]any, map[string]any, error) {
				return nil, map[string]any{
					"iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-maxSaneLeeway - 15*time.Second).Unix(),
				}, nil
			},
			check: func(_ context.Context, env *Env, _ *httpcall.Response) (string, error) {
				return "the API's leeway: " + env.LeewayNote, nil
			}},
		{name: "nbf-within-leeway", sev: Medium, expect: okJSON,
			why: "the API refuses a token whose nbf is within its leeway: an issuer whose clock runs ahead locks clients out",
			token: withLeeway(func(l time.Duration, now time.Time) (map[string]any, error) {
				half, err := halfLeeway(l)
				return map[string]any{"nbf": aheadBy(now, half), "exp": now.Add(time.Hour).Unix()}, err
			})},
		{name: "nbf-future", sev: Medium, expect: invalidToken,
			why: "the API accepts a token before its nbf (beyond the leeway): tokens issued for later work now",
			token: withLeeway(func(l time.Duration, now time.Time) (map[string]any, error) {
				return map[string]any{"nbf": now.Add(l + time.Minute).Unix(), "exp": now.Add(l + time.Hour).Unix()}, nil
			})},
		{name: "iat-within-leeway", sev: Medium, expect: okJSON,
			why: "the API refuses a token issued a few seconds in the future, within its leeway: an issuer whose " +
				"clock runs a little ahead locks every client out",
			token: withLeeway(func(l time.Duration, now time.Time) (map[string]any, error) {
				half, err := halfLeeway(l)
				return map[string]any{"iat": aheadBy(now, half), "exp": now.Add(time.Hour).Unix()}, err
			})},
		{name: "iat-future", sev: Low,
			// RFC 7519 §4.1.6 gives iat no validation rule: refusing a token "issued" far ahead is a choice.
			expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusOK}},
			why:    "a token issued far in the future must be answered cleanly, either way",
			token: withLeeway(func(l time.Duration, now time.Time) (map[string]any, error) {
				return map[string]any{"iat": now.Add(l + 10*time.Minute).Unix(), "exp": now.Add(l + time.Hour).Unix()}, nil
			}),
			check: func(_ context.Context, _ *Env, resp *httpcall.Response) (string, error) {
				if resp.Status == http.StatusOK {
					return "accepted; RFC 7519 does not require refusing a future iat", nil
				}
				return "", nil
			}},
		{name: "exp-missing", sev: High, expect: invalidToken,
			why: "the API accepts a token without exp: it never expires", token: claims(map[string]any{"exp": nil})},
		{name: "exp-null", sev: High, expect: invalidOrMalformed,
			why:   "the API accepts \"exp\": null, which is no NumericDate (RFC 7519 §4.1.4): the token never expires",
			token: claims(map[string]any{"exp": tokens.Null})},
		// A NumericDate is a JSON number (RFC 7519 §2). Read as a number or refused, this exp is an hour past either
		// way: only an API that checks exp when it is a number, and skips it otherwise, takes the token.
		{name: "exp-string", sev: High, expect: invalidOrMalformed,
			why: "the API accepts an expired token whose exp is a string: exp is checked only when it is a number, " +
				"so anyone who can mint a token can make it never expire",
			token: func(_ *Env, now time.Time) (map[string]any, map[string]any, error) {
				return nil, map[string]any{"iat": now.Add(-2 * time.Hour).Unix(),
					"exp": strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)}, nil
			}},
		{name: "nbf-string", sev: Medium, expect: invalidOrMalformed,
			why: "the API accepts a token whose nbf, a day ahead, is a string: nbf is checked only when it is a number",
			token: func(_ *Env, now time.Time) (map[string]any, map[string]any, error) {
				return nil, map[string]any{"nbf": strconv.FormatInt(now.Add(24*time.Hour).Unix(), 10),
					"exp": now.Add(25 * time.Hour).Unix()}, nil
			}},
	}
}

func audienceSpecs() []claimSpec {
	aud := func(f func(a string) any) tokenFunc {
		return fromEnv(func(env *Env) map[string]any { return map[string]any{"aud": f(env.Audience)} })
	}
	nearMiss := func(name, how string, f func(a string) any) claimSpec {
		return claimSpec{name: name, sev: High, expect: invalidToken, token: aud(f),
			why: "the API matches aud " + how + ": a token for another API is accepted here"}
	}
	return []claimSpec{
		{name: "aud-wrong", sev: High, expect: invalidToken,
			why:   "the API accepts a token for another API: any token of the tenant works here",
			token: claims(map[string]any{"aud": "https://another-api.example/"})},
		{name: "aud-array-with-api", sev: Medium, expect: okJSON,
			why:   "the API refuses an aud array that contains it, which RFC 7519 §4.1.3 allows",
			token: aud(func(a string) any { return []string{"https://another-api.example/", a} })},
		{name: "aud-array-without-api", sev: High, expect: invalidToken,
			why:   "the API accepts an aud array without itself: tokens for other APIs work here",
			token: claims(map[string]any{"aud": []string{"https://another-api.example/", "https://third-api.example/"}})},
		{name: "aud-missing", sev: High, expect: invalidToken,
			why:   "the API accepts a token without aud: a token meant for no API in particular works here",
			token: claims(map[string]any{"aud": nil})},
		// RFC 7519 §4.1.3: an API that does not identify itself with a value of a present aud MUST reject the token.
		{name: "aud-null", sev: High, expect: invalidOrMalformed,
			why:   "the API accepts \"aud\": null: the audience is checked only when it is a string or an array",
			token: claims(map[string]any{"aud": tokens.Null})},
		nearMiss("aud-prefix-match", "by prefix (the audience + \"-evil\")", func(a string) any { return a + "-evil" }),
		nearMiss("aud-suffix-match", "by suffix (\"evil\" + the audience)", func(a string) any { return "evil" + a }),
		nearMiss("aud-truncated", "as a substring (the audience less its last character)",
			func(a string) any { return a[:len(a)-1] }),
		nearMiss("aud-case", "case-insensitively; aud values are case-sensitive (RFC 7519 §2)",
			func(a string) any { return flipCase(a) }),
		nearMiss("aud-trailing-slash", "after normalizing a trailing slash; aud values are compared exactly",
			func(a string) any { return toggleSlash(a) }),
	}
}

func issuerSpecs() []claimSpec {
	iss := func(f func(i string) (string, error)) tokenFunc {
		return func(env *Env, _ time.Time) (map[string]any, map[string]any, error) {
			v, err := f(env.Issuer)
			return nil, map[string]any{"iss": v}, err
		}
	}
	nearMiss := func(name, how string, f func(i string) (string, error)) claimSpec {
		return claimSpec{name: name, sev: High, expect: invalidToken, token: iss(f),
			why: "the API matches iss " + how + ": a token from another issuer is trusted"}
	}
	return []claimSpec{
		{name: "iss-wrong", sev: High, expect: invalidToken,
			why:   "the API accepts a token from another issuer: whoever runs one can sign in",
			token: claims(map[string]any{"iss": "https://attacker.example/"})},
		nearMiss("iss-no-trailing-slash", "loosely (trailing slash); iss is compared exactly (RFC 7519 §4.1.1)",
			func(i string) (string, error) { return toggleSlash(i), nil }),
		nearMiss("iss-prefix-match", "by prefix (the issuer + \"evil/\")", func(i string) (string, error) {
			return strings.TrimSuffix(i, "/") + "/evil/", nil
		}),
		nearMiss("iss-suffix-match", "by suffix (an attacker's host ending in the issuer's)", func(i string) (string, error) {
			u, err := url.Parse(i)
			if err != nil || u.Host == "" {
				return "", skipf("the issuer %q is not a URL", i)
			}
			u.Host = "attacker-" + u.Host
			return u.String(), nil
		}),
		nearMiss("iss-case", "case-insensitively; iss is case-sensitive (RFC 7519 §4.1.1)",
			func(i string) (string, error) { return flipCase(i), nil }),
		nearMiss("iss-scheme", "without its scheme (http and https swapped)", func(i string) (string, error) {
			switch {
			case strings.HasPrefix(i, "https://"):
				return "http://" + strings.TrimPrefix(i, "https://"), nil
			case strings.HasPrefix(i, "http://"):
				return "https://" + strings.TrimPrefix(i, "http://"), nil
			}
			return "", skipf("the issuer %q is not an http(s) URL", i)
		}),
		{name: "iss-missing", sev: High, expect: invalidToken,
			why:   "the API accepts a token without iss: it cannot tie it to the trusted issuer",
			token: claims(map[string]any{"iss": nil})},
		{name: "iss-null", sev: High, expect: invalidOrMalformed,
			why:   "the API accepts \"iss\": null: the issuer is checked only when it is a string",
			token: claims(map[string]any{"iss": tokens.Null})},
	}
}

func headerSpecs() []claimSpec {
	var specs []claimSpec
	// Signed for real with the issuer's RSA key under another algorithm: RFC 8725 §3.1 wants each key used with
	// exactly one algorithm, and the JWKS says which (the key's alg).
	for _, alg := range []string{"RS384", "RS512", "PS256", "PS384", "PS512"} {
		specs = append(specs, claimSpec{
			name: "alg-" + strings.ToLower(alg) + "-real-key", sev: Medium, expect: invalidToken, alg: alg,
			why: "the API accepts the issuer's key with " + alg + ", an algorithm its JWKS does not give it: the " +
				"token chooses the algorithm (RFC 8725 §3.1)",
			token: func(env *Env, _ time.Time) (map[string]any, map[string]any, error) {
				switch {
				case env.issuerKey == nil:
					return nil, nil, skipf("the token's kid %q is not an RSA key in the tenant's JWKS", env.kid)
				case env.issuerKey.Alg == "":
					return nil, nil, skipf("the issuer's JWK has no alg, so any RSA algorithm may be legitimate")
				case env.issuerKey.Alg == alg:
					return nil, nil, skipf("the issuer's key is published for %s", alg)
				}
				return map[string]any{"alg": alg}, nil, nil
			},
		})
	}
	for _, alg := range []string{"HS256", "ES256"} {
		specs = append(specs, claimSpec{
			name: "alg-header-" + strings.ToLower(alg), sev: Medium, expect: invalidToken,
			why:   "the API accepts an RS256 signature under an alg header of " + alg + ": it ignores what the token says",
			token: header(map[string]any{"alg": alg}),
		})
	}
	// kid: RFC 7515 §4.1.4 makes it an optional string. Every variant must get a clean 4xx, never a crash; an API
	// that verifies a kid-less token against the issuer's keys makes a legitimate choice.
	kidOptional := Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusOK}}
	notedIfAccepted := func(what string) func(context.Context, *Env, *httpcall.Response) (string, error) {
		return func(_ context.Context, _ *Env, resp *httpcall.Response) (string, error) {
			if resp.Status == http.StatusOK {
				return "accepted " + what + ", verified against the issuer's keys; RFC 7515 allows it", nil
			}
			return "", nil
		}
	}
	specs = append(specs,
		claimSpec{name: "kid-unknown", sev: Medium, expect: kidOptional, check: notedIfAccepted("an unknown kid"),
			why:   "a key id that is not in the key set must be answered cleanly, never crash the API",
			token: header(map[string]any{"kid": "no-such-key"})},
		claimSpec{name: "kid-absent", sev: Medium, expect: kidOptional, check: notedIfAccepted("a token without kid"),
			why:   "a token without kid must be answered cleanly, never crash the API",
			token: header(map[string]any{"kid": nil})},
		claimSpec{name: "kid-empty", sev: Medium, expect: kidOptional, check: notedIfAccepted("an empty kid"),
			why:   "an empty kid must be answered cleanly, never crash the API",
			token: header(map[string]any{"kid": ""})},
		claimSpec{name: "kid-null", sev: Medium,
			expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusBadRequest}},
			why:    "the API accepts \"kid\": null; RFC 7515 §4.1.4 makes kid a string, so the header is invalid",
			token:  header(map[string]any{"kid": tokens.Null})},
		claimSpec{name: "kid-number", sev: Medium,
			expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token", Also: []int{http.StatusBadRequest}},
			why:    "the API accepts a numeric kid; RFC 7515 §4.1.4 makes kid a string, so the header is invalid",
			token:  header(map[string]any{"kid": 42})},
		claimSpec{name: "kid-huge", sev: Medium, check: notedIfAccepted("a 4 KiB kid"),
			expect: Expect{Status: http.StatusUnauthorized, Error: "invalid_token",
				Also: []int{http.StatusBadRequest, http.StatusRequestHeaderFieldsTooLarge, http.StatusOK}},
			why:   "a 4 KiB kid must be refused cleanly, never exhaust or crash the API",
			token: header(map[string]any{"kid": strings.Repeat("k", 4<<10)})},
		claimSpec{name: "typ-at-jwt", sev: Medium, expect: okJSON,
			why:   "the API refuses typ at+jwt, the type RFC 9068 gives JWT access tokens",
			token: header(map[string]any{"typ": "at+jwt"})},
		claimSpec{name: "typ-wrong", sev: Medium, expect: invalidToken,
			why:   "the API accepts a token of another type (dpop+jwt) as an access token (RFC 8725 §3.11)",
			token: header(map[string]any{"typ": "dpop+jwt"})},
		claimSpec{name: "crit-unknown", sev: Medium, expect: invalidToken,
			why:   "the API ignores a crit header it does not understand, which RFC 7515 §4.1.11 forbids",
			token: header(map[string]any{"crit": []string{"urn:tokencheck:unknown"}, "urn:tokencheck:unknown": true})},
	)
	return specs
}

func scopeSpecs() []claimSpec {
	scope := func(f func(s string) map[string]any) tokenFunc {
		return func(env *Env, _ time.Time) (map[string]any, map[string]any, error) {
			c := f(env.Scope)
			if _, set := c["permissions"]; !set {
				c["permissions"] = nil
			}
			return nil, c, nil
		}
	}
	bypass := func(name, why string, f func(s string) map[string]any) claimSpec {
		return claimSpec{name: name, sev: High, expect: forbidden, scoped: true, why: why, token: scope(f)}
	}
	return []claimSpec{
		bypass("scope-superstring", "the API matches scopes by substring: a longer scope grants the required one",
			func(s string) map[string]any { return map[string]any{"scope": s + ":all"} }),
		bypass("scope-prefix", "the API matches scopes by prefix: a shorter scope grants the required one",
			func(s string) map[string]any { return map[string]any{"scope": s[:len(s)-1]} }),
		bypass("scope-case", "the API matches scopes case-insensitively; they are case-sensitive (RFC 6749 §3.3)",
			func(s string) map[string]any { return map[string]any{"scope": strings.ToUpper(s)} }),
		bypass("scope-comma-list", "the API splits scope on commas; it is space-separated, so this is one unknown scope",
			func(s string) map[string]any { return map[string]any{"scope": "openid," + s} }),
		{name: "scope-among-others", sev: Medium, expect: okJSON, scoped: true,
			why:   "the API does not find the required scope among others",
			token: scope(func(s string) map[string]any { return map[string]any{"scope": "openid " + s + " profile"} })},
		{name: "permissions-claim", sev: Medium, expect: okJSON, scoped: true,
			why: "the API ignores Auth0's RBAC permissions claim, where Auth0 puts an API's granted permissions",
			token: scope(func(s string) map[string]any {
				return map[string]any{"scope": nil, "permissions": []string{s}}
			})},
		bypass("permissions-other", "the API grants the scope from a permissions claim that does not hold it",
			func(s string) map[string]any {
				return map[string]any{"scope": nil, "permissions": []string{s + ":all"}}
			}),
	}
}

// flipCase swaps the case of every letter, so the result differs from s whenever s has a letter.
func flipCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

// toggleSlash adds a trailing slash, or removes the one s has.
func toggleSlash(s string) string {
	if strings.HasSuffix(s, "/") {
		return strings.TrimSuffix(s, "/")
	}
	return s + "/"
}
