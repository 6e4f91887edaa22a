package browser

import (
	"context"
	"errors"
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
