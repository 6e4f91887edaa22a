package conformance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Trap is the tester's own key server. Tokens in the jku/x5u cases point at it, and the attacker-issuer case names
// it as iss (it serves that issuer's discovery and JWKS); all are signed by its key: an API that fetches from it
// trusts keys named by the token itself. It counts requests per case, so a case can prove the
// API never fetched its URL — conclusive only when the API could have reached it (see Conclusive).
type Trap struct {
	// URL is the base URL the API would use to reach the trap.
	URL  string
	Key  *rsa.PrivateKey
	Kid  string
	cert []byte // DER of a self-signed certificate for Key (x5u, x5c)

	srv  *http.Server
	ln   net.Listener
	done chan struct{}

	mu   sync.Mutex
	hits map[string]int
}

// StartTrap listens on addr ("" means 127.0.0.1:0) and serves the trap key set; publicURL ("" derives it from the
// listener) is the base URL written into jku/x5u headers.
func StartTrap(ctx context.Context, addr, publicURL string) (*Trap, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	key, err := attackerKey()
	if err != nil {
		return nil, err
	}
	cert, err := selfSigned(key)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if publicURL == "" {
		publicURL = "http://" + advertised(ln.Addr())
	}
	t := &Trap{
		URL: strings.TrimSuffix(publicURL, "/"), Key: key, Kid: "tokencheck-trap", cert: cert,
		ln: ln, done: make(chan struct{}), hits: map[string]int{},
	}
	t.srv = &http.Server{
		Handler:           http.HandlerFunc(t.serve),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go func() {
		defer close(t.done)
		_ = t.srv.Serve(ln)
	}()
	return t, nil
}

// attackerKey is the one RSA key the tester signs forged tokens with; generating a 2048-bit key is slow, and one
// per process is as good as many for proving an API trusts no key but the issuer's.
var attackerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate the attacker key: %w", err)
	}
	return key, nil
})

// advertised is a listener's address with an unspecified host (0.0.0.0, ::) replaced by loopback.
func advertised(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return tcp.String()
}

// Close stops the trap server.
func (t *Trap) Close() error {
	err := t.srv.Close()
	<-t.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// JWKSURL is the key set URL for the case named name.
func (t *Trap) JWKSURL(name string) string {
	return t.URL + "/jku/" + url.PathEscape(name) + "/jwks.json"
}

// CertURL is the X.509 certificate URL for the case named name.
func (t *Trap) CertURL(name string) string {
	return t.URL + "/x5u/" + url.PathEscape(name) + "/cert.pem"
}

// IssuerURL is the attacker issuer for the case named name: discovery and a JWKS of the trap key are served below
// it.
func (t *Trap) IssuerURL(name string) string {
	return t.URL + "/issuer/" + url.PathEscape(name) + "/"
}

// Hits is how many requests the trap received for the case named name.
func (t *Trap) Hits(name string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hits[name]
}

// PublicJWK is the trap key as a JWK.
func (t *Trap) PublicJWK() map[string]any { return publicJWK(&t.Key.PublicKey, t.Kid) }

// CertDER is the trap key's self-signed certificate.
func (t *Trap) CertDER() []byte { return t.cert }

func (t *Trap) serve(w http.ResponseWriter, r *http.Request) {
	kind, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	name, _, _ := strings.Cut(rest, "/")
	t.mu.Lock()
	t.hits[name]++
	t.mu.Unlock()
	switch kind {
	case "jku":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{t.PublicJWK()}})
	case "x5u":
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		_ = pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: t.cert})
	case "issuer":
		t.serveIssuer(w, r, name)
	default:
		http.NotFound(w, r)
	}
}

// serveIssuer answers as an OIDC issuer whose keys are the trap's: discovery at both well-known paths, the JWKS
// at the jwks_uri and at Auth0's <issuer>.well-known/jwks.json.
func (t *Trap) serveIssuer(w http.ResponseWriter, r *http.Request, name string) {
	iss := t.IssuerURL(name)
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/issuer/"+name) {
	case "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "jwks_uri": iss + ".well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	case "/.well-known/jwks.json", "/jwks.json":
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{t.PublicJWK()}})
	default:
		http.NotFound(w, r)
	}
}

// Conclusive says whether "the API never fetched the trap" proves anything, and if not, why (the fix, an address
// the API can reach, is the caller's to word): not when the trap is on loopback and the API is not, as inside
// docker compose with the trap on its default address; nor when the API is reached on loopback but trusts an issuer
// named by a container-network name (a single-label host such as "tenant"): it then runs in a container whose port
// is published here, and its loopback is not this machine's.
func (t *Trap) Conclusive(apiURL, issuer string) (bool, string) {
	trapHost, apiHost := hostOf(t.URL), hostOf(apiURL)
	if !isLoopback(trapHost) {
		return true, ""
	}
	if !isLoopback(apiHost) {
		return false, fmt.Sprintf("not conclusive: the API at %s may not reach the trap at %s", apiHost, t.URL)
	}
	if iss := hostOf(issuer); containerName(iss) {
		return false, fmt.Sprintf("not conclusive: the API trusts the issuer host %q, a container name, so it likely "+
			"runs in a container that cannot reach the trap at %s on this machine's loopback", iss, t.URL)
	}
	return true, ""
}

// containerName reports whether host looks like a name only a container network resolves: one label, not an IP,
// not localhost.
func containerName(host string) bool {
	return host != "" && !strings.Contains(host, ".") && net.ParseIP(host) == nil && !isLoopback(host)
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func selfSigned(key *rsa.PrivateKey) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tokencheck trap (an attacker's key)"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign the trap certificate: %w", err)
	}
	return der, nil
}
