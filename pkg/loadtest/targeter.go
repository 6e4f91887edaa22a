package loadtest

import (
	"net/http"
	"sync/atomic"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// newTargeter returns a vegeta Targeter for method and url that cycles through tokens, one per request in order,
// so N tokens over at least N requests are each used. Headers are built once and only read afterwards (vegeta
// copies them into every request), which keeps the targeter safe for concurrent workers without locks.
func newTargeter(method, url string, base http.Header, tokens []string) vegeta.Targeter {
	if len(tokens) == 0 {
		h := base.Clone()
		if h == nil {
			h = http.Header{}
		}
		return func(t *vegeta.Target) error {
			t.Method, t.URL, t.Header = method, url, h
			return nil
		}
	}
	headers := make([]http.Header, len(tokens))
	for i, tok := range tokens {
		h := base.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Authorization", "Bearer "+tok)
		headers[i] = h
	}
	var next atomic.Uint64
	n := uint64(len(headers))
	return func(t *vegeta.Target) error {
		i := (next.Add(1) - 1) % n
		t.Method, t.URL, t.Header = method, url, headers[i]
		return nil
	}
}
