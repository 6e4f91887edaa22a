package forwarded

import (
	"crypto/tls"
	"net/http"
	"testing"
)

func TestSchemeAndHost(t *testing.T) {
	nonEmpty := func(h string) bool { return h != "" }
	cases := []struct {
		name         string
		tls, trust   bool
		proto, fhost string
		scheme, host string
	}{
		{name: "plain", scheme: "http", host: "api:3010"},
		{name: "tls", tls: true, scheme: "https", host: "api:3010"},
		{name: "forwarded, untrusted", proto: "https", fhost: "public.example", scheme: "http", host: "api:3010"},
		{name: "forwarded, trusted", trust: true, proto: "HTTPS, http", fhost: " public.example , inner", scheme: "https", host: "public.example"},
		{name: "bad proto ignored", trust: true, proto: "ftp", scheme: "http", host: "api:3010"},
		{name: "empty forwarded host ignored", trust: true, fhost: " ", scheme: "http", host: "api:3010"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "http://api:3010/x", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.fhost != "" {
				r.Header.Set("X-Forwarded-Host", tc.fhost)
			}
			if got := Scheme(r, tc.trust); got != tc.scheme {
				t.Errorf("Scheme = %q, want %q", got, tc.scheme)
			}
			if got := Host(r, tc.trust, nonEmpty); got != tc.host {
				t.Errorf("Host = %q, want %q", got, tc.host)
			}
		})
	}
}
