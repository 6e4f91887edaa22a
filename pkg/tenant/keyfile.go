package tenant

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"

	"github.com/tokencheck/tokencheck/internal/atomicfile"
)

// The key file is PKCS#8 "PRIVATE KEY" PEM blocks: the RSA keys that signed, oldest first (the last one signs),
// then a staged RSA key marked with the PEM header "Tokencheck-Role: next", then the P-256 key, known by its type.
// A file of RSA blocks alone, as earlier versions wrote, reads as before.
const (
	roleHeader = "Tokencheck-Role"
	roleNext   = "next"
)

// persist writes set as PKCS#8 PEM blocks in the order above.
func (s *keyStore) persist(set keySet) error {
	var buf bytes.Buffer
	add := func(kid string, priv any, headers map[string]string) error {
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return fmt.Errorf("encode key %s: %w", kid, err)
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Headers: headers, Bytes: der}); err != nil {
			return fmt.Errorf("encode key %s: %w", kid, err)
		}
		return nil
	}
	for _, k := range set.keys {
		if err := add(k.kid, k.priv, nil); err != nil {
			return err
		}
	}
	if set.next != nil {
		if err := add(set.next.kid, set.next.priv, map[string]string{roleHeader: roleNext}); err != nil {
			return err
		}
	}
	if set.ec != nil {
		if err := add(set.ec.kid, set.ec.priv, nil); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(s.file, buf.Bytes()); err != nil {
		return &KeyFileError{File: s.file, Op: KeyFileWrite, Err: err}
	}
	return nil
}

// decodeKeys parses the PEM blocks of a key file; anything else in it is an error, so a damaged file is noticed.
func decodeKeys(data []byte) (keySet, error) {
	var (
		set    keySet
		blocks int
		ecAt   int // block number of the EC key, for the error when it is the only key
	)
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		blocks++
		if block.Type != "PRIVATE KEY" {
			return keySet{}, fmt.Errorf("PEM block %d is %q, want \"PRIVATE KEY\" (PKCS#8)", blocks, block.Type)
		}
		role, err := blockRole(block)
		if err != nil {
			return keySet{}, fmt.Errorf("PEM block %d: %w", blocks, err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return keySet{}, fmt.Errorf("PEM block %d: %w", blocks, err)
		}
		switch priv := parsed.(type) {
		case *rsa.PrivateKey:
			if priv.N.BitLen() < keyBits {
				return keySet{}, fmt.Errorf("PEM block %d is a %d-bit RSA key, want at least %d bits", blocks, priv.N.BitLen(), keyBits)
			}
			k, err := rsaSigningKey(priv)
			if err != nil {
				return keySet{}, fmt.Errorf("PEM block %d: %w", blocks, err)
			}
			switch {
			case role != roleNext:
				set.keys = append(set.keys, k)
			case set.next != nil:
				return keySet{}, fmt.Errorf("PEM block %d is a second staged key (%s: %s); at most one is staged", blocks, roleHeader, roleNext)
			default:
				set.next = &k
			}
		case *ecdsa.PrivateKey:
			switch {
			case priv.Curve != elliptic.P256():
				return keySet{}, fmt.Errorf("PEM block %d is an EC key on %s, want an RSA key or a P-256 key", blocks, priv.Curve.Params().Name)
			case role != "":
				return keySet{}, fmt.Errorf("PEM block %d: only an RSA key can be staged (%s: %s)", blocks, roleHeader, role)
			case set.ec != nil:
				return keySet{}, fmt.Errorf("PEM block %d is a second P-256 key; the tenant keeps one", blocks)
			}
			k, err := p256Key(priv)
			if err != nil {
				return keySet{}, fmt.Errorf("PEM block %d: %w", blocks, err)
			}
			set.ec, ecAt = &k, blocks
		default:
			return keySet{}, fmt.Errorf("PEM block %d is a %T, want an RSA key", blocks, parsed)
		}
	}
	switch {
	case bytes.Contains(rest, []byte("-----BEGIN")):
		return keySet{}, fmt.Errorf("PEM block %d is incomplete (truncated?)", blocks+1)
	case blocks == 0:
		return keySet{}, errors.New("no PEM \"PRIVATE KEY\" block found")
	case len(bytes.TrimSpace(rest)) > 0:
		return keySet{}, fmt.Errorf("unexpected data after PEM block %d (edited?)", blocks)
	case len(set.keys) == 0 && set.next != nil:
		return keySet{}, errors.New("the only RSA key is the staged next key; want an RSA key that signs before it")
	case len(set.keys) == 0:
		return keySet{}, fmt.Errorf("PEM block %d is a P-256 key and the file holds no RSA key; want an RSA key to sign with", ecAt)
	}
	return set, nil
}

// blockRole is the Tokencheck-Role header of a key block: "" or "next". Any other header means the file was edited
// by hand or by another program, so it is refused rather than guessed at.
func blockRole(b *pem.Block) (string, error) {
	for name, value := range b.Headers {
		if name != roleHeader || value != roleNext {
			return "", fmt.Errorf("unexpected PEM header %q: %q; the only one known is %q: %q", name, value, roleHeader, roleNext)
		}
	}
	return b.Headers[roleHeader], nil
}

// writeFileAtomic replaces a secret file atomically, mode 0600.
func writeFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data, 0o600) }

// KeyFileError is a key file that cannot be read, used or written. It names the file but no flag or setting: the
// program that chose the file (client tenant's --key-file) adds how the user picks another.
type KeyFileError struct {
	File     string
	Op       string // KeyFileRead or KeyFileWrite
	Err      error
	Unusable bool // read, but not a PEM key file the tenant wrote
	JSON     bool // it looks like JSON: a key file from another tool, or one named *.json by mistake
}

// KeyFileError.Op values: the key file could not be read (or was read and is unusable), or could not be written.
const (
	KeyFileRead  = "read"
	KeyFileWrite = "write"
)

// Error names the file, says it must be PEM and, for a damaged one, how to start over.
func (e *KeyFileError) Error() string {
	switch {
	case e.Op == KeyFileWrite:
		return fmt.Sprintf("write key file %s: %v", e.File, e.Err)
	case !e.Unusable:
		return fmt.Sprintf("read PEM key file %s: %v", e.File, e.Err)
	}
	msg := fmt.Sprintf("key file %s is not a usable PEM key file (PKCS#8 \"PRIVATE KEY\" blocks): %v", e.File, e.Err)
	if e.JSON {
		msg += "; it looks like JSON, but the tenant keeps its keys as PEM"
	}
	return msg + "; fix it, or move it away to start with new keys"
}

// Unwrap gives the underlying read or decode error.
func (e *KeyFileError) Unwrap() error { return e.Err }

// looksLikeJSON reports whether data starts like a JSON object or array.
func looksLikeJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// warnLooseMode logs one warning when file's mode lets anyone but its owner in: its keys sign every token.
func warnLooseMode(log *slog.Logger, file string) {
	if log == nil || runtime.GOOS == "windows" {
		return
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return
	}
	log.Warn(fmt.Sprintf("key file %s has mode %04o: others can read the signing keys; run chmod 600 %s",
		file, st.Mode().Perm(), file), "file", file, "mode", fmt.Sprintf("%04o", st.Mode().Perm()))
}
