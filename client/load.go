package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/internal/tty"
	"github.com/tokencheck/tokencheck/pkg/httpcall"
	"github.com/tokencheck/tokencheck/pkg/loadtest"
	"github.com/tokencheck/tokencheck/pkg/tokens"
)

// mintConcurrency is how many /dev/mint calls run at once when --unique-tokens fills its pool: enough to keep a
// 2-core tenant busy signing, few enough not to queue up.
const mintConcurrency = 8

// maxUniqueTokens bounds --unique-tokens: a million tokens is ~1 GB of memory and many minutes of minting.
const maxUniqueTokens = 1_000_000

// loadOptions are client load's own flags.
type loadOptions struct {
	path, method, token, format string
	noToken                     bool
	rate, workers, unique       int
	requests                    int
	duration, timeout           time.Duration
}

func newLoadCmd(a *app) *cobra.Command {
	o := &loadOptions{}
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Load-test an endpoint: throughput, latency percentiles, status histogram",
		Long: `load sends requests to --api plus --path for --duration and reports requests per second (successful),
the success ratio, latency p50/p90/p99/max, a status-code histogram and the most frequent transport errors. A
progress line goes to stderr every second while it runs.

Pacing: --rate R sends R requests per second (default 100, gentle enough for a shared API); --rate 0 sends as fast
as --workers concurrent workers can, which is how to measure capacity.

Token, in this order: --token T; --no-token (public routes); otherwise one is fetched from the tenant at --issuer:
with --unique-tokens N the stand-in tenant (client tenant) mints N distinct tokens up front, so the API verifies a
signature on most requests instead of serving them from its verified-token cache; without it, client credentials
(--client-id, --client-secret, --audience) give one reused token, or the stand-in mints one.

Only --api is loaded. Point it at your own API.

A dead API is not loaded for the whole --duration: when none of the first 20 requests, or nothing in the first
5 seconds, got an answer (connection refused, timeouts), the run stops early. Requests without an answer show as
"no answer: N requests" in the report, their errors below it.

Exit status: 0 the run completed, 1 no request succeeded, 2 it could not run (bad flags, no token, interrupted,
the API unreachable).`,
		Args: cobra.NoArgs,
	}
	conn := a.addConnFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.path, "path", "/api/private", "`PATH` on --api to load")
	f.StringVar(&o.method, "method", http.MethodGet, "HTTP method")
	f.IntVar(&o.rate, "rate", loadtest.DefaultRate, "requests per second; 0 = as fast as --workers allow")
	f.DurationVar(&o.duration, "duration", loadtest.DefaultDuration, "how long to send requests")
	f.IntVar(&o.requests, "requests", 0, "stop after `N` requests even before --duration has elapsed (0 = no limit)")
	f.IntVar(&o.workers, "workers", loadtest.DefaultWorkers, "concurrent workers (exact at --rate 0, the starting pool otherwise)")
	f.IntVar(&o.unique, "unique-tokens", 0, "mint `N` distinct tokens from the stand-in tenant and cycle through them")
	f.StringVar(&o.token, "token", "", "send this access `TOKEN` on every request")
	f.BoolVar(&o.noToken, "no-token", false, "send no Authorization header")
	f.StringVar(&o.format, "format", "table", "report format: table or json")
	f.DurationVar(&o.timeout, "timeout", loadtest.DefaultTimeout, "per-request timeout")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return a.runLoad(cmd.Context(), conn, o) }
	return cmd
}

func (a *app) runLoad(ctx context.Context, conn *connOptions, o *loadOptions) error {
	target, err := o.validate(conn)
	if err != nil {
		return err
	}
	toks, err := a.loadTokens(ctx, conn, o)
	if err != nil {
		return err
	}
	rep, err := loadtest.Run(ctx, target, append(o.runOptions(),
		loadtest.WithTokens(toks...),
		loadtest.WithProgress(a.stderr, tty.IsTerminal(a.stderr)),
	)...)
	if err != nil {
		return usageErrorf("%w", err)
	}
	if o.format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteTable(a.stdout)
	}
	if err != nil {
		return &exitError{code: exitCannotGo, err: fmt.Errorf("write report: %w", err)}
	}
	if rep.Tokens > 1 && rep.Requests < uint64(rep.Tokens) {
		fmt.Fprintf(a.stderr, "client: note: %d requests for %d tokens, so some tokens were never sent; "+
			"lengthen --duration or lower --unique-tokens\n", rep.Requests, rep.Tokens)
	}
	switch {
	case rep.Interrupted:
		return &exitError{code: exitCannotGo, err: errors.New("interrupted: the report covers only the requests answered before")}
	case rep.Unreachable:
		cause := "no answer"
		if len(rep.Errors) > 0 {
			cause = httpcall.RedactText(rep.Errors[0].Error)
		}
		if rep.GaveUp {
			return &exitError{code: exitCannotGo, err: fmt.Errorf("the API at %s did not answer any of the first %d requests (%s); "+
				"stopped early instead of loading it for --duration %s. Is it running? Check --api / API_URL",
				httpcall.RedactURL(target), rep.Requests, cause, o.duration)}
		}
		return &exitError{code: exitCannotGo, err: fmt.Errorf("the API at %s did not answer any of the %d requests (%s); "+
			"is it running? Check --api / API_URL", httpcall.RedactURL(target), rep.Requests, cause)}
	case rep.Successes == 0:
		fmt.Fprintf(a.stderr, "client: no request to %s succeeded; check --api, --path and the token\n", target)
		return checkFailed()
	}
	return nil
}

// runOptions are the flags loadtest itself takes.
func (o *loadOptions) runOptions() []loadtest.Option {
	return []loadtest.Option{
		loadtest.WithMethod(o.method),
		loadtest.WithRate(o.rate),
		loadtest.WithDuration(o.duration),
		loadtest.WithMaxRequests(uint64(max(o.requests, 0))),
		loadtest.WithWorkers(o.workers),
		loadtest.WithTimeout(o.timeout),
	}
}

// loadFlags names the flag behind each loadtest setting, so loadtest's own checks are worded for this command.
var loadFlags = map[loadtest.Setting]string{
	loadtest.SettingMethod:   "--method",
	loadtest.SettingRate:     "--rate",
	loadtest.SettingDuration: "--duration",
	loadtest.SettingWorkers:  "--workers",
	loadtest.SettingTimeout:  "--timeout",
}

// validate checks the flags together and returns the URL to load: the flags only this command has here, the rest
// by loadtest.Check, whose problems are reworded with the flag names.
func (o *loadOptions) validate(conn *connOptions) (string, error) {
	var problems []string
	if o.format != "table" && o.format != "json" {
		problems = append(problems, fmt.Sprintf("--format %q must be table or json", o.format))
	}
	if o.requests < 0 {
		problems = append(problems, fmt.Sprintf("--requests %d must be 0 (no limit) or more", o.requests))
	}
	if o.unique < 0 || o.unique > maxUniqueTokens {
		problems = append(problems, fmt.Sprintf("--unique-tokens %d must be between 0 and %d", o.unique, maxUniqueTokens))
	}
	if o.token != "" && o.noToken {
		problems = append(problems, "--token and --no-token contradict each other; pass one")
	}
	if o.unique > 0 && (o.token != "" || o.noToken) {
		problems = append(problems, "--unique-tokens mints its own tokens; drop --token / --no-token")
	}
	if !strings.HasPrefix(o.path, "/") {
		problems = append(problems, fmt.Sprintf("--path %q must start with /", o.path))
	}
	target := strings.TrimSuffix(conn.API, "/") + o.path
	if oe, ok := errors.AsType[*loadtest.OptionsError](loadtest.Check(target, o.runOptions()...)); ok {
		for _, p := range oe.Problems {
			switch flag, known := loadFlags[p.Setting]; {
			case p.Setting == loadtest.SettingTarget:
				problems = append(problems, fmt.Sprintf("--api / API_URL %q must be an http:// or https:// URL (e.g. http://localhost:3010)", conn.API))
			case known:
				problems = append(problems, fmt.Sprintf("%s %s %s", flag, p.Value, p.Want))
			default:
				problems = append(problems, fmt.Sprintf("%s %s %s", p.Setting, p.Value, p.Want))
			}
		}
	}
	if len(problems) > 0 {
		return "", usageErrorf("%s", strings.Join(problems, "; "))
	}
	return target, nil
}

// loadTokens decides what Authorization the load carries: nothing, the given token, a pool minted by the
// stand-in tenant, or one token from client credentials (or minted when the tenant is the stand-in).
func (a *app) loadTokens(ctx context.Context, conn *connOptions, o *loadOptions) ([]string, error) {
	switch {
	case o.noToken:
		return nil, nil
	case o.token != "":
		return []string{o.token}, nil
	}
	issuer := conn.IssuerURL()
	if issuer == "" {
		return nil, usageErrorf("%s needs a token: pass --token, or --no-token for a public route, or set --issuer / "+
			"ISSUER_URL (or AUTH0_DOMAIN) so one can be fetched", o.path)
	}
	hc := httpcall.NewClient(o.timeout)
	if conn.Verbose {
		hc = httpcall.Verbose(hc, a.stderr)
	}
	d, err := tokens.Discover(ctx, hc, issuer)
	if err != nil {
		return nil, &exitError{code: exitCannotGo, err: err}
	}
	if o.unique > 0 {
		if !d.IsStandIn() {
			return nil, usageErrorf("--unique-tokens needs the stand-in tenant (client tenant), which mints tokens on "+
				"request; %s has no mint_endpoint. Use --token or client credentials for a reused token instead", issuer)
		}
		return a.mintTokens(ctx, d, hc, conn.Audience, o.unique)
	}
	if conn.ClientID != "" || !d.IsStandIn() {
		if conn.ClientID == "" || conn.ClientSecret == "" || conn.Audience == "" {
			return nil, usageErrorf("a token from %s needs client credentials: set --client-id / AUTH0_CLIENT_ID, "+
				"--client-secret / AUTH0_CLIENT_SECRET and --audience / AUTH0_AUDIENCE, or pass --token", issuer)
		}
		tok, err := tokens.ClientCredentials(ctx, hc, d, tokens.Request{
			ClientID: conn.ClientID, ClientSecret: conn.ClientSecret, Audience: conn.Audience,
		})
		if err != nil {
			return nil, &exitError{code: exitCannotGo, err: explainCredentialsError(err)}
		}
		return []string{tok.AccessToken}, nil
	}
	return a.mintTokens(ctx, d, hc, conn.Audience, 1)
}

// mintTokens asks the stand-in for n distinct tokens (each has a fresh jti), concurrently, with a progress line.
func (a *app) mintTokens(ctx context.Context, d *tokens.Discovery, hc *http.Client, audience string, n int) ([]string, error) {
	minter, err := tokens.NewMinter(d, hc)
	if err != nil {
		return nil, &exitError{code: exitCannotGo, err: err}
	}
	var claims map[string]any
	if audience != "" {
		claims = map[string]any{"aud": audience}
	}
	source := func(ctx context.Context, _ int) (string, error) { return minter.Mint(ctx, nil, claims) }
	var progress func(done, total int)
	if n > 1 {
		progress = newCountProgress(a.stderr, tty.IsTerminal(a.stderr), "minting tokens", time.Second)
	}
	toks, err := loadtest.CollectTokens(ctx, n, mintConcurrency, source, progress)
	if err != nil {
		return nil, &exitError{code: exitCannotGo, err: err}
	}
	return toks, nil
}

// newCountProgress returns a done/total callback that prints "label done/total" at most every interval and at the
// end: rewriting one line on a terminal, a line each time elsewhere.
func newCountProgress(w io.Writer, tty bool, label string, every time.Duration) func(done, total int) {
	var (
		mu   sync.Mutex
		last time.Time
	)
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if done < total && now.Sub(last) < every {
			return
		}
		last = now
		switch {
		case tty && done == total:
			fmt.Fprintf(w, "\r%s %d/%d\x1b[K\n", label, done, total)
		case tty:
			fmt.Fprintf(w, "\r%s %d/%d\x1b[K", label, done, total)
		default:
			fmt.Fprintf(w, "%s %d/%d\n", label, done, total)
		}
	}
}
