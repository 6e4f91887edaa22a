package tenant

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"

	"github.com/tokencheck/tokencheck/pkg/dpop"
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
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v; want an error naming %s and %q", err, file, tc.want)
			}
			if kfe, ok := errors.AsType[*KeyFileError](err); !ok || kfe.File != file || !kfe.Unusable {
				t.Fatalf("New: %v; want an unusable *KeyFileError for %s", err, file)
			}
			assertNoFlagNames(t, err.Error())
		})
	}
}

// TestKeyFileErrorTyped: a key file that cannot be read or written is a *KeyFileError naming the file and the
// operation, wrapping the cause, and wording no flag: client tenant adds --key-file.
func TestKeyFileErrorTyped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		file string
		op   string
		is   error // the cause, when it is a known one
		want string
	}{
		{"a directory", dir, KeyFileRead, nil, "read PEM key file " + dir + ": "},
		{"in a missing directory", filepath.Join(dir, "missing", "keys.pem"), KeyFileWrite, fs.ErrNotExist,
			"write key file " + filepath.Join(dir, "missing", "keys.pem") + ": "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", KeyFile: tc.file})
			kfe, ok := errors.AsType[*KeyFileError](err)
			if !ok || kfe.File != tc.file || kfe.Op != tc.op || kfe.Unusable || kfe.Err == nil {
				t.Fatalf("New: %#v (%v); want a %s *KeyFileError for %s", kfe, err, tc.op, tc.file)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not wrap %v", err, tc.is)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("%q, want it to start %q", err, tc.want)
			}
			assertNoFlagNames(t, err.Error())
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
	if got, _ := dpop.Thumbprint(pub); got != want {
		t.Fatalf("thumbprint %s, want %s", got, want)
	}
}

func b64decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func rsaPublic(n []byte, e int) *rsa.PublicKey {
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: e}
}

// TestPrepublishRotate walks Auth0's rotation: the next key is published before it signs, then promoted.
func TestPrepublishRotate(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "keys.pem")
	f := start(t, nil, Options{KeyFile: file, ECKey: true})
	ec, _ := f.tenant.keys.ec()
	first := f.tenant.keys.current().kid
	before := f.clientToken("quickstart-read", "read-secret")

	type want struct {
		signer    string   // "" : unchanged from the step before
		published []string // RSA kids in JWKS order ("first", "next1"… resolved below); the EC kid is always last
		next      bool
	}
	kids := map[string]string{"first": first}
	steps := []struct {
		name, body string
		save       string // name the signer after this step
		saveNext   string // name the staged kid after this step
		want       want
	}{
		{name: "prepublish", body: `{"prepublish":true}`, saveNext: "next1", want: want{signer: "first", published: []string{"first", "next1"}, next: true}},
		{name: "prepublish again keeps the staged key", body: `{"prepublish":true}`, want: want{signer: "first", published: []string{"first", "next1"}, next: true}},
		{name: "rotate promotes it", body: "", save: "next1", want: want{signer: "next1", published: []string{"first", "next1"}}},
		{name: "prepublish over two signers", body: `{"prepublish":true}`, saveNext: "next2", want: want{signer: "next1", published: []string{"first", "next1", "next2"}, next: true}},
		{name: "rotate with {} promotes and retires the first", body: `{}`, want: want{signer: "next2", published: []string{"next1", "next2"}}},
		{name: "prepublish false is a plain rotation", body: `{"prepublish":false}`, save: "fresh", want: want{signer: "fresh", published: []string{"next2", "fresh"}}},
	}
	for _, st := range steps {
		ans := f.rotate(st.body)
		if st.saveNext != "" {
			kids[st.saveNext], _ = ans["next"].(string)
		}
		if st.save != "" && kids[st.save] == "" {
			kids[st.save], _ = ans["kid"].(string)
		}
		wantPub := make([]string, 0, len(st.want.published)+1)
		for _, n := range st.want.published {
			wantPub = append(wantPub, kids[n])
		}
		wantPub = append(wantPub, ec.kid)
		got, _ := json.Marshal(ans["published"])
		exp, _ := json.Marshal(wantPub)
		if ans["kid"] != kids[st.want.signer] || string(got) != string(exp) {
			t.Fatalf("%s: answer %v; want kid %s (%s), published %s", st.name, ans, st.want.signer, kids[st.want.signer], exp)
		}
		if next, has := ans["next"]; has != st.want.next || (has && next == "") {
			t.Fatalf("%s: answer %v, want next present=%v", st.name, ans, st.want.next)
		}
		// The JWKS agrees with the answer, and nothing is signed by a staged key.
		_, members := f.servedJWKS()
		if jw, _ := json.Marshal(kidsOf(members)); string(jw) != string(exp) {
			t.Fatalf("%s: JWKS kids %s, answer said %s", st.name, jw, exp)
		}
		tok := f.clientToken("quickstart-read", "read-secret")
		if h := header(t, tok); h["kid"] != kids[st.want.signer] {
			t.Fatalf("%s: token signed by %v, want %s", st.name, h["kid"], kids[st.want.signer])
		}
		f.mustVerify(tok)

		// Persisted at every step: a restart serves the same JWKS and signs with the same key.
		again, err := loadKeyStore(file, true)
		if err != nil {
			t.Fatalf("%s: reload: %v", st.name, err)
		}
		if jw, _ := json.Marshal(kidsOf(jwkMaps(again.jwks()))); string(jw) != string(exp) || again.current().kid != kids[st.want.signer] {
			t.Fatalf("%s: after restart JWKS %s signer %s; want %s signer %s", st.name, jw, again.current().kid, exp, kids[st.want.signer])
		}
		if _, staged := again.staged(); staged != st.want.next {
			t.Fatalf("%s: after restart staged=%v, want %v", st.name, staged, st.want.next)
		}
	}
	if _, err := f.verify(before); err == nil {
		t.Fatal("a token of the retired first key still verifies")
	}
}

// TestPrepublishGoAPI checks Tenant.PrepublishKey and Tenant.Rotate do what the endpoint does, in memory.
func TestPrepublishGoAPI(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	next, err := f.tenant.PrepublishKey()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := f.tenant.PrepublishKey(); err != nil || again != next {
		t.Fatalf("second PrepublishKey = %s, %v; want the staged %s", again, err, next)
	}
	if f.tenant.keys.current().kid == next {
		t.Fatal("the staged key signs before the rotation")
	}
	if got, err := f.tenant.Rotate(); err != nil || got != next {
		t.Fatalf("Rotate = %s, %v; want the staged %s", got, err, next)
	}
	if _, staged := f.tenant.keys.staged(); staged {
		t.Fatal("a key is still staged after the rotation")
	}
}

func TestRotateBadRequests(t *testing.T) {
	t.Parallel()
	f := start(t, nil, Options{})
	kid := f.tenant.keys.current().kid
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"unknown field", "application/json", `{"prepublished":true}`, 400},
		{"not JSON", "application/json", `{`, 400},
		{"wrong type", "application/json", `{"prepublish":"yes"}`, 400},
		{"array", "application/json", `[]`, 400},
		{"trailing data", "application/json", `{} {}`, 400},
		{"form body", "application/x-www-form-urlencoded", "prepublish=true", 415},
		{"huge", "application/json", `{"prepublish":true` + strings.Repeat(" ", maxRotateBytes) + `}`, 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := f.do(http.MethodPost, PathRotate, tc.contentType, tc.body, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			if body := decodeObject(t, raw); body["error"] != "invalid_request" {
				t.Fatalf("body %v", body)
			}
		})
	}
	if _, staged := f.tenant.keys.staged(); staged || f.tenant.keys.current().kid != kid {
		t.Fatal("a refused request changed the keys")
	}
	// An empty body stays a plain rotation whatever its Content-Type, as before bodies were read.
	if resp, raw := f.do(http.MethodPost, PathRotate, "application/x-www-form-urlencoded", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("empty form body: %d %s", resp.StatusCode, raw)
	}
	if f.tenant.keys.current().kid == kid {
		t.Fatal("an empty body did not rotate")
	}
}

// TestKeyFileECKey checks the P-256 key's life in the key file: added to an old RSA-only file, kept across
// restarts, kept but unpublished (even through a rotation) when the tenant runs without it, and the same key when
// it runs with it again.
func TestKeyFileECKey(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "keys.pem")
	old, err := openKeyStore(file) // an RSA-only file, as earlier versions wrote it
	if err != nil {
		t.Fatal(err)
	}
	rsaKid := old.current().kid
	withEC, err := loadKeyStore(file, true)
	if err != nil {
		t.Fatalf("an RSA-only file with an EC key asked for: %v", err)
	}
	ec, ok := withEC.ec()
	if !ok || withEC.current().kid != rsaKid {
		t.Fatalf("EC key %v, signer %s (want the file's %s)", ok, withEC.current().kid, rsaKid)
	}
	if n := strings.Count(readFile(t, file), "BEGIN PRIVATE KEY"); n != 2 {
		t.Fatalf("%d keys in the file after adding the EC key, want 2", n)
	}

	steps := []struct {
		name    string
		withEC  bool
		rotate  bool
		wantPub func(signer string) []string
	}{
		{"restart with the EC key", true, false, func(s string) []string { return []string{s, ec.kid} }},
		{"restart without it: kept, not published", false, false, func(s string) []string { return []string{s} }},
		{"rotation without it", false, true, func(s string) []string { return []string{rsaKid, s} }},
		{"and back: the same EC key", true, false, func(s string) []string { return []string{rsaKid, s, ec.kid} }},
	}
	for _, st := range steps {
		ks, err := loadKeyStore(file, st.withEC)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.rotate {
			if _, err := ks.rotate(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		got, _ := json.Marshal(kidsOf(jwkMaps(ks.jwks())))
		want, _ := json.Marshal(st.wantPub(ks.current().kid))
		if string(got) != string(want) {
			t.Fatalf("%s: published %s, want %s", st.name, got, want)
		}
		if _, ok := ks.ec(); ok != st.withEC {
			t.Fatalf("%s: EC key usable = %v, want %v", st.name, ok, st.withEC)
		}
	}
}

// TestKeyFileNewFormatErrors covers what only the new format can get wrong.
func TestKeyFileNewFormatErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rsaBlock := func(headers map[string]string) []byte {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: headers, Bytes: der})
	}
	ecBlock := func(curve elliptic.Curve, headers map[string]string) []byte {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: headers, Bytes: der})
	}
	next := map[string]string{roleHeader: roleNext}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	signer := rsaBlock(nil)
	tests := map[string]struct {
		content []byte
		want    string
	}{
		"two staged keys":   {cat(signer, rsaBlock(next), rsaBlock(next)), "second staged key"},
		"only a staged key": {rsaBlock(next), "only RSA key is the staged"},
		"staged EC key":     {cat(signer, ecBlock(elliptic.P256(), next)), "only an RSA key can be staged"},
		"two EC keys":       {cat(signer, ecBlock(elliptic.P256(), nil), ecBlock(elliptic.P256(), nil)), "second P-256 key"},
		"P-384 key":         {cat(signer, ecBlock(elliptic.P384(), nil)), "EC key on P-384"},
		"unknown role":      {rsaBlock(map[string]string{roleHeader: "previous"}), `unexpected PEM header "Tokencheck-Role"`},
		"unknown header":    {rsaBlock(map[string]string{"Proc-Type": "4,ENCRYPTED"}), `unexpected PEM header "Proc-Type"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pem")
			if err := os.WriteFile(file, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(DefaultConfig(), Options{Issuer: "http://localhost:4000/", KeyFile: file, ECKey: true})
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v; want an error naming %s and %q", err, file, tc.want)
			}
		})
	}
	// And the well-formed new format reads: signer, staged, EC.
	file := filepath.Join(dir, "good.pem")
	if err := os.WriteFile(file, cat(signer, rsaBlock(next), ecBlock(elliptic.P256(), nil)), 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := loadKeyStore(file, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, staged := ks.staged(); !staged || len(ks.published()) != 2 {
		t.Fatal("staged key not read back")
	}
	if _, ok := ks.ec(); !ok {
		t.Fatal("EC key not read back")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jwkMaps turns the store's JWKs into the maps kidsOf reads.
func jwkMaps(keys []jwkset.JWKMarshal) []map[string]any {
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"kid": k.KID})
	}
	return out
}

func thumbprintOf(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
