package tenant

import (
	"crypto/rand"
	"fmt"
	"math"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Default bounds on outstanding device authorizations: enough for any test run, few enough that a loop calling
// /oauth/device/code cannot grow memory. Expired ones are swept before a request is refused.
const (
	// DefaultMaxPendingDevices bounds the store as a whole, so memory stays small whatever clients do.
	DefaultMaxPendingDevices = 1000
	// DefaultMaxPendingDevicesPerClient keeps one looping client from taking every slot from the others.
	DefaultMaxPendingDevicesPerClient = 100
)

// slowDownStep is how much a device's polling interval grows each time it polls too fast (RFC 8628 §3.5).
const slowDownStep = 5 * time.Second

// userCodeAlphabet has no vowels (no words) and no look-alikes (0/O, 1/I), as RFC 8628 §6.1 suggests.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
)

// deviceAuth is one device authorization from its code request to its token (or refusal).
type deviceAuth struct {
	deviceCode, userCode string
	clientID, audience   string
	requested            []string // API scopes asked for; empty means all the user has
	expires              time.Time
	interval             time.Duration
	lastPoll             time.Time
	state                deviceState
	username             string
	granted              []string
}

// deviceStore keeps pending device authorizations by device code and by user code. Entries are swept once they
// are well past expiry, so memory stays bounded without a background goroutine.
type deviceStore struct {
	ttl, interval  time.Duration
	max, perClient int

	mu       sync.Mutex
	byDevice map[string]*deviceAuth
	byUser   map[string]*deviceAuth
}

func newDeviceStore(ttl, interval time.Duration, maxEntries, perClient int) *deviceStore {
	return &deviceStore{ttl: ttl, interval: interval, max: maxEntries, perClient: perClient,
		byDevice: map[string]*deviceAuth{}, byUser: map[string]*deviceAuth{}}
}

// sweep drops entries expired for longer than ttl; until then a poll still learns expired_token. Caller holds mu.
func (s *deviceStore) sweep(now time.Time) {
	for code, a := range s.byDevice {
		if now.After(a.expires.Add(s.ttl)) {
			s.remove(code, a)
		}
	}
}

func (s *deviceStore) remove(code string, a *deviceAuth) {
	delete(s.byDevice, code)
	delete(s.byUser, a.userCode)
}

// start records a new pending authorization and returns it with fresh codes. When the client already has
// perClient unexpired ones, or the store holds max (expired ones count until swept), it returns a 429 slow_down error whose Retry-After is when
// the oldest of them expires.
func (s *deviceStore) start(now time.Time, clientID, audience string, requested []string) (deviceAuth, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	var mine int
	var oldestMine, oldest time.Time
	for _, a := range s.byDevice {
		if oldest.IsZero() || a.expires.Before(oldest) {
			oldest = a.expires
		}
		if a.clientID == clientID && !now.After(a.expires) {
			mine++
			if oldestMine.IsZero() || a.expires.Before(oldestMine) {
				oldestMine = a.expires
			}
		}
	}
	switch {
	case mine >= s.perClient:
		return deviceAuth{}, tooManyDevices(fmt.Sprintf("client %q has %d device authorizations outstanding; finish or let some expire before starting more",
			clientID, mine), oldestMine.Sub(now))
	case len(s.byDevice) >= s.max:
		return deviceAuth{}, tooManyDevices(fmt.Sprintf("the tenant has %d device authorizations outstanding; retry later", len(s.byDevice)),
			oldest.Add(s.ttl).Sub(now)) // when sweep frees the oldest entry
	}
	a := &deviceAuth{
		deviceCode: newID(32), clientID: clientID, audience: audience, requested: requested,
		expires: now.Add(s.ttl), interval: s.interval,
	}
	for {
		a.userCode = newUserCode()
		if _, taken := s.byUser[a.userCode]; !taken {
			break
		}
	}
	s.byDevice[a.deviceCode] = a
	s.byUser[a.userCode] = a
	return *a, nil
}

// tooManyDevices is RFC 8628's slow_down as a 429 with Retry-After: the client should wait, not retry at once.
func tooManyDevices(desc string, wait time.Duration) *oauthError {
	return &oauthError{status: http.StatusTooManyRequests, code: "slow_down", description: desc,
		retryAfter: max(1, int(math.Ceil(wait.Seconds())))}
}

// pendingByUserCode is the authorization a user code names, if it is still waiting for a decision.
func (s *deviceStore) pendingByUserCode(now time.Time, userCode string) (deviceAuth, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byUser[userCode]
	if !ok || a.state != devicePending || now.After(a.expires) {
		return deviceAuth{}, false
	}
	return *a, true
}

// decide approves (with the granted scopes) or denies a pending authorization; false if it is gone or decided.
func (s *deviceStore) decide(now time.Time, userCode, username string, approve bool, granted []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byUser[userCode]
	if !ok || a.state != devicePending || now.After(a.expires) {
		return false
	}
	a.username = username
	if approve {
		a.state, a.granted = deviceApproved, granted
	} else {
		a.state = deviceDenied
	}
	return true
}

// poll is one token request with a device code (RFC 8628 §3.5). A decided authorization is answered once and
// forgotten, so a device code yields at most one token.
func (s *deviceStore) poll(now time.Time, clientID, deviceCode string) (deviceAuth, *oauthError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	a, ok := s.byDevice[deviceCode]
	if !ok || a.clientID != clientID {
		return deviceAuth{}, deviceError("invalid_grant", "unknown device_code for this client; start again at /oauth/device/code")
	}
	if now.After(a.expires) {
		s.remove(deviceCode, a)
		return deviceAuth{}, deviceError("expired_token", "the device code has expired; start again at /oauth/device/code")
	}
	switch a.state {
	case deviceDenied:
		s.remove(deviceCode, a)
		return deviceAuth{}, deviceError("access_denied", "the user denied the request")
	case deviceApproved:
		s.remove(deviceCode, a)
		return *a, nil
	}
	tooSoon := !a.lastPoll.IsZero() && now.Sub(a.lastPoll) < a.interval
	a.lastPoll = now
	if tooSoon {
		a.interval += slowDownStep
		return deviceAuth{}, deviceError("slow_down", "polling too fast; wait interval seconds between requests (now "+a.interval.String()+")")
	}
	return deviceAuth{}, deviceError("authorization_pending", "the user has not yet approved the request at the verification URI")
}

func deviceError(code, desc string) *oauthError {
	return &oauthError{status: 400, code: code, description: desc}
}

// newUserCode is eight letters from userCodeAlphabet as XXXX-XXXX (about 34 bits).
func newUserCode() string {
	var b strings.Builder
	for i := range 8 {
		if i == 4 {
			b.WriteByte('-')
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(userCodeAlphabet)))) // never fails (Go 1.24+)
		b.WriteByte(userCodeAlphabet[n.Int64()])
	}
	return b.String()
}

// normalizeUserCode accepts what a person types (lower case, spaces, with or without the dash) and returns the
// canonical XXXX-XXXX form, or "" if it cannot be a user code.
func normalizeUserCode(in string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(in) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	s := b.String()
	if len(s) != 8 {
		return ""
	}
	return s[:4] + "-" + s[4:]
}
