package tenant

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// deviceFixture is a tenant with a hand-moved clock, a 1-minute device code TTL and a 5-second interval.
func deviceFixture(t *testing.T) (*fixture, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	return start(t, nil, Options{Now: clock.Now, DeviceCodeTTL: time.Minute, DevicePollInterval: 5 * time.Second}), clock
}

func (f *fixture) deviceCode(v url.Values) (*http.Response, map[string]any) {
	f.t.Helper()
	return f.postForm(PathDeviceCode, v)
}

func (f *fixture) startDevice(scope string) map[string]any {
	f.t.Helper()
	resp, body := f.deviceCode(url.Values{"client_id": {"cli"}, "audience": {testAudience}, "scope": {scope}})
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("device code: %d %v", resp.StatusCode, body)
	}
	return body
}

func (f *fixture) poll(deviceCode string) (*http.Response, map[string]any) {
	f.t.Helper()
	return f.postForm(PathToken, url.Values{"grant_type": {grantDeviceCode}, "client_id": {"cli"}, "device_code": {deviceCode}})
}

func (f *fixture) activate(userCode, username, password, action string) (int, string) {
	f.t.Helper()
	v := url.Values{"user_code": {userCode}, "username": {username}, "password": {password}, "action": {action}}
	resp, b := f.do(http.MethodPost, PathActivate, "application/x-www-form-urlencoded", v.Encode(), nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		f.t.Errorf("activate Content-Type %q", ct)
	}
	return resp.StatusCode, string(b)
}

func wantOAuthError(t *testing.T, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, code)
	}
}

func TestDeviceFlowApproved(t *testing.T) {
	t.Parallel()
	f, clock := deviceFixture(t)
	d := f.startDevice("openid profile read:messages write:messages")
	userCode := d["user_code"].(string)
	if len(userCode) != 9 || userCode[4] != '-' || normalizeUserCode(userCode) != userCode {
		t.Fatalf("user_code %q", userCode)
	}
	base := f.srv.URL + "/activate"
	if d["verification_uri"] != base || d["verification_uri_complete"] != base+"?user_code="+userCode ||
		d["expires_in"] != float64(60) || d["interval"] != float64(5) || len(d["device_code"].(string)) < 32 {
		t.Fatalf("device code response %v", d)
	}
	code := d["device_code"].(string)

	resp, body := f.poll(code)
	wantOAuthError(t, resp, body, 400, "authorization_pending")
	resp, body = f.poll(code) // at once: too fast
	wantOAuthError(t, resp, body, 400, "slow_down")
	clock.Advance(6 * time.Second) // the interval is now 10s
	resp, body = f.poll(code)
	wantOAuthError(t, resp, body, 400, "slow_down")
	clock.Advance(16 * time.Second)
	resp, body = f.poll(code)
	wantOAuthError(t, resp, body, 400, "authorization_pending")

	// The page from verification_uri_complete is prefilled.
	resp2, page := f.do(http.MethodGet, "/activate?user_code="+strings.ToLower(userCode), "", "", nil)
	if resp2.StatusCode != 200 || !strings.Contains(string(page), `value="`+userCode+`"`) ||
		!strings.Contains(resp2.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("activate page %d: %s", resp2.StatusCode, page)
	}

	status, html := f.activate(userCode, "alice", "wrong", "approve")
	if status != http.StatusForbidden || !strings.Contains(html, "Wrong username or password") {
		t.Fatalf("wrong password: %d %s", status, html)
	}
	status, html = f.activate(userCode, "mallory", "alice-password", "approve")
	if status != http.StatusForbidden || !strings.Contains(html, "Wrong username or password") {
		t.Fatalf("unknown user: %d %s", status, html)
	}
	// Typed in lower case without the dash.
	status, html = f.activate(strings.ToLower(strings.ReplaceAll(userCode, "-", "")), "alice", "alice-password", "approve")
	if status != http.StatusOK || !strings.Contains(html, "Device approved") {
		t.Fatalf("approve: %d %s", status, html)
	}
	status, _ = f.activate(userCode, "alice", "alice-password", "approve")
	if status != http.StatusBadRequest {
		t.Fatalf("second approval: %d, want 400", status)
	}

	clock.Advance(30 * time.Second)
	resp, body = f.poll(code)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("poll after approval: %d %v", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || body["scope"] != "read:messages" {
		t.Fatalf("token response %v", body)
	}
	claims := payload(t, body["access_token"].(string))
	assertSignedByCurrentKey(t, f, body["access_token"].(string))
	// alice has read:messages only; write:messages was asked for and is not granted.
	if claims["sub"] != "auth0|alice" || claims["azp"] != "cli" || claims["aud"] != testAudience ||
		claims["scope"] != "read:messages" || claims["iss"] != f.issuer {
		t.Fatalf("claims %v", claims)
	}
	resp, body = f.poll(code) // a device code gives one token
	wantOAuthError(t, resp, body, 400, "invalid_grant")
}

func TestDeviceFlowDenied(t *testing.T) {
	t.Parallel()
	f, clock := deviceFixture(t)
	d := f.startDevice("")
	status, html := f.activate(d["user_code"].(string), "alice", "alice-password", "deny")
	if status != http.StatusOK || !strings.Contains(html, "Access denied") {
		t.Fatalf("deny: %d %s", status, html)
	}
	clock.Advance(5 * time.Second)
	resp, body := f.poll(d["device_code"].(string))
	wantOAuthError(t, resp, body, 400, "access_denied")
}

func TestDeviceFlowExpired(t *testing.T) {
	t.Parallel()
	f, clock := deviceFixture(t)
	d := f.startDevice("read:messages")
	clock.Advance(61 * time.Second)
	status, _ := f.activate(d["user_code"].(string), "alice", "alice-password", "approve")
	if status != http.StatusBadRequest {
		t.Fatalf("approving an expired code: %d, want 400", status)
	}
	resp, body := f.poll(d["device_code"].(string))
	wantOAuthError(t, resp, body, 400, "expired_token")
}

func TestDeviceFlowAllUserScopesByDefault(t *testing.T) {
	t.Parallel()
	f, _ := deviceFixture(t)
	d := f.startDevice("")
	if status, html := f.activate(d["user_code"].(string), "alice", "alice-password", "approve"); status != 200 {
		t.Fatalf("approve: %d %s", status, html)
	}
	resp, body := f.poll(d["device_code"].(string))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	if c := f.mustVerify(body["access_token"].(string)); c["scope"] != "read:messages" || c["sub"] != "auth0|alice" {
		t.Fatalf("claims %v", c)
	}
}

func TestDeviceFlowErrors(t *testing.T) {
	t.Parallel()
	f, _ := deviceFixture(t)
	tests := []struct {
		name   string
		v      url.Values
		status int
		code   string
	}{
		{"confidential client", url.Values{"client_id": {"quickstart-read"}, "client_secret": {"read-secret"}, "audience": {testAudience}}, 400, "unauthorized_client"},
		{"unknown client", url.Values{"client_id": {"nobody"}, "audience": {testAudience}}, 401, "invalid_client"},
		{"no client", url.Values{"audience": {testAudience}}, 401, "invalid_client"},
		{"missing audience", url.Values{"client_id": {"cli"}}, 400, "invalid_request"},
		{"unknown audience", url.Values{"client_id": {"cli"}, "audience": {"https://nope/"}}, 403, "access_denied"},
		{"unknown scope", url.Values{"client_id": {"cli"}, "audience": {testAudience}, "scope": {"read:messages delete:all"}}, 400, "invalid_scope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.deviceCode(tc.v)
			wantOAuthError(t, resp, body, tc.status, tc.code)
		})
	}

	d := f.startDevice("")
	t.Run("poll without device_code", func(t *testing.T) {
		resp, body := f.postForm(PathToken, url.Values{"grant_type": {grantDeviceCode}, "client_id": {"cli"}})
		wantOAuthError(t, resp, body, 400, "invalid_request")
	})
	t.Run("unknown device_code", func(t *testing.T) {
		resp, body := f.poll("not-a-code")
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("device code of another client", func(t *testing.T) {
		resp, body := f.postForm(PathToken, url.Values{"grant_type": {grantDeviceCode}, "client_id": {"quickstart-read"},
			"client_secret": {"read-secret"}, "device_code": {d["device_code"].(string)}})
		wantOAuthError(t, resp, body, 400, "invalid_grant")
	})
	t.Run("activate without action", func(t *testing.T) {
		if status, _ := f.activate(d["user_code"].(string), "alice", "alice-password", ""); status != 400 {
			t.Fatalf("%d, want 400", status)
		}
	})
	t.Run("activate with an unknown code", func(t *testing.T) {
		status, html := f.activate("BBBB-BBBB", "alice", "alice-password", "approve")
		if status != 400 || !strings.Contains(html, "not valid") {
			t.Fatalf("%d %s", status, html)
		}
	})
	t.Run("activate escapes what it echoes", func(t *testing.T) {
		status, html := f.activate(`<script>x</script>`, `"><b>`, "x", "approve")
		if status != 400 || strings.Contains(html, "<script>x") || strings.Contains(html, `"><b>`) {
			t.Fatalf("%d %s", status, html)
		}
		resp, page := f.do(http.MethodGet, "/activate?user_code=%3Cscript%3E", "", "", nil)
		if resp.StatusCode != 200 || strings.Contains(string(page), "<script>") {
			t.Fatalf("GET reflects markup: %s", page)
		}
	})
	t.Run("activate huge form", func(t *testing.T) {
		resp, _ := f.do(http.MethodPost, PathActivate, "application/x-www-form-urlencoded", "user_code="+strings.Repeat("B", maxActivateBytes), nil)
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d, want 413", resp.StatusCode)
		}
	})
}

func TestDeviceStoreBounded(t *testing.T) {
	t.Parallel()
	now := time.Now()
	s := newDeviceStore(time.Minute, time.Second, 2, 2)
	for i := range 2 {
		if _, err := s.start(now, "cli", testAudience, nil); err != nil {
			t.Fatalf("start %d refused: %v", i, err)
		}
	}
	if _, err := s.start(now, "cli", testAudience, nil); err == nil {
		t.Fatal("a third pending authorization was accepted beyond the bound")
	}
	// Expired entries are kept one more TTL (to answer expired_token), then swept.
	if _, err := s.start(now.Add(90*time.Second), "cli", testAudience, nil); err == nil {
		t.Fatal("swept too early")
	}
	if _, err := s.start(now.Add(121*time.Second), "cli", testAudience, nil); err != nil {
		t.Fatalf("expired entries were not swept: %v", err)
	}
	if len(s.byDevice) != 1 || len(s.byUser) != 1 {
		t.Fatalf("after sweep: %d by device, %d by user", len(s.byDevice), len(s.byUser))
	}
}

func TestNormalizeUserCode(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"BDWP-HQPK": "BDWP-HQPK", "bdwphqpk": "BDWP-HQPK", " bdwp hqpk ": "BDWP-HQPK",
		"BDWP-HQP": "", "BDWP-HQPKX": "", "AEIO-UUUU": "", "BDWP-HQP1": "", "": "", "<script>": "",
	}
	for in, want := range tests {
		if got := normalizeUserCode(in); got != want {
			t.Errorf("normalizeUserCode(%q) = %q, want %q", in, got, want)
		}
	}
}
