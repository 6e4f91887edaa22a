package conformance

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// rotationCases rotate the stand-in tenant's signing key: a token under a new kid that appears suddenly must be
// accepted (the API refetches its key set on an unknown kid), one under the previous key too while that key stays
// published, and one under a key the tenant published in advance, as Auth0 does. They change the tenant, so they
// run last and serially, in this order.
func rotationCases() []Case {
	return []Case{
		{
			Name: "new-key", NeedsKey: true, Serial: true, Severity: Medium, Timeout: rotationGrace + 10*time.Second,
			Why: "the API never learns a new signing key: every token is refused once the issuer rotates",
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				if err := tokens.Rotate(ctx, env.HTTP, env.Discovery); err != nil {
					return httpcall.Request{}, fmt.Errorf("rotate the tenant's key: %w", err)
				}
				return rotatedRequest(ctx, env, env.kid)
			},
			Expect: okJSON,
		},
		{
			Name: "previous-key", NeedsKey: true, Serial: true, Severity: Medium,
			Why: "the API drops a key still published: tokens signed just before a rotation are refused",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, bearer(env.ScopedToken)), nil
			},
			Expect: okJSON,
		},
		{
			Name: "next-key-prepublished", NeedsKey: true, Serial: true, Severity: Medium,
			Timeout: rotationGrace + prepublishedLead + 10*time.Second,
			Why: "the API does not use a key the issuer published before signing with it (as Auth0 rotates): " +
				"tokens are refused after a planned rotation",
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				current, err := currentKid(ctx, env)
				if err != nil {
					return httpcall.Request{}, err
				}
				if _, err := tokens.PrepublishKey(ctx, env.HTTP, env.Discovery); err != nil {
					return httpcall.Request{}, fmt.Errorf("publish the tenant's next key: %w", err)
				}
				// Time for an API that refreshes its key set to see the next key before anything is signed with it.
				if err := sleepUntil(ctx, time.Now().Add(prepublishedLead)); err != nil {
					return httpcall.Request{}, err
				}
				if err := tokens.Rotate(ctx, env.HTTP, env.Discovery); err != nil {
					return httpcall.Request{}, fmt.Errorf("promote the tenant's next key: %w", err)
				}
				return rotatedRequest(ctx, env, current)
			},
			Expect: okJSON,
		},
	}
}

// prepublishedLead is how long the next key is published before the tenant signs with it.
const prepublishedLead = 2 * time.Second

// rotatedRequest mints a token after a rotation, checks its kid is no longer old, and waits (rotationGrace at
// most) for the API to accept it; the runner then sends it once more and judges that answer.
func rotatedRequest(ctx context.Context, env *Env, old string) (httpcall.Request, error) {
	tok, err := env.mint(ctx, nil, map[string]any{"scope": env.Scope})
	if err != nil {
		return httpcall.Request{}, err
	}
	h, _, err := tokens.DecodeUnverified(tok)
	if err != nil {
		return httpcall.Request{}, fmt.Errorf("the tenant minted an unreadable token: %w", err)
	}
	if h["kid"] == old {
		return httpcall.Request{}, skipf("the tenant kept kid %q after rotation", old)
	}
	req := request(env, env.Paths.Private, bearer(tok))
	awaitAccepted(ctx, env, req)
	return req, nil
}

// currentKid is the kid the tenant signs with now.
func currentKid(ctx context.Context, env *Env) (string, error) {
	tok, err := env.mint(ctx, nil, nil)
	if err != nil {
		return "", err
	}
	h, _, err := tokens.DecodeUnverified(tok)
	if err != nil {
		return "", fmt.Errorf("the tenant minted an unreadable token: %w", err)
	}
	kid, _ := h["kid"].(string)
	return kid, nil
}

// rotationGrace is how long an API may take to accept a token under a new kid: APIs rate-limit refetching their key
// set on unknown kids (this project's server to one refetch per 15s), and the forged cases just sent several.
const rotationGrace = 20 * time.Second

// awaitAccepted polls req until the API accepts it or rotationGrace passes; the caller then sends it once more and
// judges that answer.
func awaitAccepted(ctx context.Context, env *Env, req httpcall.Request) {
	ctx, cancel := context.WithTimeout(ctx, rotationGrace)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := env.do(ctx, req, nil); err == nil && resp.Status == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
