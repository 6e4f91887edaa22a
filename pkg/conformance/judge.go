package conformance

import (
	"context"
	"fmt"
	"mime"
	"net/http"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// judge compares a response with the case's expectation under the runner's profile.
func (r *Runner) judge(ctx context.Context, env *Env, c *Case, resp *httpcall.Response) (Verdict, string) {
	if !c.Expect.accepts(resp.Status) {
		detail := fmt.Sprintf("expected %s, got %d", c.Expect, resp.Status)
		if resp.Status >= 500 {
			detail += ": a server error on bad input"
		}
		return Fail, detail
	}
	if r.profile == ProfileAuth0 {
		return Pass, ""
	}
	if err := checkChallenge(c.Expect, resp); err != nil {
		return Fail, err.Error()
	}
	if c.Expect.JSON && resp.Status == c.Expect.Status {
		mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return Fail, fmt.Sprintf("Content-Type is %q, want application/json", resp.Header.Get("Content-Type"))
		}
	}
	if c.Check != nil {
		note, err := c.Check(ctx, env, resp)
		if err != nil {
			return Fail, err.Error()
		}
		return Pass, note
	}
	return Pass, ""
}

// checkChallenge applies RFC 6750 §3: every 401 and 403 carries a Bearer challenge, and its error code is the one
// expected (none at all when the request had no credentials).
func checkChallenge(e Expect, resp *httpcall.Response) error {
	needs := resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden ||
		(resp.Status == e.Status && e.Error != "")
	if !needs {
		return nil
	}
	raw := resp.Header.Values("WWW-Authenticate")
	if len(raw) == 0 {
		return fmt.Errorf("no WWW-Authenticate challenge on a %d (RFC 6750 §3)", resp.Status)
	}
	chs, err := httpcall.Challenges(resp.Header)
	if err != nil {
		return fmt.Errorf("WWW-Authenticate %q: %w", raw, err)
	}
	var bearer *httpcall.Challenge
	for i := range chs {
		if chs[i].Is("Bearer") {
			bearer = &chs[i]
			break
		}
	}
	if bearer == nil {
		return fmt.Errorf("WWW-Authenticate %q has no Bearer challenge (RFC 6750 §3)", raw)
	}
	if resp.Status != e.Status {
		return nil
	}
	code, has := bearer.Param("error")
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
