package api_test

import (
	"context"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokencheck/tokencheck/pkg/api"
	"github.com/tokencheck/tokencheck/pkg/auth"
)

// Wiring the router to a validator, as the server binary does (pkg/apiserver adds timeouts and shutdown).
func ExampleNewRouter() {
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	v, err := auth.New(context.Background(), auth.Config{
		ClockSkew:  auth.DefaultClockSkew,
		Issuer:     "https://example.us.auth0.com/",
		Audiences:  []string{"https://quickstarts/api"},
		CacheSize:  auth.DefaultCacheSize,
		Logger:     logger,
		Registerer: reg,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	srv := &http.Server{
		Addr: ":3010",
		Handler: api.NewRouter(api.Options{
			Auth:           v,
			RequiredScope:  "read:messages",
			AllowedOrigins: []string{"http://localhost:3000"},
			Logger:         logger,
			Registry:       reg,
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	_ = srv // srv.ListenAndServe()
}
