package tokens

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "tokencheck")
	c := &Cache{Dir: dir, Now: func() time.Time { return now }}
	key := CacheKey{Issuer: "http://localhost:4000/", ClientID: "quickstart-read", Audience: "https://quickstarts/api", Grant: "client_credentials", Secret: "read-secret"}
	if _, ok := c.Get(key); ok {
		t.Fatal("hit in an empty cache")
	}
	tok := &Token{AccessToken: "tok-1", TokenType: "Bearer", Scope: "read:messages", Expiry: now.Add(2 * time.Minute)}
	if err := c.Put(key, tok); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, ok := c.Get(key)
	if !ok || got.AccessToken != "tok-1" || got.Scope != "read:messages" || !got.Expiry.Equal(tok.Expiry) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}

	others := []CacheKey{key, key, key, key, key}
	others[0].Audience = "https://other"
	others[1].Scope = "write:messages"
	others[2].Grant = "device_code"
	others[3].Secret = "changed"
	others[4].Issuer = "https://tenant.auth0.com/"
	for _, k := range others {
		if _, ok := c.Get(k); ok {
			t.Errorf("key %+v hit another key's token", k)
		}
	}

	// Inside the margin (60s by default) the token is no longer handed out.
	now = now.Add(61 * time.Second)
	if _, ok := c.Get(key); ok {
		t.Error("token reused within 60s of its expiry")
	}

	if runtime.GOOS != "windows" {
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("cache dir mode %v, %v; want 0700", st.Mode().Perm(), err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files %v, want one", files)
		}
		st, err = os.Stat(files[0])
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("cache file mode %v, %v; want 0600", st.Mode().Perm(), err)
		}
	}
}

func TestCacheCorruptFileIsReplaced(t *testing.T) {
	dir := t.TempDir()
	c := &Cache{Dir: dir}
	key := CacheKey{Issuer: "i", ClientID: "c", Grant: "client_credentials"}
	path := filepath.Join(dir, key.file())
	for _, junk := range []string{"{not json", `{"access_token":""}`, "", `null`} {
		if err := os.WriteFile(path, []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		if tok, ok := c.Get(key); ok {
			t.Fatalf("corrupt file %q gave a hit: %+v", junk, tok)
		}
	}
	if err := c.Put(key, &Token{AccessToken: "fresh", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Put over a corrupt file: %v", err)
	}
	if tok, ok := c.Get(key); !ok || tok.AccessToken != "fresh" {
		t.Fatalf("after replacing: %+v, %v", tok, ok)
	}
	if err := c.Delete(key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := c.Get(key); ok {
		t.Fatal("hit after Delete")
	}
	if err := c.Delete(key); err != nil {
		t.Fatalf("Delete of a missing entry: %v", err)
	}
	if err := c.Put(key, nil); err == nil {
		t.Fatal("Put(nil) succeeded")
	}
}

func TestDefaultCacheDir(t *testing.T) {
	got, err := DefaultCacheDir(func(k string) string {
		if k == "XDG_CACHE_HOME" {
			return "/tmp/xdg"
		}
		return ""
	})
	if err != nil || got != filepath.Join("/tmp/xdg", "tokencheck") {
		t.Fatalf("DefaultCacheDir = %q, %v", got, err)
	}
}

// TestDefaultCacheDirWithoutHome: with no cache directory at all the error is ErrNoCacheDir, wrapping the
// platform's reason; how to give one (a variable, or doing without the cache) is the caller's to say.
func TestDefaultCacheDirWithoutHome(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("the cache directory comes from HOME or XDG_CACHE_HOME only on Unix")
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	_, reason := os.UserCacheDir()
	if reason == nil {
		t.Skip("this platform names a cache directory without a home")
	}
	_, err := DefaultCacheDir(func(string) string { return "" })
	if !errors.Is(err, ErrNoCacheDir) {
		t.Fatalf("DefaultCacheDir = %v, want ErrNoCacheDir", err)
	}
	// The platform's reason may name XDG_CACHE_HOME itself (it is os.UserCacheDir's); the package adds no hint.
	if want := "no cache directory: " + reason.Error(); err.Error() != want {
		t.Errorf("error %q, want %q: the fact and the platform's reason, nothing more", err, want)
	}
}

func TestCacheLoadMissesAndExpiry(t *testing.T) {
	now := time.Now()
	c := &Cache{Dir: t.TempDir(), Now: func() time.Time { return now }}
	key := CacheKey{Issuer: "i", ClientID: "c", Grant: "client_credentials"}
	if _, err := c.Load(key); !errors.Is(err, ErrNotCached) {
		t.Fatalf("empty cache: %v, want ErrNotCached", err)
	}
	if err := c.Put(key, &Token{AccessToken: "t", Expiry: now.Add(30 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(key); !errors.Is(err, ErrCachedTokenExpiring) {
		t.Fatalf("token within the margin: %v, want ErrCachedTokenExpiring", err)
	}
	for _, bad := range []string{"", "a b", "x\x00"} {
		if err := c.Put(key, &Token{AccessToken: bad, Expiry: now.Add(time.Hour)}); err == nil {
			t.Errorf("Put(%q) succeeded", bad)
		}
	}
	if err := c.Put(key, &Token{AccessToken: "t", Expiry: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(c.Dir, key.file()))
	if err != nil || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o600) {
		t.Fatalf("cache file: %v %v", st, err)
	}
}
