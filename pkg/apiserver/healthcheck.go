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

// Healthcheck GETs url and succeeds only on 200, so a distroless container can be checked without curl.
func Healthcheck(ctx context.Context, url string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = DefaultHealthcheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: bad --url %q: %w", url, err)
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
