package devtool

import (
	"regexp"
	"testing"
)

// debVersion is Debian policy's upstream_version shape (with an optional revision).
var debVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~-]*$`)

func TestVersionIsADebianVersion(t *testing.T) {
	v := Version()
	if !debVersion.MatchString(v) {
		t.Errorf("Version() = %q, not a Debian version (must start with a digit)", v)
	}
}

func TestAptPackages(t *testing.T) {
	pkgs, err := AptPackages("../../.ci/apt-packages")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if seen[p] {
			t.Errorf("AptPackages: %q listed twice", p)
		}
		seen[p] = true
	}
	for _, want := range []string{"bind9", "bind9-dnsutils", "fstrm-bin", "dnsperf"} {
		if !seen[want] {
			t.Errorf("AptPackages: %q missing from .ci/apt-packages", want)
		}
	}
}
