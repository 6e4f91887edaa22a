package serverconfig

import (
	"strconv"
	"strings"
)

// Problem is one bad or missing setting, named by both its variable and its flag so the operator can fix either.
type Problem struct {
	// Variable is the environment variable, e.g. AUTH0_AUDIENCE; empty for problems not tied to one.
	Variable string
	// Flag is the equivalent flag, e.g. --auth0-audience.
	Flag string
	// Message says what is wrong and how to fix it.
	Message string
}

func (p Problem) String() string {
	if p.Variable == "" {
		return p.Message
	}
	return p.Variable + " (" + p.Flag + "): " + p.Message
}

// Error lists every configuration problem found, so one run reports them all.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration (")
	if len(e.Problems) == 1 {
		b.WriteString("1 problem)")
	} else {
		b.WriteString(strconv.Itoa(len(e.Problems)) + " problems)")
	}
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Variables names every bad variable, in the order they were found; tests and callers match on it.
func (e *Error) Variables() []string {
	out := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		out = append(out, p.Variable)
	}
	return out
}
