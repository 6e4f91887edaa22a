package conformance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// Profile says how strictly responses are judged.
type Profile string

const (
	// ProfileAuth0 judges status codes only, as Auth0's api-quickstarts-tests do.
	ProfileAuth0 Profile = "auth0"
	// ProfileRFC6750 also judges WWW-Authenticate challenges, error codes, JSON bodies, CORS headers and the
	// proof that jku/x5u URLs were never fetched. It is the default.
	ProfileRFC6750 Profile = "rfc6750"
)

// ParseProfile checks a --profile value.
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(s); p {
	case ProfileAuth0, ProfileRFC6750:
		return p, nil
	}
	return "", fmt.Errorf("unknown profile %q: use auth0 or rfc6750", s)
}

// Verdict is a case's outcome.
type Verdict string

// The three outcomes a report counts.
const (
	Pass Verdict = "pass"
	Fail Verdict = "fail"
	Skip Verdict = "skip"
)

// Result is what one case got and how it was judged.
type Result struct {
	Case *Case
	// Got is the status code received, 0 when no response came.
	Got int
	// Challenge is the WWW-Authenticate value received.
	Challenge string
	Verdict   Verdict
	// Detail explains a failure or a skip, or carries a note on a pass.
	Detail   string
	Duration time.Duration
}

// Runner runs a set of cases against an Env.
type Runner struct {
	cases       []Case
	profile     Profile
	filter      *regexp.Regexp
	concurrency int
	timeout     time.Duration
}

// Option tunes a Runner.
type Option func(*Runner)

// WithProfile sets how strictly responses are judged (default ProfileRFC6750).
func WithProfile(p Profile) Option { return func(r *Runner) { r.profile = p } }

// WithFilter keeps only cases whose ID (category/name) matches re; nil keeps all.
func WithFilter(re *regexp.Regexp) Option { return func(r *Runner) { r.filter = re } }

// WithConcurrency bounds how many cases run at once (default 4), so the suite never floods the API.
func WithConcurrency(n int) Option {
	return func(r *Runner) {
		if n > 0 {
			r.concurrency = n
		}
	}
}

// WithTimeout bounds each case, building and request together (default 15s).
func WithTimeout(d time.Duration) Option {
	return func(r *Runner) {
		if d > 0 {
			r.timeout = d
		}
	}
}

// WithCases replaces the matrix (default Matrix()).
func WithCases(cs []Case) Option { return func(r *Runner) { r.cases = cs } }

// NewRunner returns a runner over Matrix() tuned by opts.
func NewRunner(opts ...Option) *Runner {
	r := &Runner{profile: ProfileRFC6750, concurrency: 4, timeout: 15 * time.Second}
	for _, o := range opts {
		o(r)
	}
	if r.cases == nil {
		r.cases = Matrix()
	}
	return r
}

// Cases are the cases the filter selects, in report order.
func (r *Runner) Cases() []Case {
	out := make([]Case, 0, len(r.cases))
	for _, c := range r.cases {
		if r.filter == nil || r.filter.MatchString(c.ID()) {
			out = append(out, c)
		}
	}
	return out
}

// Run sends every selected case, concurrently but bounded, then the serial ones one by one, and returns the
// results in report order.
func (r *Runner) Run(ctx context.Context, env *Env) []Result {
	cases := r.Cases()
	results := make([]Result, len(cases))
	sem := make(chan struct{}, r.concurrency)
	var wg sync.WaitGroup
	for i := range cases {
		if cases[i].Serial {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = r.runOne(ctx, env, &cases[i])
		}()
	}
	wg.Wait()
	for i := range cases {
		if cases[i].Serial {
			results[i] = r.runOne(ctx, env, &cases[i])
		}
	}
	return results
}

func (r *Runner) runOne(ctx context.Context, env *Env, c *Case) (res Result) {
	res.Case = c
	start := time.Now()
	defer func() { res.Duration = time.Since(start) }()
	if err := ctx.Err(); err != nil {
		res.Verdict, res.Detail = Skip, "not run: "+err.Error()
		return res
	}
	if c.NeedsKey && env.Minter == nil {
		res.Verdict, res.Detail = Skip, needsStandIn
		return res
	}
	timeout := r.timeout
	if c.Timeout > 0 {
		timeout = c.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := c.Build(ctx, env)
	if err != nil {
		if errors.Is(err, ErrSkip) {
			res.Verdict, res.Detail = Skip, err.Error()
			return res
		}
		res.Verdict, res.Detail = Fail, "could not build the request: "+err.Error()
		return res
	}
	resp, err := httpcall.Do(ctx, env.HTTP, req)
	if err != nil {
		res.Verdict, res.Detail = Fail, "no response: "+err.Error()
		return res
	}
	res.Got, res.Challenge = resp.Status, resp.Header.Get("WWW-Authenticate")
	res.Verdict, res.Detail = r.judge(ctx, env, c, resp)
	return res
}
