// Command client is tokencheck's CLI: it gets tokens, calls an API, runs the conformance and attack suite against
// any protected API, load-tests it, and runs a stand-in tenant so all of that works offline.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app holds what every command reads and writes, so tests run the CLI exactly as a user does but with their own
// streams and environment.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	dpop   *dpop.Signer // the DPoP key of this run, loaded on first use (--dpop)
}

// Exit codes shared by every command: 0 success, 1 the check ran and failed, 2 it could not run.
const (
	exitOK       = 0
	exitFailed   = 1
	exitCannotGo = 2
)

// exitError carries the exit code a command wants. A nil err means the command already printed what it had to say.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// checkFailed reports that a command ran but what it checked did not hold (exit 1), without another message.
func checkFailed() error { return &exitError{code: exitFailed} }

// usageErrorf reports bad flags or arguments (exit 2), naming what to fix.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitCannotGo, err: fmt.Errorf(format, args...)}
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "client",
		Short: "Get tokens, call, test and load a protected API; run a stand-in tenant",
		Long: `client is tokencheck's command line.

  client token    get an access token (client credentials or device flow)
  client login    sign a user in with a browser (authorization code + PKCE); client logout forgets them
  client call     call one endpoint and show the status code
  client test     run the conformance and attack suite against any protected API
  client load     load-test an endpoint
  client tenant   run a stand-in Auth0 tenant for development and tests
  client app      serve the web app: log in in the browser, call the API with and without the token`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		if s := suggestFlag(cmd, err); s != "" {
			return usageErrorf("%w\n\nDid you mean this?\n\t%s\n", err, s)
		}
		return usageErrorf("%w", err)
	})
	// Every subcommand, wired here explicitly (in the order help lists them), each built from its own file.
	root.AddCommand(newAppCmd(a), newCallCmd(a), newLoadCmd(a), newLoginCmd(a), newLogoutCmd(a), newTenantCmd(a),
		newTestCmd(a), newTokenCmd(a))
	root.SuggestionsMinimumDistance = suggestionDistance
	for _, sub := range root.Commands() {
		sub.SuggestionsMinimumDistance = suggestionDistance
	}
	return root
}

// suggestionDistance is how many edits a typed command or flag may be from a real one to be suggested.
const suggestionDistance = 2

// suggestFlag names the flag of cmd closest to the unknown long flag in err ("--scopes" → "--scope"), or "" when
// none is within suggestionDistance edits or a prefix of it; cobra suggests commands but not flags.
func suggestFlag(cmd *cobra.Command, err error) string {
	typed, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok || typed == "" {
		return ""
	}
	typed, _, _ = strings.Cut(typed, "=")
	best, bestDist := "", suggestionDistance+1
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(strings.ToLower(typed), f.Name)
		if strings.HasPrefix(f.Name, typed) && len(typed) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist || (d == bestDist && f.Name < best) {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		return ""
	}
	return "--" + best
}

// editDistance is the Levenshtein distance between a and b, counting '_' for '-' as no edit.
func editDistance(a, b string) int {
	a = strings.ReplaceAll(a, "_", "-")
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// run executes the CLI with args and returns the process exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCannotGo // anything unclassified means the command could not do its job
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	msg := explainTokensError(err).Error() // pkg/tokens names no flag or variable; the CLI's words add them
	if strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.Contains(msg, "arg(s)") {
		msg += "\nRun 'client --help' for usage."
	}
	fmt.Fprintf(a.stderr, "client: %s\n", msg)
	return code
}

// connOptions are the flags shared by every command that talks to a tenant or an API. Each flag falls back to its
// environment variable, as the README documents them (users and scripts depend on those names).
type connOptions struct {
	Issuer       string // --issuer / ISSUER_URL, else https://<AUTH0_DOMAIN>/
	Audience     string // --audience / AUTH0_AUDIENCE
	ClientID     string // --client-id / AUTH0_CLIENT_ID
	ClientSecret string // --client-secret / AUTH0_CLIENT_SECRET
	API          string // --api / API_URL
	Verbose      bool   // --verbose: show HTTP exchanges, tokens and secrets redacted
}

// addConnFlags defines the shared connection flags on cmd with their environment defaults.
func (a *app) addConnFlags(cmd *cobra.Command) *connOptions {
	o := &connOptions{}
	issuer := a.getenv("ISSUER_URL")
	if issuer == "" {
		issuer = issuerFromDomain(a.getenv("AUTH0_DOMAIN"))
	}
	api := a.getenv("API_URL")
	if api == "" {
		api = local.APIURL
	}
	f := cmd.Flags()
	f.StringVar(&o.Issuer, "issuer", issuer, "token issuer URL, or an Auth0 domain (env ISSUER_URL or AUTH0_DOMAIN)")
	f.StringVar(&o.Audience, "audience", a.getenv("AUTH0_AUDIENCE"), "API identifier to ask tokens for (env AUTH0_AUDIENCE)")
	f.StringVar(&o.ClientID, "client-id", a.getenv("AUTH0_CLIENT_ID"), "OAuth2 client id (env AUTH0_CLIENT_ID)")
	f.StringVar(&o.ClientSecret, "client-secret", a.getenv("AUTH0_CLIENT_SECRET"), "OAuth2 client secret (env AUTH0_CLIENT_SECRET)")
	f.StringVar(&o.API, "api", api, "base URL of the API (env API_URL)")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "show the HTTP exchanges (tokens and secrets redacted)")
	return o
}

// IssuerURL is the issuer with a scheme and a trailing slash, as Auth0 writes it in iss. A bare domain
// ("tenant.eu.auth0.com") becomes https://tenant.eu.auth0.com/; a URL with a path is kept as given.
func (o *connOptions) IssuerURL() string {
	if o.Issuer == "" || strings.Contains(o.Issuer, "://") {
		return o.Issuer
	}
	return issuerFromDomain(o.Issuer)
}

func issuerFromDomain(domain string) string {
	domain = strings.TrimSpace(domain)
	if domain == "" {
		return ""
	}
	domain = strings.TrimPrefix(strings.TrimPrefix(domain, "https://"), "http://")
	return "https://" + strings.TrimSuffix(domain, "/") + "/"
}
