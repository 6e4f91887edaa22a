// Package atomicfile replaces files so that a reader, or a crash at any point, sees either the old content or the
// new one, never half of it: key files, the token cache and test reports all need that.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data: a temporary file in the same directory gets exactly perm (whatever the umask),
// the data, a sync, and is renamed over path; the directory is then synced, best effort.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // created 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if perm != 0o600 {
		if err = tmp.Chmod(perm); err != nil {
			return err
		}
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { //nolint:gosec // the directory of a file the caller names on purpose
		_ = d.Sync() // some filesystems cannot sync a directory
		_ = d.Close()
	}
	return nil
}
