// Package promreg registers Prometheus collectors so that several instances (two validators, two routers) can
// share one registry: the second registration gets the collector already there instead of an error.
package promreg

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register adds c to reg, or returns the collector of the same type already registered under c's name. Any
// other conflict is returned with c, so callers may keep counting unexported rather than fail.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err //nolint:wrapcheck // the registry's own error names the metric
}
