package tenant

import (
	"strings"
	"testing"
)

func TestLoginClientConfigErrors(t *testing.T) {
	t.Parallel()
	const head = "apis: [{audience: a}]\nclients:\n  - id: c\n    public: true\n"
	tests := []struct {
		name, yaml string
		want       string // "" means valid
	}{
		{"native with loopback", head + "    app_type: native\n    redirect_uris: [http://127.0.0.1/callback]\n", ""},
		{"spa", head + "    app_type: spa\n    redirect_uris: [http://localhost:3000/cb]\n    web_origins: [http://localhost:3000]\n    logout_urls: [http://localhost:3000/]\n", ""},
		{"unknown app_type", head + "    app_type: desktop\n", `cfg.yaml:5: clients[0].app_type: app_type "desktop" is not one of native`},
		{"relative redirect", head + "    redirect_uris: [/callback]\n", `cfg.yaml:5: clients[0].redirect_uris[0]: redirect URI "/callback" must be an absolute http(s) URL`},
		{"redirect with fragment", head + "    redirect_uris: [\"http://x/cb#f\"]\n", "must not have a fragment"},
		{"custom scheme", head + "    redirect_uris: [\"javascript:alert(1)\"]\n", "must be an absolute http(s) URL"},
		{"user info", head + "    redirect_uris: [\"http://u@x/cb\"]\n", "must not carry user information"},
		{"wildcard origin", head + "    web_origins: [\"*\"]\n", `clients[0].web_origins[0]: web origin "*": wildcards are not allowed`},
		{"origin with path", head + "    web_origins: [http://localhost:3000/]\n", "must be scheme://host[:port]"},
		{"bad logout URL", head + "    logout_urls: [\"ftp://x/\"]\n", `clients[0].logout_urls[0]: logout URL "ftp://x/"`},
		{"user email with space", "apis: [{audience: a}]\nusers:\n  - {username: u, password: p, email: \"a b\"}\n", "email must have no spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml), "cfg.yaml")
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
