package bind

import (
	"fmt"
	"sort"
	"strings"
)

// Version is one BIND release this toolkit knows how to build.
type Version struct {
	Series  string // "9.18": what BIND_VERSION names
	Release string // "9.18.49": the exact upstream release
	// URL is the upstream tarball at ISC.
	URL string
	// SHA256 is the hex SHA-256 of ISC's release tarball at URL, read from Debian's signed
	// source index or .dsc of the same pristine tarball; "" when this project has not seen
	// it, in which case no download is tried.
	SHA256 string
	// Local lists the other tarballs of this release that a BIND_SOURCES directory may
	// hold, each accepted only with its SHA-256.
	Local []Tarball
	// DebianSuite is the Debian suite whose bind9 source package carries this release's
	// tarball as its .orig.tar.xz ("" when none does).
	DebianSuite string
	// Distro is the distro this release is built and tested on when DISTRO is not set: one
	// whose libraries it was written for.
	Distro string
	// Bionic says whether the release builds on Ubuntu 18.04's libraries (DISTRO=ubuntu:18.04,
	// for the glibc 2.27 of its routers), and why.
	Bionic string
	// Configure is the ./configure command line, flags only.
	Configure []string
	// MakeEnv is set in make's environment ("NAME=value"): what the compile needs beyond
	// the configure line, which it leaves as it is (named -V shows that line).
	MakeEnv []string
	// BuildDeps are the Debian package names the compile needs on every distro;
	// DistroDeps adds per-distro ones (key: "debian:bookworm").
	BuildDeps  []string
	DistroDeps map[string][]string
}

// layout is the installation layout of every version: the classic operators' line.
var layout = []string{"--prefix=/usr/local", "--sysconfdir=/etc/bind", "--localstatedir=/"}

// toolchain is what every compile needs besides the version's own libraries.
var toolchain = []string{"build-essential", "pkg-config", "libtool", "ca-certificates", "xz-utils", "file"}

// dnstapDeps are the libraries --enable-dnstap needs.
var dnstapDeps = []string{"libfstrm-dev", "libprotobuf-c-dev", "protobuf-c-compiler"}

// statsDeps give named its statistics channel (XML and JSON): the dnstap counters
// (DNSTAPsuccess, DNSTAPdropped) that the e2e and load tests read are only there.
var statsDeps = []string{"libxml2-dev", "libjson-c-dev"}

// Tarball is a source tarball of a release other than ISC's own file.
type Tarball struct {
	File   string // its file name in a BIND_SOURCES directory
	SHA256 string // hex
	Origin string // what it is, for the build log
}

// commonDeps are the build dependencies of every version: the builder image installs them
// in a layer of their own, which the builders of two versions on one distro share.
var commonDeps = join(toolchain, dnstapDeps, statsDeps, []string{"libssl-dev", "libcap-dev"})

var versions = []Version{
	{
		Series:  "9.14",
		Release: "9.14.12",
		// bullseye's OpenSSL 1.1.1 is Ubuntu 18.04's; 9.14 predates OpenSSL 3 (bookworm on).
		Distro: "debian:bullseye",
		Bionic: "yes: OpenSSL 1.1.1, libfstrm, protobuf-c, python3-ply and python3-distutils are in bionic; its gcc 7 has -fcommon by default",
		URL:    "https://downloads.isc.org/isc/bind9/9.14.12/bind-9.14.12.tar.gz",
		// ISC's download server is not reachable from the build machines, and no Debian suite
		// carries 9.14; ../shared/bind-src/README.md lists this tarball beside the project.
		Local: []Tarball{{
			File:   "bind-9.14.12.tar.xz",
			SHA256: "7b57ea706f7019c1558eaecb4cc37d3542591c0068ec2acb1f6b98c6377d8b58",
			Origin: "git archive --prefix=bind-9.14.12/ v9.14.12 of ISC's BIND 9 repository (commit f3dc26e898892cc554e2760cb9b1a3ddfbf412d0), with a generated configure",
		}},
		// The classic configure line, exactly as operators run it for 9.14.
		Configure: []string{"--enable-dnstap", "--sysconfdir=/etc/bind", "--localstatedir=/", "--enable-threads",
			"--enable-largefile", "--with-libtool", "--enable-shared", "--enable-static", "--with-gnu-ld",
			"--enable-dnsrps", "--prefix=/usr/local"},
		// gcc 10 (bullseye on) defaults to -fno-common, and 9.14's lib/dns/include/dns/librpz.h
		// (built by --enable-dnsrps) defines librpz_dnsrpzd_path in a header: the link fails
		// with "multiple definition of librpz_dnsrpzd_path". -fcommon is gcc 7's default
		// (Ubuntu 18.04), so it changes nothing there. EXT_CFLAGS is 9.14's hook for flags
		// given at make time (make/rules.in), so the configure line stays exactly the classic one.
		MakeEnv: []string{"EXT_CFLAGS=-fcommon"},
		// 9.14's configure builds the python tools (dnssec-keymgr & co.) unless told
		// --without-python, and refuses to go on when python3 lacks ply or distutils.core.
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libssl-dev", "libcap-dev", "python3", "python3-ply"}),
		DistroDeps: map[string][]string{
			// distutils is its own package from Debian 10 (and Ubuntu 18.04) to Debian 12.
			"debian:bullseye": {"python3-distutils"},
			"debian:bookworm": {"python3-distutils"},
			"ubuntu:18.04":    {"python3-distutils"},
		},
	},
	{
		Series:      "9.16",
		Release:     "9.16.50",
		URL:         "https://downloads.isc.org/isc/bind9/9.16.50/bind-9.16.50.tar.xz",
		SHA256:      "816dbaa3c115019f30fcebd9e8ef8f7637f4adde91c79daa099b035255a15795",
		DebianSuite: "bullseye",
		Distro:      "debian:bullseye",
		Bionic:      "yes: needs libuv >= 1.0 (bionic: 1.18)",
		// 9.16 still takes --enable-static; --without-python drops the python tools
		// (dnssec-keymgr, dnssec-checkds, dnssec-coverage), which need python3-ply.
		Configure: join([]string{"--enable-dnstap"}, layout, []string{"--enable-largefile", "--enable-shared",
			"--enable-static", "--with-gnu-ld", "--enable-dnsrps", "--without-python"}),
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libuv1-dev", "libssl-dev", "libcap-dev"}),
	},
	{
		Series:      "9.18",
		Release:     "9.18.49",
		URL:         "https://downloads.isc.org/isc/bind9/9.18.49/bind-9.18.49.tar.xz",
		SHA256:      "c43ce4548ebed788cd9df63658a7de105ceafba43fcd63fa352b1093e525cd24",
		DebianSuite: "bookworm",
		Distro:      "debian:bookworm",
		Bionic:      "yes: needs libuv >= 1.0 (bionic: 1.18), OpenSSL 1.1.1 and libnghttp2 (bionic: 1.30)",
		// 9.18 refuses --enable-static, wants --enable-dnsrps-dl beside --enable-dnsrps,
		// and ignores --enable-threads and --with-libtool (so they are left out).
		Configure: join([]string{"--enable-dnstap"}, layout, []string{"--enable-largefile", "--enable-shared",
			"--with-gnu-ld", "--enable-dnsrps", "--enable-dnsrps-dl"}),
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libuv1-dev", "libssl-dev", "libcap-dev", "libnghttp2-dev"}),
	},
	{
		Series:  "9.20",
		Release: "9.20.27",
		// bookworm has what 9.20 needs (libuv 1.44 >= 1.34, liburcu 0.13, OpenSSL 3.0) and
		// shares its base image and the builder's common layer with 9.18.
		Distro: "debian:bookworm",
		Bionic: "no: its configure needs libuv >= 1.34 (bionic: 1.18)",
		URL:    "https://downloads.isc.org/isc/bind9/9.20.27/bind-9.20.27.tar.xz",
		// ISC's tarball cannot be fetched here and trixie's source package (9.20.30) is not
		// served; ../shared/bind-src/README.md lists this tarball beside the project.
		Local: []Tarball{{
			File:   "bind-9.20.27.tar.xz",
			SHA256: "fcd4f6574f62c0fbacfc1f1782eee7efa00702958ce226bca12f07301c746b26",
			Origin: "git archive --prefix=bind-9.20.27/ v9.20.27 of ISC's BIND 9 repository (commit 74d0754dbea43cfe3c2135aa6dc4923ca1ef86b6), less tests/bench/names.csv; no configure (the recipe runs autoreconf -fi)",
		}},
		// 9.20 needs liburcu (userspace RCU) and libuv >= 1.34; --enable-dnsrps needs
		// --enable-dnsrps-dl as in 9.18. autoconf and automake make configure for a tree
		// that has none (a git archive; its m4/ holds the macros it needs).
		Configure: join([]string{"--enable-dnstap"}, layout, []string{"--enable-largefile", "--enable-shared",
			"--with-gnu-ld", "--enable-dnsrps", "--enable-dnsrps-dl"}),
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libuv1-dev", "libssl-dev", "libcap-dev", "libnghttp2-dev", "liburcu-dev",
			"autoconf", "automake"}),
	},
}

// Versions returns the known versions, oldest first.
func Versions() []Version { return append([]Version(nil), versions...) }

// Known returns the names BIND_VERSION accepts: each series and each release.
func Known() []string {
	var names []string
	for _, v := range versions {
		names = append(names, v.Series)
	}
	sort.Strings(names)
	return names
}

// Lookup finds a version by series ("9.18") or exact release ("9.18.49").
func Lookup(name string) (Version, error) {
	name = strings.TrimPrefix(strings.TrimSpace(name), "v")
	for _, v := range versions {
		if name == v.Series || name == v.Release {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("unknown BIND version %q: known are %s (or their exact releases %s)",
		name, strings.Join(Known(), ", "), strings.Join(releases(), ", "))
}

// Deps returns the build dependencies of v on distro ("debian:bookworm").
func (v Version) Deps(distro string) []string {
	return join(v.BuildDeps, v.DistroDeps[distro])
}

func releases() []string {
	var r []string
	for _, v := range versions {
		r = append(r, v.Release)
	}
	return r
}

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
