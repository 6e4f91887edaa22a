package tokens

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokencheck/tokencheck/internal/testissuer"
)

func TestDevice(t *testing.T) {
	tests := []struct {
		name    string
		verdict string // what the user does after seeing the prompt
		wantErr string
	}{
		{name: "approved", verdict: "approved"},
		{name: "denied", verdict: "denied", wantErr: "access_denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ft := newFakeTenant(t)
			d := discover(t, ft.url())
			var prompt DevicePrompt
			tok, err := Device(context.Background(), &http.Client{Timeout: 5 * time.Second}, d, DeviceRequest{
				ClientID: "cli", Audience: testissuer.Audience, Scope: "openid read:messages", Interval: time.Second,
				Prompt: func(p DevicePrompt) {
					prompt = p
					ft.setDevice("dev-cli", tc.verdict)
				},
			})
			if prompt.UserCode != "ABCD-EFGH" || !strings.HasSuffix(prompt.VerificationURI, "/activate") {
				t.Errorf("prompt = %+v", prompt)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Device: %v", err)
			}
			if tok.AccessToken == "" || tok.Scope != "read:messages" {
				t.Errorf("token = %+v", tok)
			}
			if got := ft.form()["device_code"]; len(got) != 1 || got[0] != "dev-cli" {
				t.Errorf("device_code sent with the token poll = %v", got)
			}
		})
	}
}

func TestDeviceCancel(t *testing.T) {
	ft := newFakeTenant(t)
	d := discover(t, ft.url())
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	_, err := Device(ctx, nil, d, DeviceRequest{ClientID: "cli", Audience: testissuer.Audience,
		Prompt: func(DevicePrompt) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("Device took %v after cancel", time.Since(start))
	}
}

func TestDeviceMisconfigured(t *testing.T) {
	tests := []struct {
		name    string
		d       *Discovery
		id      string
		wantErr string
		wantIs  error
	}{
		{"no device endpoint", &Discovery{TokenEndpoint: "http://x/oauth/token"}, "cli", "no device_authorization_endpoint", nil},
		{"no client id", &Discovery{TokenEndpoint: "http://x/t", DeviceAuthorizationEndpoint: "http://x/d"}, "",
			"no client id: the device code grant needs a native application's client id", ErrNoClientID},
	}
	for _, tc := range tests {
		_, err := Device(context.Background(), nil, tc.d, DeviceRequest{ClientID: tc.id})
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error = %v, want %q", tc.name, err, tc.wantErr)
		}
		if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
			t.Errorf("%s: error %v is not %v", tc.name, err, tc.wantIs)
		}
		assertNoCLIWords(t, err)
	}
}
