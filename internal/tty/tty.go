// Package tty tells whether output goes to a terminal, so colours and progress lines are only drawn for people.
package tty

import (
	"io"
	"os"
)

// IsTerminal reports whether w is a character device (a terminal), not a file, pipe or buffer.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
