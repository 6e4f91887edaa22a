package conformance

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliNames are the names client test gives, so the texts below are what its users read.
var cliNames = Names{
	Leeway: "--leeway", NoScopeClient: "--noscope-client-id and --noscope-client-secret",
	SkipRoute: "--skip-route", DPoP: "--dpop", Trap: "--listen and --listen-url", Origin: "--origin",
}

// TestNamesWordTexts: the skip reasons and notes that say what to set name no flag unless the caller gave its
// names, and then say exactly what the caller named.
func TestNamesWordTexts(t *testing.T) {
	// offline is an Env whose texts come without a request: a real tenant (no minter, no token without the scope),
	// no public route, no RFC 9728 metadata, and a trap on loopback for an API in a container.
	offline := func(n Names) *Env {
		return &Env{
			API: "http://api:3010", Issuer: "http://tenant:4000/", Names: n,
			Paths: Paths{Private: "/api/private", Scoped: "/api/private-scoped"},
			Trap:  &Trap{URL: "http://127.0.0.1:5000"},
		}
	}
	// detail runs one case of the matrix, which skips before sending anything, and is its report detail.
	detail := func(id string) func(*testing.T, *Env) string {
		return func(t *testing.T, env *Env) string {
			results := NewRunner(WithFilter(regexp.MustCompile("^"+regexp.QuoteMeta(id)+"$"))).Run(t.Context(), env)
			if len(results) != 1 || results[0].Verdict != Skip {
				t.Fatalf("%s: %+v, want one skip", id, results)
			}
			return results[0].Detail
		}
	}
	noScopeGeneric := "needs a token without the scope (a second client whose tokens lack it)"
	noScopeCLI := "needs a token without the scope: --noscope-client-id and --noscope-client-secret"
	tests := []struct {
		name         string
		text         func(*testing.T, *Env) string
		generic, cli string
	}{
		{"leeway given", func(t *testing.T, env *Env) string {
			env.learnLeeway(t.Context(), Config{Leeway: 4 * time.Second, LeewayGiven: true})
			return env.LeewayNote
		}, "4s (given by the caller)", "4s (given with --leeway)"},
		{"leeway not measurable", func(t *testing.T, env *Env) string {
			env.learnLeeway(t.Context(), Config{})
			return env.LeewayNote
		}, "unknown (measuring it needs the stand-in tenant; the caller can give it)",
			"unknown (measuring it needs the stand-in tenant; give --leeway)"},
		{"route skipped", detail("quickstart/public"),
			"the API has no such route (skipped by the caller)", "the API has no such route (--skip-route)"},
		{"no-scope token, quickstart", detail("quickstart/scoped-no-scope"), noScopeGeneric, noScopeCLI},
		{"no-scope token, cors", detail("cors/on-403"), noScopeGeneric, noScopeCLI},
		{"no-scope token, stateful", detail("stateful/scope-leak"), noScopeGeneric, noScopeCLI},
		{"DPoP not advertised", func(t *testing.T, env *Env) string {
			if err := env.prepareDPoP(t.Context(), false); err != nil {
				t.Fatal(err)
			}
			return env.DPoP.skip
		}, "the API does not advertise DPoP (no dpop_signing_alg_values_supported in its RFC 9728 metadata); forcing DPoP runs these anyway",
			"the API does not advertise DPoP (no dpop_signing_alg_values_supported in its RFC 9728 metadata); --dpop runs these anyway"},
		{"no CORS", func(_ *testing.T, env *Env) string { return env.Names.noCORS("http://localhost:3000") },
			"the API answers no CORS headers to Origin http://localhost:3000 (a preflight and a GET of the private route): it serves no browser app from there; the caller can name the origin its web app uses",
			"the API answers no CORS headers to Origin http://localhost:3000 (a preflight and a GET of the private route): it serves no browser app from there; give the origin your web app uses with --origin"},
		{"trap not conclusive", func(t *testing.T, env *Env) string {
			c := caseByID(t, "forged/jku-attacker-url")
			note, err := c.Check(t.Context(), env, nil)
			if err != nil {
				t.Fatal(err)
			}
			return note
		}, "never fetched, not conclusive: the API at api may not reach the trap at http://127.0.0.1:5000; serve the trap at an address the API can reach",
			"never fetched, not conclusive: the API at api may not reach the trap at http://127.0.0.1:5000; set --listen and --listen-url to an address it can reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.text(t, offline(Names{})); got != tt.generic || strings.Contains(got, "--") {
				t.Errorf("without names: %q\nwant %q, naming no flag", got, tt.generic)
			}
			if got := tt.text(t, offline(cliNames)); got != tt.cli {
				t.Errorf("with the CLI's names: %q\nwant %q", got, tt.cli)
			}
		})
	}
}

func caseByID(t *testing.T, id string) Case {
	t.Helper()
	for _, c := range Matrix() {
		if c.ID() == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return Case{}
}

// TestPrepareConfigError: a Config lacking what the suite needs is a ConfigError naming the field, matching
// ErrConfig, before any request.
func TestPrepareConfigError(t *testing.T) {
	full := Config{API: "http://127.0.0.1:1", Issuer: "http://127.0.0.1:1/", Audience: "https://api"}
	tests := []struct {
		name   string
		change func(*Config)
		field  string
	}{
		{"no audience", func(c *Config) { c.Audience = "" }, "Audience"},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer"},
		{"no API", func(c *Config) { c.API = "" }, "API"},
		{"nothing: the audience first", func(c *Config) { *c = Config{} }, "Audience"},
		{"no protected route", func(c *Config) { c.Paths = Paths{Public: "/api/public"} }, "Paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := full
			tt.change(&cfg)
			_, err := Prepare(t.Context(), cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field || !errors.Is(err, ErrConfig) {
				t.Fatalf("Prepare: %v, want a ConfigError for %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("%q names a flag", err)
			}
		})
	}
}
