package bind

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/debpkg"
	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
)

// PackageName is the name of the .deb: it conflicts with and replaces the distro's bind9.
const PackageName = "bind9-dnstap"

//go:embed named.conf named.conf.dnstap db.local db.127 named.service README.md debian recipe
var assets embed.FS

// NamedConf is the default /etc/bind/named.conf of the package (dnstap on).
//
//go:embed named.conf
var NamedConf string

// DnstapSnippet is the dnstap part of the options block of NamedConf, for configurations
// of your own.
//
//go:embed named.conf.dnstap
var DnstapSnippet string

// DebOptions says what BuildDeb packages.
type DebOptions struct {
	Release string   // upstream release, "9.18.49"
	Distro  string   // "debian:bookworm"
	Arch    string   // Debian architecture, "amd64"
	Staging string   // the tree `make install DESTDIR=` made; only usr/local is packaged
	Depends []string // runtime dependencies ("libuv1 (>= 1.44.2-1)")
	Out     string   // the .deb to write
	MTime   time.Time
}

// DebFileName returns dist-relative file name of the package: bind9-dnstap_<release>-<distro>_<arch>.deb.
func DebFileName(release, distro, arch string) string {
	return fmt.Sprintf("%s_%s-%s_%s.deb", PackageName, release, strings.ReplaceAll(distro, ":", "-"), arch)
}

// DebRevision returns the Debian revision of the package built for distro:
// "1~debianbookworm" for debian:bookworm, "1~ubuntu1804" for ubuntu:18.04. The "~" sorts
// it below any revision of the same release without one.
func DebRevision(distro string) string {
	d, suite, _ := strings.Cut(distro, ":")
	return "1~" + d + strings.ReplaceAll(suite, ".", "")
}

// DebDistro returns the distro a bind9-dnstap version ("9.18.49-1~debianbookworm") was built
// for, read from its revision, and whether it names a known one.
func DebDistro(version string) (string, bool) {
	for _, d := range baseimage.Known() {
		if strings.HasSuffix(version, "-"+DebRevision(d)) {
			return d, true
		}
	}
	return "", false
}

// BuildDeb writes the bind9-dnstap .deb with nfpm, in-process.
func BuildDeb(o DebOptions) error {
	tmp, err := os.MkdirTemp("", "bind9-dnstap-deb-")
	if err != nil {
		return fmt.Errorf("build deb: %w", err)
	}
	defer os.RemoveAll(tmp)
	// nfpm reads every content and script from a file: write the embedded ones out.
	if err := os.CopyFS(tmp, assets); err != nil {
		return fmt.Errorf("build deb: %w", err)
	}
	contents, err := stagingContents(o.Staging)
	if err != nil {
		return fmt.Errorf("build deb: %w", err)
	}
	a := func(name string) string { return filepath.Join(tmp, name) }
	for _, c := range []struct{ src, dst, typ string }{
		{"named.conf", "/etc/bind/named.conf", files.TypeConfigNoReplace},
		{"db.local", "/etc/bind/db.local", files.TypeConfigNoReplace},
		{"db.127", "/etc/bind/db.127", files.TypeConfigNoReplace},
		{"named.conf.dnstap", "/usr/share/doc/bind9-dnstap/named.conf.dnstap", files.TypeFile},
		{"README.md", "/usr/share/doc/bind9-dnstap/README.md", files.TypeFile},
		{"named.service", "/usr/lib/systemd/system/named.service", files.TypeFile},
		{"debian/tmpfiles.conf", "/usr/lib/tmpfiles.d/bind9-dnstap.conf", files.TypeFile},
	} {
		contents = append(contents, &files.Content{Source: a(c.src), Destination: c.dst, Type: c.typ,
			FileInfo: &files.ContentFileInfo{Mode: 0o644}})
	}
	info := &nfpm.Info{
		Name:          PackageName,
		Arch:          o.Arch,
		Platform:      "linux",
		Version:       o.Release,
		VersionSchema: "none",
		Release:       DebRevision(o.Distro),
		Section:       "net",
		Priority:      "optional",
		Maintainer:    "dnstapkit <dnstapkit@localhost>",
		Description: "BIND " + o.Release + " built from source with dnstap, for " + o.Distro + "\n" +
			"named, rndc, named-checkconf, dnstap-read, dig and the other BIND tools, built\n" +
			"with --enable-dnstap and installed under /usr/local, with a named.service unit\n" +
			"and a default /etc/bind/named.conf that logs queries and responses over dnstap.",
		Homepage: "https://www.isc.org/bind/",
		License:  "MPL-2.0",
		MTime:    o.MTime,
		Overridables: nfpm.Overridables{
			Depends:   append([]string{"adduser"}, o.Depends...),
			Conflicts: []string{"bind9"},
			Replaces:  []string{"bind9"},
			Provides:  []string{"dnstap-named"},
			Contents:  contents,
			Scripts: nfpm.Scripts{
				PostInstall: a("debian/postinst"),
				PreRemove:   a("debian/prerm"),
				PostRemove:  a("debian/postrm"),
			},
		},
	}
	if err := debpkg.Write(info, o.MTime, o.Out); err != nil {
		return fmt.Errorf("build deb %s: %w", o.Out, err)
	}
	return nil
}

// stagingContents lists every file and symlink under staging/usr/local as nfpm contents.
func stagingContents(staging string) (files.Contents, error) {
	root := filepath.Join(staging, "usr/local")
	var out files.Contents
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(staging, p)
		dst := "/" + filepath.ToSlash(rel)
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, &files.Content{Source: target, Destination: dst, Type: files.TypeSymlink})
		case e.Type().IsRegular():
			fi, err := e.Info()
			if err != nil {
				return err
			}
			out = append(out, &files.Content{Source: p, Destination: dst, Type: files.TypeFile,
				FileInfo: &files.ContentFileInfo{Mode: fi.Mode().Perm()}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("staging tree: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("staging tree %s is empty", root)
	}
	return out, nil
}
