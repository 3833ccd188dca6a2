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
	// SHA256 is the hex SHA-256 of the upstream tarball, read from Debian's signed source
	// index or .dsc of the same pristine tarball; "" when this project has not seen it
	// (9.14: no Debian suite here ships it), in which case only BIND_TARBALL is accepted.
	SHA256 string
	// DebianSuite is the Debian suite whose bind9 source package carries this release's
	// tarball as its .orig.tar.xz ("" when none does).
	DebianSuite string
	// Configure is the ./configure command line, flags only.
	Configure []string
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

var versions = []Version{
	{
		Series:  "9.14",
		Release: "9.14.12",
		URL:     "https://downloads.isc.org/isc/bind9/9.14.12/bind-9.14.12.tar.gz",
		// The classic configure line, exactly as operators run it for 9.14.
		Configure: []string{"--enable-dnstap", "--sysconfdir=/etc/bind", "--localstatedir=/", "--enable-threads",
			"--enable-largefile", "--with-libtool", "--enable-shared", "--enable-static", "--with-gnu-ld",
			"--enable-dnsrps", "--prefix=/usr/local"},
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libssl-dev", "libcap-dev", "python3", "python3-ply"}),
	},
	{
		Series:      "9.16",
		Release:     "9.16.50",
		URL:         "https://downloads.isc.org/isc/bind9/9.16.50/bind-9.16.50.tar.xz",
		SHA256:      "816dbaa3c115019f30fcebd9e8ef8f7637f4adde91c79daa099b035255a15795",
		DebianSuite: "bullseye",
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
		// 9.18 refuses --enable-static, wants --enable-dnsrps-dl beside --enable-dnsrps,
		// and ignores --enable-threads and --with-libtool (so they are left out).
		Configure: join([]string{"--enable-dnstap"}, layout, []string{"--enable-largefile", "--enable-shared",
			"--with-gnu-ld", "--enable-dnsrps", "--enable-dnsrps-dl"}),
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libuv1-dev", "libssl-dev", "libcap-dev", "libnghttp2-dev"}),
	},
	{
		Series:  "9.20",
		Release: "9.20.30",
		URL:     "https://downloads.isc.org/isc/bind9/9.20.30/bind-9.20.30.tar.xz",
		// Read from trixie's signed Sources index (bind9 1:9.20.30-1~deb13u1). The index is
		// served on the machines this was written on but the tarball is not (404), so this
		// release builds where ISC or a complete Debian mirror answers, or from BIND_TARBALL.
		SHA256:      "9e1443a40a72a30272cbc3196d020a6b2e26937111c83e59e101e82e1e3b4fef",
		DebianSuite: "trixie",
		// 9.20 needs liburcu (userspace RCU); --enable-dnsrps needs --enable-dnsrps-dl as in 9.18.
		Configure: join([]string{"--enable-dnstap"}, layout, []string{"--enable-largefile", "--enable-shared",
			"--with-gnu-ld", "--enable-dnsrps", "--enable-dnsrps-dl"}),
		BuildDeps: join(toolchain, dnstapDeps, statsDeps, []string{"libuv1-dev", "libssl-dev", "libcap-dev", "libnghttp2-dev", "liburcu-dev"}),
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
