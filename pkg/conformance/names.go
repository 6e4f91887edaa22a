package conformance

import (
	"fmt"
	"time"
)

// Names are how the caller's users set the suite's inputs (flags of a CLI, fields of a config file), so that
// skip reasons and notes can say what to set. An empty name gives generic wording: the library names no flag.
type Names struct {
	Leeway        string // sets Config.Leeway, e.g. "--leeway"
	NoScopeClient string // sets Config.NoScopeClientID and NoScopeClientSecret
	SkipRoute     string // blanks a route of Config.Paths
	DPoP          string // sets Config.DPoP
	Trap          string // sets Config.TrapListen and TrapURL
	Origin        string // sets Config.Origin (and OriginGiven)
}

// leewayGiven is the leeway note when the caller gave it.
func (n Names) leewayGiven(d time.Duration) string {
	if n.Leeway == "" {
		return fmt.Sprintf("%s (given by the caller)", d)
	}
	return fmt.Sprintf("%s (given with %s)", d, n.Leeway)
}

// leewayUnmeasurable is the leeway note when it was not given and cannot be measured.
func (n Names) leewayUnmeasurable() string {
	if n.Leeway == "" {
		return "unknown (measuring it needs the stand-in tenant; the caller can give it)"
	}
	return "unknown (measuring it needs the stand-in tenant; give " + n.Leeway + ")"
}

// noScopeSkip is the skip of a case that needs a valid token without the scope.
func (n Names) noScopeSkip() error {
	if n.NoScopeClient == "" {
		return skipf("needs a token without the scope (a second client whose tokens lack it)")
	}
	return skipf("needs a token without the scope: %s", n.NoScopeClient)
}

// routeSkipped is the reason a case gives when the caller said the API has not its route.
func (n Names) routeSkipped() string {
	if n.SkipRoute == "" {
		return "the API has no such route (skipped by the caller)"
	}
	return "the API has no such route (" + n.SkipRoute + ")"
}

// dpopUnadvertised is why the dpop cases skip for an API whose metadata does not advertise DPoP.
func (n Names) dpopUnadvertised() string {
	const why = "the API does not advertise DPoP (no dpop_signing_alg_values_supported in its RFC 9728 metadata)"
	if n.DPoP == "" {
		return why + "; forcing DPoP runs these anyway"
	}
	return why + "; " + n.DPoP + " runs these anyway"
}

// trapFix is what to change when the API may not reach the trap.
func (n Names) trapFix() string {
	if n.Trap == "" {
		return "serve the trap at an address the API can reach"
	}
	return "set " + n.Trap + " to an address it can reach"
}

// noCORS is why the CORS support cases skip for an API that answers the default origin with no CORS headers.
func (n Names) noCORS(origin string) string {
	why := fmt.Sprintf("the API answers no CORS headers to Origin %s (a preflight and a GET of the private route): "+
		"it serves no browser app from there", origin)
	if n.Origin == "" {
		return why + "; the caller can name the origin its web app uses"
	}
	return why + "; give the origin your web app uses with " + n.Origin
}
