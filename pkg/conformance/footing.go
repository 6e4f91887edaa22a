package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// Cause is the likeliest reason the API refused the suite's own valid token, so the user is told what to fix
// instead of reading dozens of failures that all come from one setup mistake.
type Cause string

// The causes FootingError tells apart, from the API's answer.
const (
	CauseAudience    Cause = "audience"    // the API expects another aud: the suite's --audience is not the API's
	CauseIssuer      Cause = "issuer"      // the API trusts another iss than the tenant's issuer
	CauseKeys        Cause = "keys"        // the API does not know the tenant's keys: another tenant or JWKS_URL
	CauseScope       Cause = "scope"       // the scoped route wants another scope than --scope
	CauseUnavailable Cause = "unavailable" // the API has no keys (tenant unreachable from it) or is not ready
	CauseServerError Cause = "server"      // the API failed on a valid token
	CauseUnknown     Cause = "unknown"     // refused, for a reason its answer does not say
)

// FootingError says the API refused a valid token of the tenant before any case ran: the suite stops (exit 2),
// since every case would fail for the same reason.
type FootingError struct {
	Route     string // the path the valid token was sent to
	Status    int    // 0 when no answer came
	Challenge string // the WWW-Authenticate received
	// Description is the API's own words: error_description from the challenge or the JSON body.
	Description string
	Cause       Cause
	Err         error // the transport error when no answer came
}

// Error is the diagnosis without the fix, which the CLI words (it knows the flags).
func (e *FootingError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("the API did not answer a valid token on %s: %v", e.Route, e.Err)
	}
	msg := fmt.Sprintf("the API answered %d to a valid token of the tenant on %s", e.Status, e.Route)
	if e.Description != "" {
		msg += fmt.Sprintf(" (%q)", e.Description)
	}
	if e.Challenge != "" {
		msg += "; WWW-Authenticate: " + e.Challenge
	}
	return msg
}

// Unwrap is the transport error, if any.
func (e *FootingError) Unwrap() error { return e.Err }

// checkFooting sends the valid token to the private route (and to the scoped one): a refusal there means the API
// and the suite disagree on the setup (audience, issuer, keys, scope), not that the API is insecure.
func (e *Env) checkFooting(ctx context.Context) error {
	deadline := time.Now().Add(e.keyWait) // one wait for both routes: the key is the same
	if err := e.footing(ctx, e.Paths.Private, false, deadline); err != nil {
		return err
	}
	if e.Paths.Scoped == "" || e.Paths.Scoped == e.Paths.Private {
		return nil
	}
	return e.footing(ctx, e.Paths.Scoped, true, deadline)
}

// keyRetryEvery is how often the footing is tried again while the API may still be learning the tenant's key.
const keyRetryEvery = 2 * time.Second

// footing sends the valid token to path. A refusal that may only mean the API has not yet fetched the stand-in
// tenant's newest key (a 401 about keys, or one that does not say why) is tried again until deadline.
func (e *Env) footing(ctx context.Context, path string, scoped bool, deadline time.Time) error {
	for {
		err := e.footingOnce(ctx, path, scoped)
		fe, ok := errors.AsType[*FootingError](err)
		if !ok || e.Minter == nil || fe.Status != http.StatusUnauthorized ||
			(fe.Cause != CauseKeys && fe.Cause != CauseUnknown) || !time.Now().Add(keyRetryEvery).Before(deadline) {
			return err
		}
		t := time.NewTimer(keyRetryEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

func (e *Env) footingOnce(ctx context.Context, path string, scoped bool) error {
	req := request(e, path, bearer(e.ScopedToken))
	if d := e.DPoP; d != nil && d.required && d.skip == "" {
		// The API takes DPoP-bound tokens only (its metadata says so): the footing is a bound token with its proof.
		proof, err := d.signer.Proof(req.Method, req.URL, d.bound)
		if err != nil {
			return fmt.Errorf("make a DPoP proof: %w", err)
		}
		req.Header = dpopHeader(d.bound, proof)
	}
	resp, err := e.do(ctx, req, nil)
	if err != nil {
		return &FootingError{Route: path, Cause: CauseUnavailable, Err: err}
	}
	if resp.Status != http.StatusUnauthorized && resp.Status != http.StatusForbidden && resp.Status < 500 {
		return nil
	}
	fe := &FootingError{
		Route: path, Status: resp.Status, Challenge: resp.Header.Get("WWW-Authenticate"),
		Description: apiReason(resp),
	}
	fe.Cause = classify(fe, scoped)
	return fe
}

// apiReason is the API's own reason: error_description from the Bearer challenge, else from a JSON body.
func apiReason(resp *httpcall.Response) string {
	if d := challengeParam(resp.Header.Get("WWW-Authenticate"), "", "error_description"); d != "" {
		return d
	}
	var body struct {
		Description string `json:"error_description"`
		Message     string `json:"message"`
	}
	if json.Unmarshal(resp.Body, &body) == nil {
		if body.Description != "" {
			return body.Description
		}
		return body.Message
	}
	return ""
}

// classify reads the answer for the likeliest cause.
func classify(fe *FootingError, scoped bool) Cause {
	text := strings.ToLower(fe.Description + " " + fe.Challenge)
	switch {
	case fe.Status == http.StatusServiceUnavailable:
		return CauseUnavailable
	case fe.Status >= 500:
		return CauseServerError
	case scoped && fe.Status == http.StatusForbidden:
		return CauseScope
	case strings.Contains(text, "audience") || strings.Contains(text, "aud "):
		return CauseAudience
	case strings.Contains(text, "issuer") || strings.Contains(text, "iss "):
		return CauseIssuer
	case strings.Contains(text, "key") || strings.Contains(text, "kid") || strings.Contains(text, "signature"):
		return CauseKeys
	}
	return CauseUnknown
}
