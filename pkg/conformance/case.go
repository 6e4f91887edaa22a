package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// Category groups cases in reports and lets --run select a family of attacks.
type Category string

// The case families, in the order reports list them.
const (
	Quickstart    Category = "quickstart" // Auth0's quickstart tests: public, private and scoped routes
	Forged        Category = "forged"     // tokens forged without any of the issuer's keys
	Claims        Category = "claims"     // properly signed tokens with one bad claim or header: need the issuer's key
	RFC6750       Category = "rfc6750"    // bearer-token usage details: schemes, token in two places or in the URL
	Methods       Category = "methods"    // other methods than GET without a token: access control must not depend on it
	PathSpellings Category = "paths"      // the private path spelled another way without a token: the same must hold
	CORS          Category = "cors"       // browser clients: preflight and CORS headers on errors
	Stateful      Category = "stateful"   // sequences of requests: what one request leaves behind for the next
	DPoP          Category = "dpop"       // sender-constrained tokens and their proofs (RFC 9449)
	RFC9728       Category = "rfc9728"    // the API's protected resource metadata
	Rotation      Category = "rotation"   // the issuer changes its signing key
)

// Case is one request the suite sends and what a correct API answers to it.
type Case struct {
	// Name is unique across the matrix; with the category it forms the ID that --run matches.
	Name     string
	Category Category
	// NeedsKey marks cases whose token must be signed by the issuer: they run only with the stand-in tenant.
	NeedsKey bool
	// Serial cases run one at a time after every concurrent case, e.g. key rotation, which changes the tenant.
	Serial bool
	// Severity is how much it matters when the API gets this case wrong in the way Why describes.
	Severity Severity
	// Timeout, if set, replaces the runner's per-case timeout (building and request together).
	Timeout time.Duration
	// Why says in one line what an attacker or a user gains when the API gets this case wrong.
	Why string
	// Build makes the request; it returns an error wrapping ErrSkip when the environment cannot support the case.
	Build func(ctx context.Context, env *Env) (httpcall.Request, error)
	// Steps, set instead of Build, makes a sequence of requests sent one after the other, each judged on its own
	// expectation; the first that fails fails the case. Expect is then only what reports print.
	Steps func(ctx context.Context, env *Env) ([]Step, error)
	// Expect is what a correct API answers.
	Expect Expect
	// Check, if set, inspects the response further under every profile: an error (a *Finding to give it its own
	// severity) says what is wrong, one wrapping ErrSkip that the answer cannot be judged, a note is added to the
	// report.
	Check func(ctx context.Context, env *Env, resp *httpcall.Response) (note string, err error)
}

// Step is one request of a sequence and what a correct API answers to it.
type Step struct {
	// Label says what the step sends, for the report: "the no-scope token, right after the scoped one".
	Label   string
	Request httpcall.Request
	Expect  Expect
	// At, if set, is the earliest time the step is sent (e.g. just after a token's expiry).
	At time.Time
}

// ID is category/name, the string --run matches and reports print.
func (c *Case) ID() string { return string(c.Category) + "/" + c.Name }

// Expect is the answer a correct API gives to a case.
type Expect struct {
	// Status is the status code a correct API answers.
	Status int
	// Also lists other acceptable status codes (e.g. 431 for an oversized header); the Error check applies only
	// when the API answered Status.
	Also []int
	// Error is the RFC 6750 error code WWW-Authenticate must carry with Status ("" on a 401 means the challenge
	// must carry no error code, as RFC 6750 §3.1 wants when a request has no credentials).
	Error string
	// JSON requires a JSON body (Content-Type application/json).
	JSON bool
	// AnyError accepts any error code (or none) in the challenge, where the standards leave it open.
	AnyError bool
	// Scheme is the challenge that carries Error: "" for Bearer (RFC 6750 §3), "DPoP" for a DPoP request's
	// (RFC 9449 §7.1), which an API may send alone or beside a Bearer challenge.
	Scheme string
	// AnyRefusal accepts every 4xx and a 501 besides Status and Also: for a request the API need not serve at
	// all, any refusal is a correct one. RFC 6750's form is then judged only on Status, Also and 401 answers.
	AnyRefusal bool
	// Elsewhere also accepts every 2xx and 3xx, for a request the API may route to another page or redirect to a
	// canonical URL: the case's Check then tells another page from the resource a token was needed for.
	Elsewhere bool
}

// String is the expectation as the report prints it, e.g. "401 invalid_token".
func (e Expect) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(e.Status))
	for _, s := range e.Also {
		b.WriteString("|" + strconv.Itoa(s))
	}
	if e.AnyRefusal {
		b.WriteString("|4xx|501")
	}
	if e.Elsewhere {
		b.WriteString("|3xx|other 2xx")
	}
	if e.Error != "" {
		b.WriteString(" " + e.Error)
	}
	return b.String()
}

// For is the expectation as judged under profile p: the auth0 profile checks status codes only, so it leaves the
// error code out.
func (e Expect) For(p Profile) string {
	if p == ProfileAuth0 {
		e.Error = ""
	}
	return e.String()
}

// rejects says whether a correct API refuses the request.
func (e Expect) rejects() bool { return e.Status >= 400 }

// refusedOtherwise says whether status is accepted only as AnyRefusal's "any other refusal", whose form RFC 6750
// does not govern (a 401 always owes a challenge, RFC 7235 §3.1).
func (e Expect) refusedOtherwise(status int) bool {
	return (e.AnyRefusal || e.Elsewhere) && status != e.Status && status != http.StatusUnauthorized && !slices.Contains(e.Also, status) &&
		e.accepts(status)
}

func (e Expect) accepts(status int) bool {
	if status == e.Status {
		return true
	}
	if e.AnyRefusal && (status >= 400 && status < 500 || status == http.StatusNotImplemented) {
		return true
	}
	if e.Elsewhere && status >= 200 && status < 400 {
		return true
	}
	for _, s := range e.Also {
		if s == status {
			return true
		}
	}
	return false
}

// ErrSkip marks a case the environment cannot run (e.g. it needs the issuer's key); wrap it with the reason.
var ErrSkip = errors.New("skipped")

// skipf returns an error wrapping ErrSkip whose message is the reason the report shows.
func skipf(format string, args ...any) error {
	return &skipError{reason: fmt.Sprintf(format, args...)}
}

type skipError struct{ reason string }

func (e *skipError) Error() string        { return e.reason }
func (e *skipError) Is(target error) bool { return target == ErrSkip }

// needsStandIn is the reason every NeedsKey case gives with a real tenant.
const needsStandIn = "needs the stand-in tenant"

// request is the common shape of a case's request: a GET of path with an optional Authorization value. A path
// of "" (a route the user said the API does not have) gives a request with no URL, which the runner
// reports as skipped.
func request(env *Env, path string, header http.Header) httpcall.Request {
	if header == nil {
		header = http.Header{}
	}
	if path == "" {
		return httpcall.Request{Method: http.MethodGet, Header: header}
	}
	return httpcall.Request{Method: http.MethodGet, URL: env.URL(path), Header: header}
}

// bearer is an Authorization header carrying token with the Bearer scheme.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}
