package browser

import (
	"context"
	"errors"
	"os/exec"
	"reflect"
	"testing"
)

func TestCommand(t *testing.T) {
	t.Parallel()
	const u = "http://127.0.0.1/authorize?a=1&b=2"
	tests := []struct {
		name, goos string
		env        map[string]string
		want       []string
	}{
		{"BROWSER wins", "linux", map[string]string{"BROWSER": "firefox", "DISPLAY": ":0"}, []string{"firefox", u}},
		{"macOS", "darwin", nil, []string{"open", u}},
		{"Windows", "windows", nil, []string{"rundll32", "url.dll,FileProtocolHandler", u}},
		{"X11", "linux", map[string]string{"DISPLAY": ":0"}, []string{"xdg-open", u}},
		{"Wayland", "freebsd", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, []string{"xdg-open", u}},
		{"no graphical session", "linux", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Command(tc.goos, func(k string) string { return tc.env[k] }, u)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Command = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpenWithoutBrowser(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BROWSER": "/nonexistent/browser-for-tokencheck-tests"}
	if err := Open(context.Background(), func(k string) string { return env[k] }, "http://127.0.0.1/"); !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("Open = %v, want ErrNoBrowser", err)
	}
}

// TestOpenOnlyWebURLs: the URL comes from the tenant's discovery document, so anything but an absolute http(s) URL
// (a file, another scheme's handler, something the opener would read as an option) is never handed to the opener.
func TestOpenOnlyWebURLs(t *testing.T) {
	t.Parallel()
	opener, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for a browser")
	}
	env := map[string]string{"BROWSER": opener}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		u  string
		ok bool
	}{
		{"http://127.0.0.1:4000/authorize?a=1", true},
		{"https://tenant.example/authorize", true},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"ms-settings:display", false},
		{`\\attacker\share\x.exe`, false},
		{"--new-window", false},
		{"-a Calculator", false},
		{"https:///no-host", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.u, func(t *testing.T) {
			t.Parallel()
			err := Open(context.Background(), getenv, tc.u)
			if tc.ok != (err == nil) {
				t.Fatalf("Open(%q) = %v, want ok %v", tc.u, err, tc.ok)
			}
			if !tc.ok && !errors.Is(err, ErrNotWebURL) {
				t.Fatalf("Open(%q) = %v, want ErrNotWebURL", tc.u, err)
			}
		})
	}
}
