package conformance

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// judgement is how one response was judged: the verdict, what the report says of it, and for a failure its
// severity and why it matters.
type judgement struct {
	verdict Verdict
	detail  string
	finding *Finding // nil unless verdict is Fail
}

func pass(note string) judgement { return judgement{verdict: Pass, detail: note} }

func fail(f *Finding) judgement { return judgement{verdict: Fail, detail: f.Msg, finding: f} }

// judge compares a response with an expectation under the runner's profile. The status comes first and is the one
// finding a wrong status gives; RFC 6750 form (challenge, error code, JSON) is judged under the rfc6750 profile
// only, and never on the CORS cases, whose own checks say what they test; c.Check runs under every profile.
func (r *Runner) judge(ctx context.Context, env *Env, c *Case, e Expect, resp *httpcall.Response) judgement {
	if e.Scheme == "" && env.DPoP != nil && env.DPoP.required {
		e.Scheme = "DPoP" // an API that takes DPoP-bound tokens only offers no Bearer challenge (RFC 9449 §7.1)
	}
	if f := statusFinding(c, e, resp.Status); f != nil {
		return fail(f)
	}
	if r.profile == ProfileRFC6750 && c.Category != CORS && !e.refusedOtherwise(resp.Status) {
		if err := checkChallenge(e, resp); err != nil {
			return fail(findingf(Low, whyChallenge, "%s", err))
		}
		if e.JSON && resp.Status == e.Status {
			mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				return fail(findingf(Low, whyJSON, "Content-Type is %q, want application/json", resp.Header.Get("Content-Type")))
			}
		}
	}
	if c.Check == nil {
		return pass("")
	}
	note, err := c.Check(ctx, env, resp)
	if errors.Is(err, ErrSkip) {
		return judgement{verdict: Skip, detail: err.Error()}
	}
	if err != nil {
		return fail(asFinding(err, c))
	}
	return pass(note)
}

// statusFinding judges the status code alone: nil when e accepts it. Accepting what must be refused, or refusing
// what must be accepted, is the case's own failure; a 5xx is a crash; refusing with another 4xx than the right one
// (or with a redirect) is a matter of form.
func statusFinding(c *Case, e Expect, got int) *Finding {
	if e.accepts(got) {
		return nil
	}
	msg := fmt.Sprintf("expected %s, got %d", e, got)
	switch {
	case got >= 500:
		return findingf(High, whyCrash, "%s: the API failed on this request", msg)
	case e.rejects() && got >= 400:
		return findingf(Low, whyStatus, "%s", msg)
	case e.rejects() && got >= 300:
		// A redirect (to a login page, say) serves nothing: wrong for an API, but not an open door.
		return findingf(Low, whyRedirect, "%s: a redirect instead of a refusal", msg)
	default:
		return findingf(c.Severity, c.Why, "%s", msg)
	}
}

// checkChallenge applies RFC 6750 §3: every 401 and 403 carries a Bearer challenge, and its error code is the one
// expected (none at all when the request had no credentials). A 400 may carry one (§3 allows it on other
// conditions); if it does, its code must be invalid_request.
func checkChallenge(e Expect, resp *httpcall.Response) error {
	raw := resp.Header.Values("WWW-Authenticate")
	switch resp.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		if len(raw) == 0 {
			return fmt.Errorf("no WWW-Authenticate challenge on a %d (RFC 6750 §3)", resp.Status)
		}
	case http.StatusBadRequest:
		if len(raw) == 0 {
			return nil
		}
	default:
		return nil
	}
	chs, err := httpcall.Challenges(resp.Header)
	if err != nil {
		return fmt.Errorf("WWW-Authenticate %q: %w", raw, err)
	}
	scheme, rfc := "Bearer", "RFC 6750 §3"
	if e.Scheme != "" {
		scheme, rfc = e.Scheme, "RFC 9449 §7.1"
	}
	var bearer *httpcall.Challenge
	for i := range chs {
		if chs[i].Is(scheme) {
			bearer = &chs[i]
			break
		}
	}
	if bearer == nil {
		if resp.Status == http.StatusBadRequest {
			return nil
		}
		return fmt.Errorf("WWW-Authenticate %q has no %s challenge (%s)", raw, scheme, rfc)
	}
	code, has := bearer.Param("error")
	if resp.Status == http.StatusBadRequest {
		if has && code != "invalid_request" {
			return fmt.Errorf("challenge error=%q on a 400, want invalid_request (RFC 6750 §3.1)", code)
		}
		return nil
	}
	if resp.Status != e.Status || e.AnyError {
		return nil
	}
	switch {
	case e.Error != "" && code != e.Error:
		if !has {
			return fmt.Errorf("challenge has no error code, want error=%q (RFC 6750 §3.1)", e.Error)
		}
		return fmt.Errorf("challenge error=%q, want %q (RFC 6750 §3.1)", code, e.Error)
	case e.Error == "" && has && resp.Status == http.StatusUnauthorized:
		return fmt.Errorf("challenge error=%q on a request without credentials; RFC 6750 §3.1 wants no error code", code)
	}
	return nil
}
