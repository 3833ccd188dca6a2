package aptrepo_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// testKeys are two keys made once per test binary (RSA key generation takes a second or two).
var testKeys = sync.OnceValues(func() ([2]*aptrepo.Key, error) {
	var ks [2]*aptrepo.Key
	for i, name := range []string{"dnstapkit test A", "dnstapkit test B"} {
		k, err := aptrepo.GenerateKey(name, "test@example.org")
		if err != nil {
			return ks, err
		}
		ks[i] = k
	}
	return ks, nil
})

func keys(t *testing.T) (a, b *aptrepo.Key) {
	t.Helper()
	ks, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return ks[0], ks[1]
}

// debSpec is a .deb that makeDeb builds with the real dpkg-deb.
type debSpec struct {
	name, version, arch string
	compress            string // dpkg-deb -Z: gzip, xz, zstd, none
}

// makeDeb builds a small .deb with dpkg-deb --build into dir and returns its path.
func makeDeb(t *testing.T, dir string, s debSpec) string {
	t.Helper()
	dpkgDeb := testenv.LookPath(t, "dpkg-deb", "dpkg")
	if s.compress == "" {
		s.compress = "xz"
	}
	tree := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(tree, "DEBIAN"), 0o755))
	must(t, os.MkdirAll(filepath.Join(tree, "usr/share/doc", s.name), 0o755))
	must(t, os.MkdirAll(filepath.Join(tree, "etc/default"), 0o755))
	must(t, os.WriteFile(filepath.Join(tree, "usr/share/doc", s.name, "README"), []byte(s.name+" "+s.version+"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(tree, "etc/default", s.name), []byte("X=1\n"), 0o644))
	control := "Package: " + s.name + "\nVersion: " + s.version + "\nArchitecture: " + s.arch +
		"\nMaintainer: Test <test@example.org>\nDepends: systemd\nSection: net\nPriority: optional\n" +
		"Description: test package " + s.name + "\n a package for the repository tests.\n .\n It has a long description.\n"
	must(t, os.WriteFile(filepath.Join(tree, "DEBIAN/control"), []byte(control), 0o644))
	must(t, os.WriteFile(filepath.Join(tree, "DEBIAN/conffiles"), []byte("/etc/default/"+s.name+"\n"), 0o644))
	out := filepath.Join(dir, s.name+"_"+strings.ReplaceAll(s.version, ":", "%3a")+"_"+s.arch+"."+s.compress+".deb")
	cmd := exec.Command(dpkgDeb, "--root-owner-group", "-Z"+s.compress, "--build", tree, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v\n%s", err, b)
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// run runs a program and returns its stdout, failing t when it fails.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}
