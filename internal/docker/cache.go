package docker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// InputHash is the cache key of an image or build: the first 16 hex digits of the SHA-256
// of parts, each followed by a NUL so that ("ab","c") and ("a","bc") differ.
func InputHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Lock takes an exclusive flock on the file name in the temporary directory and returns
// the func that releases it, so that two processes (two test binaries, a test and a mage
// target) do not build the same image or tree at once.
func Lock(name string) (unlock func(), err error) {
	p := filepath.Join(os.TempDir(), name)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
