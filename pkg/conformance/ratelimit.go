package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// An API behind a gateway often answers a burst of requests 429 Too Many Requests (RFC 6585 §4). That answer says
// nothing about the token, so judging it would be a false alarm: the suite waits as Retry-After asks and sends the
// request again, and a case still refused that way is skipped, never failed.
const (
	// rateLimitTries bounds the sends of one request, the first included.
	rateLimitTries = 4
	// maxRateLimitWait caps one wait; a Retry-After beyond it ends the retries.
	maxRateLimitWait = 10 * time.Second
)

// rateLimited is the skip reason of a case the API kept answering 429.
func rateLimited(resp *httpcall.Response) error {
	after := ""
	if v := resp.Header.Get("Retry-After"); v != "" {
		after = fmt.Sprintf(", last with Retry-After %q", v)
	}
	return skipf("rate limited: the API answered 429 Too Many Requests to every try%s, which says nothing about "+
		"the token; run with a lower --concurrency or lift the API's limit for the tester", after)
}

// do sends req as httpcall.Do does, waiting out 429 answers as Retry-After asks (retryWait). rebuild, if set, makes
// the request again for each new try, for requests that must not be sent twice as they are (a DPoP proof's jti);
// otherwise req is sent again. The last answer is returned, a 429 if the API never relented.
func (e *Env) do(ctx context.Context, req httpcall.Request, rebuild func() (httpcall.Request, error)) (*httpcall.Response, error) {
	return doPatiently(ctx, e.HTTP, req, rebuild)
}

// doPatiently is Env.do with the client hc, for requests sent before there is an Env.
func doPatiently(ctx context.Context, hc *http.Client, req httpcall.Request, rebuild func() (httpcall.Request, error)) (*httpcall.Response, error) {
	for try := 1; ; try++ {
		resp, err := httpcall.Do(ctx, hc, req)
		if err != nil || resp.Status != http.StatusTooManyRequests || try == rateLimitTries {
			return resp, err
		}
		wait, ok := retryWait(resp.Header.Get("Retry-After"), try, time.Now())
		if !ok {
			return resp, nil
		}
		if deadline, has := ctx.Deadline(); has && time.Now().Add(wait).After(deadline) {
			return resp, nil
		}
		if err := sleepUntil(ctx, time.Now().Add(wait)); err != nil {
			return resp, nil //nolint:nilerr // the 429 is the answer; the case ends as rate limited
		}
		if rebuild != nil {
			if req, err = rebuild(); err != nil {
				return nil, err
			}
		}
	}
}

// retryWait is how long to wait before try+1 after a 429 whose Retry-After is v (RFC 9110 §10.2.3: seconds or an
// HTTP date): without one, 1 s doubled for each try. ok is false when the wait is beyond maxRateLimitWait.
func retryWait(v string, try int, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	switch secs, err := strconv.ParseInt(v, 10, 64); {
	case v == "":
		wait = time.Second << (try - 1)
	case err == nil && secs >= 0:
		if secs > int64(maxRateLimitWait/time.Second) {
			return 0, false
		}
		wait = time.Duration(secs) * time.Second
	case strings.Trim(v, "0123456789") == "":
		return 0, false // more seconds than an int64 holds
	default:
		at, err := http.ParseTime(v)
		if err != nil {
			wait = time.Second << (try - 1) // unreadable: as if absent
		} else {
			wait = max(at.Sub(now), 0)
		}
	}
	return wait, wait <= maxRateLimitWait
}
