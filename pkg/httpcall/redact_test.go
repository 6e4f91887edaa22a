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
		{"Authorization", "Bearer " + jwt, "Bearer eyJh…(redacted)"},
		{"authorization", "Basic cXVpY2tzdGFydDpzZWNyZXQ=", "Basic …(redacted)"},
		{"Authorization", "garbage", "…(redacted)"},
		{"Cookie", "session=abc", "…(redacted)"},
		{"Content-Type", "application/json", "application/json"},
		{"X-Debug", "token " + jwt, "token eyJh…(redacted)"},
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
			[]string{"grant_type=client_credentials&client_id=quickstart-read&client_secret=…(redacted)&audience=https%3A%2F%2Fquickstarts%2Fapi"}},
		{"json token response", "application/json; charset=utf-8",
			`{"access_token":"` + jwt + `","token_type":"Bearer","expires_in":86400,"nested":[{"password":"hunter2"}]}`,
			[]string{`"access_token":"eyJh…(redacted)"`, `"token_type":"Bearer"`, `"expires_in":86400`, `"password":"…(redacted)"`}},
		{"device code", "application/json", `{"device_code":"devcode-secret-value","user_code":"ABCD"}`,
			[]string{`"device_code":"devc…(redacted)"`, `"user_code":"ABCD"`}},
		{"truncated JSON falls back to field names", "application/json", `{"client_secret":"read-secret","access_token":"` + jwt,
			[]string{`"client_secret":"…(redacted)`, `"access_token":"eyJh…(redacted)`}},
		{"plain text with a JWT", "text/plain", "your token is " + jwt + " enjoy", []string{"your token is eyJh…(redacted) enjoy"}},
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
	for _, w := range []string{"> POST " + srv.URL + "/oauth/token", "> Authorization: Bearer eyJh…(redacted)",
		"client_secret=…(redacted)", "< HTTP/1.1 200 OK", `< Www-Authenticate: Bearer realm="api"`, `"access_token":"eyJh…(redacted)"`} {
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
