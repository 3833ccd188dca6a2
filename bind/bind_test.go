package bind

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		in, release, wantErr string
	}{
		{in: "9.18", release: "9.18.49"},
		{in: "9.18.49", release: "9.18.49"},
		{in: "v9.16", release: "9.16.50"},
		{in: "9.20", release: "9.20.27"},
		{in: "9.14", release: "9.14.12"},
		{in: "9.12", wantErr: `unknown BIND version "9.12": known are 9.14, 9.16, 9.18, 9.20`},
		{in: "9.18.30", wantErr: "9.18.49"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := Lookup(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Lookup(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Release != tt.release {
				t.Errorf("Lookup(%q).Release = %q, want %q", tt.in, v.Release, tt.release)
			}
		})
	}
}

// The flags each configure is known to accept or refuse (see DESIGN.md and the issue).
func TestConfigureFlags(t *testing.T) {
	classic := "--enable-dnstap --sysconfdir=/etc/bind --localstatedir=/ --enable-threads --enable-largefile " +
		"--with-libtool --enable-shared --enable-static --with-gnu-ld --enable-dnsrps --prefix=/usr/local"
	v, _ := Lookup("9.14")
	if got := strings.Join(v.Configure, " "); got != classic {
		t.Errorf("9.14 configure line =\n%s\nwant exactly\n%s", got, classic)
	}
	for _, v := range Versions() {
		flags := " " + strings.Join(v.Configure, " ") + " "
		if !strings.Contains(flags, " --enable-dnstap ") {
			t.Errorf("%s: no --enable-dnstap", v.Series)
		}
		if v.Series >= "9.18" {
			if strings.Contains(flags, " --enable-static ") {
				t.Errorf("%s: --enable-static, which its configure refuses", v.Series)
			}
			if strings.Contains(flags, " --enable-dnsrps ") && !strings.Contains(flags, " --enable-dnsrps-dl ") {
				t.Errorf("%s: --enable-dnsrps without --enable-dnsrps-dl", v.Series)
			}
		}
		deps := " " + strings.Join(v.Deps("debian:bookworm"), " ") + " "
		for _, d := range []string{"libfstrm-dev", "libprotobuf-c-dev", "protobuf-c-compiler"} {
			if !strings.Contains(deps, " "+d+" ") {
				t.Errorf("%s: build deps miss %s", v.Series, d)
			}
		}
		if v.Distro == "" || v.Bionic == "" {
			t.Errorf("%s: no distro or no word on Ubuntu 18.04", v.Series)
		}
		if v.Series == "9.20" && !strings.Contains(deps, " liburcu-dev ") {
			t.Errorf("9.20: build deps miss liburcu-dev")
		}
	}
}

func TestNamedConfCarriesSnippet(t *testing.T) {
	if !strings.Contains(NamedConf, DnstapSnippet) {
		t.Fatal("named.conf does not contain named.conf.dnstap verbatim")
	}
	for _, want := range []string{"dnstap { client; auth; };", `dnstap-output unix "/var/cache/bind/dnstap.sock";`} {
		if !strings.Contains(DnstapSnippet, want) {
			t.Errorf("named.conf.dnstap lacks %q", want)
		}
	}
}

// TestNamedCheckconf runs the host's named-checkconf (Debian's bind9 9.18, built with
// dnstap) on the default configuration, with its zones, in a chroot-like tree.
func TestNamedCheckconf(t *testing.T) {
	checkconf := testenv.LookPath(t, "named-checkconf", "bind9-utils")
	confgen := testenv.LookPath(t, "rndc-confgen", "bind9-utils")
	root := t.TempDir()
	etc := filepath.Join(root, "etc/bind")
	for _, d := range []string{etc, filepath.Join(root, "var/cache/bind")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"named.conf", "db.local", "db.127"} {
		b, err := assets.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(etc, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(confgen, "-a", "-c", filepath.Join(etc, "rndc.key")).CombinedOutput(); err != nil {
		t.Fatalf("rndc-confgen: %v\n%s", err, out)
	}
	out, err := exec.Command(checkconf, "-z", "-t", root, "/etc/bind/named.conf").CombinedOutput()
	if err != nil {
		t.Fatalf("named-checkconf refuses the default named.conf: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "zone localhost/IN: loaded") {
		t.Errorf("named-checkconf -z did not load zone localhost:\n%s", out)
	}
}

func TestLocalSource(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	v18, _ := Lookup("9.18")
	tests := []struct {
		name, file, release string
		wantErr             error
		wantMsg             string
	}{
		{name: "known release, wrong bytes", file: write("bind-9.18.49.tar.xz", "not bind"), wantErr: ErrChecksum},
		{name: "Debian orig name, wrong bytes", file: write("bind9_9.18.49.orig.tar.xz", "not bind"), wantErr: ErrChecksum},
		{name: "other release of the series", file: write("bind-9.18.30.tar.xz", "x"), release: "9.18.30"},
		{name: "other series", file: write("bind-9.16.1.tar.xz", "x"), wantMsg: "not of the 9.18 series"},
		{name: "missing", file: filepath.Join(dir, "nope.tar.xz"), wantMsg: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := localSource(v18, tt.file)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
			case tt.wantMsg != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantMsg)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if src.Release != tt.release {
					t.Errorf("release = %q, want %q", src.Release, tt.release)
				}
			}
		})
	}
}

// TestSources checks BIND_SOURCES: a tarball of the release is taken only with a SHA-256 the
// version table lists for it; another is refused; without one the error names the variable.
func TestSources(t *testing.T) {
	v14, _ := Lookup("9.14")
	// A stand-in whose SHA-256 the test lists for 9.14.12, as versions.go lists the shared one.
	good := []byte("bind 9.14.12 stand-in")
	v14.Local = append(v14.Local, Tarball{File: "bind-9.14.12.tar.xz", SHA256: sha256Hex(good), Origin: "test"})
	write := func(dir, name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		files   map[string][]byte
		wantErr error
		wantMsg string // part of the error
	}{
		{name: "listed", files: map[string][]byte{"bind-9.14.12.tar.xz": good, "bind-9.18.49.tar.xz": []byte("other release")}},
		{name: "listed under a Debian name", files: map[string][]byte{"bind9_9.14.12.orig.tar.xz": good}},
		{name: "not listed", files: map[string][]byte{"bind-9.14.12.tar.gz": []byte("tampered")}, wantErr: ErrChecksum,
			wantMsg: "bind/versions.go lists for BIND 9.14.12: "},
		{name: "none", files: map[string][]byte{"README.md": []byte("x")},
			wantMsg: "set BIND_SOURCES to a directory holding bind-9.14.12.tar.xz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tt.files {
				write(dir, name, b)
			}
			src, err := FetchSource(context.Background(), v14, SourceOptions{Dir: dir, CacheDir: t.TempDir()}, io.Discard)
			if tt.wantErr == nil && tt.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if src.SHA256 != sha256Hex(good) || src.From != "BIND_SOURCES" || src.Release != "9.14.12" {
					t.Errorf("source %+v", src)
				}
				return
			}
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error = %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
			}
		})
	}
}

// TestSharedSources checks the real tarballs beside the checkout (../shared/bind-src, as in
// CI) against the table.
func TestSharedSources(t *testing.T) {
	dir := DefaultSourcesDir("..")
	if dir == "" {
		testenv.Unavailable(t, "no ../shared/bind-src beside the checkout (set BIND_SOURCES for the e2e builds)")
	}
	for _, series := range []string{"9.14", "9.20"} {
		v, _ := Lookup(series)
		src, err := dirSource(v, dir)
		if err != nil || src == nil {
			t.Errorf("%s: %v, %v", series, src, err)
		}
	}
}

func TestScriptDepends(t *testing.T) {
	staging := t.TempDir()
	sbin := filepath.Join(staging, "usr/local/sbin")
	if err := os.MkdirAll(sbin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sbin, "named"), []byte("\x7fELF..."), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := scriptDepends(staging); got != nil {
		t.Errorf("no script: %v", got)
	}
	if err := os.WriteFile(filepath.Join(sbin, "dnssec-keymgr"), []byte("#!/usr/bin/python3\nimport isc\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(scriptDepends(staging), ","); got != "python3,python3-ply" {
		t.Errorf("python tool: %v", got)
	}
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestBuildDeb packages a small staging tree and reads the result back with dpkg-deb.
func TestBuildDeb(t *testing.T) {
	dpkgDeb := testenv.LookPath(t, "dpkg-deb", "dpkg")
	staging := t.TempDir()
	for name, mode := range map[string]os.FileMode{"usr/local/sbin/named": 0o755, "usr/local/lib/libisc-9.18.49.so": 0o644} {
		p := filepath.Join(staging, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("libisc-9.18.49.so", filepath.Join(staging, "usr/local/lib/libisc.so")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), DebFileName("9.18.49", "debian:bookworm", "amd64"))
	err := BuildDeb(DebOptions{Release: "9.18.49", Distro: "debian:bookworm", Arch: "amd64", Staging: staging,
		Depends: []string{"libuv1 (>= 1.44.2-1)"}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(out) != "bind9-dnstap_9.18.49-debian-bookworm_amd64.deb" {
		t.Errorf("file name %s", filepath.Base(out))
	}
	field := func(name string) string {
		t.Helper()
		b, err := exec.Command(dpkgDeb, "-f", out, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -f %s: %v", name, err)
		}
		return strings.TrimSpace(string(b))
	}
	for name, want := range map[string]string{
		"Package": "bind9-dnstap", "Version": "9.18.49-1~debianbookworm", "Conflicts": "bind9",
		"Replaces": "bind9", "Depends": "adduser, libuv1 (>= 1.44.2-1)", "Architecture": "amd64",
	} {
		if got := field(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	list, err := exec.Command(dpkgDeb, "-c", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"./usr/local/sbin/named", "./usr/local/lib/libisc.so -> libisc-9.18.49.so",
		"./etc/bind/named.conf", "./usr/lib/systemd/system/named.service", "./usr/lib/tmpfiles.d/bind9-dnstap.conf"} {
		if !strings.Contains(string(list), want) {
			t.Errorf("package lacks %s; it has:\n%s", want, list)
		}
	}
	// Members dpkg 1.19 (Ubuntu 18.04) reads: gzip or xz, never zstd.
	ar := testenv.LookPath(t, "ar", "binutils")
	members, err := exec.Command(ar, "t", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^debian-binary\ncontrol\.tar\.(gz|xz)\ndata\.tar\.(gz|xz)\n$`).Match(members) {
		t.Errorf("members %q, want debian-binary, control.tar.{gz,xz}, data.tar.{gz,xz}", members)
	}
	ctl := t.TempDir()
	if b, err := exec.Command(dpkgDeb, "-e", out, ctl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -e: %v\n%s", err, b)
	}
	conff, err := os.ReadFile(filepath.Join(ctl, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(conff), "/etc/bind/named.conf") {
		t.Errorf("conffiles = %q, want /etc/bind/named.conf", conff)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if _, err := os.Stat(filepath.Join(ctl, s)); err != nil {
			t.Errorf("no %s script: %v", s, err)
		}
	}
}

// TestDebDistro checks that the distro of each known one is read back from the version of
// the package built for it, and that other versions name none.
func TestDebDistro(t *testing.T) {
	for _, d := range baseimage.Known() {
		v := "9.18.49-" + DebRevision(d)
		if got, ok := DebDistro(v); !ok || got != d {
			t.Errorf("DebDistro(%q) = %q, %v; want %q", v, got, ok, d)
		}
	}
	for _, v := range []string{"9.18.49", "9.18.49-1", "9.18.49-1~debiansid", "1.0.0"} {
		if got, ok := DebDistro(v); ok {
			t.Errorf("DebDistro(%q) = %q, want none", v, got)
		}
	}
	if got := DebRevision("ubuntu:18.04"); got != "1~ubuntu1804" {
		t.Errorf("DebRevision(ubuntu:18.04) = %q, want 1~ubuntu1804", got)
	}
}
