package conformance

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// rotationCases rotate the stand-in tenant's signing key: a token under the new kid must be accepted (the API
// refetches its key set on an unknown kid) and one under the previous key too, while the key stays published. They
// change the tenant, so they run last and serially.
func rotationCases() []Case {
	return []Case{
		{
			Name: "new-key", NeedsKey: true, Serial: true, Timeout: rotationGrace + 10*time.Second,
			Why: "an API that never refetches its key set rejects every token after the issuer rotates its key",
			Build: func(ctx context.Context, env *Env) (httpcall.Request, error) {
				if err := tokens.Rotate(ctx, env.HTTP, env.Discovery); err != nil {
					return httpcall.Request{}, fmt.Errorf("rotate the tenant's key: %w", err)
				}
				tok, err := env.mint(ctx, nil, map[string]any{"scope": env.Scope})
				if err != nil {
					return httpcall.Request{}, err
				}
				h, _, err := tokens.DecodeUnverified(tok)
				if err != nil {
					return httpcall.Request{}, fmt.Errorf("the tenant minted an unreadable token: %w", err)
				}
				if h["kid"] == env.kid {
					return httpcall.Request{}, skipf("the tenant kept kid %q after rotation", env.kid)
				}
				req := request(env, env.Paths.Private, bearer(tok))
				awaitAccepted(ctx, env, req)
				return req, nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
		{
			Name: "previous-key", NeedsKey: true, Serial: true,
			Why: "tokens signed just before a rotation stay valid while their key is still published",
			Build: func(_ context.Context, env *Env) (httpcall.Request, error) {
				return request(env, env.Paths.Private, bearer(env.ScopedToken)), nil
			},
			Expect: Expect{Status: http.StatusOK, JSON: true},
		},
	}
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
		if resp, err := httpcall.Do(ctx, env.HTTP, req); err == nil && resp.Status == http.StatusOK {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
