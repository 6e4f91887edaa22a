package tenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/tokencheck/tokencheck/internal/atomicfile"
)

// DefaultTLSHosts are the names the generated server certificate covers unless told otherwise: the host as seen
// from itself (localhost, 127.0.0.1) and the compose service name (tenant).
const DefaultTLSHosts = "localhost,127.0.0.1,tenant"

// CAFileName is the CA certificate's file name when no path is given (DefaultCAFile).
const CAFileName = "tenant-ca.pem"

// ErrTLSHost reports a TLS host that is neither an IP address nor a DNS name.
var ErrTLSHost = errors.New("not an IP address or DNS name")

// TLS certificate lifetimes. The CA is made at every start, so a year is plenty; the server certificate stays
// within the 398 days some clients (Apple's) accept, and ends before its CA.
const (
	caValidity     = 398 * 24 * time.Hour
	serverValidity = 397 * 24 * time.Hour
	clockSkew      = time.Hour // NotBefore is back-dated so a container whose clock lags still accepts it
)

// DevTLS is a certificate authority made for one run of the tenant and the server certificate it signed. The CA's
// private key is dropped once the server certificate is signed, so a client trusting CAPEM trusts that one
// certificate and nothing else that could ever be made.
type DevTLS struct {
	// CAPEM is the CA certificate, PEM-encoded: what clients add to their trust store.
	CAPEM []byte
	// Certificate is the server certificate and its private key, ready for tls.Config.
	Certificate tls.Certificate
}

// ParseTLSHosts splits a comma-separated list of DNS names and IP addresses (blanks around commas allowed,
// repeats dropped); it fails on an empty list or an entry that is neither, wrapping ErrTLSHost.
func ParseTLSHosts(list string) ([]string, error) {
	var hosts []string
	seen := map[string]bool{}
	for h := range strings.SplitSeq(list, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		ip, err := tlsHost(h)
		if err != nil {
			return nil, err
		}
		if ip != nil {
			h = ip.String()
		}
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("TLS host list %q is empty: %w", list, ErrTLSHost)
	}
	return hosts, nil
}

// tlsHost is h's IP address (IPv6 with or without brackets), or nil for a valid DNS name.
func tlsHost(h string) (net.IP, error) {
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
		return ip, nil
	}
	if !validDNSName(h) {
		return nil, fmt.Errorf("TLS host %q: %w", h, ErrTLSHost)
	}
	return nil, nil
}

// validDNSName accepts what a certificate's DNS SAN may hold: dot-separated labels of letters, digits, '-' and
// '_' (compose service names), at most 63 bytes each and 253 in all, optionally behind a leading "*." wildcard.
func validDNSName(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// NewDevTLS makes a new P-256 CA and a server certificate it signs for hosts (as ParseTLSHosts returns them): IP
// addresses go into IP SANs, names into DNS SANs.
func NewDevTLS(hosts []string) (*DevTLS, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no TLS hosts: %w", ErrTLSHost)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate TLS CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "tokencheck stand-in tenant CA " + now.UTC().Format("2006-01-02T15:04:05Z")},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs the server certificate only, never another CA
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create TLS CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse TLS CA certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate TLS server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(serverValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		ip, err := tlsHost(h)
		switch {
		case err != nil:
			return nil, err
		case ip != nil:
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		default:
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("create TLS server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse TLS server certificate: %w", err)
	}
	return &DevTLS{
		CAPEM:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		Certificate: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
	}, nil
}

// randomSerial is a random positive 128-bit serial number, as CA/Browser Forum rules ask (at least 64 random bits).
func randomSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b)
}

// LoadTLSCertificate reads a PEM certificate (chain, server certificate first) and its PEM private key.
func LoadTLSCertificate(certFile, keyFile string) (tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// ServerTLSConfig serves cert with TLS 1.2 as the minimum version (RFC 9325); Go's defaults choose the rest.
func ServerTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
}

// DefaultCAFile is where the CA certificate goes when no path is given: beside keyFile, or in the working
// directory when the keys live in memory (keyFile "").
func DefaultCAFile(keyFile string) string {
	if keyFile == "" {
		return CAFileName
	}
	return filepath.Join(filepath.Dir(keyFile), CAFileName)
}

// WriteCAFile writes a CA certificate atomically with mode 0644: it is public, and other users and containers
// (a tester running as another uid) must be able to read it.
func WriteCAFile(path string, caPEM []byte) error {
	if err := atomicfile.Write(path, caPEM, 0o644); err != nil {
		return fmt.Errorf("write TLS CA certificate %s: %w", path, err)
	}
	return nil
}
