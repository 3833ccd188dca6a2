package aptrepo

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Component is the one component of the repository.
const Component = "main"

// KeyringName is the file name of the public key at the top of the repository, and the
// name a router gives it under /usr/share/keyrings.
const KeyringName = "dnstapkit-archive-keyring.gpg"

// Suite is one dists/<Codename> of the repository and the packages in it.
type Suite struct {
	Codename    string // "bookworm": the suite a router names in its sources line
	Description string // one line; "" leaves the field out
	Debs        []*Deb // may hold several versions of a package, and the same Deb as other suites
}

// Options says what Build writes.
type Options struct {
	Dir    string  // the repository root; replaced as a whole
	Suites []Suite // at least one, each with at least one package
	Key    *Key    // signs every Release
	Origin string  // Origin and Label of each Release; "" means "dnstapkit"
	// Date is the Date of each Release; zero means now. apt refuses a Release dated in the
	// future ("not valid yet").
	Date time.Time
}

// Build writes the repository into a new directory beside o.Dir and then puts it in o.Dir's
// place, so a web server serving o.Dir never sees a half-written one: pool/ with each
// .deb once, dists/<suite>/{Release,InRelease,Release.gpg} and
// dists/<suite>/main/binary-<arch>/{Packages,Packages.gz,Release} for each suite, and the
// public key as KeyringName.
func Build(o Options) error {
	if o.Key == nil {
		return errors.New("build repository: no signing key")
	}
	if len(o.Suites) == 0 {
		return errors.New("build repository: no suite")
	}
	if o.Origin == "" {
		o.Origin = "dnstapkit"
	}
	if o.Date.IsZero() {
		o.Date = time.Now()
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("build repository: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("build repository: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".new-")
	if err != nil {
		return fmt.Errorf("build repository: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := write(tmp, o); err != nil {
		return fmt.Errorf("build repository %s: %w", o.Dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("build repository: %w", err)
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("build repository: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("build repository: %w", err)
	}
	return os.RemoveAll(old)
}

// write writes the whole repository under root.
func write(root string, o Options) error {
	pool := map[string]*Deb{} // pool path -> the deb there
	for _, s := range o.Suites {
		if s.Codename == "" || strings.ContainsAny(s.Codename, "/ \t\n") {
			return fmt.Errorf("invalid suite name %q", s.Codename)
		}
		if len(s.Debs) == 0 {
			return fmt.Errorf("suite %s: no package", s.Codename)
		}
		for _, d := range s.Debs {
			p := d.PoolPath()
			if have, ok := pool[p]; ok {
				if have.SHA256 != d.SHA256 {
					return fmt.Errorf("%s and %s are both %s_%s_%s with different contents", have.Path, d.Path, d.Name(), d.Version(), d.Arch())
				}
				continue
			}
			pool[p] = d
			if err := copyFile(d.Path, filepath.Join(root, filepath.FromSlash(p))); err != nil {
				return err
			}
		}
		if err := writeSuite(root, s, o); err != nil {
			return fmt.Errorf("suite %s: %w", s.Codename, err)
		}
	}
	pub, err := o.Key.PublicKeyring()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, KeyringName), pub, 0o644)
}

// indexFile is a file a Release lists.
type indexFile struct {
	name string // relative to dists/<suite>
	data []byte
}

// writeSuite writes dists/<s.Codename>.
func writeSuite(root string, s Suite, o Options) error {
	byArch := map[string][]*Deb{}
	var all []*Deb
	for _, d := range s.Debs {
		if d.Arch() == "all" {
			all = append(all, d)
		} else {
			byArch[d.Arch()] = append(byArch[d.Arch()], d)
		}
	}
	if len(byArch) == 0 {
		return errors.New("only Architecture: all packages; apt needs an architecture to list them under")
	}
	archs := make([]string, 0, len(byArch))
	for a := range byArch {
		archs = append(archs, a)
	}
	sort.Strings(archs)

	var files []indexFile
	for _, a := range archs {
		debs := append(append([]*Deb(nil), byArch[a]...), all...)
		packages, err := PackagesIndex(debs)
		if err != nil {
			return err
		}
		gz, err := gzipBytes(packages)
		if err != nil {
			return err
		}
		dir := path.Join(Component, "binary-"+a)
		rel := Paragraph{{"Archive", s.Codename}, {"Origin", o.Origin}, {"Label", o.Origin},
			{"Component", Component}, {"Architecture", a}}
		files = append(files,
			indexFile{path.Join(dir, "Packages"), packages},
			indexFile{path.Join(dir, "Packages.gz"), gz},
			indexFile{path.Join(dir, "Release"), []byte(rel.String())})
	}
	release := releaseFile(s, o, archs, files)
	inRelease, err := o.Key.ClearSign(release)
	if err != nil {
		return err
	}
	sig, err := o.Key.DetachSign(release)
	if err != nil {
		return err
	}
	files = append(files, indexFile{"Release", release}, indexFile{"InRelease", inRelease}, indexFile{"Release.gpg", sig})
	for _, f := range files {
		p := filepath.Join(root, "dists", s.Codename, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// releaseFile returns the Release of a suite listing files with their sizes and hashes.
func releaseFile(s Suite, o Options, archs []string, files []indexFile) []byte {
	p := Paragraph{{"Origin", o.Origin}, {"Label", o.Origin}, {"Suite", s.Codename}, {"Codename", s.Codename},
		// RFC 2822 in UTC, as Debian's archive writes it.
		{"Date", o.Date.UTC().Format("Mon, 02 Jan 2006 15:04:05 UTC")},
		{"Architectures", strings.Join(archs, " ")}, {"Components", Component}}
	if s.Description != "" {
		p = append(p, Field{"Description", s.Description})
	}
	for _, h := range []struct {
		field string
		sum   func([]byte) string
	}{
		{"MD5Sum", func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }},
		{"SHA256", func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }},
		{"SHA512", func(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }},
	} {
		var v strings.Builder
		for _, f := range files {
			fmt.Fprintf(&v, "\n %s %8d %s", h.sum(f.data), len(f.data), f.name)
		}
		p = append(p, Field{h.field, v.String()})
	}
	return []byte(p.String())
}

// PackagesIndex returns the Packages file of debs: each control paragraph with Filename,
// Size, MD5sum, SHA256 and SHA512 added, sorted by name, then version (as strings),
// then architecture. The same name, version and architecture twice is refused.
func PackagesIndex(debs []*Deb) ([]byte, error) {
	sorted := append([]*Deb(nil), debs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Name() != b.Name() {
			return a.Name() < b.Name()
		}
		if a.Version() != b.Version() {
			return a.Version() < b.Version()
		}
		return a.Arch() < b.Arch()
	})
	var b bytes.Buffer
	for i, d := range sorted {
		if i > 0 {
			prev := sorted[i-1]
			if prev.Name() == d.Name() && prev.Version() == d.Version() && prev.Arch() == d.Arch() {
				return nil, fmt.Errorf("%s and %s are both %s_%s_%s", prev.Path, d.Path, d.Name(), d.Version(), d.Arch())
			}
			b.WriteString("\n")
		}
		p := append(Paragraph(nil), d.Control...)
		p = append(p, Field{"Filename", d.PoolPath()}, Field{"Size", fmt.Sprint(d.Size)},
			Field{"MD5sum", d.MD5}, Field{"SHA256", d.SHA256}, Field{"SHA512", d.SHA512})
		b.WriteString(p.String())
	}
	return b.Bytes(), nil
}

func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// copyFile copies src to dst (a hard link when they share a file system), creating dst's
// directory.
func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
