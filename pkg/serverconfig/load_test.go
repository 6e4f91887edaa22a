package serverconfig

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(nil, WithDotEnv(""), WithGetenv(envFunc(map[string]string{
		EnvAuth0Domain:   "example.us.auth0.com",
		EnvAuth0Audience: "https://quickstarts/api",
	})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Config{
		Port:                3010,
		Issuer:              "https://example.us.auth0.com/",
		Audiences:           []string{"https://quickstarts/api"},
		CORSAllowedOrigins:  []string{"http://localhost:3000"},
		ClockSkew:           30 * time.Second,
		RequiredScope:       "read:messages",
		JWKSRefreshInterval: 10 * time.Minute,
		TokenCacheSize:      DefaultTokenCacheSize,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "issuer URL wins over domain, kept exactly",
			env:  map[string]string{EnvAuth0Domain: "a.auth0.com", EnvIssuerURL: "https://idp.example/realms/x", EnvAuth0Audience: "api"},
			check: func(t *testing.T, c *Config) {
				if c.Issuer != "https://idp.example/realms/x" {
					t.Errorf("issuer %q", c.Issuer)
				}
			},
		},
		{
			name: "domain pasted as URL",
			env:  map[string]string{EnvAuth0Domain: "https://a.auth0.com/", EnvAuth0Audience: "api"},
			check: func(t *testing.T, c *Config) {
				if c.Issuer != "https://a.auth0.com/" {
					t.Errorf("issuer %q", c.Issuer)
				}
			},
		},
		{
			name: "audience list trimmed",
			env:  map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: " one , two,,three "},
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.Audiences, []string{"one", "two", "three"}) {
					t.Errorf("audiences %q", c.Audiences)
				}
			},
		},
		{
			name: "insecure issuer allowed explicitly",
			env: map[string]string{EnvIssuerURL: "http://localhost:4000/", EnvJWKSURL: "http://tenant:4000/.well-known/jwks.json",
				EnvAllowInsecureIssuer: "true", EnvAuth0Audience: "api"},
			check: func(t *testing.T, c *Config) {
				if !c.AllowInsecureIssuer || c.Issuer != "http://localhost:4000/" || c.JWKSURL != "http://tenant:4000/.well-known/jwks.json" {
					t.Errorf("config %+v", c)
				}
			},
		},
		{
			name: "flags win over environment, aliases work",
			args: []string{"--port", "8080", "--audience=flag-api", "--allow-insecure-issuer", "--issuer", "http://127.0.0.1:1/"},
			env:  map[string]string{EnvPort: "9", EnvAuth0Audience: "env-api"},
			check: func(t *testing.T, c *Config) {
				if c.Port != 8080 || !reflect.DeepEqual(c.Audiences, []string{"flag-api"}) || !c.AllowInsecureIssuer {
					t.Errorf("config %+v", c)
				}
			},
		},
		{
			name: "every variable set",
			args: []string{"--token-cache-size=0"},
			env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "api", EnvCORSAllowedOrigins: "https://app.example, http://localhost:3000/",
				EnvClockSkew: "0s", EnvRequiredScope: "write:messages", EnvJWKSRefreshInterval: "1h", EnvTokenCacheSize: "5"},
			check: func(t *testing.T, c *Config) {
				want := &Config{Port: 3010, Issuer: "https://a.auth0.com/", Audiences: []string{"api"},
					CORSAllowedOrigins: []string{"https://app.example", "http://localhost:3000"}, ClockSkew: 0,
					RequiredScope: "write:messages", JWKSRefreshInterval: time.Hour, TokenCacheSize: 0}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("config\n got %+v\nwant %+v", c, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(tt.args, WithDotEnv(""), WithGetenv(envFunc(tt.env)))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestLoadInvalidNamesEveryVariable(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // variables named, in order
		text []string // fragments of the message
	}{
		{name: "nothing set", env: nil, want: []string{EnvAuth0Domain, EnvAuth0Audience},
			text: []string{"AUTH0_DOMAIN (--auth0-domain)", "ISSUER_URL", "AUTH0_AUDIENCE (--auth0-audience): required"}},
		{name: "bad port", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvPort: "http"},
			want: []string{EnvPort}, text: []string{`PORT (--port): "http" is not a TCP port`, "(from environment)"}},
		{name: "port out of range", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvPort: "70000"},
			want: []string{EnvPort}},
		{name: "http issuer refused", env: map[string]string{EnvIssuerURL: "http://localhost:4000/", EnvAuth0Audience: "x"},
			want: []string{EnvIssuerURL}, text: []string{"ALLOW_INSECURE_ISSUER=true"}},
		{name: "http jwks refused", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvJWKSURL: "http://a/jwks"},
			want: []string{EnvJWKSURL}},
		{name: "relative issuer", env: map[string]string{EnvIssuerURL: "a.auth0.com", EnvAuth0Audience: "x"}, want: []string{EnvIssuerURL}},
		{name: "domain with path", env: map[string]string{EnvAuth0Domain: "a.auth0.com/x", EnvAuth0Audience: "x"}, want: []string{EnvAuth0Domain}},
		{name: "http domain", env: map[string]string{EnvAuth0Domain: "http://a.auth0.com", EnvAuth0Audience: "x"}, want: []string{EnvAuth0Domain}},
		{name: "blank audience list", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: " , ,"}, want: []string{EnvAuth0Audience}},
		{name: "bad bool", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvAllowInsecureIssuer: "yes please"},
			want: []string{EnvAllowInsecureIssuer}},
		{name: "bad origin", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvCORSAllowedOrigins: "localhost:3000"},
			want: []string{EnvCORSAllowedOrigins}},
		{name: "origin with path", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvCORSAllowedOrigins: "http://a/b"},
			want: []string{EnvCORSAllowedOrigins}},
		{name: "durations and ints", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x",
			EnvClockSkew: "30", EnvJWKSRefreshInterval: "1ms", EnvTokenCacheSize: "-1", EnvRequiredScope: "read messages"},
			want: []string{EnvClockSkew, EnvRequiredScope, EnvJWKSRefreshInterval, EnvTokenCacheSize}},
		{name: "huge skew", env: map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x", EnvClockSkew: "1h"},
			want: []string{EnvClockSkew}},
		{name: "all at once from flags", args: []string{"--port=0", "--clock-skew=x", "--token-cache-size=many"},
			want: []string{EnvPort, EnvAuth0Domain, EnvAuth0Audience, EnvClockSkew, EnvTokenCacheSize}, text: []string{"(from flag)", "5 problems"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, WithDotEnv(""), WithGetenv(envFunc(tt.env)))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load error = %v, want *Error", err)
			}
			if got := cerr.Variables(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("variables named = %q, want %q\n%v", got, tt.want, err)
			}
			for _, frag := range tt.text {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("message lacks %q:\n%v", frag, err)
				}
			}
		})
	}
}

func TestLoadFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"stray"}, {"--port"}} {
		if _, err := Load(args, WithDotEnv(""), WithGetenv(envFunc(nil))); err == nil {
			t.Errorf("Load(%q) succeeded, want an error", args)
		}
	}
	var out strings.Builder
	if _, err := Load([]string{"--help"}, WithDotEnv(""), WithOutput(&out)); !errors.Is(err, ErrHelp) {
		t.Errorf("--help: err = %v, want ErrHelp", err)
	}
	if !strings.Contains(out.String(), "-auth0-audience") || !strings.Contains(out.String(), "AUTH0_AUDIENCE") {
		t.Errorf("usage lacks the audience flag:\n%s", out.String())
	}
}

func TestLoadDotEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	content := "# local settings\nAUTH0_DOMAIN=dotenv.auth0.com\nAUTH0_AUDIENCE=\"dotenv-api\"\nPORT=4444\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("read when nothing else set", func(t *testing.T) {
		cfg, err := Load(nil, WithDotEnv(path), WithGetenv(envFunc(nil)))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Issuer != "https://dotenv.auth0.com/" || cfg.Audiences[0] != "dotenv-api" || cfg.Port != 4444 {
			t.Errorf("config %+v", cfg)
		}
	})
	t.Run("real environment and flags win", func(t *testing.T) {
		cfg, err := Load([]string{"--port=5555"}, WithDotEnv(path), WithGetenv(envFunc(map[string]string{EnvAuth0Audience: "env-api", EnvPort: "6666"})))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Audiences[0] != "env-api" || cfg.Port != 5555 || cfg.Issuer != "https://dotenv.auth0.com/" {
			t.Errorf("config %+v", cfg)
		}
	})
	t.Run("missing file is fine", func(t *testing.T) {
		_, err := Load(nil, WithDotEnv(filepath.Join(dir, "absent")), WithGetenv(envFunc(map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x"})))
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad value from .env named with its source", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.env")
		if err := os.WriteFile(bad, []byte("AUTH0_DOMAIN=a.auth0.com\nAUTH0_AUDIENCE=x\nCLOCK_SKEW=soon\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(nil, WithDotEnv(bad), WithGetenv(envFunc(nil)))
		if err == nil || !strings.Contains(err.Error(), "CLOCK_SKEW") || !strings.Contains(err.Error(), "(from .env)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unreadable .env is a problem", func(t *testing.T) {
		_, err := Load(nil, WithDotEnv(dir), WithGetenv(envFunc(map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "x"})))
		if err == nil || !strings.Contains(err.Error(), "cannot read") {
			t.Errorf("err = %v", err)
		}
	})
}

func FuzzLoad(f *testing.F) {
	f.Add("3010", "a.auth0.com", "https://x/", "api", "30s", "http://localhost:3000", "100")
	f.Add("", "", "http://\x00", ",", "-1s", "*", "")
	f.Fuzz(func(t *testing.T, port, domain, issuer, aud, skew, origins, cache string) {
		env := map[string]string{EnvPort: port, EnvAuth0Domain: domain, EnvIssuerURL: issuer, EnvAuth0Audience: aud,
			EnvClockSkew: skew, EnvCORSAllowedOrigins: origins, EnvTokenCacheSize: cache}
		cfg, err := Load(nil, WithDotEnv(""), WithGetenv(envFunc(env)))
		if (cfg == nil) == (err == nil) {
			t.Fatalf("exactly one of config and error must be set: %v %v", cfg, err)
		}
		if cfg != nil && (cfg.Issuer == "" || len(cfg.Audiences) == 0 || cfg.Port < 1) {
			t.Fatalf("accepted an incomplete config %+v", cfg)
		}
	})
}

func TestMaxConnections(t *testing.T) {
	base := map[string]string{EnvAuth0Domain: "a.auth0.com", EnvAuth0Audience: "api"}
	tests := []struct {
		name string
		args []string
		env  string
		want int
		bad  bool
	}{
		{name: "unset means the default", want: 0},
		{name: "variable", env: "100", want: 100},
		{name: "flag wins", args: []string{"--max-connections=7"}, env: "100", want: 7},
		{name: "zero", env: "0", bad: true},
		{name: "negative", env: "-1", bad: true},
		{name: "not a number", env: "many", bad: true},
		{name: "absurd", env: "100000000", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{EnvMaxConnections: tt.env}
			for k, v := range base {
				env[k] = v
			}
			cfg, err := Load(tt.args, WithDotEnv(""), WithGetenv(func(k string) string { return env[k] }))
			if tt.bad {
				var cerr *Error
				if !errors.As(err, &cerr) || !slices.Equal(cerr.Variables(), []string{EnvMaxConnections}) ||
					!strings.Contains(err.Error(), "--max-connections") {
					t.Fatalf("err = %v, want one MAX_CONNECTIONS (--max-connections) problem", err)
				}
				return
			}
			if err != nil || cfg.MaxConnections != tt.want {
				t.Fatalf("MaxConnections = %v (%v), want %d", cfg, err, tt.want)
			}
		})
	}
}
