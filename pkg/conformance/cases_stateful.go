package conformance

import (
	"context"
	"fmt"
	"time"

	"net/http"
)

// statefulCases send sequences in which a correct API judges every request on its own token: what one request
// proved must never carry over to the next (shared state, caches keyed by less than the whole token). Most run
// serially so the order is exactly the one written; the cache case waits for its token to expire and runs beside
// the others.
func statefulCases() []Case {
	return []Case{
		{
			Name: "scope-leak", Serial: true, Severity: High,
			Why: "a scope decision leaks from one request to the next: a token without the scope passes right " +
				"after one that had it",
			Expect: forbidden,
			Steps: func(_ context.Context, env *Env) ([]Step, error) {
				if env.NoScopeToken == "" {
					return nil, env.Names.noScopeSkip()
				}
				return alternate(env, env.ScopedToken, env.NoScopeToken, "the scoped token", "the no-scope token"), nil
			},
		},
		{
			Name: "subjects-alternate", Serial: true, NeedsKey: true, Severity: High,
			Why:    "one subject gets another's rights: the API keeps what it learned of a token past its request",
			Expect: forbidden,
			Steps: func(ctx context.Context, env *Env) ([]Step, error) {
				a, err := env.mint(ctx, nil, map[string]any{"sub": "tokencheck-alice@clients", "scope": env.Scope})
				if err != nil {
					return nil, err
				}
				b, err := env.mint(ctx, nil, map[string]any{
					"sub": "tokencheck-bob@clients", "azp": "tokencheck-bob", "scope": nil, "permissions": nil,
				})
				if err != nil {
					return nil, err
				}
				return alternate(env, a, b, "alice's token (with the scope)", "bob's token (without it)"), nil
			},
		},
		{
			Name: "expired-then-valid", Serial: true, NeedsKey: true, Severity: High,
			Why: "the API judges a subject rather than each token: an expired token passes after a valid one of the " +
				"same subject, or a valid one is refused after an expired one",
			Expect: invalidToken,
			Steps: func(ctx context.Context, env *Env) ([]Step, error) {
				now := time.Now()
				valid, err := env.mint(ctx, nil, map[string]any{"scope": env.Scope})
				if err != nil {
					return nil, err
				}
				expired, err := env.mint(ctx, nil, map[string]any{
					"scope": env.Scope, "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix(),
				})
				if err != nil {
					return nil, err
				}
				path := env.Paths.Private
				return []Step{
					{Label: "a valid token", Request: request(env, path, bearer(valid)), Expect: okJSON},
					{Label: "an expired token of the same subject", Request: request(env, path, bearer(expired)), Expect: invalidToken},
					{Label: "the valid token again", Request: request(env, path, bearer(valid)), Expect: okJSON},
					{Label: "the expired token again", Request: request(env, path, bearer(expired)), Expect: invalidToken},
				}, nil
			},
		},
		{
			Name: "cache-past-expiry", NeedsKey: true, Severity: High, Timeout: maxCacheWait + 30*time.Second,
			Why:    "the API keeps accepting a token after it expired: a verified-token cache outlives exp",
			Expect: invalidToken,
			Steps: func(ctx context.Context, env *Env) ([]Step, error) {
				l, err := env.leeway()
				if err != nil {
					return nil, err
				}
				if l > maxCacheWait {
					return nil, skipf("the API's leeway (%s) is longer than this case waits (%s)", l, maxCacheWait)
				}
				exp := time.Now().Add(4 * time.Second).Truncate(time.Second)
				tok, err := env.mint(ctx, nil, map[string]any{"scope": env.Scope, "exp": exp.Unix()})
				if err != nil {
					return nil, err
				}
				req := request(env, env.Paths.Private, bearer(tok))
				past := exp.Add(l + 3*time.Second)
				return []Step{
					{Label: "a token expiring in a few seconds", Request: req, Expect: okJSON},
					{Label: "the same token again, just before its expiry", Request: req, Expect: okJSON},
					{Label: fmt.Sprintf("the same token %s past its expiry and the leeway", past.Sub(exp)-l),
						Request: req, Expect: invalidToken, At: past},
				}, nil
			},
		},
	}
}

// maxCacheWait is the longest leeway the cache case waits out; a longer one is a finding of leeway-at-most-5m.
const maxCacheWait = 2 * time.Minute

// alternate sends a (holding the scope) and b (without it) to the scoped route in turn, three times.
func alternate(env *Env, a, b, labelA, labelB string) []Step {
	var steps []Step
	for range 3 {
		steps = append(steps,
			Step{Label: labelA, Request: request(env, env.Paths.Scoped, bearer(a)), Expect: okJSON},
			Step{Label: labelB + ", right after", Request: request(env, env.Paths.Scoped, bearer(b)),
				Expect: Expect{Status: http.StatusForbidden, Error: "insufficient_scope"}},
		)
	}
	return steps
}
