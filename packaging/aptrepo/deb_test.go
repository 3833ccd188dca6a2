package aptrepo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// TestReadDeb reads .debs that dpkg-deb built with each compression it knows, and checks the
// control paragraph against what dpkg-deb --field prints and the hash against the file's.
func TestReadDeb(t *testing.T) {
	dpkgDeb := testenv.LookPath(t, "dpkg-deb", "dpkg")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		spec debSpec
		pool string
	}{
		{"gzip", debSpec{"dnstap-collector", "1.0.0", "amd64", "gzip"}, "pool/main/d/dnstap-collector/dnstap-collector_1.0.0_amd64.deb"},
		{"xz", debSpec{"dnstap-reader", "1.0.1", "arm64", "xz"}, "pool/main/d/dnstap-reader/dnstap-reader_1.0.1_arm64.deb"},
		{"zstd", debSpec{"bind9-dnstap", "9.18.49-1~debianbookworm", "amd64", "zstd"}, "pool/main/b/bind9-dnstap/bind9-dnstap_9.18.49-1~debianbookworm_amd64.deb"},
		{"none", debSpec{"libfoo1", "2:1.0-1", "all", "none"}, "pool/main/libf/libfoo1/libfoo1_1.0-1_all.deb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := makeDeb(t, dir, tc.spec)
			d, err := aptrepo.ReadDeb(p)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name() != tc.spec.name || d.Version() != tc.spec.version || d.Arch() != tc.spec.arch {
				t.Errorf("ReadDeb(%s) = %s %s %s, want %s %s %s", p, d.Name(), d.Version(), d.Arch(), tc.spec.name, tc.spec.version, tc.spec.arch)
			}
			// dpkg-deb --field prints the control file as dpkg reads it.
			if want, got := string(run(t, dpkgDeb, "--field", p)), d.Control.String(); got != want {
				t.Errorf("control of %s:\n%s\nwant (dpkg-deb --field):\n%s", p, got, want)
			}
			data, err := os.ReadFile(p)
			must(t, err)
			sum := sha256.Sum256(data)
			if d.SHA256 != hex.EncodeToString(sum[:]) || d.Size != int64(len(data)) {
				t.Errorf("ReadDeb(%s): SHA256 %s size %d, want %x %d", p, d.SHA256, d.Size, sum, len(data))
			}
			if got := d.PoolPath(); got != tc.pool {
				t.Errorf("PoolPath() = %q, want %q", got, tc.pool)
			}
		})
	}
}

// TestReadDebRefuses checks that what is not a .deb, or is a broken one, gets an error that
// names the file, and no panic.
func TestReadDebRefuses(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(makeDeb(t, dir, debSpec{"dnstap-reader", "1.0.0", "amd64", "gzip"}))
	must(t, err)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an ar archive"},
		{"text", []byte("hello\n"), ""},
		{"truncated", good[:200], ""},
		{"size beyond the file", append([]byte("!<arch>\n"+"debian-binary   0           0     0     644     999999    `\n"), "2.0\n"...), "beyond the file"},
		{"not debian-binary first", append([]byte("!<arch>\n"+"control.tar.gz/ 0           0     0     644     4         `\n"), "abcd"...), "debian-binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dir + "/" + strings.ReplaceAll(tc.name, " ", "_") + ".deb"
			must(t, os.WriteFile(p, tc.data, 0o644))
			_, err := aptrepo.ReadDeb(p)
			if err == nil {
				t.Fatalf("ReadDeb(%s) accepted it", tc.name)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadDeb: %v; want the path and %q", err, tc.want)
			}
		})
	}
}

func TestParseParagraph(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"fields", "Package: a\nVersion: 1\n", "Package: a\nVersion: 1\n", ""},
		{"continuation", "Description: x\n y\n .\n z\n", "Description: x\n y\n .\n z\n", ""},
		{"empty first line", "Conffiles:\n /etc/a\n", "Conffiles:\n /etc/a\n", ""},
		{"first paragraph only", "\nA: 1\n\nB: 2\n", "A: 1\n", ""},
		{"no colon", "Package a\n", "", "is not a field"},
		{"continuation first", " x\n", "", "continuation"},
		{"twice", "A: 1\na: 2\n", "", "twice"},
		{"empty", "\n\n", "", "no field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := aptrepo.ParseParagraph([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("ParseParagraph(%q) error %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || p.String() != tc.want {
				t.Errorf("ParseParagraph(%q) = %q, %v; want %q", tc.in, p.String(), err, tc.want)
			}
		})
	}
}
