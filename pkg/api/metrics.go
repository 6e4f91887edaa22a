package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokencheck/tokencheck/internal/promreg"
)

// metrics are the router's HTTP instruments; labels are bounded (route templates, known methods, status codes).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
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
