package httpcall

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZWNyZXQtc3ViIn0.c2lnbmF0dXJlLXNlY3JldA"

func TestRedactHeaderValue(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Authorization", "Bearer " + jwt, "Bearer eyJhbGciOi…[redacted]"},
		{"authorization", "Basic cXVpY2tzdGFydDpzZWNyZXQ=", "Basic [redacted]"},
		{"Authorization", "garbage", "[redacted]"},
		{"Cookie", "session=abc", "[redacted]"},
		{"Content-Type", "application/json", "application/json"},
		{"X-Debug", "token " + jwt, "token eyJhbGciOi…[redacted]"},
	}
	for _, tc := range tests {
		if got := RedactHeaderValue(tc.name, tc.value); got != tc.want {
			t.Errorf("RedactHeaderValue(%s, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestRedactBody(t *testing.T) {
	secrets := []string{"read-secret", "hunter2", "sig", "c2lnbmF0dXJlLXNlY3JldA", "devcode-secret-value"}
	tests := []struct {
		name, ct, body string
		want           []string
	}{
		{"form", "application/x-www-form-urlencoded",
			"grant_type=client_credentials&client_id=quickstart-read&client_secret=read-secret&audience=https%3A%2F%2Fquickstarts%2Fapi",
			[]string{"grant_type=client_credentials&client_id=quickstart-read&client_secret=[redacted]&audience=https%3A%2F%2Fquickstarts%2Fapi"}},
		{"json token response", "application/json; charset=utf-8",
			`{"access_token":"` + jwt + `","token_type":"Bearer","expires_in":86400,"nested":[{"password":"hunter2"}]}`,
			[]string{`"access_token":"eyJhbGciOi…[redacted]"`, `"token_type":"Bearer"`, `"expires_in":86400`, `"password":"[redacted]"`}},
		{"device code", "application/json", `{"device_code":"devcode-secret-value","user_code":"ABCD"}`,
			[]string{`"device_code":"[redacted]"`, `"user_code":"ABCD"`}},
		{"truncated JSON falls back to field names", "application/json", `{"client_secret":"read-secret","access_token":"` + jwt,
			[]string{`"client_secret":"[redacted]`, `"access_token":"eyJhbGciOi…[redacted]`}},
		{"plain text with a JWT", "text/plain", "your token is " + jwt + " enjoy", []string{"your token is eyJhbGciOi…[redacted] enjoy"}},
		{"mint request", "application/json", `{"claims":{"sub":"x"},"header":{"kid":"k"}}`, []string{`"sub":"x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactBody(tc.ct, []byte(tc.body))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("RedactBody = %s\nwant it to contain %s", got, w)
				}
			}
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Errorf("RedactBody leaked %q: %s", s, got)
				}
			}
		})
	}
}

func TestVerbose(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": jwt, "got_secret": r.PostForm.Get("client_secret") == "read-secret",
			"filler": strings.Repeat("y", 3*shownBody)})
	}))
	t.Cleanup(srv.Close)
	var log bytes.Buffer
	hc := Verbose(NewClient(2*time.Second), &log)
	form := url.Values{"client_id": {"quickstart-read"}, "client_secret": {"read-secret"}}
	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+jwt)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil || got["access_token"] != jwt || got["got_secret"] != true {
		t.Fatalf("caller must still get the full, unredacted exchange: %v %s", err, body)
	}
	out := log.String()
	for _, w := range []string{"> POST " + srv.URL + "/oauth/token", "> Authorization: Bearer eyJhbGciOi…[redacted]",
		"client_secret=[redacted]", "< HTTP/1.1 200 OK", `< Www-Authenticate: Bearer realm="api"`, `"access_token":"eyJhbGciOi…[redacted]"`} {
		if !strings.Contains(out, w) {
			t.Errorf("verbose output lacks %q:\n%s", w, out)
		}
	}
	for _, leak := range []string{"read-secret", jwt, "c2lnbmF0dXJlLXNlY3JldA"} {
		if strings.Contains(out, leak) {
			t.Errorf("verbose output leaked %q:\n%s", leak, out)
		}
	}
}

// FuzzRedactBody checks redaction never panics and never lets a client_secret through in a form body, whatever
// surrounds it.
func FuzzRedactBody(f *testing.F) {
	f.Add("client_id=a&audience=b", "s3cr3t-value")
	f.Add("", "x%zz-secret")
	f.Add("a=%&b==", "long-secret-string")
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if len(secret) < 6 || strings.ContainsAny(secret, "&=%+") || strings.Contains(prefix, secret) ||
			strings.Contains("client_secret="+redactedMark, secret) {
			t.Skip()
		}
		body := prefix + "&client_secret=" + url.QueryEscape(secret)
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/json"} {
			got := RedactBody(ct, []byte(body))
			if strings.Contains(got, url.QueryEscape(secret)) || strings.Contains(got, secret) {
				t.Fatalf("RedactBody(%s, %q) leaked the secret: %q", ct, body, got)
			}
		}
	})
}

func TestRedactHeaderByName(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"Proxy-Authorization", "Bearer " + jwt, "Bearer eyJhbGciOi…[redacted]"},
		{"Authorization", "Bearer opaque-token-value", "Bearer [redacted]"},
		{"Authorization", jwt, "eyJhbGciOi…[redacted]"},
		{"Set-Cookie", "sid=abc; Path=/; HttpOnly", "[redacted]"},
		{"X-Auth-Token", "opaque-token-value", "[redacted]"},
		{"X-Api-Key", "k-123456", "[redacted]"},
		{"X-Session-Id", "s-123456", "[redacted]"},
		{"X-My-Secret", "hunter2", "[redacted]"},
		{"X-Password", "hunter2", "[redacted]"},
		{"X-Refresh-Token", jwt, "eyJhbGciOi…[redacted]"},
		{"Www-Authenticate", `Bearer realm="api", error="invalid_token"`, `Bearer realm="api", error="invalid_token"`},
		{"Location", "https://app/cb?code=abc123&state=s1", "https://app/cb?code=[redacted]&state=s1"},
		{"Referer", "https://app/#access_token=" + jwt + "&token_type=Bearer", "https://app/#access_token=eyJhbGciOi…[redacted]&token_type=Bearer"},
		{"X-Request-Id", "42", "42"},
		{"Link", "<https://api/next?token=opaque123>; rel=next", "<https://api/next?token=[redacted]>; rel=next"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactHeaderValue(tc.name, tc.value); got != tc.want {
				t.Errorf("RedactHeaderValue(%s, %q) = %q, want %q", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://localhost:3010/api/private", "http://localhost:3010/api/private"},
		{"http://localhost:3010/api/private?access_token=" + jwt, "http://localhost:3010/api/private?access_token=eyJhbGciOi…[redacted]"},
		{"http://h/p?id_token=" + jwt + "&x=1", "http://h/p?id_token=eyJhbGciOi…[redacted]&x=1"},
		{"http://h/p?refresh_token=opaque-refresh&code=c0de&client_secret=s3cret&token=t0k", "http://h/p?refresh_token=[redacted]&code=[redacted]&client_secret=[redacted]&token=[redacted]"},
		{"http://h/p?anything=" + jwt, "http://h/p?anything=eyJhbGciOi…[redacted]"},
		{"http://h/tokens/" + jwt + "/info", "http://h/tokens/eyJhbGciOi…[redacted]/info"},
		{"http://user:pass@h/p", "http://[redacted]@h/p"},
		{"/api/private?access_token=abc&q=ok", "/api/private?access_token=[redacted]&q=ok"},
		{"http://h/p?ACCESS_TOKEN=abc", "http://h/p?ACCESS_TOKEN=[redacted]"},
		{"http://h/p?token_type=Bearer&expires_in=10", "http://h/p?token_type=Bearer&expires_in=10"},
		{"http://h/p?" + jwt, "http://h/p?eyJhbGciOi…[redacted]"},
		{"http://h/p?access%5Ftoken=abc", "http://h/p?access%5Ftoken=[redacted]"},
		{"http://h/%zz?access_token=abc", "http://h/%zz?access_token=[redacted]"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	tests := []struct {
		name, in string
		leaks    []string
		mustKeep []string
	}{
		{"url and bare jwt", `Get "http://127.0.0.1:1/api?access_token=opaque-secret-1": dial tcp: connection refused; token ` + jwt,
			[]string{"opaque-secret-1", jwt, "c2lnbmF0dXJlLXNlY3JldA"}, []string{"access_token=[redacted]", "connection refused"}},
		{"space in the path cuts the url short", `Get "http://h/a b?session_id=opaque-secret-2&x=1": failed`,
			[]string{"opaque-secret-2"}, []string{"session_id=[redacted]", "&x=1"}},
		{"path without a scheme", `parse "/cb?client_secret=opaque-secret-3&state=ok": invalid`,
			[]string{"opaque-secret-3"}, []string{"client_secret=[redacted]", "state=ok"}},
		{"describing names stay", `see /x?token_type=Bearer&expires_in=3600`, nil, []string{"token_type=Bearer", "expires_in=3600"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RedactText(tc.in)
			for _, leak := range tc.leaks {
				if strings.Contains(got, leak) {
					t.Errorf("RedactText leaked %q: %s", leak, got)
				}
			}
			for _, keep := range tc.mustKeep {
				if !strings.Contains(got, keep) {
					t.Errorf("RedactText = %s, lacks %q", got, keep)
				}
			}
		})
	}
}

// TestVerboseQueryToken sends a token in the query and in a header through real HTTP; neither may appear in the
// verbose output, not even in the transport error of a second, failing request.
func TestVerboseQueryToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/next?code=auth-code-secret")
		w.Header().Set("Set-Cookie", "sid=cookie-secret")
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	const opaque = "opaque-query-secret"
	var log bytes.Buffer
	hc := Verbose(NewClient(2*time.Second), &log)
	for _, target := range []string{srv.URL + "/api?access_token=" + opaque + "&id=" + jwt, "http://127.0.0.1:1/api?access_token=" + opaque} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, target, nil)
		req.Header.Set("X-Api-Key", "header-secret")
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	out := log.String()
	for _, leak := range []string{opaque, jwt, "c2lnbmF0dXJlLXNlY3JldA", "auth-code-secret", "cookie-secret", "header-secret"} {
		if strings.Contains(out, leak) {
			t.Errorf("verbose output leaked %q:\n%s", leak, out)
		}
	}
	for _, w := range []string{"access_token=[redacted]", "id=eyJhbGciOi…[redacted]", "< Location: /next?code=[redacted]", "! "} {
		if !strings.Contains(out, w) {
			t.Errorf("verbose output lacks %q:\n%s", w, out)
		}
	}
}

// FuzzRedactURL checks that a token in a sensitive query parameter, or a JWT-shaped value anywhere in the query,
// never survives RedactURL or RedactText, whatever URL surrounds it, and that nothing panics.
func FuzzRedactURL(f *testing.F) {
	f.Add("http://localhost:3010/api/private", "access_token", "s3cr3t-value")
	f.Add("/x?a=1&b", "code", "abcdef")
	f.Add("http://h/%zz#frag", "id_token", jwt)
	f.Add("http://u:p@h:1/p?q", "other", jwt)
	f.Add(" ", "token0", "000000")            // a space in the path cut the quoted URL short of its query
	f.Add("00\x96 00000", "token0", "000000") // the path escaped spells the secret: "%2000000"
	f.Fuzz(func(t *testing.T, base, name, secret string) {
		_ = RedactURL(base + secret)
		_ = RedactText(base + " " + secret)
		if !sensitiveParam(name) && !looksLikeJWT(secret) {
			t.Skip()
		}
		if len(secret) < 6 || strings.ContainsAny(base+name, "#?&=%") || strings.Contains(base, secret) ||
			strings.Contains(name, secret) || strings.Contains(redactedMark, secret) {
			t.Skip()
		}
		if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "/") {
			base = "http://h/" + base
		}
		bare := base + "?" + url.QueryEscape(name) + "="
		target := bare + url.QueryEscape(secret)
		inText := func(u string) string { return `Get "` + u + `": failed` }
		for _, redact := range []func(string) string{RedactURL, func(u string) string { return RedactText(inText(u)) }} {
			// The same URL with an empty value: what the rest of it becomes (escaped, say "%20" before "00000")
			// may spell the secret by chance, and that is no leak.
			background := redact(bare)
			got := redact(target)
			for _, leak := range []string{secret, url.QueryEscape(secret)} {
				if strings.Contains(got, leak) && !strings.Contains(background, leak) {
					t.Fatalf("redaction of %q leaked the secret: %q", target, got)
				}
			}
		}
	})
}
