package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/internal/tty"
	"github.com/tokencheck/tokencheck/pkg/conformance"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// testOptions are client test's own flags.
type testOptions struct {
	profile, format, out, run string
	list                      bool
	paths                     conformance.Paths
	scope, origin             string
	noScopeID, noScopeSecret  string
	listen, listenURL         string
	concurrency               int
	timeout                   time.Duration
	ca                        string
	leeway                    time.Duration
	skipRoutes                []string
	failOn                    string
	dpop                      bool
}

// routeNames are the --skip-route values, each naming one of conformance.Paths.
var routeNames = []string{"public", "private", "scoped"}

// suiteNames are the flags that set the suite's inputs, for the skip reasons and notes of its report.
var suiteNames = conformance.Names{
	Leeway: "--leeway", NoScopeClient: "--noscope-client-id and --noscope-client-secret",
	SkipRoute: "--skip-route", DPoP: "--dpop", Trap: "--listen and --listen-url", Origin: "--origin",
}

func newTestCmd(a *app) *cobra.Command {
	o := &testOptions{}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the conformance and attack suite against a protected API",
		Long: `test sends a matrix of good, bad and forged tokens to the API and reports, one row per case, which bad
token the API wrongly accepted and why that matters.

With the stand-in tenant (client tenant) every case runs: tokens are minted with exactly the claims a case needs.
With a real tenant, tokens come from client credentials (--client-id/--client-secret, and optionally a client
without the scope, --noscope-client-id/--noscope-client-secret); cases that need the issuer's key are skipped.

Every case has a severity: critical (a forged or foreign token is accepted), high (a token wrong in its claims is
accepted, a scope bypass, a crash or 5xx), medium (a valid token refused, weaker checks: typ, crit, nbf/iat,
leeway, token in the URL, CORS), low (RFC 6750 form: challenge, error code, body). --fail-on sets the least
severity that makes the exit status 1.

The API's clock leeway is measured with the stand-in tenant (and reported) unless --leeway gives it. For an API
that serves https with the stand-in tenant's CA (client tenant --tls), give that CA with --ca.

The dpop cases (RFC 9449: proofs, key binding, downgrade to Bearer, replay) run when the API's protected resource
metadata (RFC 9728, /.well-known/oauth-protected-resource) lists DPoP algorithms, or with --dpop; they need the
stand-in tenant, which mints tokens bound to the tester's own key. An API that takes DPoP-bound tokens only
(dpop_bound_access_tokens_required) refuses the Bearer cases' valid tokens: run --run '^(dpop|rfc9728)/' there.

Exit status: 0 all passed (or only failures below --fail-on), 1 some failed, 2 the suite could not run.`,
		Args: cobra.NoArgs,
	}
	conn := a.addConnFlags(cmd)
	f := cmd.Flags()
	def := conformance.DefaultPaths()
	f.StringVar(&o.profile, "profile", string(conformance.ProfileRFC6750), "auth0 (status codes only) or rfc6750 (also challenges and headers)")
	f.StringVar(&o.format, "format", string(conformance.FormatTable), "report format: table, json or junit")
	f.StringVar(&o.out, "out", "", "also write the report to `FILE` (atomically); the table still goes to stdout")
	f.StringVar(&o.run, "run", "", "run only cases whose category/name matches `REGEX`")
	f.BoolVar(&o.list, "list", false, "list the cases (name, category, needs-key) and exit")
	f.StringVar(&o.paths.Public, "public", def.Public, "path of the public route")
	f.StringVar(&o.paths.Private, "private", def.Private, "path of the route that needs a valid token")
	f.StringVar(&o.paths.Scoped, "scoped", def.Scoped, "path of the route that needs --scope")
	f.StringVar(&o.scope, "scope", local.Scope, "scope the scoped route requires")
	f.StringVar(&o.origin, "origin", local.AppOrigin, "an origin the API allows (CORS cases; by default they skip for an API that answers it no CORS headers at all)")
	f.StringVar(&o.noScopeID, "noscope-client-id", a.getenv("AUTH0_NOSCOPE_CLIENT_ID"),
		"real tenant: a client without the scope, for the 403 cases (env AUTH0_NOSCOPE_CLIENT_ID)")
	f.StringVar(&o.noScopeSecret, "noscope-client-secret", a.getenv("AUTH0_NOSCOPE_CLIENT_SECRET"),
		"its secret (env AUTH0_NOSCOPE_CLIENT_SECRET)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "`ADDR` of the tester's own key server that jku/x5u tokens point at")
	f.StringVar(&o.listenURL, "listen-url", "", "base `URL` the API would reach that key server at (default from --listen)")
	f.IntVar(&o.concurrency, "concurrency", 4, "cases run at once")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	f.StringVar(&o.ca, "ca", "", "PEM `FILE` of a CA to trust besides the system's (e.g. the stand-in tenant's --tls-ca)")
	f.DurationVar(&o.leeway, "leeway", 0, "the API's clock leeway on exp/nbf/iat, if known (default: measured and reported)")
	f.StringSliceVar(&o.skipRoutes, "skip-route", nil, "a route the API does not have: public, private or scoped (repeatable)")
	f.StringVar(&o.failOn, "fail-on", conformance.Low.String(), "least severity that fails the run: critical, high, medium or low")
	f.BoolVar(&o.dpop, "dpop", false, "run the dpop cases even if the API's RFC 9728 metadata does not advertise DPoP")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.runTest(cmd, conn, o) }
	return cmd
}

func (a *app) runTest(cmd *cobra.Command, conn *connOptions, o *testOptions) error {
	profile, err := conformance.ParseProfile(o.profile)
	if err != nil {
		return usageErrorf("--profile: %w", err)
	}
	format, err := conformance.ParseFormat(o.format)
	if err != nil {
		return usageErrorf("--format: %w", err)
	}
	var filter *regexp.Regexp
	if o.run != "" {
		if filter, err = regexp.Compile(o.run); err != nil {
			return usageErrorf("--run %q is not a regular expression: %w", o.run, err)
		}
	}
	if o.concurrency < 1 || o.timeout <= 0 {
		return usageErrorf("--concurrency must be at least 1 and --timeout positive")
	}
	failOn, err := conformance.ParseSeverity(o.failOn)
	if err != nil {
		return usageErrorf("--fail-on: %w", err)
	}
	if o.leeway < 0 {
		return usageErrorf("--leeway must not be negative (got %s)", o.leeway)
	}
	paths, err := skipRoutes(o.paths, o.skipRoutes)
	if err != nil {
		return err
	}
	runner := conformance.NewRunner(conformance.WithProfile(profile), conformance.WithFilter(filter),
		conformance.WithConcurrency(o.concurrency), conformance.WithTimeout(2*o.timeout))
	if o.list {
		return listCases(a.stdout, runner.Cases(), profile)
	}
	if len(runner.Cases()) == 0 {
		return usageErrorf("--run %q selects no case; see client test --list", o.run)
	}
	var clientOpts []httpcall.ClientOption
	if o.ca != "" {
		pemCerts, err := os.ReadFile(o.ca)
		if err != nil {
			return usageErrorf("--ca: %w", err)
		}
		pool, ok := httpcall.SystemPoolWith(pemCerts)
		if !ok {
			return usageErrorf("--ca %s holds no PEM certificate", o.ca)
		}
		clientOpts = append(clientOpts, httpcall.WithRootCAs(pool))
	}
	hc := httpcall.NewClient(o.timeout, clientOpts...)
	if conn.Verbose {
		hc = httpcall.Verbose(hc, a.stderr)
	}
	ctx := cmd.Context()
	env, err := conformance.Prepare(ctx, conformance.Config{
		API: conn.API, Issuer: conn.IssuerURL(), Audience: conn.Audience,
		ClientID: conn.ClientID, ClientSecret: conn.ClientSecret,
		NoScopeClientID: o.noScopeID, NoScopeClientSecret: o.noScopeSecret,
		Paths: paths, Scope: o.scope, Origin: o.origin, OriginGiven: cmd.Flags().Changed("origin"), HTTP: hc,
		TrapListen: o.listen, TrapURL: o.listenURL,
		Leeway: o.leeway, LeewayGiven: cmd.Flags().Changed("leeway"), DPoP: o.dpop, Names: suiteNames,
	})
	if err != nil {
		return &exitError{code: exitCannotGo, err: wordPrepareError(err)}
	}
	defer env.Close()
	if md := env.Metadata; md != nil && md.DPoPBoundTokensNeeded && o.run == "" {
		fmt.Fprintln(a.stderr, "client: note: the API takes DPoP-bound tokens only (dpop_bound_access_tokens_required in "+
			"its RFC 9728 metadata), so it refuses the valid Bearer tokens most cases send; "+
			"run the cases for such an API with --run '^(dpop|rfc9728)/'")
	}

	start := time.Now()
	rep := &conformance.Report{
		API: conn.API, Issuer: env.Issuer, Audience: env.Audience, Profile: profile, Leeway: env.LeewayNote,
		Results: runner.Run(ctx, env),
	}
	rep.Duration = time.Since(start)
	if err := ctx.Err(); err != nil {
		return &exitError{code: exitCannotGo, err: fmt.Errorf("interrupted: %w", err)}
	}
	if o.out != "" {
		if err := rep.WriteFile(o.out, format); err != nil {
			return &exitError{code: exitCannotGo, err: fmt.Errorf("%w (check --out)", err)}
		}
		format = conformance.FormatTable
	}
	if err := rep.Write(a.stdout, format, format == conformance.FormatTable && a.colorOK()); err != nil {
		return &exitError{code: exitCannotGo, err: err}
	}
	if rep.Summary().AtLeast(failOn) > 0 {
		return checkFailed()
	}
	return nil
}

// wordPrepareError says, for a user, what to fix when the suite cannot start: the library's typed errors name
// no flag, the CLI does.
func wordPrepareError(err error) error {
	var (
		cfg   *conformance.ConfigError
		fe    *conformance.FootingError
		unr   *conformance.UnreachableError
		need  *conformance.NeedCredentialsError
		cred  *conformance.CredentialsError
		grant *conformance.GrantError
		trap  *conformance.TrapError
	)
	switch {
	case errors.As(err, &cfg) && cfg.Field == "Audience":
		return errors.New("the API identifier is required: set --audience or AUTH0_AUDIENCE (e.g. https://quickstarts/api)")
	case errors.As(err, &cfg) && cfg.Field == "Issuer":
		return errors.New("the tenant is required: set --issuer / ISSUER_URL (e.g. http://localhost:4000/) or AUTH0_DOMAIN")
	case errors.As(err, &cfg) && cfg.Field == "API":
		return errors.New("the API is required: set --api / API_URL (e.g. http://localhost:3010)")
	case errors.As(err, &fe):
		return fmt.Errorf("%w\nthe suite did not run, since every case would fail for this one reason; likely fix: %s",
			err, footingFix(fe.Cause))
	case errors.As(err, &unr):
		return fmt.Errorf("%w: is it running? check --api / API_URL", err)
	case errors.As(err, &need):
		return fmt.Errorf("%w: set --client-id / AUTH0_CLIENT_ID and --client-secret / AUTH0_CLIENT_SECRET", err)
	case errors.As(err, &cred) && cred.NoScope:
		return fmt.Errorf("%w (check --noscope-client-id / --noscope-client-secret)", explainCredentialsError(err))
	case errors.As(err, &cred):
		return fmt.Errorf("%w (check --client-id / AUTH0_CLIENT_ID and --client-secret / AUTH0_CLIENT_SECRET)",
			explainCredentialsError(err))
	case errors.As(err, &grant) && grant.NoScope:
		return fmt.Errorf("%w: pick a client without it for --noscope-client-id", err)
	case errors.As(err, &grant):
		return fmt.Errorf("%w: grant that permission to the client, or pick another with --client-id / "+
			"AUTH0_CLIENT_ID (or another --scope)", err)
	case errors.As(err, &trap):
		return fmt.Errorf("%w: check --listen (and --listen-url)", err)
	}
	return err
}

// footingFix words what to change when the API refuses the suite's own valid token.
func footingFix(c conformance.Cause) string {
	switch c {
	case conformance.CauseAudience:
		return "--audience / AUTH0_AUDIENCE must be the API's identifier, the audience the API accepts (its AUTH0_AUDIENCE)"
	case conformance.CauseIssuer:
		return "the API trusts another issuer: give --issuer / ISSUER_URL the tenant the API trusts, exactly (trailing " +
			"slash included), or fix the API's ISSUER_URL"
	case conformance.CauseKeys:
		return "the API does not know this tenant's signing keys: point it at this tenant (its ISSUER_URL / JWKS_URL), " +
			"or point --issuer at the tenant it trusts (with the stand-in tenant the suite already gave the API " +
			conformance.DefaultKeyWait.String() + " to learn a key rotated moments before, e.g. by another run)"
	case conformance.CauseScope:
		return "the scoped route requires another scope: set --scope to the API's required scope (its REQUIRED_SCOPE), " +
			"or --scoped to the right route"
	case conformance.CauseUnavailable:
		return "the API cannot verify tokens yet: it probably cannot reach its tenant from where it runs (inside a " +
			"container, localhost is the container itself; check the API's ISSUER_URL / JWKS_URL and its logs), or it is " +
			"still starting; check --api / API_URL too"
	case conformance.CauseServerError:
		return "the API failed on a valid token: look at its logs"
	}
	return "check that the API trusts this tenant (--issuer / ISSUER_URL) and this audience (--audience / AUTH0_AUDIENCE)"
}

// skipRoutes blanks the routes named by --skip-route, which the suite then skips.
func skipRoutes(p conformance.Paths, names []string) (conformance.Paths, error) {
	for _, n := range names {
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "public":
			p.Public = ""
		case "private":
			p.Private = ""
		case "scoped":
			p.Scoped = ""
		default:
			return p, usageErrorf("--skip-route %q: use one of %s", n, strings.Join(routeNames, ", "))
		}
	}
	if p.Private == "" && p.Scoped == "" {
		return p, usageErrorf("--skip-route: the suite needs a protected route; keep private or scoped")
	}
	return p, nil
}

func listCases(w io.Writer, cases []conformance.Case, p conformance.Profile) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tCATEGORY\tSEVERITY\tNEEDS-KEY\tEXPECTED")
	for _, c := range cases {
		needs := "no"
		if c.NeedsKey {
			needs = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID(), c.Category, c.Severity, needs, c.Expect.For(p))
	}
	return tw.Flush()
}

// colorOK is true when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
func (a *app) colorOK() bool {
	return a.getenv("NO_COLOR") == "" && tty.IsTerminal(a.stdout)
}
