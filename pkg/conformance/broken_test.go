package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// suiteRow is one server the whole suite runs against, and exactly what the suite must say of it.
type suiteRow struct {
	name string
	opts stackOptions
	// profiles are the profiles it runs under, each against a stack of its own (the rotation cases change the
	// tenant); nil is ProfileRFC6750 alone.
	profiles []Profile
	// config, if set, adjusts what Prepare is given, e.g. a --leeway.
	config func(*Config)
	// only, if set, runs only the cases whose ID it matches: for a server that differs from the real one only in
	// what those cases send.
	only *regexp.Regexp
	// fails and skips are exactly the IDs that must fail and skip; any order.
	fails, skips []string
	// check asserts more of the run: severities, crashes, notes, what the trap saw.
	check func(t *testing.T, env *Env, results []Result)
}

// runRows runs every row as a parallel subtest. A whole run of the suite takes ten seconds or more, nearly all
// of it waiting (cache-past-expiry sleeps past an expiry, the rotation cases poll), while go test runs only
// GOMAXPROCS parallel subtests at a time (2 here). So each subtest builds its stack and starts its run before it
// calls t.Parallel, and the runs wait side by side (bounded by suiteSlots) rather than two at a time; -run still
// selects rows, since a subtest that is filtered out never starts its run.
func runRows(t *testing.T, rows []suiteRow) {
	t.Helper()
	for _, row := range rows {
		profiles := row.profiles
		if profiles == nil {
			profiles = []Profile{ProfileRFC6750}
		}
		for _, p := range profiles {
			t.Run(row.name+"/"+string(p), func(t *testing.T) {
				st := newStackWith(t, row.opts)
				run := startSuite(t, st, p, row.config, row.only)
				t.Parallel()
				env, results := run.wait(t)
				if want := len(matching(row.only)); len(results) != want {
					t.Fatalf("%d results for %d cases", len(results), want)
				}
				if got, want := ids(results, Fail), sorted(row.fails); !slices.Equal(got, want) {
					t.Errorf("failed cases\n got %v\nwant %v\n%s", got, want, describe(results))
				}
				// The server runs in DPoP's default mode, allowed, so the case for APIs that require DPoP skips.
				skips := row.skips
				if row.only == nil || row.only.MatchString("dpop/bearer-when-required") {
					skips = append(skips, "dpop/bearer-when-required")
				}
				if got, want := ids(results, Skip), sorted(skips); !slices.Equal(got, want) {
					t.Errorf("skipped cases\n got %v\nwant %v\n%s", got, want, describe(results))
				}
				if row.check != nil {
					row.check(t, env, results)
				}
			})
		}
	}
}

// suiteSlots bounds how many runs of the suite proceed at once across the tests of this file: enough for their
// waits to overlap, few enough that two shared cores keep the leeway cases' second-scale timing.
var suiteSlots = make(chan struct{}, 12)

// suitePacer spaces the starts of the runs, so that their bursts of work (above all the RSA keys the tenant
// generates when the rotation cases rotate it, a second each under -race) do not all fall at the same moment and
// outlast the stack's 5s client timeout.
var suitePacer struct {
	sync.Mutex
	next time.Time
}

const suiteSpacing = 500 * time.Millisecond

func paceStart(ctx context.Context) error {
	suitePacer.Lock()
	at := time.Now()
	if at.Before(suitePacer.next) {
		at = suitePacer.next
	}
	suitePacer.next = at.Add(suiteSpacing)
	suitePacer.Unlock()
	return sleepUntil(ctx, at)
}

// pendingRun is a run of the suite started in the background; wait for it on the test's goroutine.
type pendingRun struct {
	done    chan struct{}
	started time.Time // when Prepare began, after waiting for a slot and the pacer
	took    time.Duration
	env     *Env
	results []Result
	err     error
}

// startSuite prepares an Env for st (config adjusting what st.env would give) and runs the whole matrix under p,
// in the background. It touches t only here, on the test's goroutine.
func startSuite(t *testing.T, st *stack, p Profile, config func(*Config), only *regexp.Regexp) *pendingRun {
	t.Helper()
	cfg := Config{
		API: st.apiURL, Issuer: st.issuer, Audience: testAudience, Scope: testScope, Origin: testOrigin, HTTP: st.hc,
	}
	if config != nil {
		config(&cfg)
	}
	ctx := t.Context()
	run := &pendingRun{done: make(chan struct{})}
	go func() {
		defer close(run.done)
		select {
		case suiteSlots <- struct{}{}:
		case <-ctx.Done():
			run.err = ctx.Err()
			return
		}
		defer func() { <-suiteSlots }()
		if run.err = paceStart(ctx); run.err != nil {
			return
		}
		run.started = time.Now()
		if run.env, run.err = Prepare(ctx, cfg); run.err == nil {
			opts := []Option{WithProfile(p)}
			if only != nil {
				opts = append(opts, WithFilter(only))
			}
			run.results = NewRunner(opts...).Run(ctx, run.env)
		}
		run.took = time.Since(run.started)
	}()
	t.Cleanup(func() {
		<-run.done
		if run.env != nil {
			_ = run.env.Close()
		}
	})
	return run
}

func (r *pendingRun) wait(t *testing.T) (*Env, []Result) {
	t.Helper()
	<-r.done
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Logf("the suite ran for %s from %s", r.took.Round(time.Millisecond), r.started.Format("15:04:05.000"))
	return r.env, r.results
}

// matching is the matrix's cases whose ID re matches; nil matches every case.
func matching(re *regexp.Regexp) []Case {
	var out []Case
	for _, c := range Matrix() {
		if re == nil || re.MatchString(c.ID()) {
			out = append(out, c)
		}
	}
	return out
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// resultOf is the result of the case with ID id.
func resultOf(t *testing.T, results []Result, id string) Result {
	t.Helper()
	for _, r := range results {
		if r.Case.ID() == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return Result{}
}

// failsWith checks that each of the cases failed with severity sev.
func failsWith(sev Severity, idList ...string) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, _ *Env, results []Result) {
		t.Helper()
		for _, id := range idList {
			if r := resultOf(t, results, id); r.Verdict != Fail || r.Severity != sev {
				t.Errorf("%s: %s with severity %q, want a %s failure: %s", id, r.Verdict, r.Severity, sev, r.Detail)
			}
		}
	}
}

// noted checks that each case passed with a note containing its text.
func noted(notes map[string]string) func(*testing.T, *Env, []Result) { return endedWith(Pass, notes) }

// skippedFor checks that each case skipped with a reason containing its text.
func skippedFor(reasons map[string]string) func(*testing.T, *Env, []Result) {
	return endedWith(Skip, reasons)
}

// endedWith checks that each case ended with verdict v and a detail containing its text.
func endedWith(v Verdict, texts map[string]string) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, _ *Env, results []Result) {
		t.Helper()
		for id, text := range texts {
			if r := resultOf(t, results, id); r.Verdict != v || !strings.Contains(r.Detail, text) {
				t.Errorf("%s: %s %q, want %s with %q", id, r.Verdict, r.Detail, v, text)
			}
		}
	}
}

func leewayNote(want string) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, env *Env, _ []Result) {
		t.Helper()
		if env.LeewayNote != want {
			t.Errorf("leeway note %q, want %q", env.LeewayNote, want)
		}
	}
}

// measuredLeeway checks the suite measured the API's leeway as want, or a second less: each probe's age is taken
// when it is sent, so a probe the API judged just after the leeway ran out can count as refused younger than it, and
// the bisection then lands a second low (seen with many runs sharing two cores).
func measuredLeeway(want time.Duration) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, env *Env, _ []Result) {
		t.Helper()
		if !env.LeewayKnown || env.Leeway > want || env.Leeway < want-time.Second ||
			!strings.HasSuffix(env.LeewayNote, " (measured, to the second)") {
			t.Errorf("leeway %s (known %t, %q), want %s measured", env.Leeway, env.LeewayKnown, env.LeewayNote, want)
		}
		if env.Leeway != want {
			t.Logf("leeway measured as %s for %s", env.Leeway, want)
		}
	}
}

func checks(cs ...func(*testing.T, *Env, []Result)) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, env *Env, results []Result) {
		t.Helper()
		for _, c := range cs {
			c(t, env, results)
		}
	}
}

func givenLeeway(d time.Duration) func(*Config) {
	return func(c *Config) { c.Leeway, c.LeewayGiven = d, true }
}

// leewayCases are the cases that need the API's leeway and skip when it is unknown.
// methodCases are the requests without a token in other methods than GET.
var methodCases = []string{"methods/head-no-token", "methods/unknown-method-no-token", "methods/method-override-no-token"}

// foreignOriginCases send the private route a foreign Origin; corsFamily are the routes' and the CORS cases.
var (
	foreignOriginCases = []string{"cors/other-origin", "cors/origin-prefix-match", "cors/origin-suffix-match",
		"cors/null-origin"}
	corsFamily       = regexp.MustCompile(`^(quickstart|cors)/`)
	corsSupportCases = []string{"cors/preflight", "cors/on-401", "cors/on-403", "cors/on-200"}
)

var leewayCases = []string{
	"claims/expired-within-leeway", "claims/expired-beyond-leeway", "claims/nbf-within-leeway", "claims/nbf-future",
	"claims/iat-within-leeway", "claims/iat-future", "stateful/cache-past-expiry",
}

// TestNewCasesCatchTheirFlaw breaks the real API in one realistic way per row and checks the suite flags exactly
// the cases that flaw lets through, each with the severity it deserves, and nothing else.
func TestNewCasesCatchTheirFlaw(t *testing.T) {
	t.Parallel()
	crashes := []string{"claims/kid-absent", "claims/kid-empty", "claims/kid-null", "claims/kid-number",
		"forged/header-bad-types"}
	realKeyAlgs := []string{"claims/alg-ps256-real-key", "claims/alg-ps384-real-key", "claims/alg-ps512-real-key",
		"claims/alg-rs384-real-key", "claims/alg-rs512-real-key"}
	issuerRest := func(iss string) string { _, rest, _ := strings.Cut(iss, "://"); return rest }
	runRows(t, []suiteRow{
		// First, as it runs longest (two rotation cases wait out their grace). Ignoring kid, it verifies with the
		// oldest published key: after a rotation the new key is second, so the tokens it signs are refused. It takes
		// a number and a null as kid since it never reads it (a 4 KiB string kid is merely unknown: noted).
		{name: "uses the first key of its JWKS", opts: stackOptions{mutate: usesFirstKey},
			fails: []string{"claims/kid-null", "claims/kid-number", "rotation/new-key",
				"rotation/next-key-prepublished"},
			check: checks(failsWith(Medium, "rotation/new-key", "rotation/next-key-prepublished"), noted(map[string]string{
				"claims/kid-unknown": "accepted an unknown kid", "claims/kid-absent": "accepted a token without kid",
				"claims/kid-empty": "accepted an empty kid", "claims/kid-huge": "accepted a 4 KiB kid",
			}))},

		// Access control written for GET alone, in front of a handler that serves every method.
		{name: "checks tokens on GET only", opts: stackOptions{mutate: checksGetOnly},
			fails: methodCases, check: failsWith(High, methodCases...)},

		// A type switch without a default: a claim of another JSON type than the one checked is let through.
		{name: "checks claims only of the expected type", opts: stackOptions{mutate: launder(checksTypedClaimsOnly)},
			fails: []string{"claims/exp-null", "claims/exp-string", "claims/nbf-string", "claims/aud-null",
				"claims/iss-null"}, check: failsWith(High, "claims/exp-string", "claims/aud-null", "claims/iss-null")},

		{name: "alg allow-list too wide", opts: stackOptions{mutate: launder(wideAlgAllowList)},
			fails: realKeyAlgs, check: failsWith(Medium, realKeyAlgs...)},

		// kid-absent gets a 500, kid-number and kid-null a dropped connection (panic with http.ErrAbortHandler),
		// kid-empty a hijacked and closed one. forged/header-bad-types is caught as well, and rightly: its kid is
		// an array, and an unchecked kid.(string) panics on it as on a number or null. Every drop also "restarts"
		// the API, so the next request loses its answer whatever it carries: the runner must send the innocent
		// cases again alone and blame only these five.
		{name: "crashes on an odd kid", opts: stackOptions{mutate: crashesOnOddKid},
			fails: crashes, check: checks(failsWith(High, crashes...), crashedAlone(crashes))},

		// A prefix check on the issuer without its slash also takes the issuer without its slash.
		{name: "iss by prefix", opts: stackOptions{mutate: launder(looseIss(func(iss, want string) bool {
			return strings.HasPrefix(iss, strings.TrimSuffix(want, "/"))
		}))}, fails: []string{"claims/iss-no-trailing-slash", "claims/iss-prefix-match"}},
		{name: "iss case-insensitively", opts: stackOptions{mutate: launder(looseIss(strings.EqualFold))},
			fails: []string{"claims/iss-case"}},
		// The stand-in's issuer (http://127.0.0.1:port/) has no letter but in its scheme, so iss-case's flipped
		// issuer differs only in the scheme: whatever ignores the scheme, or matches the host by suffix, takes it.
		{name: "iss by suffix", opts: stackOptions{mutate: launder(looseIss(func(iss, want string) bool {
			return strings.HasSuffix(iss, issuerRest(want))
		}))}, fails: []string{"claims/iss-case", "claims/iss-scheme", "claims/iss-suffix-match"}},
		{name: "iss without its scheme", opts: stackOptions{mutate: launder(looseIss(func(iss, want string) bool {
			return issuerRest(iss) != "" && issuerRest(iss) == issuerRest(want)
		}))}, fails: []string{"claims/iss-case", "claims/iss-scheme"}},

		// The audience + "/" starts with the audience too.
		{name: "aud by prefix", opts: stackOptions{mutate: launder(looseAud(strings.HasPrefix))},
			fails: []string{"claims/aud-prefix-match", "claims/aud-trailing-slash"}},
		{name: "aud by substring", opts: stackOptions{mutate: launder(looseAud(strings.Contains))},
			fails: []string{"claims/aud-prefix-match", "claims/aud-suffix-match", "claims/aud-trailing-slash"}},
		// The other way round, as in strings.Contains(os.Getenv("AUDIENCES"), aud): a piece of the audience passes.
		{name: "aud searched in the configured list", opts: stackOptions{mutate: launder(looseAud(
			func(aud, want string) bool { return aud != "" && strings.Contains(want, aud) }))},
			fails: []string{"claims/aud-truncated"}},

		{name: "trusts the token's issuer", opts: stackOptions{mutate: launder(trustsTokenIssuer)},
			fails: []string{"forged/iss-attacker-discovery"}, check: checks(
				failsWith(Critical, "forged/iss-attacker-discovery"),
				func(t *testing.T, env *Env, _ []Result) {
					// Discovery, then the key set: the proof the case would give if the status had not failed first.
					if n := env.Trap.Hits("iss-attacker-discovery"); n < 2 {
						t.Errorf("the trap saw %d request(s) for the attacker issuer, want discovery and the JWKS", n)
					}
				})},

		// The leeway measurement sends a fresh token per probe, so a cache keyed by the whole token cannot skew it.
		{name: "token cache outlives exp", opts: stackOptions{mutate: cachesPastExpiry},
			fails: []string{"stateful/cache-past-expiry"},
			check: checks(failsWith(High, "stateful/cache-past-expiry"), measuredLeeway(testLeeway))},

		{name: "token in the query alone", opts: stackOptions{mutate: acceptsQueryToken},
			fails: []string{"rfc6750/token-in-query-only"}, check: failsWith(Medium, "rfc6750/token-in-query-only")},

		// iat-within-leeway's iat is at least half the leeway ahead, rounded up, so a strict check always sees it in
		// the future, with the default 3s leeway too.
		{name: "iat strictly in the past", opts: stackOptions{mutate: refusesFutureIat},
			fails: []string{"claims/iat-within-leeway"}, check: failsWith(Medium, "claims/iat-within-leeway")},

		// Deterministic although the main phase is concurrent: no token is granted a third time on the scoped
		// route before the serial stateful cases, so the shared flag is never set before them. The scoped token was
		// granted by Prepare's footing check and by quickstart/scoped-valid, so scope-leak's first no-scope step
		// falls; alice is new, so subjects-alternate falls on bob's third step. Run with -count=3 to see it hold.
		{name: "scope decision shared between requests", opts: stackOptions{mutate: leaksScope},
			fails: []string{"stateful/scope-leak", "stateful/subjects-alternate"}, check: checks(
				failsWith(High, "stateful/scope-leak", "stateful/subjects-alternate"),
				func(t *testing.T, _ *Env, results []Result) {
					for id, step := range map[string]string{"stateful/scope-leak": "step 2 of 6", "stateful/subjects-alternate": "step 6 of 6"} {
						if d := resultOf(t, results, id).Detail; !strings.HasPrefix(d, step) {
							t.Errorf("%s failed at %q, want %s", id, d, step)
						}
					}
				})},

		// Every minted token has the subject dev-mint@clients and the leeway measurement's first probe is valid,
		// so from then on nothing of that subject expires: the measurement finds no limit, the leeway cases skip,
		// and every expired token of the tenant is taken.
		{name: "expiry cached by subject", opts: stackOptions{mutate: trustsSubjectUntil},
			fails: []string{"claims/exp-missing", "claims/exp-null", "claims/exp-string", "claims/expired", "claims/leeway-at-most-5m",
				"stateful/expired-then-valid"},
			skips: leewayCases, check: checks(
				failsWith(High, "stateful/expired-then-valid", "claims/expired"),
				leewayNote("at least 1h0m0s (measured): exp looks unchecked, so the leeway cases are skipped"))},
		// With --leeway the leeway cases run, and the two that send an expired token catch it too.
		{name: "expiry cached by subject, leeway given", opts: stackOptions{mutate: trustsSubjectUntil},
			config: givenLeeway(testLeeway),
			fails: []string{"claims/exp-missing", "claims/exp-null", "claims/exp-string", "claims/expired", "claims/expired-beyond-leeway",
				"claims/leeway-at-most-5m", "stateful/cache-past-expiry", "stateful/expired-then-valid"},
			check: failsWith(High, "stateful/expired-then-valid", "stateful/cache-past-expiry")},

		// The CORS cases are judged under every profile.
		{name: "no CORS headers on a 401", opts: stackOptions{mutate: rewriting(func(h http.Header, code int) int {
			if code == http.StatusUnauthorized {
				h.Del("Access-Control-Allow-Origin")
			}
			return code
		})}, profiles: []Profile{ProfileRFC6750, ProfileAuth0},
			fails: []string{"cors/on-401"}, check: failsWith(Medium, "cors/on-401")},
		{name: "reflects any origin with credentials", opts: stackOptions{mutate: reflectsOrigin(true)},
			fails: foreignOriginCases, check: failsWith(Medium, foreignOriginCases...)},
		// An API without CORS, tested with the origin of a web app that calls it: a browser app there breaks.
		{name: "no CORS, origin given", opts: stackOptions{mutate: servesNoCORS}, only: corsFamily,
			config: func(c *Config) { c.OriginGiven = true }, fails: corsSupportCases,
			check: failsWith(Medium, corsSupportCases...)},
		// Allow-lists that parse the Origin as a string, with credentials for what they allow.
		{name: "origin allow-list by prefix", opts: stackOptions{mutate: allowsOrigins(func(o string) bool {
			return strings.HasPrefix(o, testOrigin)
		})}, only: corsFamily, fails: []string{"cors/origin-prefix-match"}, check: failsWith(Medium, "cors/origin-prefix-match")},
		{name: "origin allow-list by suffix", opts: stackOptions{mutate: allowsOrigins(func(o string) bool {
			return strings.HasSuffix(o, strings.TrimPrefix(testOrigin, "http://"))
		})}, only: corsFamily, fails: []string{"cors/origin-suffix-match"}},
		{name: "origin allow-list takes null", opts: stackOptions{mutate: allowsOrigins(func(o string) bool {
			return o == testOrigin || o == "null"
		})}, only: corsFamily, fails: []string{"cors/null-origin"}},
	})
}

// crashedAlone checks the crashes are the report's, even sent alone, and that an innocent case that lost its answer
// to a crash was sent again alone and passed.
func crashedAlone(want []string) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, _ *Env, results []Result) {
		t.Helper()
		for _, id := range want {
			if r := resultOf(t, results, id); !r.Crashed {
				t.Errorf("%s failed without Crashed: %s", id, r.Detail)
			}
		}
		if got := sorted((&Report{Results: results}).Crashes()); !slices.Equal(got, sorted(want)) {
			t.Errorf("report crashes %v, want %v", got, sorted(want))
		}
		var again []string
		for _, r := range results {
			if r.Verdict == Pass && strings.Contains(r.Detail, "sent again alone") {
				again = append(again, r.Case.ID())
			}
		}
		// The first request after a crash loses its answer. If the runner's last re-run was a crash's, that is
		// the first serial case's; else it was an innocent one's: either way one innocent case is sent again.
		if len(again) == 0 {
			t.Errorf("no innocent case was sent again alone; the restart after a crash was not exercised")
		}
		t.Logf("innocent cases sent again alone after a crash: %v", again)
	}
}

// TestLegitimateVariantsPass runs the suite against correct servers that make other legitimate choices than the
// project's: none may fail, and only cases the variant gives nothing to test may skip.
func TestLegitimateVariantsPass(t *testing.T) {
	t.Parallel()
	// The auth0 profile judges a subset of what rfc6750 judges (status codes, and the CORS and other checks every
	// profile runs), so a variant that passes rfc6750 passes auth0. Both run only for the variants that change the
	// RFC 6750 form of answers, as a guard; the others run under rfc6750 alone.
	both := []Profile{ProfileRFC6750, ProfileAuth0}
	runRows(t, []suiteRow{
		// First, as it runs longest: cache-past-expiry waits out the minute.
		{name: "60s leeway", opts: stackOptions{leeway: 60 * time.Second},
			check: measuredLeeway(time.Minute)},
		// gin-contrib/cors alone answers a bare 403 to a request from an origin it does not allow.
		{name: "bare 403 for a foreign origin", opts: stackOptions{mutate: refusesForeignOrigin},
			check: func(t *testing.T, _ *Env, results []Result) {
				if r := resultOf(t, results, "cors/other-origin"); r.Got != http.StatusForbidden {
					t.Errorf("cors/other-origin got %d, want the variant's 403", r.Got)
				}
			}},
		// RFC 6750 §3.1: a malformed request is a 400 invalid_request; §3 lets a 400 carry a challenge or not.
		{name: "400 invalid_request for a malformed credential", opts: stackOptions{mutate: malformedAs400(true)},
			profiles: both, check: gotStatus("quickstart/invalid-token-two-words", http.StatusBadRequest)},
		{name: "bare 400 for a malformed credential", opts: stackOptions{mutate: malformedAs400(false)},
			profiles: both, check: gotStatus("quickstart/invalid-token-two-words", http.StatusBadRequest)},
		// Fetch: "*" works for requests without credentials, which is every bearer-token request a browser sends.
		{name: "Access-Control-Allow-Origin *", opts: stackOptions{mutate: rewriting(func(h http.Header, code int) int {
			h.Set("Access-Control-Allow-Origin", "*")
			return code
		})}, check: noted(map[string]string{"cors/other-origin": "Access-Control-Allow-Origin *"})},
		{name: "reflects any origin without credentials", opts: stackOptions{mutate: reflectsOrigin(false)},
			check: noted(map[string]string{"cors/other-origin": "reflects any origin, without credentials",
				"cors/null-origin": `allows Origin "null", without credentials`})},
		// A server-to-server API answers no CORS headers at all: with the default origin, the cases that need CORS
		// support skip, saying so; the foreign-origin ones still run (and pass).
		{name: "no CORS at all", opts: stackOptions{mutate: servesNoCORS}, only: corsFamily, skips: corsSupportCases,
			check: func(t *testing.T, _ *Env, results []Result) {
				if d := resultOf(t, results, "cors/preflight").Detail; !strings.Contains(d, "answers no CORS headers") {
					t.Errorf("cors/preflight skipped for %q", d)
				}
			}},
		// Credentials, for the allowed origin alone: nothing foreign is named.
		{name: "credentials for the allowed origin only", opts: stackOptions{mutate: allowsOrigins(func(o string) bool {
			return o == testOrigin
		})}, only: corsFamily},
		// RFC 7519 §4.1.4 allows "some small leeway"; none at all is allowed too, and leaves nothing within it to test.
		{name: "no leeway", opts: stackOptions{leeway: time.Nanosecond},
			skips: []string{"claims/expired-within-leeway", "claims/iat-within-leeway", "claims/nbf-within-leeway"},
			check: leewayNote("0s (measured, to the second)")},
		// A server that does not serve other methods may refuse them in its own way, before any token check:
		// Node's parser answers an unknown method 400, a WAF a bare 403.
		{name: "other methods refused with a bare 400", opts: stackOptions{mutate: refusesOtherMethods(http.StatusBadRequest)},
			profiles: both, check: gotStatus("methods/unknown-method-no-token", http.StatusBadRequest)},
		{name: "other methods refused with a bare 403", opts: stackOptions{mutate: refusesOtherMethods(http.StatusForbidden)},
			profiles: both, check: gotStatus("methods/method-override-no-token", http.StatusForbidden)},
		// RFC 9110 §9.3.2: HEAD answered as GET, so a HEAD without a token gets the GET's 401 (not a 405).
		{name: "HEAD served as GET", opts: stackOptions{mutate: headAsGet},
			check: gotStatus("methods/head-no-token", http.StatusUnauthorized)},
		// A gateway that answers 429 (RFC 6585 §4): the request is sent again, and nothing is judged on a 429.
		{name: "rate-limits each route's first request", opts: stackOptions{mutate: rateLimitsFirstRequests},
			check: func(t *testing.T, _ *Env, results []Result) {
				for _, r := range results {
					if r.Got == http.StatusTooManyRequests {
						t.Errorf("%s was judged on a 429: %s", r.Case.ID(), r.Detail)
					}
				}
			}},
		// RFC 6750 §3 fixes the challenge, not the body.
		{name: "plain-text error bodies", opts: stackOptions{mutate: plainErrorBodies}, profiles: both,
			check: func(t *testing.T, env *Env, _ []Result) {
				resp, err := httpcall.Do(t.Context(), env.HTTP, request(env, env.Paths.Private, nil))
				if err != nil {
					t.Fatal(err)
				}
				if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/plain" || string(resp.Body) != "Unauthorized" {
					t.Errorf("the variant answered %s %q, want text/plain Unauthorized", mt, resp.Body)
				}
			}},
		// RFC 6750 §3.1's 400 for two tokens is a SHOULD; an API that never reads access_token sees one token.
		{name: "ignores access_token beside the header", opts: stackOptions{mutate: ignoresAccessTokenParam},
			check: noted(map[string]string{
				"rfc6750/token-in-header-and-query": "the API ignores access_token",
				"rfc6750/token-in-header-and-body":  "the API ignores access_token",
			})},
		// RFC 7515 §4.1.4 makes kid a hint: Microsoft.IdentityModel (TryAllIssuerSigningKeys, true by default) tries
		// every issuer key when the kid matches none, Nimbus JOSE+JWT when there is no kid. A 4 KiB kid is such an
		// unknown kid: claims/kid-huge refusing anything but a 4xx for it is a false alarm the suite must fix.
		{name: "tries every key for an unknown kid", opts: stackOptions{mutate: launder(triesEveryKey)},
			check: noted(map[string]string{
				"claims/kid-unknown": "accepted an unknown kid", "claims/kid-absent": "accepted a token without kid",
				"claims/kid-empty": "accepted an empty kid",
			})},
	})
}

func gotStatus(id string, status int) func(*testing.T, *Env, []Result) {
	return func(t *testing.T, _ *Env, results []Result) {
		t.Helper()
		if r := resultOf(t, results, id); r.Got != status {
			t.Errorf("%s got %d, want the variant's %d", id, r.Got, status)
		}
	}
}

// bearerOf is the request's bearer token, as launder reads it; "" when there is none.
func bearerOf(r *http.Request) string {
	scheme, tok, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return tok
}

// serveRecording serves r with next and returns the status it answered.
func serveRecording(next http.Handler, w http.ResponseWriter, r *http.Request) int {
	status := 0
	next.ServeHTTP(&rewriter{ResponseWriter: w, rewrite: func(_ http.Header, code int) int {
		status = code
		return code
	}}, r)
	return status
}

// refuse answers as the real API refuses a token: a Bearer challenge with the error code and a JSON body.
func refuse(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="api", error=%q, error_description=%q`, code, desc))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc, "message": desc})
}

func sum(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }

func hasScope(c map[string]any) bool {
	s, _ := c["scope"].(string)
	perms, _ := c["permissions"].([]any)
	return slices.Contains(strings.Fields(s), testScope) || slices.Contains(perms, any(testScope))
}

func expired(c map[string]any, now time.Time) bool {
	exp, err := jwt.MapClaims(c).GetExpirationTime()
	return err == nil && exp != nil && !now.Before(exp.Time)
}

// verifiedAs checks tok's signature under alg (RS*, PS*) against the tenant's published key named by its kid.
func verifiedAs(ctx context.Context, st *stack, tok string, h map[string]any, alg string) bool {
	method := jwt.GetSigningMethod(alg)
	keys, err := fetchJWKS(ctx, st.hc, st.jwksURL)
	if method == nil || err != nil {
		return false
	}
	for _, k := range keys {
		if k.Kid == h["kid"] && k.rsa != nil {
			return verifies(method, tok, k)
		}
	}
	return false
}

func verifies(method jwt.SigningMethod, tok string, k jwk) bool {
	i := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	return err == nil && k.rsa != nil && method.Verify(tok[:i], sig, k.rsa) == nil
}

// wideAlgAllowList takes the issuer's RSA key under any RSA algorithm, as jwt.WithValidMethods listing them all.
func wideAlgAllowList(st *stack, r *http.Request, tok string, h, _ map[string]any) (map[string]any, bool) {
	alg, _ := h["alg"].(string)
	wide := []string{"RS384", "RS512", "PS256", "PS384", "PS512"}
	return nil, slices.Contains(wide, alg) && verifiedAs(r.Context(), st, tok, h, alg)
}

// crashesOnOddKid reads kid unchecked: a missing one fails the lookup with a 500, a non-string one panics the
// handler (the connection drops), an empty one takes down the worker that holds the connection. A drop also stands
// for a process restart: every connection the API had is lost, and until a new one reaches it (the first new
// connection still finds it starting) no request gets an answer, whatever it carries. So the first request sent
// after a crash (the client's own retry of the crashing one included) loses its answer, even after the client has
// retried it on each of its idle connections.
func crashesOnOddKid(_ *stack, next http.Handler) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{} // remote addresses: the connections the API has served
	restarting := false
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, _, err := tokens.DecodeUnverified(bearerOf(r))
		raw, present := h["kid"]
		kid, isString := raw.(string)
		crashes := err == nil && present && (!isString || kid == "")
		mu.Lock()
		down := restarting
		// The restart ends with the first innocent request on a new connection, which it still loses: so every
		// crash costs an innocent case its answer, whichever requests happen to come next.
		if down && !seen[r.RemoteAddr] && !crashes {
			restarting = false
		}
		seen[r.RemoteAddr] = true
		mu.Unlock()
		if down {
			hangUp(w)
			return
		}
		crash := func() {
			mu.Lock()
			restarting = true
			mu.Unlock()
		}
		if err != nil {
			next.ServeHTTP(w, r)
			return
		}
		switch {
		case !present:
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		case !isString:
			crash()
			panic(http.ErrAbortHandler)
		case kid == "":
			crash()
			hangUp(w)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// looseIss takes a token of the tenant whose iss match accepts (the trusted issuer is want) as if it were the
// issuer's.
func looseIss(match func(iss, want string) bool) func(*stack, *http.Request, string, map[string]any, map[string]any) (map[string]any, bool) {
	return func(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
		iss, _ := c["iss"].(string)
		if iss == st.issuer || !match(iss, st.issuer) || !verifiedByTenant(r.Context(), st, tok, h) {
			return nil, false
		}
		return map[string]any{"iss": st.issuer}, true
	}
}

// looseAud takes a token of the tenant with an aud value that match accepts (want is the API's audience).
func looseAud(match func(aud, want string) bool) func(*stack, *http.Request, string, map[string]any, map[string]any) (map[string]any, bool) {
	return func(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
		aud, _ := jwt.MapClaims(c).GetAudience()
		if slices.Contains(aud, testAudience) ||
			!slices.ContainsFunc(aud, func(a string) bool { return match(a, testAudience) }) ||
			!verifiedByTenant(r.Context(), st, tok, h) {
			return nil, false
		}
		return map[string]any{"aud": testAudience}, true
	}
}

// checksTypedClaimsOnly checks exp and nbf only when they are numbers, aud only when it is a string or an array,
// and iss only when it is a string: a claim of any other type is taken as if it were right.
func checksTypedClaimsOnly(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
	fix := map[string]any{}
	if v, ok := c["exp"]; ok {
		if _, num := v.(json.Number); !num {
			fix["exp"] = time.Now().Add(time.Hour).Unix()
		}
	}
	if v, ok := c["nbf"]; ok {
		if _, num := v.(json.Number); !num {
			fix["nbf"] = nil
		}
	}
	if v, ok := c["aud"]; ok {
		switch v.(type) {
		case string, []any:
		default:
			fix["aud"] = testAudience
		}
	}
	if v, ok := c["iss"]; ok {
		if _, str := v.(string); !str {
			fix["iss"] = st.issuer
		}
	}
	if len(fix) == 0 || !verifiedByTenant(r.Context(), st, tok, h) {
		return nil, false
	}
	return fix, true
}

// trustsTokenIssuer is the multi-tenant bug: for a token from another issuer it fetches that issuer's discovery
// document (<iss>.well-known/openid-configuration, checking the issuer it names, as OIDC Discovery §4.3 asks) and
// its JWKS, and takes the token when the key named by kid verifies it. It fetches only from loopback so the test
// never reaches the network; a real one would fetch anything.
func trustsTokenIssuer(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
	iss, _ := c["iss"].(string)
	if iss == "" || iss == st.issuer || !isLoopback(hostOf(iss)) || h["alg"] != "RS256" {
		return nil, false
	}
	resp, err := httpcall.Do(r.Context(), st.hc, httpcall.Request{URL: iss + ".well-known/openid-configuration"})
	if err != nil || resp.Status != http.StatusOK {
		return nil, false
	}
	var d struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if json.Unmarshal(resp.Body, &d) != nil || d.Issuer != iss || d.JWKSURI == "" {
		return nil, false
	}
	return map[string]any{"iss": st.issuer}, verifiedBy(r.Context(), st.hc, d.JWKSURI, tok, h)
}

// cachesPastExpiry remembers every token it accepted (by SHA-256) and keeps accepting it after its exp.
func cachesPastExpiry(st *stack, next http.Handler) http.Handler {
	var mu sync.Mutex
	accepted := map[[32]byte]bool{}
	inner := launder(func(_ *stack, _ *http.Request, tok string, _, c map[string]any) (map[string]any, bool) {
		mu.Lock()
		known := accepted[sum(tok)]
		mu.Unlock()
		if !known || !expired(c, time.Now()) {
			return nil, false
		}
		return map[string]any{"exp": time.Now().Add(time.Hour).Unix()}, true
	})(st, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearerOf(r)
		if serveRecording(inner, w, r) == http.StatusOK && tok != "" {
			mu.Lock()
			accepted[sum(tok)] = true
			mu.Unlock()
		}
	})
}

// acceptsQueryToken takes ?access_token= when there is no Authorization header (RFC 6750 §2.3's method, which RFC
// 9700 §4.3.2 says not to use).
func acceptsQueryToken(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if tok := q.Get("access_token"); tok != "" && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			q.Del("access_token")
			r.URL.RawQuery = q.Encode()
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		next.ServeHTTP(w, r)
	})
}

// refusesFutureIat refuses any iat after now, ignoring its own leeway for iat.
func refusesFutureIat(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, c, err := tokens.DecodeUnverified(bearerOf(r)); err == nil {
			if iat, err := jwt.MapClaims(c).GetIssuedAt(); err == nil && iat != nil && iat.Unix() > time.Now().Unix() {
				refuse(w, http.StatusUnauthorized, "invalid_token", "the token was issued in the future")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

type leakKey struct{}

// leaksScope has a hot path for tokens its scoped route granted twice already (admitted on the second hit, as
// frequency-based caches do), and the hot path sets a flag shared by every request (a field of a handler struct,
// say) that the next request on the scoped route reads before its own scope check: a token without the scope
// passes right after a hot one with it.
func leaksScope(st *stack, next http.Handler) http.Handler {
	var mu sync.Mutex
	grants := map[[32]byte]int{}
	lastWasHot := false
	inner := launder(func(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
		if r.Context().Value(leakKey{}) == nil || hasScope(c) || !verifiedByTenant(r.Context(), st, tok, h) {
			return nil, false
		}
		return map[string]any{"scope": testScope}, true
	})(st, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearerOf(r)
		if !strings.HasSuffix(r.URL.Path, "/private-scoped") || tok == "" {
			next.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		hot := grants[sum(tok)] >= 2
		leak := lastWasHot && !hot
		lastWasHot = hot
		mu.Unlock()
		if leak {
			r = r.WithContext(context.WithValue(r.Context(), leakKey{}, true))
		}
		_, c, err := tokens.DecodeUnverified(tok)
		if serveRecording(inner, w, r) == http.StatusOK && err == nil && hasScope(c) {
			mu.Lock()
			grants[sum(tok)]++
			mu.Unlock()
		}
	})
}

// trustsSubjectUntil remembers, per subject, the latest exp of a token it accepted, and takes any later token of
// that subject until then, whatever the token's own exp says (or lacks).
func trustsSubjectUntil(st *stack, next http.Handler) http.Handler {
	var mu sync.Mutex
	until := map[string]time.Time{}
	inner := launder(func(st *stack, r *http.Request, tok string, h, c map[string]any) (map[string]any, bool) {
		sub, _ := c["sub"].(string)
		mu.Lock()
		u, known := until[sub]
		mu.Unlock()
		exp, err := jwt.MapClaims(c).GetExpirationTime()
		now := time.Now()
		fresh := err == nil && exp != nil && now.Before(exp.Time)
		if !known || fresh || !now.Before(u) || !verifiedByTenant(r.Context(), st, tok, h) {
			return nil, false
		}
		return map[string]any{"exp": u.Unix()}, true
	})(st, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, c, err := tokens.DecodeUnverified(bearerOf(r))
		if serveRecording(inner, w, r) != http.StatusOK || err != nil {
			return
		}
		sub, _ := c["sub"].(string)
		if exp, err := jwt.MapClaims(c).GetExpirationTime(); err == nil && exp != nil && sub != "" {
			mu.Lock()
			if exp.After(until[sub]) {
				until[sub] = exp.Time
			}
			mu.Unlock()
		}
	})
}

// servesNoCORS is an API that knows nothing of CORS: OPTIONS is a method it does not serve, and no answer carries
// an Access-Control header.
func servesNoCORS(st *stack, next http.Handler) http.Handler {
	stripped := rewriting(func(h http.Header, code int) int {
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				h.Del(k)
			}
		}
		return code
	})(st, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		stripped.ServeHTTP(w, r)
	})
}

// allowsOrigins names in Access-Control-Allow-Origin, with Allow-Credentials, every Origin that allowed takes.
func allowsOrigins(allowed func(origin string) bool) mutation {
	return func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o != "" && allowed(o) {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// reflectsOrigin echoes any foreign Origin in Access-Control-Allow-Origin, with Allow-Credentials if creds.
func reflectsOrigin(creds bool) mutation {
	return func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o != "" && o != testOrigin {
				w.Header().Set("Access-Control-Allow-Origin", o)
				if creds {
					w.Header().Set("Access-Control-Allow-Credentials", "true")
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// usesFirstKey ignores kid and verifies RS256 tokens with the first key of the tenant's JWKS (the oldest).
func usesFirstKey(st *stack, next http.Handler) http.Handler {
	accept := launder(func(*stack, *http.Request, string, map[string]any, map[string]any) (map[string]any, bool) {
		return nil, true
	})(st, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearerOf(r)
		h, _, err := tokens.DecodeUnverified(tok)
		if err != nil || h["alg"] != "RS256" {
			next.ServeHTTP(w, r)
			return
		}
		keys, err := fetchJWKS(r.Context(), st.hc, st.jwksURL)
		if err != nil || len(keys) == 0 {
			http.Error(w, "no keys", http.StatusServiceUnavailable)
			return
		}
		if verifies(jwt.SigningMethodRS256, tok, keys[0]) {
			accept.ServeHTTP(w, r)
			return
		}
		refuse(w, http.StatusUnauthorized, "invalid_token", "the signature does not verify")
	})
}

// triesEveryKey verifies an RS256 token whose kid is absent or names no published key against every published key.
// A non-string kid is still an invalid header, left to the real API.
func triesEveryKey(st *stack, r *http.Request, tok string, h, _ map[string]any) (map[string]any, bool) {
	raw, present := h["kid"]
	kid, isString := raw.(string)
	if h["alg"] != "RS256" || (present && !isString) {
		return nil, false
	}
	keys, err := fetchJWKS(r.Context(), st.hc, st.jwksURL)
	if err != nil || slices.ContainsFunc(keys, func(k jwk) bool { return present && k.Kid == kid }) {
		return nil, false
	}
	return nil, slices.ContainsFunc(keys, func(k jwk) bool { return verifies(jwt.SigningMethodRS256, tok, k) })
}

// refusesForeignOrigin answers a bare 403 to any request from an origin it does not allow, as gin-contrib/cors does.
func refusesForeignOrigin(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && o != testOrigin {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// malformedAs400 answers 400 invalid_request to a bearer credential with whitespace inside, with or without a
// challenge.
func malformedAs400(challenge bool) mutation {
	return func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.ContainsAny(strings.TrimSpace(bearerOf(r)), " \t") {
				next.ServeHTTP(w, r)
				return
			}
			if challenge {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_request","message":"malformed Authorization header"}`)
		})
	}
}

// plainErrors replaces the body of every 4xx with its status text as text/plain; headers (the challenge, CORS)
// stay the real API's.
type plainErrors struct {
	http.ResponseWriter
	wrote, swallow bool
}

func (w *plainErrors) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	if code >= 400 && code < 500 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Del("Content-Length")
		w.ResponseWriter.WriteHeader(code)
		_, _ = io.WriteString(w.ResponseWriter, http.StatusText(code))
		w.swallow = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *plainErrors) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func plainErrorBodies(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&plainErrors{ResponseWriter: w}, r)
	})
}

// ignoresAccessTokenParam never reads access_token when the header carries a token: it drops it from the query,
// and its private route answers a form POST as a GET without reading the body.
func ignoresAccessTokenParam(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearerOf(r) == "" {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		q := r.URL.Query()
		if q.Has("access_token") {
			q.Del("access_token")
			r.URL.RawQuery = q.Encode()
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded" {
			r.Method, r.Body, r.ContentLength = http.MethodGet, http.NoBody, 0
			r.Header.Del("Content-Type")
		}
		next.ServeHTTP(w, r)
	})
}

// checksGetOnly checks tokens on GET (and lets OPTIONS preflights through) only, in front of a private handler
// that serves every method: the others reach it without a token, a method override included.
func checksGetOnly(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodOptions || !strings.HasPrefix(r.URL.Path, "/api/private") {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, `{"message":"Hello from a private endpoint!"}`)
		}
	})
}

// rateLimitsFirstRequests answers the first request of each method and path 429 Too Many Requests with Retry-After:
// 0, before the API sees it, as a gateway whose bucket for that route starts empty. Deterministic, unlike a bucket
// that drains with time, and it reaches every family: each paths and methods case has a route of its own, and the
// routes' first requests come from the footing check, the leeway measurement and the cases.
func rateLimitsFirstRequests(_ *stack, next http.Handler) http.Handler {
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.RawPath + " " + r.URL.Path
		mu.Lock()
		first := !seen[key]
		seen[key] = true
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headAsGet serves HEAD as the GET it stands for, without the body, as RFC 9110 §9.3.2 describes.
func headAsGet(_ *stack, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		next.ServeHTTP(headWriter{w}, get)
	})
}

// headWriter keeps the headers and status of a response and drops its body.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(p []byte) (int, error) { return len(p), nil }

// refusesOtherMethods answers every method but GET and OPTIONS with a bare status before the API sees it.
func refusesOtherMethods(status int) mutation {
	return func(_ *stack, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet || r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, http.StatusText(status), status)
		})
	}
}
