package serverconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/pkg/auth"
)

func TestLoadDPoPAndIssuers(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		m := map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "api"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{name: "defaults leave DPoP to pkg/auth", env: base(nil), check: func(t *testing.T, c *Config) {
			if c.DPoPMode != "" || c.DPoPAlgs != nil || c.DPoPIATWindow != 0 || c.TrustProxy || c.PublicURL != "" || c.ResourceURL != "" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "domain list", env: map[string]string{EnvAuth0Domain: "a.auth0.com, login.example.com,a.auth0.com", EnvAuth0Audience: "api"},
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.Issuers(), []string{"https://a.auth0.com/", "https://login.example.com/"}) || c.Issuer != "https://a.auth0.com/" {
					t.Errorf("issuers %v", c.Issuers())
				}
			}},
		{name: "issuer URL list", env: map[string]string{EnvIssuerURL: "https://a/, https://b/x", EnvAuth0Audience: "api"},
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.Issuers(), []string{"https://a/", "https://b/x"}) {
					t.Errorf("issuers %v", c.Issuers())
				}
			}},
		{name: "every DPoP variable", env: base(map[string]string{EnvDPoPMode: "Required", EnvDPoPAlgs: "ES256, PS256 ES384", EnvDPoPIATWindow: "2m",
			EnvTrustProxy: "true", EnvPublicURL: "https://api.example.com/", EnvResourceURL: "https://api.example.com/"}),
			check: func(t *testing.T, c *Config) {
				want := &Config{Port: 3010, Issuer: "https://a.auth0.com/", Audiences: []string{"api"}, CORSAllowedOrigins: []string{DefaultCORSAllowedOrigins},
					ClockSkew: DefaultClockSkew, RequiredScope: DefaultRequiredScope, JWKSRefreshInterval: DefaultJWKSRefreshInterval,
					TokenCacheSize: DefaultTokenCacheSize, TrustProxy: true, PublicURL: "https://api.example.com", ResourceURL: "https://api.example.com/",
					DPoPMode: auth.DPoPRequired, DPoPAlgs: []string{"ES256", "PS256", "ES384"}, DPoPIATWindow: 2 * time.Minute}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("config\n got %+v\nwant %+v", c, want)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(nil, WithDotEnv(""), WithGetenv(envFunc(tc.env)))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestLoadDPoPAndIssuersInvalid(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
		text []string
	}{
		{name: "JWKS URL with two issuers", env: map[string]string{EnvAuth0Domain: "a.auth0.com,b.auth0.com", EnvAuth0Audience: "x", EnvJWKSURL: "https://a.auth0.com/jwks"},
			want: []string{EnvJWKSURL}, text: []string{"2 issuers", "unset it"}},
		{name: "bad domain in a list", env: map[string]string{EnvAuth0Domain: "a.auth0.com,http://b", EnvAuth0Audience: "x"},
			want: []string{EnvAuth0Domain}, text: []string{`"http://b" is not a domain`}},
		{name: "empty domain list", env: map[string]string{EnvAuth0Domain: " , ", EnvAuth0Audience: "x"}, want: []string{EnvAuth0Domain}},
		{name: "bad issuer in a list", env: map[string]string{EnvIssuerURL: "https://a/,b", EnvAuth0Audience: "x"}, want: []string{EnvIssuerURL}},
		{name: "empty issuer list", env: map[string]string{EnvIssuerURL: ",", EnvAuth0Audience: "x"}, want: []string{EnvIssuerURL}},
		{name: "every DPoP variable wrong", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x",
			EnvTrustProxy: "maybe", EnvPublicURL: "https://api.example.com/v1", EnvResourceURL: "api", EnvDPoPMode: "sometimes",
			EnvDPoPAlgs: "ES256 HS256", EnvDPoPIATWindow: "1h"},
			want: []string{EnvTrustProxy, EnvPublicURL, EnvResourceURL, EnvDPoPMode, EnvDPoPAlgs, EnvDPoPIATWindow},
			text: []string{`"HS256" is not an asymmetric JWS algorithm`, "never none or HS*", "disabled, allowed or required", "without a path"}},
		{name: "no algorithms", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvDPoPAlgs: " , "},
			want: []string{EnvDPoPAlgs}},
		{name: "tiny window", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvDPoPIATWindow: "10ms"},
			want: []string{EnvDPoPIATWindow}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(nil, WithDotEnv(""), WithGetenv(envFunc(tc.env)))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load error %v, want *Error", err)
			}
			if got := cerr.Variables(); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("variables %v, want %v\n%s", got, tc.want, err)
			}
			for _, frag := range tc.text {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("message lacks %q:\n%s", frag, err)
				}
			}
		})
	}
}
