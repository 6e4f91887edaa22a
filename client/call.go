package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/pkg/httpcall"
)

// callOptions are the flags of `client call`.
type callOptions struct {
	token   string
	noToken bool
	method  string
	headers []string
	data    string
	expect  int
	tok     tokenOptions // which token to get when neither --token nor --no-token is given
}

func newCallCmd(a *app) *cobra.Command {
	o := &callOptions{}
	var conn *connOptions
	cmd := &cobra.Command{
		Use:   "call PATH",
		Short: "Call one endpoint of the API and show the status code",
		Long: `Call PATH on --api / API_URL (PATH may also be a full URL) and print the method, path and status code,
the WWW-Authenticate header when there is one, and the body (pretty-printed when it is JSON).

Unless --token or --no-token is given, a client-credentials token is fetched (and cached) as 'client token' does;
--user sends the token of 'client login' instead, refreshed when near expiry.
--dpop gets a DPoP-bound token (as 'client token --dpop') and sends it as "Authorization: DPoP <token>" with a
fresh proof (RFC 9449: method, URL, and ath, the token's hash) made with the CLI's key; with --token, the given
token is sent that way.
With --expect CODE the exit code is 1 when the status differs.

  client call /api/public --no-token
  client call /api/private-scoped --expect 403
  client call /api/private --token "$TOKEN" -H 'X-Request-Id: 42'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCall(cmd.Context(), cmd, conn, o, args[0])
		},
	}
	conn = a.addConnFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.token, "token", "", "send this access token instead of getting one")
	f.BoolVar(&o.noToken, "no-token", false, "send no Authorization header")
	f.StringVarP(&o.method, "request", "X", http.MethodGet, "HTTP method")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "extra request header 'Name: value' (repeatable)")
	f.StringVarP(&o.data, "data", "d", "", "request body")
	f.IntVar(&o.expect, "expect", 0, "expected status code; exit 1 when the response differs")
	f.StringVar(&o.tok.scope, "scope", "", "scopes to ask for when getting a token")
	f.BoolVar(&o.tok.user, "user", false, "send the access token of 'client login' (refreshed when near expiry)")
	f.BoolVar(&o.tok.dpop, "dpop", false, "send a DPoP-bound token with a fresh DPoP proof (RFC 9449)")
	f.BoolVar(&o.tok.noCache, "no-cache", false, "do not use the token cache")
	f.DurationVar(&o.tok.timeout, "timeout", 30*time.Second, "timeout of each HTTP request")
	return cmd
}

// callTarget resolves PATH against the API base URL and returns the URL and how to show it.
func callTarget(api, path string) (target, shown string, err error) {
	if strings.Contains(path, "://") {
		target, shown = path, path
	} else {
		if api == "" {
			return "", "", usageErrorf("no API: set --api or API_URL, or give a full URL")
		}
		shown = "/" + strings.TrimLeft(path, "/")
		target = strings.TrimRight(api, "/") + shown
	}
	u, perr := url.Parse(target)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", usageErrorf("%q is not an http(s) URL: check PATH and --api / API_URL", target)
	}
	return target, shown, nil
}

// parseHeaders turns repeated -H 'Name: value' flags into a header.
func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usageErrorf("bad -H %q: want 'Name: value'", line)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return h, nil
}

func (a *app) runCall(ctx context.Context, cmd *cobra.Command, conn *connOptions, o *callOptions, path string) error {
	tokenGiven := cmd.Flags().Changed("token")
	switch {
	case tokenGiven && o.noToken:
		return usageErrorf("--token and --no-token contradict each other: give one")
	case o.tok.user && (tokenGiven || o.noToken):
		return usageErrorf("--user contradicts --token and --no-token: give one")
	case o.tok.dpop && o.noToken:
		return usageErrorf("--dpop sends a token with its proof; --no-token sends none: drop one")
	case tokenGiven && strings.TrimSpace(o.token) == "":
		return usageErrorf("--token is empty: give a token, or --no-token to send none")
	case cmd.Flags().Changed("expect") && (o.expect < 100 || o.expect > 599):
		return usageErrorf("--expect %d is not an HTTP status code (100-599)", o.expect)
	case o.tok.timeout <= 0:
		return usageErrorf("--timeout must be positive, got %s", o.tok.timeout)
	}
	target, shown, err := callTarget(conn.API, path)
	if err != nil {
		return err
	}
	header, err := parseHeaders(o.headers)
	if err != nil {
		return err
	}
	method := strings.ToUpper(o.method)
	hc := a.tokenHTTPClient(conn, o.tok.timeout)

	// A token is fetched only when the user wants one and has not supplied their own Authorization header.
	fetch := !tokenGiven && !o.noToken && header.Get("Authorization") == ""
	authorize := func(token string) error {
		if !o.tok.dpop {
			header.Set("Authorization", "Bearer "+token)
			return nil
		}
		s, err := a.dpopSigner()
		if err != nil {
			return err
		}
		proof, err := s.Proof(method, target, token)
		if err != nil {
			return usageErrorf("cannot make a DPoP proof for %s: %w", shown, err)
		}
		header.Set("Authorization", "DPoP "+token)
		header.Set("DPoP", proof)
		return nil
	}
	if tokenGiven {
		if err := authorize(strings.TrimSpace(o.token)); err != nil {
			return err
		}
	}
	cached := false
	if fetch {
		tok, fromCache, err := a.acquireToken(ctx, conn, hc, &o.tok)
		if err != nil {
			return err
		}
		if err := authorize(tok.AccessToken); err != nil {
			return err
		}
		cached = fromCache
	}
	req := httpcall.Request{Method: method, URL: target, Header: header}
	if cmd.Flags().Changed("data") {
		req.Body = []byte(o.data)
	}
	resp, err := callAPI(ctx, hc, req)
	if err != nil {
		return err
	}
	if cached && resp.Status == http.StatusUnauthorized && !o.tok.user {
		// The cached token may predate a tenant restart or key change: forget it and try once with a new one.
		if cache := a.tokenCache(&o.tok); cache != nil {
			key := tokenCacheKey(conn, &o.tok)
			if o.tok.dpop { // the bound token's entry, as acquireToken keyed it (never the Bearer one)
				s, err := a.dpopSigner()
				if err != nil {
					return err
				}
				key.DPoPKey = s.Thumbprint()
			}
			_ = cache.Delete(key)
		}
		fmt.Fprintln(a.stderr, "client: the cached token was rejected (401); retrying with a new token")
		tok, _, err := a.acquireToken(ctx, conn, hc, &o.tok)
		if err != nil {
			return err
		}
		if err := authorize(tok.AccessToken); err != nil { // a proof is good once: the retry gets its own
			return err
		}
		if resp, err = callAPI(ctx, hc, req); err != nil {
			return err
		}
	}
	a.printCall(method, shown, resp)
	if cmd.Flags().Changed("expect") && resp.Status != o.expect {
		fmt.Fprintf(a.stderr, "client: expected status %d, got %s\n", o.expect, resp.StatusLine())
		return checkFailed()
	}
	return nil
}

// callAPI sends req, turning transport failures into a message that says which setting to check.
func callAPI(ctx context.Context, hc *http.Client, req httpcall.Request) (*httpcall.Response, error) {
	resp, err := httpcall.Do(ctx, hc, req)
	if err == nil {
		return resp, nil
	}
	if errors.Is(err, context.Canceled) {
		return nil, errors.New("interrupted before the API answered")
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err
	}
	return nil, fmt.Errorf("cannot reach the API at %s: %w; is it running? set --api / API_URL",
		httpcall.RedactURL(req.URL), httpcall.RedactError(cause))
}

// printCall shows the outcome the way the iOS sample's alert does: method, path and status, then the challenge and
// the body. Tokens in the URL (an access_token query parameter, a JWT in the path) and JWTs in the body are
// redacted: this output lands in terminals, logs and bug reports.
func (a *app) printCall(method, shown string, resp *httpcall.Response) {
	fmt.Fprintf(a.stdout, "%s %s → %s\n", method, httpcall.RedactURL(shown), resp.StatusLine())
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		fmt.Fprintf(a.stdout, "WWW-Authenticate: %s\n", v)
	}
	if len(resp.Body) == 0 {
		return
	}
	var pretty bytes.Buffer
	if json.Valid(resp.Body) && json.Indent(&pretty, resp.Body, "", "  ") == nil {
		fmt.Fprintln(a.stdout, httpcall.RedactJWTs(pretty.String()))
	} else {
		body := httpcall.RedactJWTs(string(resp.Body))
		fmt.Fprint(a.stdout, body)
		if !strings.HasSuffix(body, "\n") {
			fmt.Fprintln(a.stdout)
		}
	}
	if resp.Truncated {
		fmt.Fprintf(a.stderr, "client: body truncated to its first %d bytes\n", httpcall.MaxBody)
	}
}
