package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/tokencheck/tokencheck/internal/atomicfile"
	"github.com/tokencheck/tokencheck/pkg/dpop"
)

// DPoPKeyFile is the name of the CLI's DPoP key beside the token cache: one P-256 key, made on first use, so a
// cached DPoP-bound token keeps working in the next run.
const DPoPKeyFile = "dpop-key.pem"

// maxKeyFile bounds what LoadDPoPKey reads: a PEM P-256 key is about 250 bytes.
const maxKeyFile = 16 << 10

// DPoPKeyError says why the key file cannot be used; it names the file so the user can remove or fix it.
type DPoPKeyError struct {
	File   string
	Reason string
	Err    error
}

// Error names the file and the reason.
func (e *DPoPKeyError) Error() string {
	msg := fmt.Sprintf("DPoP key %s: %s", e.File, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap is the underlying error, if any.
func (e *DPoPKeyError) Unwrap() error { return e.Err }

// LoadDPoPKey reads the ES256 key in dir/DPoPKeyFile, creating it (0600, written atomically) when there is none.
// An existing file must be a regular 0600 file of the user's holding one PKCS#8 P-256 key; anything else is a
// *DPoPKeyError rather than a silently replaced key.
func LoadDPoPKey(dir string) (*ecdsa.PrivateKey, error) {
	path := filepath.Join(dir, DPoPKeyFile)
	bad := func(reason string, err error) (*ecdsa.PrivateKey, error) {
		return nil, &DPoPKeyError{File: path, Reason: reason, Err: err}
	}
	data, reason, err := readPrivate(path, maxKeyFile)
	switch {
	case reason != "":
		return bad(reason, err)
	case errors.Is(err, os.ErrNotExist):
		return createDPoPKey(dir, path)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return bad("not a PEM \"PRIVATE KEY\" block", nil)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return bad("not a PKCS#8 key", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return bad("not a P-256 key", nil)
	}
	return ec, nil
}

func createDPoPKey(dir, path string) (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a DPoP key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode the DPoP key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &DPoPKeyError{File: path, Reason: "cannot create its directory", Err: err}
	}
	if err := atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, &DPoPKeyError{File: path, Reason: "cannot write it", Err: err}
	}
	return k, nil
}

// WithDPoP returns a copy of hc that adds a fresh DPoP proof (RFC 9449 §4) by s to every request it sends, for
// the tenant's token endpoint: the proof carries the request's method and URL and no ath. The copy shares hc's
// transport, timeout and redirect policy.
func WithDPoP(hc *http.Client, s *dpop.Signer) *http.Client {
	c := *hc
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &proofTransport{next: next, signer: s}
	return &c
}

type proofTransport struct {
	next   http.RoundTripper
	signer *dpop.Signer
}

// RoundTrip signs a proof for req and sends req with it, leaving the caller's request untouched.
func (t *proofTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	proof, err := t.signer.Proof(req.Method, req.URL.String(), "")
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("DPoP proof for %s: %w", req.URL.Redacted(), err)
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	return t.next.RoundTrip(r) //nolint:wrapcheck // the transport's errors are the caller's to read
}
