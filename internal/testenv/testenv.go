// Package testenv lets tests ask for the real programs they run against (named, dnstap-read,
// fstrm_capture, dnsperf, docker, ...). Outside CI a missing program skips the test with the
// reason; with CI=true it fails the test, so a CI run can never pass by skipping.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// InCI reports whether CI=true (or 1) is set.
func InCI() bool { v := os.Getenv("CI"); return v == "true" || v == "1" }

// Unavailable skips t (or fails it under CI) with the reason.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true but "+format, args...)
	}
	t.Skipf(format, args...)
}

// LookPath returns the path of the program name, or skips/fails t when it is not installed.
// debPkg names the Debian package that provides it, for the message.
func LookPath(t testing.TB, name, debPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		// Debian puts some peers in /usr/sbin, which is not on every user's PATH.
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			if _, serr := os.Stat(dir + "/" + name); serr == nil {
				return dir + "/" + name
			}
		}
		Unavailable(t, "%s not found (apt-get install %s)", name, debPkg)
	}
	return p
}

// Docker skips t (or fails it under CI) unless a Docker engine answers within 10s.
func Docker(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("container test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "info").Run(); err != nil {
		Unavailable(t, "no Docker engine answers (docker info: %v); run .ci/ensure-docker", err)
	}
}
