package devtool

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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

// TestBuildToolchain builds the binaries as `go tool mage build` does and checks that each
// was built by Toolchain, says so in --version, is stripped, and that the twin vulncheck
// scans (Symbols) is the same build with its symbol table.
func TestBuildToolchain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries twice")
	}
	t.Chdir("../..") // Build works from the repository root
	ctx := context.Background()
	stripped, symbols := t.TempDir(), t.TempDir()
	if err := Build(ctx, BuildOptions{OutDir: stripped}); err != nil {
		t.Fatal(err)
	}
	if err := Build(ctx, BuildOptions{OutDir: symbols, Symbols: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range Binaries {
		bin := filepath.Join(stripped, name)
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if bi.GoVersion != Toolchain {
			t.Errorf("%s built with %s, want %s", name, bi.GoVersion, Toolchain)
		}
		out, err := exec.Command(bin, "--version").Output()
		if want := fmt.Sprintf(" %s)\n", Toolchain); err != nil || !strings.HasSuffix(string(out), want) {
			t.Errorf("%s --version: %q, %v; want it to end in %q", name, out, err, want)
		}
		if err := sameBuild(bin, filepath.Join(symbols, name)); err != nil {
			t.Errorf("sameBuild: %v", err)
		}
		for dir, want := range map[string]bool{stripped: false, symbols: true} {
			f, err := elf.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Section(".symtab") != nil; got != want {
				t.Errorf("%s in %s: symbol table %v, want %v", name, dir, got, want)
			}
			f.Close()
		}
	}
}
