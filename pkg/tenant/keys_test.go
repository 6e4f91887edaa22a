package tenant

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFileSurvivesRestart(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "keys.pem")
	first := start(t, nil, Options{KeyFile: file})
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	tok := first.clientToken("quickstart-read", "read-secret")
	first.srv.Close()

	// A restart on another port with the same key file: the old token's key is still published. The issuer
	// differs with the port, so check the signature only through a token minted with the first issuer.
	second := start(t, nil, Options{KeyFile: file})
	if second.tenant.keys.current().kid != first.tenant.keys.current().kid {
		t.Fatal("restart with the same key file changed the signing key")
	}
	second.issuer = first.issuer
	if _, err := second.verify(tok); err != nil {
		t.Fatalf("token from before the restart does not verify: %v", err)
	}
}

func TestRotate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "keys.pem")
	f := start(t, nil, Options{KeyFile: file})
	before := f.clientToken("quickstart-read", "read-secret")
	oldKid := f.tenant.keys.current().kid

	resp, raw := f.do(http.MethodPost, PathRotate, "", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d %s", resp.StatusCode, raw)
	}
	body := decodeObject(t, raw)
	newKid := f.tenant.keys.current().kid
	if body["kid"] != newKid || newKid == oldKid {
		t.Fatalf("rotate answered %v; kids old %s new %s", body, oldKid, newKid)
	}
	after := f.clientToken("quickstart-read", "read-secret")
	if header(t, after)["kid"] != newKid {
		t.Fatal("tokens after rotation are not signed with the new key")
	}
	f.mustVerify(before) // the previous key stays published
	f.mustVerify(after)
	if got := len(f.tenant.keys.published()); got != 2 {
		t.Fatalf("%d keys published, want 2", got)
	}

	// Persisted: a restart publishes both and signs with the new one.
	restarted, err := New(DefaultConfig(), Options{Issuer: f.issuer, KeyFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if ks := restarted.keys.published(); len(ks) != 2 || ks[0].kid != oldKid || ks[1].kid != newKid {
		t.Fatalf("after restart: %v", ks)
	}

	// The next rotation retires the first key: tokens it signed no longer verify.
	if _, err := f.tenant.Rotate(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verify(before); err == nil {
		t.Fatal("a token signed two rotations ago still verifies")
	}
	f.mustVerify(after)
	if got := len(f.tenant.keys.published()); got != 2 {
		t.Fatalf("%d keys published after two rotations, want 2", got)
	}
}

func TestKeyFileCorrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pem")
	if _, err := openKeyStore(good); err != nil {
		t.Fatal(err)
	}
	goodPEM, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		content []byte
		want    string
	}{
		"empty":          {nil, "no PEM"},
		"garbage":        {[]byte("not a key\n"), "no PEM"},
		"truncated":      {goodPEM[:len(goodPEM)/2], "incomplete (truncated?)"},
		"trailing bytes": {append(append([]byte{}, goodPEM...), "junk"...), "unexpected data"},
		"wrong type":     {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1}}), "PKCS#8"},
		"bad DER":        {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "PEM block 1"},
		"EC key":         {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), "want an RSA key"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pem")
			if err := os.WriteFile(file, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", KeyFile: file})
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "--key-file") {
				t.Fatalf("New: %v; want an error naming %s and %q", err, file, tc.want)
			}
		})
	}
}

func TestKeyFileCrashLeftovers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.pem")
	ks, err := openKeyStore(file)
	if err != nil {
		t.Fatal(err)
	}
	want := ks.current().kid
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A crash between writing the temporary file and renaming it leaves a truncated temp file beside the real one.
	if err := os.WriteFile(filepath.Join(dir, ".keys.pem.tmp-123"), data[:len(data)/3], 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := openKeyStore(file)
	if err != nil {
		t.Fatalf("a leftover temporary file stops the start: %v", err)
	}
	if again.current().kid != want {
		t.Fatal("the real key file was not the one loaded")
	}
	// Rotation after the crash still writes a whole file.
	if _, err := again.rotate(); err != nil {
		t.Fatal(err)
	}
	third, err := openKeyStore(file)
	if err != nil || len(third.published()) != 2 {
		t.Fatalf("after rotation: %v", err)
	}
}

func TestWriteFileAtomicFailureKeepsTarget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Renaming a file over a non-empty directory fails: the write must fail cleanly, leaving no temp file.
	target := filepath.Join(dir, "keys.pem")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(target, []byte("data")); err == nil {
		t.Fatal("rename over a directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("leftover files after a failed write: %v", entries)
	}
	// And in a missing directory it reports the problem.
	if err := writeFileAtomic(filepath.Join(dir, "missing", "k.pem"), []byte("x")); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}

func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	// RFC 7638 §3.1's example key and its thumbprint.
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	const want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	raw, err := b64decode(n)
	if err != nil {
		t.Fatal(err)
	}
	pub := rsaPublic(raw, 65537)
	if got := thumbprint(pub); got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func b64decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func rsaPublic(n []byte, e int) *rsa.PublicKey {
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: e}
}
