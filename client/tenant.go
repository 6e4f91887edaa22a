package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokencheck/tokencheck/internal/httpserve"
	"github.com/tokencheck/tokencheck/internal/local"
	"github.com/tokencheck/tokencheck/pkg/tenant"
)

// tenantShutdownGrace is how long in-flight requests get to finish once the tenant is told to stop.
const tenantShutdownGrace = 10 * time.Second

// tenantOptions are client tenant's flags.
type tenantOptions struct {
	addr, issuer, config, keyFile string
	allowedHosts                  string
	ecKey, trustProxy             bool
	tls                           bool
	tlsHosts, tlsCA               string
	tlsCert, tlsKey               string
}

func newTenantCmd(a *app) *cobra.Command {
	o := &tenantOptions{}
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Run a stand-in Auth0 tenant for development and tests",
		Long: `tenant runs a stand-in for an Auth0 tenant so tokens, the API and the test suite work offline. It is for
development and tests only: anyone who can reach it can mint any token at /dev/mint.

Endpoints (Auth0's paths): /.well-known/openid-configuration, /.well-known/oauth-authorization-server,
/.well-known/jwks.json, POST /oauth/token (client_credentials and the device flow), POST /oauth/device/code,
GET|POST /activate (approve a device), POST /dev/mint and POST /dev/rotate.

POST /dev/mint {"alg":"RS256","header":{...},"claims":{...}} signs any claims over a normal token's. alg is
RS256 (default), RS384, RS512, PS256, PS384 or PS512 with the current RSA key, or ES256 with the P-256 key of
--ec-key; the header says the alg and kid used unless "header" overrides them (a forgery: signing never
follows the header). A null value removes a claim or header entry.

POST /dev/rotate (empty body or {}) makes a new signing key; the previous one stays published until the next
rotation. POST /dev/rotate {"prepublish":true} first publishes the next key without signing with it, as Auth0
does; the following plain rotation promotes it. The JWKS then holds at most the previous, current and next
keys. The answer is {"kid":"<signing kid>","published":[...],"next":"<staged kid>"}.

The JWKS publishes RSA-2048 keys (RS256) and, with --ec-key, one P-256 key (ES256) that only /dev/mint uses;
each key carries x5c (a self-signed certificate) and x5t, as Auth0's do. Kids are RFC 7638 thumbprints.

--issuer is written into every token's iss and into discovery; endpoint URLs in discovery follow the Host the
request came in on, so one tenant serves http://tenant:4000/ inside docker compose and http://localhost:4000/
from the host. Behind a reverse proxy, --trust-proxy makes them follow X-Forwarded-Proto and X-Forwarded-Host
(ignored otherwise). Without --config the contract's built-in default applies (clients quickstart-read/read-secret,
quickstart-write, quickstart-readwrite, quickstart-noscope, the public clients cli, spa and native, the users
alice and bob). Without
--key-file the keys live in memory and change at every start.

--tls serves HTTPS (TLS 1.2 or later) with a CA made at every start and a server certificate it signs for
--tls-hosts; the CA certificate is written to --tls-ca for clients to trust (curl --cacert, SSL_CERT_FILE). The
default issuer becomes https://localhost:4000/. --tls-cert and --tls-key serve your own certificate instead
(they imply --tls; no CA is written).

Only requests whose Host is in --allowed-hosts (ports ignored; the --issuer host always) are answered; others get
421 Misdirected Request, so a web page that rebinds its DNS name to the tenant's address cannot mint tokens.
POST /dev/mint and /dev/rotate take only application/json bodies (an empty body may come without a type from
callers such as curl that send no Origin) and refuse an Origin that is not the tenant's own (403). Failed
passwords on /activate are limited to 5 a minute per user and per address (429), device codes to 100
outstanding per client and 1000 in all (429 slow_down).

Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 2 on a bad flag, config file, key file, certificate or
address.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", local.TenantAddr, "`HOST:PORT` to listen on")
	f.StringVar(&o.issuer, "issuer", local.IssuerURL, "public issuer `URL` written into iss and discovery (with --tls: https://localhost:4000/)")
	f.StringVar(&o.config, "config", "", "YAML `FILE` of APIs, clients and users (default: the built-in default)")
	f.StringVar(&o.keyFile, "key-file", "", "PEM `FILE` (PKCS#8 private keys, e.g. keys.pem) keeping the signing keys across restarts; created 0600 if missing")
	f.StringVar(&o.allowedHosts, "allowed-hosts", "", "comma-separated `HOSTS` the tenant answers, ports ignored; any other Host gets 421 "+
		"(default: the --issuer host, "+strings.Join(tenant.DefaultAllowedHosts, ", ")+")")
	f.BoolVar(&o.ecKey, "ec-key", false, "also publish a P-256 key, for /dev/mint {\"alg\":\"ES256\"} (kept in --key-file)")
	f.BoolVar(&o.trustProxy, "trust-proxy", false, "discovery URLs follow X-Forwarded-Proto/X-Forwarded-Host (only behind a proxy that sets them)")
	f.BoolVar(&o.tls, "tls", false, "serve HTTPS with a CA made at start (see --tls-hosts, --tls-ca)")
	f.StringVar(&o.tlsHosts, "tls-hosts", tenant.DefaultTLSHosts, "comma-separated DNS `NAMES` and IPs of the --tls server certificate")
	f.StringVar(&o.tlsCA, "tls-ca", "", "`FILE` to write the --tls CA certificate to, PEM (default: "+tenant.CAFileName+
		" beside --key-file, or in the working directory)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate `FILE` to serve HTTPS with, instead of a generated one (with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key `FILE` of --tls-cert")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		changed := func(name string) bool { return cmd.Flags().Changed(name) }
		return a.runTenant(cmd.Context(), o, changed)
	}
	return cmd
}

// tenantTLS checks the TLS flags and returns the server configuration (nil without TLS) and, for a generated CA,
// the certificate to write and where.
func tenantTLS(o *tenantOptions, changed func(string) bool) (cfg *tls.Config, caFile string, caPEM []byte, err error) {
	own := o.tlsCert != "" || o.tlsKey != ""
	switch {
	case !o.tls && !own:
		for _, name := range []string{"tls-hosts", "tls-ca"} {
			if changed(name) {
				return nil, "", nil, usageErrorf("--%s needs --tls", name)
			}
		}
		return nil, "", nil, nil
	case own && (o.tlsCert == "" || o.tlsKey == ""):
		return nil, "", nil, usageErrorf("--tls-cert and --tls-key go together: give both")
	case own:
		for _, name := range []string{"tls-hosts", "tls-ca"} {
			if changed(name) {
				return nil, "", nil, usageErrorf("--%s applies to the generated certificate only; drop it with --tls-cert/--tls-key", name)
			}
		}
		cert, err := tenant.LoadTLSCertificate(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, "", nil, usageErrorf("bad --tls-cert/--tls-key: %w", err)
		}
		return tenant.ServerTLSConfig(cert), "", nil, nil
	}
	hosts, err := tenant.ParseTLSHosts(o.tlsHosts)
	if err != nil {
		return nil, "", nil, usageErrorf("bad --tls-hosts: %w", err)
	}
	dev, err := tenant.NewDevTLS(hosts)
	if err != nil {
		return nil, "", nil, fmt.Errorf("--tls: %w", err)
	}
	caFile = o.tlsCA
	if caFile == "" {
		caFile = tenant.DefaultCAFile(o.keyFile)
	}
	return tenant.ServerTLSConfig(dev.Certificate), caFile, dev.CAPEM, nil
}

// tenantHints finish the tenant's HTTP answers that mean it must be started differently, naming the flag to add.
var tenantHints = tenant.Hints{
	AllowedHosts: "start the tenant with --allowed-hosts to add it",
	ECKey:        "start the tenant with --ec-key",
}

// tenantFlagError words an error of pkg/tenant for the user of client tenant. The package names the file or value
// at fault but no flag, as a library should; the flag that set it, and how to fix it, are added here. flag is the
// one whose value the failing call was given ("" when several may be at fault), for the errors the package does not
// type, such as a config file's line and field.
func tenantFlagError(err error, flag string) error {
	hint := ""
	if kfe, ok := errors.AsType[*tenant.KeyFileError](err); ok {
		flag = "--key-file"
		if strings.HasSuffix(strings.ToLower(kfe.File), ".json") {
			hint = " (--key-file is PEM, not JSON: name it e.g. keys.pem)"
		}
	}
	if _, ok := errors.AsType[*tenant.ConfigFileError](err); ok {
		flag = "--config"
	}
	switch {
	case errors.Is(err, tenant.ErrConfigTooLarge):
		hint = "; is --config the right file?"
	case errors.Is(err, tenant.ErrBadIssuer):
		flag = "--issuer"
	case errors.Is(err, tenant.ErrBadAllowedHost):
		flag = "--allowed-hosts"
	}
	if flag == "" {
		return usageErrorf("%w", err)
	}
	return usageErrorf("bad %s: %w%s", flag, err, hint)
}

func (a *app) runTenant(ctx context.Context, o *tenantOptions, changed func(string) bool) error {
	tlsCfg, caFile, caPEM, err := tenantTLS(o, changed)
	if err != nil {
		return err
	}
	if tlsCfg != nil && !changed("issuer") {
		o.issuer = local.IssuerURLTLS
	}
	issuer, err := tenant.NormalizeIssuer(o.issuer)
	if err != nil {
		return tenantFlagError(err, "--issuer")
	}
	cfg, source := tenant.DefaultConfig(), "built-in default"
	if o.config != "" {
		if cfg, err = tenant.LoadConfig(o.config); err != nil {
			return tenantFlagError(err, "--config")
		}
		source = o.config
	}
	handler := slog.NewTextHandler(a.stderr, nil)
	log := slog.New(handler)
	var hosts []string
	if changed("allowed-hosts") {
		for _, h := range strings.Split(o.allowedHosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		if len(hosts) == 0 {
			return usageErrorf("--allowed-hosts %q names no host; give e.g. localhost,tenant or leave it out for the default", o.allowedHosts)
		}
	}
	t, err := tenant.New(cfg, tenant.Options{Issuer: issuer, KeyFile: o.keyFile, ECKey: o.ecKey, TrustProxy: o.trustProxy,
		Logger: log, AllowedHosts: hosts, Hints: tenantHints})
	if err != nil {
		return tenantFlagError(err, "")
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.addr)
	if err != nil {
		return usageErrorf("cannot listen on --addr %s: %w", o.addr, err)
	}
	srv := &http.Server{
		Handler:           t.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
		TLSConfig:         tlsCfg,
	}
	if strings.HasSuffix(strings.ToLower(o.keyFile), ".json") {
		log.Warn("--key-file holds PEM (PKCS#8 private keys), not JSON; name it e.g. keys.pem", "file", o.keyFile)
	}
	keys := o.keyFile
	if keys == "" {
		keys = "in memory (new keys at every start; use --key-file to keep them)"
	}
	log.Warn("STAND-IN TENANT FOR DEVELOPMENT AND TESTS ONLY: anyone who can reach it can mint tokens; never expose it")
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	if caFile != "" {
		// Written once the address is ours and before the listening line, so whoever waits for that line can
		// read it.
		if err := tenant.WriteCAFile(caFile, caPEM); err != nil {
			_ = ln.Close()
			return usageErrorf("cannot write --tls-ca: %w", err)
		}
		log.Info("TLS CA certificate written; trust it to reach the tenant over https", "file", caFile)
	}
	log.Info("tenant listening", "addr", ln.Addr().String(), "scheme", scheme, "issuer", issuer, "config", source, "keys", keys)
	base := scheme + "://" + ln.Addr().String()
	for _, ep := range []struct{ name, path string }{
		{"discovery", tenant.PathOpenIDConfiguration},
		{"jwks", tenant.PathJWKS},
		{"token", tenant.PathToken},
		{"device_authorization", tenant.PathDeviceCode},
		{"activate", tenant.PathActivate},
		{"authorize", tenant.PathAuthorize},
		{"userinfo", tenant.PathUserinfo},
		{"end_session", tenant.PathOIDCLogout},
		{"mint", tenant.PathMint},
		{"rotate", tenant.PathRotate},
	} {
		log.Info("endpoint", "name", ep.name, "url", base+ep.path)
	}

	if err := httpserve.Serve(ctx, srv, ln, httpserve.Options{Grace: tenantShutdownGrace, Logger: log, Stopped: "tenant stopped"}); err != nil {
		return fmt.Errorf("tenant: %w", err)
	}
	return nil
}
