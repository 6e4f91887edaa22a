package apiserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultHealthcheckTimeout bounds a health check, so a hung server fails the check instead of hanging it.
const DefaultHealthcheckTimeout = 3 * time.Second

// BadURLError means the URL to check cannot make a request at all: bad input, which the caller words with its own
// flag, unlike a server that does not answer 200.
type BadURLError struct {
	URL string
	Err error
}

// Error names the URL and why it is unusable.
func (e *BadURLError) Error() string { return fmt.Sprintf("healthcheck: bad URL %q: %v", e.URL, e.Err) }

// Unwrap exposes the parse error.
func (e *BadURLError) Unwrap() error { return e.Err }

// Healthcheck GETs url and succeeds only on 200, so a distroless container can be checked without curl.
func Healthcheck(ctx context.Context, url string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultHealthcheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return &BadURLError{URL: url, Err: err}
	}
	hc := &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d, want 200", url, res.StatusCode)
	}
	return nil
}
