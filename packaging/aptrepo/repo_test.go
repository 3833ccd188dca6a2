package aptrepo_test

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// testRepo builds a repository of two suites: bookworm with two versions of a package and
// bind9-dnstap of two series side by side, bullseye with the shared packages only. It
// returns the repository root and the debs by file name.
func testRepo(t *testing.T, key *aptrepo.Key) (string, map[string]*aptrepo.Deb) {
	t.Helper()
	dir := t.TempDir()
	debs := map[string]*aptrepo.Deb{}
	read := func(s debSpec) *aptrepo.Deb {
		d, err := aptrepo.ReadDeb(makeDeb(t, dir, s))
		must(t, err)
		debs[s.name+"_"+s.version] = d
		return d
	}
	c0 := read(debSpec{"dnstap-collector", "1.0.0", "amd64", "xz"})
	c1 := read(debSpec{"dnstap-collector", "1.0.1", "amd64", "xz"})
	r1 := read(debSpec{"dnstap-reader", "1.0.1", "amd64", "gzip"})
	b14 := read(debSpec{"bind9-dnstap", "9.14.12-1~debianbookworm", "amd64", "xz"})
	b18 := read(debSpec{"bind9-dnstap", "9.18.49-1~debianbookworm", "amd64", "zstd"})
	root := filepath.Join(t.TempDir(), "repo")
	err := aptrepo.Build(aptrepo.Options{Dir: root, Key: key, Date: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		Suites: []aptrepo.Suite{
			{Codename: "bookworm", Description: "for debian:bookworm", Debs: []*aptrepo.Deb{c0, c1, r1, b14, b18}},
			{Codename: "bullseye", Debs: []*aptrepo.Deb{c1, r1}},
		}})
	must(t, err)
	return root, debs
}

// TestBuildSignature verifies each suite's InRelease and Release.gpg with the real gpgv and
// the repository's own public key file, and refuses them with another key.
func TestBuildSignature(t *testing.T) {
	gpgv := testenv.LookPath(t, "gpgv", "gpgv")
	a, b := keys(t)
	root, _ := testRepo(t, a)
	otherRing := filepath.Join(t.TempDir(), "other.gpg")
	pub, err := b.PublicKeyring()
	must(t, err)
	must(t, os.WriteFile(otherRing, pub, 0o644))
	ring := filepath.Join(root, aptrepo.KeyringName)
	for _, suite := range []string{"bookworm", "bullseye"} {
		d := filepath.Join(root, "dists", suite)
		for _, tc := range []struct {
			name string
			args []string
		}{
			{"InRelease", []string{filepath.Join(d, "InRelease")}},
			{"Release.gpg", []string{filepath.Join(d, "Release.gpg"), filepath.Join(d, "Release")}},
		} {
			t.Run(suite+"/"+tc.name, func(t *testing.T) {
				out, err := exec.Command(gpgv, append([]string{"--status-fd", "1", "--keyring", ring}, tc.args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("gpgv --keyring %s %s: %v\n%s", aptrepo.KeyringName, tc.name, err, out)
				}
				// What apt looks for in gpgv's status: a good signature by the key, and its
				// algorithms (1: RSA; 10: SHA512).
				for _, want := range []string{"[GNUPG:] GOODSIG", "[GNUPG:] VALIDSIG " + a.Fingerprint()} {
					if !strings.Contains(string(out), want) {
						t.Errorf("gpgv status lacks %q:\n%s", want, out)
					}
				}
				if !strings.Contains(string(out), " 0 1 10 ") { // VALIDSIG ... sig-version(4) reserved(0) pubkey-algo(1) hash-algo(10)
					t.Errorf("gpgv status: want an RSA (1) signature over SHA512 (10):\n%s", out)
				}
				if out, err := exec.Command(gpgv, append([]string{"--keyring", otherRing}, tc.args...)...).CombinedOutput(); err == nil {
					t.Errorf("gpgv accepted %s with another key:\n%s", tc.name, out)
				}
			})
		}
		t.Run(suite+"/InRelease holds Release", func(t *testing.T) {
			signed := filepath.Join(t.TempDir(), "signed")
			run(t, gpgv, "--keyring", ring, "--output", signed, filepath.Join(d, "InRelease"))
			got, err := os.ReadFile(signed)
			must(t, err)
			want, err := os.ReadFile(filepath.Join(d, "Release"))
			must(t, err)
			if !bytes.Equal(bytes.TrimRight(got, "\n"), bytes.TrimRight(want, "\n")) {
				t.Errorf("the text InRelease signs differs from Release:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestBuildReleaseHashes checks every hash and size each Release lists against the file, and
// that it lists every index file of its suite.
func TestBuildReleaseHashes(t *testing.T) {
	a, _ := keys(t)
	root, _ := testRepo(t, a)
	for _, suite := range []string{"bookworm", "bullseye"} {
		t.Run(suite, func(t *testing.T) {
			d := filepath.Join(root, "dists", suite)
			data, err := os.ReadFile(filepath.Join(d, "Release"))
			must(t, err)
			rel, err := aptrepo.ParseParagraph(data)
			must(t, err)
			for field, want := range map[string]string{"Suite": suite, "Codename": suite, "Components": "main",
				"Architectures": "amd64", "Date": "Tue, 01 Dec 2026 10:00:00 UTC", "Origin": "dnstapkit"} {
				if got, _ := rel.Get(field); got != want {
					t.Errorf("Release %s: %q, want %q", field, got, want)
				}
			}
			var onDisk []string
			must(t, filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					r, _ := filepath.Rel(d, p)
					if r != "Release" && r != "InRelease" && r != "Release.gpg" {
						onDisk = append(onDisk, r)
					}
				}
				return err
			}))
			sort.Strings(onDisk)
			for _, h := range []struct {
				field string
				sum   func([]byte) string
			}{
				{"MD5Sum", func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }},
				{"SHA256", func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }},
				{"SHA512", func(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }},
			} {
				v, ok := rel.Get(h.field)
				if !ok {
					t.Errorf("Release has no %s", h.field)
					continue
				}
				var listed []string
				for _, line := range strings.Split(strings.TrimSpace(v), "\n") {
					f := strings.Fields(line)
					if len(f) != 3 {
						t.Errorf("%s line %q", h.field, line)
						continue
					}
					listed = append(listed, f[2])
					file, err := os.ReadFile(filepath.Join(d, f[2]))
					if err != nil {
						t.Errorf("%s lists %s: %v", h.field, f[2], err)
						continue
					}
					if size, _ := strconv.Atoi(f[1]); size != len(file) || f[0] != h.sum(file) {
						t.Errorf("%s %s: %s %s, file has %s %d", h.field, f[2], f[0], f[1], h.sum(file), len(file))
					}
				}
				sort.Strings(listed)
				if strings.Join(listed, " ") != strings.Join(onDisk, " ") {
					t.Errorf("%s lists %v; the suite holds %v", h.field, listed, onDisk)
				}
			}
			// Packages.gz is Packages.
			plain, err := os.ReadFile(filepath.Join(d, "main/binary-amd64/Packages"))
			must(t, err)
			f, err := os.Open(filepath.Join(d, "main/binary-amd64/Packages.gz"))
			must(t, err)
			defer f.Close()
			zr, err := gzip.NewReader(f)
			must(t, err)
			unz, err := io.ReadAll(zr)
			must(t, err)
			if !bytes.Equal(plain, unz) {
				t.Errorf("Packages.gz differs from Packages")
			}
		})
	}
}

// TestBuildPackagesLikeAptFtparchive compares each Packages stanza with what Debian's own
// apt-ftparchive writes for the same pool file, field by field (SHA1, which apt no longer
// trusts, is the one field this repository leaves out).
func TestBuildPackagesLikeAptFtparchive(t *testing.T) {
	ftparchive := testenv.LookPath(t, "apt-ftparchive", "apt-utils")
	a, _ := keys(t)
	root, _ := testRepo(t, a)
	cmd := exec.Command(ftparchive, "packages", "pool")
	cmd.Dir = root
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("apt-ftparchive packages pool: %v", err)
	}
	wantBy := stanzas(t, want)
	for suite, n := range map[string]int{"bookworm": 5, "bullseye": 2} {
		got, err := os.ReadFile(filepath.Join(root, "dists", suite, "main/binary-amd64/Packages"))
		must(t, err)
		gotBy := stanzas(t, got)
		if len(gotBy) != n {
			t.Errorf("%s: %d packages, want %d", suite, len(gotBy), n)
		}
		for file, g := range gotBy {
			w, ok := wantBy[file]
			if !ok {
				t.Errorf("%s: %s is not in the pool apt-ftparchive indexed", suite, file)
				continue
			}
			for name, wv := range w {
				if name == "SHA1" {
					continue
				}
				if g[name] != wv {
					t.Errorf("%s %s: %s = %q, apt-ftparchive: %q", suite, file, name, g[name], wv)
				}
			}
			for name := range g {
				if _, ok := w[name]; !ok {
					t.Errorf("%s %s: field %s that apt-ftparchive does not write", suite, file, name)
				}
			}
		}
	}
}

// stanzas parses a Packages file into its stanzas' fields, by Filename.
func stanzas(t *testing.T, data []byte) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, s := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		p, err := aptrepo.ParseParagraph([]byte(s))
		if err != nil {
			t.Fatalf("stanza %q: %v", s, err)
		}
		m := map[string]string{}
		for _, f := range p {
			m[f.Name] = f.Value
		}
		out[m["Filename"]] = m
	}
	return out
}

// TestBuildPool checks that each .deb is in the pool once, as the same bytes, even when two
// suites hold it.
func TestBuildPool(t *testing.T) {
	a, _ := keys(t)
	root, debs := testRepo(t, a)
	var n int
	must(t, filepath.Walk(filepath.Join(root, "pool"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n++
		}
		return err
	}))
	if n != len(debs) {
		t.Errorf("the pool holds %d files, want %d", n, len(debs))
	}
	for name, d := range debs {
		data, err := os.ReadFile(filepath.Join(root, d.PoolPath()))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != d.SHA256 {
			t.Errorf("%s: pool file differs from %s", name, d.Path)
		}
	}
}

// TestBuildRefuses lists what Build refuses, each leaving an existing repository as it was.
func TestBuildRefuses(t *testing.T) {
	a, _ := keys(t)
	dir := t.TempDir()
	d1, err := aptrepo.ReadDeb(makeDeb(t, dir, debSpec{"dnstap-reader", "1.0.0", "amd64", "gzip"}))
	must(t, err)
	other := t.TempDir()
	d1b, err := aptrepo.ReadDeb(makeDeb(t, other, debSpec{"dnstap-reader", "1.0.0", "amd64", "xz"})) // same name, other bytes
	must(t, err)
	all, err := aptrepo.ReadDeb(makeDeb(t, dir, debSpec{"docs", "1", "all", "gzip"}))
	must(t, err)
	root := filepath.Join(t.TempDir(), "repo")
	must(t, aptrepo.Build(aptrepo.Options{Dir: root, Key: a, Suites: []aptrepo.Suite{{Codename: "bookworm", Debs: []*aptrepo.Deb{d1}}}}))
	before, err := os.ReadFile(filepath.Join(root, "dists/bookworm/Release"))
	must(t, err)
	for _, tc := range []struct {
		name string
		o    aptrepo.Options
		want string
	}{
		{"no key", aptrepo.Options{Suites: []aptrepo.Suite{{Codename: "bookworm", Debs: []*aptrepo.Deb{d1}}}}, "no signing key"},
		{"no suite", aptrepo.Options{Key: a}, "no suite"},
		{"empty suite", aptrepo.Options{Key: a, Suites: []aptrepo.Suite{{Codename: "bookworm"}}}, "no package"},
		{"bad suite name", aptrepo.Options{Key: a, Suites: []aptrepo.Suite{{Codename: "../x", Debs: []*aptrepo.Deb{d1}}}}, "invalid suite name"},
		{"same file twice", aptrepo.Options{Key: a, Suites: []aptrepo.Suite{{Codename: "bookworm", Debs: []*aptrepo.Deb{d1, d1}}}}, "are both"},
		{"same name, other bytes", aptrepo.Options{Key: a, Suites: []aptrepo.Suite{{Codename: "bookworm", Debs: []*aptrepo.Deb{d1}},
			{Codename: "bullseye", Debs: []*aptrepo.Deb{d1b}}}}, "different contents"},
		{"only arch all", aptrepo.Options{Key: a, Suites: []aptrepo.Suite{{Codename: "bookworm", Debs: []*aptrepo.Deb{all}}}}, "Architecture: all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Dir = root
			err := aptrepo.Build(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build: %v, want an error with %q", err, tc.want)
			}
			after, rerr := os.ReadFile(filepath.Join(root, "dists/bookworm/Release"))
			if rerr != nil || !bytes.Equal(before, after) {
				t.Errorf("a refused Build changed the repository (%v)", rerr)
			}
		})
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(root), ".repo.new-*"))
	if len(left) > 0 {
		t.Errorf("refused builds left %v", left)
	}
}

// TestUbuntu1804Apt checks, without an Ubuntu 18.04 machine, what its apt 1.6 needs of a
// repository, each from apt's source at tag 1.6:
//   - apt-pkg/acquire-item.cc fetches InRelease, and falls back to Release with Release.gpg;
//   - apt-pkg/contrib/hashes.cc HashString::usable: MD5Sum and SHA1 alone are not usable,
//     SHA256 or SHA512 must be listed for every index;
//   - methods/gpgv.cc Digests: a signature over MD5, SHA1 or RIPE-MD/160 is untrusted,
//     SHA256/384/512/224 are trusted;
//   - apt-pkg/contrib/strutl.cc RFC1123StrToTime: Date as "Sun, 06 Nov 1994 08:49:37 UTC";
//   - apt-pkg/deb/debmetaindex.cc SetSignedBy: signed-by= takes an absolute keyring path.
func TestUbuntu1804Apt(t *testing.T) {
	gpgv := testenv.LookPath(t, "gpgv", "gpgv")
	a, _ := keys(t)
	root, _ := testRepo(t, a)
	d := filepath.Join(root, "dists", "bookworm")
	for _, f := range []string{"InRelease", "Release", "Release.gpg"} {
		if _, err := os.Stat(filepath.Join(d, f)); err != nil {
			t.Errorf("apt 1.6 fetches %s: %v", f, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(d, "Release"))
	must(t, err)
	rel, err := aptrepo.ParseParagraph(data)
	must(t, err)
	for _, field := range []string{"SHA256", "SHA512"} {
		v, _ := rel.Get(field)
		if !strings.Contains(v, "main/binary-amd64/Packages.gz") {
			t.Errorf("Release %s does not list Packages.gz: apt 1.6 needs a usable hash for each index", field)
		}
	}
	date, _ := rel.Get("Date")
	if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 MST", date); err != nil || !strings.HasSuffix(date, " UTC") {
		t.Errorf("Date %q: apt 1.6 reads RFC 1123 dates in UTC", date)
	}
	// gpgv's VALIDSIG: ... <sig version> <reserved> <pubkey algo> <hash algo> ...
	out, err := exec.Command(gpgv, "--status-fd", "1", "--keyring", filepath.Join(root, aptrepo.KeyringName), filepath.Join(d, "InRelease")).Output()
	must(t, err)
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == "VALIDSIG" {
			if algo, hash := f[8], f[9]; algo != "1" || (hash != "8" && hash != "9" && hash != "10" && hash != "11") {
				t.Errorf("signature: public key algorithm %s, hash %s; apt 1.6 trusts RSA (1) over SHA256/384/512/224 (8-11)", algo, hash)
			}
			return
		}
	}
	t.Errorf("gpgv printed no VALIDSIG:\n%s", out)
}
