package api

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

const corsMaxAge = 10 * time.Minute

// exposeHeaders lets browser apps read the challenge, the retry hint of a 503 and the request id.
const exposeHeaders = "WWW-Authenticate, Retry-After, " + HeaderRequestID

// corsMiddleware applies gin-contrib/cors for allowed origins. It runs before authentication so 401 and 403
// answers carry the CORS headers a browser needs to show them. Unlike gin-contrib/cors alone, a request from an
// origin not on the list is not refused with an empty 403: it proceeds without CORS headers (the browser then
// withholds the answer), and only a preflight from such an origin is refused, with a JSON body saying why.
func corsMiddleware(origins []string, logger *slog.Logger) gin.HandlerFunc {
	allowAll := false
	allowed := map[string]bool{}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "*" {
			allowAll = true
			continue
		}
		norm, ok := NormalizeOrigin(o)
		if !ok {
			logger.Warn("ignoring an invalid CORS origin; use scheme://host[:port]", slog.String("origin", o))
			continue
		}
		allowed[norm] = true
	}
	if !allowAll && len(allowed) == 0 {
		return func(c *gin.Context) {
			if isPreflight(c.Request) {
				refusePreflight(c)
			}
		}
	}

	cfg := cors.Config{
		AllowMethods: []string{http.MethodGet, http.MethodOptions},
		// DPoP: a browser client of a DPoP-bound token sends its proof in that header (RFC 9449 §4.1).
		AllowHeaders:  []string{"Authorization", "Content-Type", HeaderRequestID, "DPoP"},
		ExposeHeaders: []string{"WWW-Authenticate", "Retry-After", HeaderRequestID},
		MaxAge:        corsMaxAge,
	}
	if allowAll {
		cfg.AllowAllOrigins = true
	} else {
		for o := range allowed {
			cfg.AllowOrigins = append(cfg.AllowOrigins, o)
		}
	}
	handle := cors.New(cfg)

	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" {
			return
		}
		c.Writer.Header().Add("Vary", "Origin")
		if allowAll || allowed[strings.ToLower(origin)] {
			handle(c)
			if h := c.Writer.Header(); !c.IsAborted() && h.Get("Access-Control-Expose-Headers") != "" {
				// gin-contrib/cors canonicalises to "Www-Authenticate"; spell it as RFC 6750 and the contract do.
				h.Set("Access-Control-Expose-Headers", exposeHeaders)
			}
			return
		}
		if isPreflight(c.Request) {
			refusePreflight(c)
		}
	}
}

func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

func refusePreflight(c *gin.Context) {
	writeError(c, http.StatusForbidden, "origin_not_allowed",
		"This origin may not call the API from a browser; add it to CORS_ALLOWED_ORIGINS on the server.")
}

// NormalizeOrigin lower-cases an origin and checks it is scheme://host[:port], as browsers send it; the one origin
// rule, shared with pkg/serverconfig so a configured origin is judged the same when loaded and when served.
func NormalizeOrigin(o string) (string, bool) {
	o = strings.ToLower(strings.TrimSuffix(o, "/"))
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return o, true
}
