package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
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
	Detail string
	// Severity and Why are the failure's (a missing challenge on a right status is low whatever the case); zero
	// and "" unless Verdict is Fail.
	Severity Severity
	Why      string
	// Crashed marks a failure where the API dropped the connection or answered 5xx, also when sent alone.
	Crashed  bool
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
// results in report order. A concurrent case that got no answer or a 5xx is sent again alone on a fresh connection,
// so a crash another request caused is never blamed on it.
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
	crashed := false
	for i := range cases {
		if !cases[i].Serial && results[i].Crashed {
			results[i] = r.again(ctx, env, &cases[i], results[i])
			crashed = crashed || results[i].Crashed
		}
	}
	if crashed {
		// The last re-run may have taken the API down: let it come back before the serial cases, so its crash is
		// not blamed on them. If it never does, they report that themselves.
		_ = env.awaitAlive(ctx)
	}
	// Serial cases already run alone, so another request cannot have crashed the API under them; and sending one
	// again would repeat what it did to the tenant (a second rotation would unpublish the key the next case uses).
	for i := range cases {
		if cases[i].Serial {
			results[i] = r.runOne(ctx, env, &cases[i])
		}
	}
	return results
}

// again re-runs a case that crashed, alone and on a connection of its own, after making sure the API answers at
// all; the second answer is the verdict, with the first one noted when they differ.
func (r *Runner) again(ctx context.Context, env *Env, c *Case, first Result) Result {
	if err := env.awaitAlive(ctx); err != nil {
		first.Detail += "; the API then stopped answering altogether (" + err.Error() + "), so this may be an " +
			"earlier request's crash"
		return first
	}
	solo := *env
	solo.HTTP = httpcall.Fresh(env.HTTP)
	res := r.runOne(ctx, &solo, c)
	if !res.Crashed {
		res.Detail = joinNotes(res.Detail, "sent again alone after the first try got no answer or a 5xx ("+
			first.Detail+"); another request probably crashed the API")
	}
	return res
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
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
	steps, err := r.steps(ctx, env, c)
	if err != nil {
		if errors.Is(err, ErrSkip) {
			res.Verdict, res.Detail = Skip, err.Error()
			return res
		}
		res.Verdict, res.Detail = Fail, "could not build the request: "+err.Error()
		res.Severity, res.Why = Low, "the suite could not run this case; see the detail"
		return res
	}
	for i, st := range steps {
		if st.Request.URL == "" {
			res.Verdict, res.Detail = Skip, env.Names.routeSkipped()
			return res
		}
		if err := sleepUntil(ctx, st.At); err != nil {
			res.Verdict, res.Detail = Skip, "not run: "+err.Error()
			return res
		}
		prefix := ""
		if len(steps) > 1 {
			prefix = fmt.Sprintf("step %d of %d (%s): ", i+1, len(steps), st.Label)
		}
		// A fresh proof and token for each try; but a serial case's Build changes the tenant (a rotation), which a
		// second call would repeat, so its request is sent again as it is.
		var rebuild func() (httpcall.Request, error)
		if c.Steps == nil && !c.Serial {
			rebuild = func() (httpcall.Request, error) { return c.Build(ctx, env) }
		}
		resp, err := env.do(ctx, st.Request, rebuild)
		if err != nil {
			res.Got, res.Challenge = 0, ""
			res.Verdict, res.Detail, res.Crashed = Fail, prefix+"no answer: "+err.Error(), true
			res.Severity, res.Why = High, whyCrash
			return res
		}
		// Several challenge fields (Bearer and DPoP, RFC 9449 §7.1) are one list (RFC 9110 §5.3).
		res.Got, res.Challenge = resp.Status, strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
		if resp.Status == http.StatusTooManyRequests {
			res.Verdict, res.Detail = Skip, prefix+rateLimited(resp).Error()
			return res
		}
		j := r.judge(ctx, env, c, st.Expect, resp)
		res.Verdict, res.Detail = j.verdict, joinNotes(res.Detail, j.detail)
		if j.verdict == Skip {
			res.Detail = prefix + j.detail
			return res // an answer that cannot be judged ends the case: a later step's pass must not hide it
		}
		if j.verdict == Fail {
			res.Detail = prefix + j.detail
			res.Severity, res.Why, res.Crashed = j.finding.Severity, j.finding.Why, resp.Status >= 500
			return res
		}
	}
	return res
}

// steps is a case's requests: its Steps, or the one request Build makes with the case's expectation.
func (r *Runner) steps(ctx context.Context, env *Env, c *Case) ([]Step, error) {
	if c.Steps != nil {
		return c.Steps(ctx, env)
	}
	req, err := c.Build(ctx, env)
	if err != nil {
		return nil, err
	}
	return []Step{{Request: req, Expect: c.Expect}}, nil
}

// sleepUntil waits until t (no wait for a zero or past t) or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if t.IsZero() || d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
