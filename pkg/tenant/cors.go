package tenant

import "net/http"

// corsMaxAge is how long a browser may cache a preflight answer, in seconds.
const corsMaxAge = "600"

// corsOrigins is the set of registered web origins (clients' web_origins), canonical form.
type corsOrigins map[string]bool

func newCORSOrigins(clients []Client) corsOrigins {
	set := corsOrigins{}
	for _, c := range clients {
		for _, o := range c.WebOrigins {
			set[canonicalOrigin(o)] = true
		}
	}
	return set
}

// allowed is the Origin header to echo back, or "" when the request's origin is not registered. Never "*" and
// never credentials: the endpoints take tokens in headers and bodies, not cookies.
func (s corsOrigins) allowed(r *http.Request) string {
	o := r.Header.Values("Origin")
	if len(o) != 1 || !s[canonicalOrigin(o[0])] || canonicalOrigin(o[0]) != o[0] {
		return ""
	}
	return o[0]
}

// withCORS lets registered web origins read next's answers (browser apps calling /oauth/token and /userinfo).
func (t *Tenant) withCORS(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		if o := t.webOrigins.allowed(r); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		}
		next(w, r)
	}
}

// preflight answers CORS preflights for methods: 204 with the grant for a registered origin, 403 without one.
func (t *Tenant) preflight(methods string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		o := t.webOrigins.allowed(r)
		if o == "" || r.Header.Get("Access-Control-Request-Method") == "" {
			http.Error(w, "CORS preflight refused: the Origin is not one of the clients' web_origins", http.StatusForbidden)
			return
		}
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	}
}
