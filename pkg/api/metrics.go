package api

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokencheck/tokencheck/internal/promreg"
)

// metrics are the router's HTTP instruments; labels are bounded (route templates, known methods, status codes).
//
// The children of the vectors are curried once per label set and kept in series, so a request costs a map lookup
// and an array index instead of WithLabelValues' hashing and locking. A series is created on first use, exactly
// when WithLabelValues would have created it, so /metrics shows the same series as before.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	series atomic.Pointer[map[seriesKey]*routeSeries] // copied on write; written under mu
	mu     sync.Mutex
}

type seriesKey struct{ route, method string }

// Status codes with a slot in routeSeries.byStatus; net/http allows 100-999, the rest go through WithLabelValues.
const (
	minCachedStatus = 100
	maxCachedStatus = 599
)

// routeSeries holds the curried children of one route and method.
type routeSeries struct {
	duration prometheus.Observer
	byStatus [maxCachedStatus - minCachedStatus + 1]atomic.Pointer[prometheus.Counter]
}

// observe counts one answered request and its duration.
func (m *metrics) observe(route, method string, status int, elapsed time.Duration) {
	s := m.seriesFor(route, method)
	s.duration.Observe(elapsed.Seconds())
	if status < minCachedStatus || status > maxCachedStatus {
		m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		return
	}
	slot := &s.byStatus[status-minCachedStatus]
	c := slot.Load()
	if c == nil {
		counter := m.requests.WithLabelValues(route, method, strconv.Itoa(status))
		slot.CompareAndSwap(nil, &counter)
		c = slot.Load()
	}
	(*c).Inc()
}

func (m *metrics) seriesFor(route, method string) *routeSeries {
	k := seriesKey{route, method}
	if all := m.series.Load(); all != nil {
		if s, ok := (*all)[k]; ok {
			return s
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.series.Load()
	if old != nil {
		if s, ok := (*old)[k]; ok {
			return s
		}
	}
	s := &routeSeries{duration: m.duration.WithLabelValues(route, method)}
	next := make(map[seriesKey]*routeSeries, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	next[k] = s
	m.series.Store(&next)
	return s
}

func newMetrics(reg prometheus.Registerer) *metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "tokencheck",
		Subsystem: "http",
		Name:      "requests_total",
		Help:      "HTTP requests answered, by route template, method and status code.",
	}, []string{"route", "method", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "tokencheck",
		Subsystem: "http",
		Name:      "request_duration_seconds",
		Help:      "Time to answer HTTP requests, by route template and method.",
		Buckets:   []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method"})
	return &metrics{
		requests: register(reg, requests),
		duration: register(reg, duration),
	}
}

// register adds c to reg, or reuses the collector already there, so two routers can share one registry. A
// conflicting collector under our name is not fatal: the router keeps counting, just unexported.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	c, _ = promreg.Register(reg, c)
	return c
}

func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// methodLabel keeps arbitrary request methods out of the label space.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
