//go:build unix

package main

import "syscall"

// mkfifo makes a named pipe at path, which a reader opening it blocking would wait on forever.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }
