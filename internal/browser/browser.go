// Package browser opens a URL in the user's web browser when there is one, for logins that start in a terminal.
package browser

import (
	"context"
	"errors"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
)

// ErrNoBrowser means no way to open a browser was found; the caller has printed the URL already.
var ErrNoBrowser = errors.New("no browser to open")

// ErrNotWebURL means Open was given something other than an absolute http(s) URL, which it never hands to an opener.
var ErrNotWebURL = errors.New("not an http(s) URL")

// Command is the program and arguments that would open u: $BROWSER if set, else open (macOS), rundll32
// (Windows) or xdg-open (other systems, only with a graphical session: without DISPLAY or WAYLAND_DISPLAY it could
// start a text browser that takes over the terminal). nil when there is none. getenv reads the environment.
func Command(goos string, getenv func(string) string, u string) []string {
	if b := strings.TrimSpace(getenv("BROWSER")); b != "" {
		return []string{b, u}
	}
	switch goos {
	case "darwin":
		return []string{"open", u}
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler", u}
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return nil
	}
	return []string{"xdg-open", u}
}

// Open starts the browser on u without waiting for it; ErrNoBrowser when there is none, ErrNotWebURL (and nothing
// started) when u is not an absolute http(s) URL. It never blocks on the browser and never writes to the terminal.
func Open(ctx context.Context, getenv func(string) string, u string) error {
	// The URL comes from a tenant's discovery document: an opener would launch whatever handler another scheme
	// names (a file, a share, a settings page) or read a leading "-" as an option.
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ErrNotWebURL
	}
	argv := Command(runtime.GOOS, getenv, u)
	if argv == nil {
		return ErrNoBrowser
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return ErrNoBrowser
	}
	cmd := exec.CommandContext(context.WithoutCancel(ctx), path, argv[1:]...) //nolint:gosec // the user's own browser, given the URL as one argument
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it whenever it exits
	return nil
}
