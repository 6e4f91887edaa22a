package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// maxSaneLeeway is the most clock leeway the suite calls reasonable: a few minutes of skew between machines is
// normal; past that, expired tokens live on.
const maxSaneLeeway = 5 * time.Minute

// leewayLadder are the amounts past exp the measurement tries, before it bisects to the second between the last
// one accepted and the first one refused.
var leewayLadder = []time.Duration{
	0, time.Second, 3 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 15 * time.Minute, time.Hour,
}

// learnLeeway sets the Env's leeway from the one the caller gave, or measures it with the stand-in tenant; a
// measurement that fails leaves it unknown and says why, and the cases that need it skip.
func (e *Env) learnLeeway(ctx context.Context, cfg Config) {
	switch {
	case cfg.LeewayGiven:
		e.Leeway, e.LeewayKnown, e.LeewayNote = cfg.Leeway, true, e.Names.leewayGiven(cfg.Leeway)
	case e.Minter == nil:
		e.LeewayNote = e.Names.leewayUnmeasurable()
	default:
		d, atLeast, err := e.measureLeeway(ctx)
		switch {
		case err != nil:
			e.LeewayNote = "unknown: " + err.Error()
		case atLeast:
			e.LeewayNote = fmt.Sprintf("at least %s (measured): exp looks unchecked, so the leeway cases are skipped", d)
		case d > maxSaneLeeway:
			e.LeewayNote = fmt.Sprintf("%s (measured): more than %s, so the leeway cases are skipped", d, maxSaneLeeway)
		default:
			e.Leeway, e.LeewayKnown, e.LeewayNote = d, true, fmt.Sprintf("%s (measured, to the second)", d)
		}
	}
}

// errLeewayUnknown is why the leeway cases skip when it could not be learned.
var errLeewayUnknown = errors.New("the API's leeway is unknown")

// leeway is the known leeway, or a skip saying why it is not known.
func (e *Env) leeway() (time.Duration, error) {
	if !e.LeewayKnown {
		return 0, skipf("%v: %s", errLeewayUnknown, e.LeewayNote)
	}
	return e.Leeway, nil
}

// measureLeeway finds how long past its exp the API still accepts a token: fresh tokens expired by growing amounts
// until one is refused, then a bisection to the second. exp is whole seconds, so each probe's real age past exp is
// measured when it is sent, and the leeway is the middle of the oldest accepted and the youngest refused, rounded
// to the second. atLeast is set when even the largest amount was accepted.
func (e *Env) measureLeeway(ctx context.Context) (leeway time.Duration, atLeast bool, err error) {
	ok, _, err := e.acceptsExpiredBy(ctx, -time.Hour)
	if err != nil {
		return 0, false, err
	}
	if !ok {
		return 0, false, errors.New("the API refused a fresh valid token, so nothing could be measured")
	}
	var m ageBounds
	probe := func(d time.Duration) (bool, error) {
		ok, age, err := e.acceptsExpiredBy(ctx, d)
		if err == nil {
			m.add(ok, age)
		}
		return ok, err
	}
	lo, hi := time.Duration(-1), time.Duration(-1)
	for _, d := range leewayLadder {
		ok, err := probe(d)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			hi = d
			break
		}
		lo = d
	}
	if hi < 0 {
		return lo, true, nil
	}
	for lo >= 0 && hi-lo > time.Second {
		mid := (lo + (hi-lo)/2).Truncate(time.Second)
		ok, err := probe(mid)
		if err != nil {
			return 0, false, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return m.estimate(), false, nil
}

// ageBounds keeps the oldest accepted and the youngest refused age past exp.
type ageBounds struct {
	accepted, refused time.Duration
	anyAccepted       bool
}

func (m *ageBounds) add(ok bool, age time.Duration) {
	switch {
	case ok && (!m.anyAccepted || age > m.accepted):
		m.accepted, m.anyAccepted = age, true
	case !ok && (m.refused == 0 || age < m.refused):
		m.refused = age
	}
}

// estimate is the leeway between the bounds, to the second; no accepted expired token at all means none.
func (m *ageBounds) estimate() time.Duration {
	if !m.anyAccepted || m.accepted < 0 {
		return 0
	}
	return ((m.accepted + m.refused) / 2).Round(time.Second)
}

// acceptsExpiredBy sends a fresh token whose exp is d ago, whole seconds (in the future for a negative d), and
// reports whether the API accepted it and how long past exp the token really was when sent.
func (e *Env) acceptsExpiredBy(ctx context.Context, d time.Duration) (ok bool, age time.Duration, err error) {
	now := time.Now()
	exp := now.Add(-d).Unix()
	tok, err := e.mint(ctx, nil, map[string]any{"scope": e.Scope, "iat": now.Add(-2 * time.Hour).Unix(), "exp": exp})
	if err != nil {
		return false, 0, fmt.Errorf("mint a token to measure the leeway: %w", err)
	}
	req := request(e, e.Paths.Private, bearer(tok))
	sent := time.Now()
	resp, err := e.do(ctx, req, func() (httpcall.Request, error) { sent = time.Now(); return req, nil })
	if err != nil {
		return false, 0, fmt.Errorf("measuring the leeway: %w", err)
	}
	if resp.Status == http.StatusTooManyRequests {
		return false, 0, fmt.Errorf("measuring the leeway: %w", rateLimited(resp))
	}
	// The API judged the token somewhere between sending and answering: an acceptance proves the leeway is at
	// least the age when sent, a refusal that it is less than the age when answered.
	switch {
	case resp.Status == http.StatusOK:
		return true, sent.Sub(time.Unix(exp, 0)), nil
	case resp.Status >= 500:
		return false, 0, fmt.Errorf("measuring the leeway: the API answered %d", resp.Status)
	}
	return false, time.Since(time.Unix(exp, 0)), nil
}
