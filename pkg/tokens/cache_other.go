//go:build !unix

package tokens

import (
	"context"
	"io/fs"
	"os"
)

// openPrivate opens a cache file for reading; this platform has no O_NOFOLLOW, so checkPrivateFile's regular-file
// check is what keeps a device or pipe out.
func openPrivate(path string) (*os.File, error) {
	return os.Open(path) //nolint:gosec // the user's own cache file
}

// checkPrivateFile says why an opened cache file must not be trusted, or "": it must be a regular file (Windows
// has no Unix modes or owners to check here; the cache directory's ACL protects it).
func checkPrivateFile(st fs.FileInfo) string {
	if !st.Mode().IsRegular() {
		return "not a regular file (" + st.Mode().Type().String() + ")"
	}
	return ""
}

// lockFile is a no-op on this platform (no flock): concurrent refreshes of one login are not serialised here.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
