//go:build unix

package tokens

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// openPrivate opens a cache file for reading without following a symlink (O_NOFOLLOW) and without waiting for a
// writer should it be a FIFO (O_NONBLOCK); checkPrivateFile then judges what was opened.
func openPrivate(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0) //nolint:gosec // the user's own cache file
}

// checkPrivateFile says why an opened cache file must not be trusted, or "": it must be a regular file of mode
// 0600 owned by the user running the CLI.
func checkPrivateFile(st fs.FileInfo) string {
	if !st.Mode().IsRegular() {
		return fmt.Sprintf("not a regular file (%s)", st.Mode().Type())
	}
	if perm := st.Mode().Perm(); perm != 0o600 {
		return fmt.Sprintf("mode %04o, want 0600", perm)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Sprintf("owned by uid %d, not by you (uid %d)", sys.Uid, os.Getuid())
	}
	return ""
}

// lockFile holds an exclusive flock on path (created 0600, never through a symlink) until unlock, polling until
// ctx is done.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600) //nolint:gosec // the user's own cache directory
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	fd := int(f.Fd()) //nolint:gosec // a file descriptor fits in an int
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(fd, syscall.LOCK_UN); _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("flock: %w", err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
