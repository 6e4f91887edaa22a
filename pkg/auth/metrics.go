package auth

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/internal/promreg"
)

// metrics are the tokencheck_* collectors; they always exist so the hot path never checks for nil.
type metrics struct {
	failures          *prometheus.CounterVec
	byReason          map[Reason]prometheus.Counter
	refreshOK         prometheus.Counter
	refreshError      prometheus.Counter
	unknownKIDRefetch prometheus.Counter
	cacheHit          prometheus.Counter
	cacheMiss         prometheus.Counter
	cacheEvict        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokencheck_auth_failures_total",
		Help: "Requests rejected by the auth middleware or validator, by reason.",
	}, []string{"reason"})
	refreshes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokencheck_jwks_refreshes_total",
		Help: "JWKS fetches (start-up, periodic and unknown-kid), by result.",
	}, []string{"result"})
	refetch := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tokencheck_jwks_unknown_kid_refetches_total",
		Help: "JWKS refetches triggered by a token with an unknown kid (after the rate limiter).",
	})
	hits := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tokencheck_token_cache_hits_total", Help: "Validations answered from the verified-token cache.",
	})
	misses := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tokencheck_token_cache_misses_total", Help: "Validations not found, or stale, in the verified-token cache.",
	})
	evictions := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tokencheck_token_cache_evictions_total", Help: "Verified-token cache entries evicted for capacity.",
	})
	var err error
	if reg != nil {
		// A second Validator on the same registry shares the first one's collectors instead of failing.
		failures, err = register(reg, failures, err)
		refreshes, err = register(reg, refreshes, err)
		refetch, err = register(reg, refetch, err)
		hits, err = register(reg, hits, err)
		misses, err = register(reg, misses, err)
		evictions, err = register(reg, evictions, err)
		if err != nil {
			return nil, err
		}
	}
	m := &metrics{
		failures:          failures,
		byReason:          make(map[Reason]prometheus.Counter, len(reasonText)),
		refreshOK:         refreshes.WithLabelValues("ok"),
		refreshError:      refreshes.WithLabelValues("error"),
		unknownKIDRefetch: refetch,
		cacheHit:          hits,
		cacheMiss:         misses,
		cacheEvict:        evictions,
	}
	for r := range reasonText {
		m.byReason[r] = failures.WithLabelValues(string(r))
	}
	return m, nil
}

// register registers c through promreg, chaining the first error so newMetrics checks once.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, prev error) (C, error) {
	if prev != nil {
		return c, prev
	}
	c, err := promreg.Register(reg, c)
	if err != nil {
		return c, fmt.Errorf("auth: register metrics: %w", err)
	}
	return c, nil
}

// failure counts one rejection; reasons are a closed set, so the label cardinality is fixed.
func (m *metrics) failure(r Reason) {
	if c, ok := m.byReason[r]; ok {
		c.Inc()
		return
	}
	m.failures.WithLabelValues(string(r)).Inc()
}
