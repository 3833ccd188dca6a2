package packaging

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testTime is the SOURCE_DATE_EPOCH of the test builds.
var testTime = time.Date(2026, 8, 20, 10, 15, 0, 0, time.UTC)

var fakeBinOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dnstapkit-fakebin-")
	if err != nil {
		return "", err
	}
	// The same flags as devtool.Build, so lintian sees what it sees in a release.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "fakebin"), "./testdata/fakebin")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.ExitError{Stderr: out}
	}
	return filepath.Join(dir, "fakebin"), nil
})

// binDir returns a fresh directory holding the placeholder program under every package name.
func binDir(t *testing.T) string {
	t.Helper()
	src, err := fakeBinOnce()
	if err != nil {
		t.Fatalf("build placeholder binary: %v", err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range Names {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// build builds the package name into a fresh directory and returns its path.
func build(t *testing.T, name string, tm time.Time) string {
	t.Helper()
	return buildVersion(t, name, "1.2.3", tm)
}

func buildVersion(t *testing.T, name, version string, tm time.Time) string {
	t.Helper()
	p, err := BuildDeb(context.Background(), Spec{Name: name, Version: version, Arch: "amd64",
		Root: "..", BinDir: binDir(t), OutDir: t.TempDir(), Time: tm})
	if err != nil {
		t.Fatalf("BuildDeb(%s): %v", name, err)
	}
	return p
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func dpkgDeb(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := testenv.LookPath(t, "dpkg-deb", "dpkg")
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// TestBuildDebContents checks what dpkg sees in each package: the file list with modes and
// owners, the conffiles, the control fields, and the scripts.
func TestBuildDebContents(t *testing.T) {
	tests := []struct {
		name      string
		conffiles string
		scripts   []string
		depends   string
	}{
		{"dnstap-collector", "/etc/default/dnstap-collector\n/etc/default/dnstap-collector-central\n", []string{"postinst", "prerm", "postrm"}, "systemd"},
		{"dnstap-reader", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deb := build(t, tt.name, testTime)
			if got, want := filepath.Base(deb), tt.name+"_1.2.3_amd64.deb"; got != want {
				t.Errorf("file name %q, want %q", got, want)
			}

			// "drwxr-xr-x root/root 0 2026-08-20 10:15 ./etc/" -> "drwxr-xr-x root/root ./etc/"
			var listing bytes.Buffer
			for _, line := range strings.Split(strings.TrimSpace(string(dpkgDeb(t, "--contents", deb))), "\n") {
				f := strings.Fields(line)
				if len(f) < 6 {
					t.Fatalf("unexpected dpkg-deb --contents line %q", line)
				}
				if date := f[3] + " " + f[4]; date != testTime.Format("2006-01-02 15:04") {
					t.Errorf("%s: mtime %s, want SOURCE_DATE_EPOCH %s", f[5], date, testTime)
				}
				listing.WriteString(f[0] + " " + f[1] + " " + f[5] + "\n")
			}
			golden(t, tt.name+".contents", listing.Bytes())

			ctl := t.TempDir()
			dpkgDeb(t, "--control", deb, ctl)
			conf, err := os.ReadFile(filepath.Join(ctl, "conffiles"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if string(conf) != tt.conffiles {
				t.Errorf("conffiles %q, want %q", conf, tt.conffiles)
			}
			for _, s := range tt.scripts {
				fi, err := os.Stat(filepath.Join(ctl, s))
				if err != nil {
					t.Errorf("script %s: %v", s, err)
				} else if fi.Mode().Perm() != 0o755 {
					t.Errorf("script %s mode %v, want 0755", s, fi.Mode().Perm())
				}
			}
			if got := strings.TrimSpace(string(dpkgDeb(t, "--field", deb, "Depends"))); got != tt.depends {
				t.Errorf("Depends %q, want %q", got, tt.depends)
			}
		})
	}
}

// TestBuildDebChangelog unpacks the changelog of each package: one entry with the version,
// the Go release that built the binary (the go command's, which built the placeholder) and
// SOURCE_DATE_EPOCH.
func TestBuildDebChangelog(t *testing.T) {
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatalf("go env GOVERSION: %v", err)
	}
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dpkgDeb(t, "-x", build(t, name, testTime), root)
			f, err := os.Open(filepath.Join(root, "usr", "share", "doc", name, "changelog.gz"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			want := name + " (1.2.3) unstable; urgency=medium\n\n" +
				"  * Built from the dnstapkit repository; see its git history for changes.\n" +
				"  * Compiled with " + strings.TrimSpace(string(goVersion)) + ".\n\n" +
				" -- dnstapkit maintainers <dnstapkit@users.noreply.github.com>  Thu, 20 Aug 2026 10:15:00 +0000\n"
			if string(got) != want {
				t.Errorf("changelog:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestBuildDebCompression checks the members are gzip and xz, which every dpkg from Ubuntu 18.04 on
// reads (zstd is not: dpkg 1.19 cannot unpack it).
func TestBuildDebCompression(t *testing.T) {
	ar := testenv.LookPath(t, "ar", "binutils")
	deb := build(t, "dnstap-collector", testTime)
	out, err := exec.Command(ar, "t", deb).Output()
	if err != nil {
		t.Fatalf("ar t: %v", err)
	}
	if got, want := strings.Fields(string(out)), []string{"debian-binary", "control.tar.gz", "data.tar.xz"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("members %v, want %v", got, want)
	}
}

// TestBuildDebReproducible builds each package twice from different directories: the bytes
// must be the same, and must change with SOURCE_DATE_EPOCH.
func TestBuildDebReproducible(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			sum := func(p string) [32]byte {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				return sha256.Sum256(data)
			}
			a, b := sum(build(t, name, testTime)), sum(build(t, name, testTime))
			if a != b {
				t.Errorf("two builds differ: %x != %x", a, b)
			}
			if c := sum(build(t, name, testTime.Add(time.Second))); c == a {
				t.Errorf("a build one second later has the same bytes %x: the time is not used", c)
			}
		})
	}
}

func TestBuildDebErrors(t *testing.T) {
	scriptDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(scriptDir, "dnstap-reader"), []byte("#!/bin/sh\necho usage\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"unknown package", Spec{Name: "dnstap-other", Version: "1.0", Time: testTime}, `unknown package "dnstap-other"`},
		{"version", Spec{Name: "dnstap-reader", Version: "v1.0", Time: testTime}, `invalid version "v1.0"`},
		{"no time", Spec{Name: "dnstap-reader", Version: "1.0"}, "no time given"},
		{"no binary", Spec{Name: "dnstap-reader", Version: "1.0", Time: testTime, Root: "..", BinDir: t.TempDir()}, "binary:"},
		{"not a Go binary", Spec{Name: "dnstap-reader", Version: "1.0", Time: testTime, Root: "..", BinDir: scriptDir}, "Go version of "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.OutDir = t.TempDir()
			_, err := BuildDeb(context.Background(), tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestLintian runs lintian on both packages: no error and no warning may remain (overrides
// in packaging/lintian/ carry their reasons).
func TestLintian(t *testing.T) {
	lintian := testenv.LookPath(t, "lintian", "lintian")
	var debs []string
	for _, name := range Names {
		debs = append(debs, build(t, name, testTime))
	}
	// A version with a Debian revision is not native: its changelog has another name.
	debs = append(debs, buildVersion(t, "dnstap-reader", "1.2.3-1", testTime))
	// Exit status 2 means tags at or above --fail-on; 1 is lintian failing to run.
	cmd := exec.Command(lintian, append([]string{"--no-cfg", "--display-info", "--fail-on", "error,warning"}, debs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("lintian:\n%s%s", out, stderr.Bytes())
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 2) {
		t.Fatalf("lintian did not run: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") || strings.HasPrefix(line, "W: ") {
			t.Errorf("lintian: %s", line)
		}
	}
}

func TestCommitTime(t *testing.T) {
	tests := []struct {
		env     string
		want    time.Time
		wantErr bool
	}{
		{"1787220900", time.Unix(1787220900, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"-5", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.env)
			got, err := CommitTime(context.Background(), ".")
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Errorf("CommitTime = %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
