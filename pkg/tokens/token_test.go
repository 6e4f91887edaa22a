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

func discover(t *testing.T, issuer string) *Discovery {
	t.Helper()
	d, err := Discover(context.Background(), &http.Client{Timeout: 5 * time.Second}, issuer)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return d
}

func TestClientCredentials(t *testing.T) {
	ft := newFakeTenant(t)
	d := discover(t, ft.url())
	tests := []struct {
		name     string
		req      Request
		wantErr  string
		wantCode string
		wantIs   error
	}{
		{name: "granted", req: Request{ClientID: "quickstart-read", ClientSecret: "read-secret", Audience: testissuer.Audience, Scope: "read:messages"}},
		{name: "wrong secret shows the tenant's description", req: Request{ClientID: "quickstart-read", ClientSecret: "nope", Audience: testissuer.Audience},
			wantErr: "HTTP 401 invalid_client): Unauthorized", wantCode: "invalid_client"},
		{name: "audience not granted", req: Request{ClientID: "quickstart-read", ClientSecret: "read-secret", Audience: "https://other"},
			wantErr: "Client has not been granted scopes for https://other", wantCode: "access_denied"},
		{name: "no client id", req: Request{ClientSecret: "s"}, wantErr: "no client id", wantIs: ErrNoClientID},
		{name: "no secret", req: Request{ClientID: "quickstart-read"}, wantErr: "no client secret", wantIs: ErrNoClientSecret},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ClientCredentials(context.Background(), &http.Client{Timeout: 5 * time.Second}, d, tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				te, isTE := errors.AsType[*TokenError](err)
				if tc.wantCode != "" && (!isTE || te.Code != tc.wantCode) {
					t.Fatalf("error %v is not a TokenError with code %q", err, tc.wantCode)
				}
				if isTE && te.Hint != "" {
					t.Errorf("Hint = %q: which setting to fix is the caller's to say", te.Hint)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Fatalf("error %v is not %v", err, tc.wantIs)
				}
				assertNoCLIWords(t, err)
				return
			}
			if err != nil {
				t.Fatalf("ClientCredentials: %v", err)
			}
			form := ft.form()
			if got := form["audience"]; len(got) != 1 || got[0] != testissuer.Audience {
				t.Errorf("audience sent = %v, want %q", got, testissuer.Audience)
			}
			if got := form["client_secret"]; len(got) != 1 || got[0] != "read-secret" {
				t.Errorf("client_secret not sent in the form body (client_secret_post): %v", got)
			}
			if got := form["scope"]; len(got) != 1 || got[0] != "read:messages" {
				t.Errorf("scope sent = %v", got)
			}
			if tok.TokenType != "Bearer" || tok.Scope != "read:messages" {
				t.Errorf("token type %q scope %q", tok.TokenType, tok.Scope)
			}
			if until := time.Until(tok.Expiry); until < 59*time.Minute || until > time.Hour {
				t.Errorf("expiry in %v, want about 1h", until)
			}
			_, claims, err := DecodeUnverified(tok.AccessToken)
			if err != nil || claims["sub"] != "quickstart-read@clients" {
				t.Errorf("decoded claims %v, err %v", claims, err)
			}
		})
	}
}

func TestClientCredentialsUnreachable(t *testing.T) {
	ft := newFakeTenant(t)
	d := discover(t, ft.url())
	ft.srv.Close()
	_, err := ClientCredentials(context.Background(), &http.Client{Timeout: 5 * time.Second}, d,
		Request{ClientID: "a", ClientSecret: "b", Audience: testissuer.Audience})
	if err == nil || !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "cannot reach the token endpoint") {
		t.Fatalf("error = %v, want an ErrUnreachable naming the token endpoint", err)
	}
	if ue, ok := errors.AsType[*UnreachableError](err); !ok || ue.What != "token endpoint" || ue.URL != d.TokenEndpoint {
		t.Errorf("error %#v: want an *UnreachableError for the token endpoint %s", err, d.TokenEndpoint)
	}
	assertNoCLIWords(t, err)
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err)
	}
}

func TestClientCredentialsNoTokenEndpoint(t *testing.T) {
	_, err := ClientCredentials(context.Background(), nil, &Discovery{Issuer: "x"}, Request{ClientID: "a", ClientSecret: "b"})
	if err == nil || !strings.Contains(err.Error(), "no token_endpoint") {
		t.Fatalf("error = %v", err)
	}
}

func TestTokenValid(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		tok  *Token
		want bool
	}{
		{"nil", nil, false},
		{"empty", &Token{Expiry: now.Add(time.Hour)}, false},
		{"no expiry", &Token{AccessToken: "a"}, false},
		{"fresh", &Token{AccessToken: "a", Expiry: now.Add(time.Hour)}, true},
		{"inside margin", &Token{AccessToken: "a", Expiry: now.Add(30 * time.Second)}, false},
		{"expired", &Token{AccessToken: "a", Expiry: now.Add(-time.Second)}, false},
	}
	for _, tc := range tests {
		if got := tc.tok.Valid(now, time.Minute); got != tc.want {
			t.Errorf("%s: Valid = %v, want %v", tc.name, got, tc.want)
		}
	}
}
