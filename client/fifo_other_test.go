//go:build !unix

package main

import "errors"

// mkfifo is unavailable here; the FIFO case is skipped.
func mkfifo(string) error { return errors.New("no FIFOs on this platform") }
