//go:build unix

package tokens

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCacheRefusesUntrustedEntries plants every kind of bad entry where the cache looks and checks that Load
// refuses it (a *CacheEntryError saying why, quickly, even for a FIFO) and that Put then replaces it.
func TestCacheRefusesUntrustedEntries(t *testing.T) {
	now := time.Now()
	key := CacheKey{Issuer: "http://localhost:4000/", ClientID: "quickstart-read", Audience: "https://quickstarts/api",
		Scope: "read:messages", Grant: "client_credentials", Secret: "read-secret"}
	jwtTok := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	entry := func(mut func(e map[string]any)) string {
		e := map[string]any{"version": 1, "issuer": key.Issuer, "client_id": key.ClientID, "audience": key.Audience,
			"scope": key.Scope, "grant": key.Grant,
			"token": map[string]any{"access_token": jwtTok, "token_type": "Bearer", "expiry": now.Add(time.Hour).Format(time.RFC3339Nano)}}
		if mut != nil {
			mut(e)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	tokenField := func(k string, v any) func(map[string]any) {
		return func(e map[string]any) { e["token"].(map[string]any)[k] = v }
	}
	tests := []struct {
		name   string
		plant  func(t *testing.T, path string) // creates path
		reason string                          // in the error; "" means the entry is used
	}{
		{"good JWT entry", writeMode(entry(nil), 0o600), ""},
		{"good opaque entry", writeMode(entry(tokenField("access_token", "opaque-token_1")), 0o600), ""},
		{"mode 0644", writeMode(entry(nil), 0o644), "mode 0644, want 0600"},
		{"mode 0640", writeMode(entry(nil), 0o640), "mode 0640"},
		{"mode 0400", writeMode(entry(nil), 0o400), "mode 0400"},
		{"symlink to a good file", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "elsewhere.json")
			writeMode(entry(nil), 0o600)(t, target)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, "cannot open it"},
		{"FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
		}, "not a regular file"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"malformed JSON", writeMode(`{"version":1,`, 0o600), "malformed JSON"},
		{"old format (a bare token)", writeMode(`{"access_token":"x","expiry":"2999-01-01T00:00:00Z"}`, 0o600), "older format"},
		{"unknown field", writeMode(entry(func(e map[string]any) { e["extra"] = 1 }), 0o600), "malformed JSON"},
		{"trailing data", writeMode(entry(nil)+" {}", 0o600), "data after"},
		{"other version", writeMode(entry(func(e map[string]any) { e["version"] = 2 }), 0o600), "format version 2"},
		{"other issuer", writeMode(entry(func(e map[string]any) { e["issuer"] = "https://evil/" }), 0o600), "another issuer"},
		{"other client", writeMode(entry(func(e map[string]any) { e["client_id"] = "quickstart-write" }), 0o600), "another issuer"},
		{"other audience", writeMode(entry(func(e map[string]any) { e["audience"] = "https://other" }), 0o600), "another issuer"},
		{"other grant", writeMode(entry(func(e map[string]any) { e["grant"] = "device_code" }), 0o600), "another issuer"},
		{"no token", writeMode(entry(func(e map[string]any) { e["token"] = nil }), 0o600), "no access token"},
		{"empty token", writeMode(entry(tokenField("access_token", "")), 0o600), "no access token"},
		{"token with a space", writeMode(entry(tokenField("access_token", "a b")), 0o600), "spaces, control"},
		{"token with a newline", writeMode(entry(tokenField("access_token", "ab\nHost: x")), 0o600), "spaces, control"},
		{"broken JWT", writeMode(entry(tokenField("access_token", "eyJhbGciOi.!!.x")), 0o600), "does not decode"},
		{"no expiry", writeMode(entry(func(e map[string]any) { delete(e["token"].(map[string]any), "expiry") }), 0o600), "no expiry"},
		{"owned by someone else", func(t *testing.T, path string) {
			writeMode(entry(nil), 0o600)(t, path)
			if os.Getuid() != 0 {
				t.Skip("only root can give a file away")
			}
			if err := os.Lchown(path, 65534, 65534); err != nil {
				t.Skipf("chown: %v", err)
			}
		}, "owned by uid 65534"},
		{"too big", writeMode(`{"version":1,"issuer":"`+strings.Repeat("a", maxDocument)+`"}`, 0o600), "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &Cache{Dir: dir}
			path := filepath.Join(dir, key.file())
			tc.plant(t, path)
			done := make(chan struct{})
			var (
				tok *Token
				err error
			)
			go func() { tok, err = c.Load(key); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Load hung")
			}
			if tc.reason == "" {
				if err != nil || tok == nil {
					t.Fatalf("Load = %v, %v; want the token", tok, err)
				}
				return
			}
			var ce *CacheEntryError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load error = %v; want a CacheEntryError naming the file and %q", err, tc.reason)
			}
			if strings.Contains(err.Error(), jwtTok) {
				t.Fatalf("the error holds the token: %v", err)
			}
			if _, ok := c.Get(key); ok {
				t.Fatal("Get used a refused entry")
			}
			if tc.name == "directory" {
				return // Put cannot rename over a directory; the entry stays ignored
			}
			if err := c.Put(key, &Token{AccessToken: "fresh", Expiry: now.Add(time.Hour)}); err != nil {
				t.Fatalf("Put over the refused entry: %v", err)
			}
			if got, err := c.Load(key); err != nil || got.AccessToken != "fresh" {
				t.Fatalf("after Put: %+v, %v", got, err)
			}
		})
	}
}

// writeMode plants content at path with exactly mode perm.
func writeMode(content string, perm os.FileMode) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil {
			t.Fatal(err)
		}
	}
}
