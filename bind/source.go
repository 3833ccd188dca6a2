package bind

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/docker"
	"github.com/dnstapkit/dnstapkit/internal/tail"
)

// ErrChecksum is returned (wrapped) when a tarball's SHA-256 is not the table's.
var ErrChecksum = errors.New("bind: checksum mismatch")

// iscTimeout bounds the download from ISC, which hangs or fails at once where it is not
// reachable.
const iscTimeout = 2 * time.Minute

// Source is a BIND source tarball on disk.
type Source struct {
	Path    string // the tarball
	Release string // its release, "9.18.49"
	SHA256  string // its hex SHA-256
	From    string // where it came from, for the log: "BIND_TARBALL", "BIND_SOURCES", "ISC", "Debian bullseye"
}

// SourceOptions says where FetchSource looks besides the network.
type SourceOptions struct {
	Tarball  string // BIND_TARBALL: this file, whatever else there is
	Dir      string // BIND_SOURCES: a directory of tarballs, each accepted only with a listed SHA-256
	CacheDir string // downloads are kept in CacheDir/src
}

var tarballRelease = regexp.MustCompile(`^bind9?[-_](\d+\.\d+\.\d+)(?:\.orig)?\.tar\.(?:gz|xz|bz2)$`)

// DefaultSourcesDir is where the sources of a checkout at root are laid when BIND_SOURCES
// is not set: ../shared/bind-src beside the checkout, when that directory exists ("" when
// it does not).
func DefaultSourcesDir(root string) string {
	dir := filepath.Join(root, "..", "shared", "bind-src")
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		if abs, err := filepath.Abs(dir); err == nil {
			return abs
		}
	}
	return ""
}

// FetchSource finds the source tarball of v, in this order: o.Tarball (when not ""), a
// tarball of v.Release in o.Dir whose SHA-256 the table lists (ISC's or one of v.Local),
// the cache, ISC's URL (checked against v.SHA256), the upstream tarball inside Debian's
// bind9 source package of v.DebianSuite (fetched in a container of that suite). A tarball
// whose checksum the table does not list for its release is refused. progress gets one
// line a step.
func FetchSource(ctx context.Context, v Version, o SourceOptions, progress io.Writer) (*Source, error) {
	if o.Tarball != "" {
		return localSource(v, o.Tarball)
	}
	var reasons []string
	if o.Dir != "" {
		src, err := dirSource(v, o.Dir)
		if src != nil || err != nil {
			return src, err
		}
		reasons = append(reasons, fmt.Sprintf("BIND_SOURCES %s: no tarball of %s (want %s)", o.Dir, v.Release, strings.Join(v.fileNames(), " or ")))
	} else {
		reasons = append(reasons, "BIND_SOURCES: not set, and no ../shared/bind-src beside the checkout")
	}
	dir := filepath.Join(o.CacheDir, "src")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("source cache: %w", err)
	}
	cached := filepath.Join(dir, "bind-"+v.Release+".tar"+filepath.Ext(v.URL))
	if v.SHA256 != "" {
		if sum, err := fileSHA256(cached); err == nil && sum == v.SHA256 {
			return &Source{Path: cached, Release: v.Release, SHA256: sum, From: "cache"}, nil
		}
	}
	if v.SHA256 == "" {
		reasons = append(reasons, "ISC: no SHA-256 of ISC's "+v.Release+" tarball in the version table, so a download could not be checked")
	} else {
		fmt.Fprintf(progress, "source: downloading %s\n", v.URL)
		err := download(ctx, v.URL, cached, v.SHA256)
		if err == nil {
			return &Source{Path: cached, Release: v.Release, SHA256: v.SHA256, From: "ISC"}, nil
		}
		if errors.Is(err, ErrChecksum) {
			return nil, err
		}
		fmt.Fprintf(progress, "source: ISC download failed (%v); trying Debian's source package\n", err)
		reasons = append(reasons, "ISC: "+err.Error())
	}
	if v.DebianSuite == "" {
		reasons = append(reasons, "Debian: no Debian suite ships "+v.Release)
	} else {
		fmt.Fprintf(progress, "source: apt-get source --download-only bind9/%s in a container\n", v.DebianSuite)
		src, err := debianSource(ctx, v, dir, progress)
		if err == nil || errors.Is(err, ErrChecksum) {
			return src, err
		}
		reasons = append(reasons, "Debian "+v.DebianSuite+": "+err.Error())
	}
	return nil, fmt.Errorf("no source tarball for BIND %s: set BIND_SOURCES to a directory holding %s "+
		"(SHA-256 as listed in bind/versions.go; ../shared/bind-src beside the checkout is used when it exists), "+
		"or BIND_TARBALL to a tarball:\n  %s",
		v.Release, strings.Join(v.fileNames(), " or "), strings.Join(reasons, "\n  "))
}

// sums returns every SHA-256 the table lists for v.Release, with what each is.
func (v Version) sums() map[string]string {
	s := map[string]string{}
	if v.SHA256 != "" {
		s[v.SHA256] = "ISC's release tarball"
	}
	for _, t := range v.Local {
		s[t.SHA256] = t.Origin
	}
	return s
}

// fileNames returns the names a tarball of v.Release has in a BIND_SOURCES directory.
func (v Version) fileNames() []string {
	var names []string
	for _, t := range v.Local {
		names = append(names, t.File)
	}
	if v.SHA256 != "" {
		names = append(names, path.Base(v.URL))
	}
	return names
}

// dirSource looks in dir for a tarball of v.Release (any name tarballRelease reads as that
// release). The first whose SHA-256 the table lists is the source; when some are there but
// none is listed, that is an error; when none is there, (nil, nil).
func dirSource(v Version, dir string) (*Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("BIND_SOURCES: %w", err)
	}
	sums := v.sums()
	var refused []string
	for _, e := range entries {
		m := tarballRelease.FindStringSubmatch(e.Name())
		if m == nil || m[1] != v.Release || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, fmt.Errorf("BIND_SOURCES: %w", err)
		}
		if _, ok := sums[sum]; ok {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, fmt.Errorf("BIND_SOURCES: %w", err)
			}
			return &Source{Path: abs, Release: v.Release, SHA256: sum, From: "BIND_SOURCES"}, nil
		}
		refused = append(refused, fmt.Sprintf("%s has SHA-256 %s", p, sum))
	}
	if len(refused) == 0 {
		return nil, nil
	}
	var listed []string
	for sum, what := range sums {
		listed = append(listed, sum+" ("+what+")")
	}
	sort.Strings(listed)
	if len(listed) == 0 {
		listed = []string{"none"}
	}
	return nil, fmt.Errorf("%w: BIND_SOURCES: %s; bind/versions.go lists for BIND %s: %s",
		ErrChecksum, strings.Join(refused, ", "), v.Release, strings.Join(listed, ", "))
}

// localSource checks the BIND_TARBALL file: it must be of v's series, and when its name
// says v.Release its SHA-256 must be one the table lists (if it lists any). A tarball of
// another release of the series is built as that release, unchecked: the user named it.
func localSource(v Version, path string) (*Source, error) {
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("BIND_TARBALL: %w", err)
	}
	rel := v.Release
	if m := tarballRelease.FindStringSubmatch(filepath.Base(path)); m != nil {
		rel = m[1]
	}
	if !strings.HasPrefix(rel, v.Series+".") {
		return nil, fmt.Errorf("BIND_TARBALL %s is BIND %s, not of the %s series asked for", path, rel, v.Series)
	}
	if sums := v.sums(); rel == v.Release && len(sums) > 0 {
		if _, ok := sums[sum]; !ok {
			return nil, fmt.Errorf("%w: BIND_TARBALL %s has SHA-256 %s, not one the table lists for %s",
				ErrChecksum, path, sum, v.Release)
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("BIND_TARBALL: %w", err)
	}
	return &Source{Path: abs, Release: rel, SHA256: sum, From: "BIND_TARBALL"}, nil
}

// download fetches url to path, checking the SHA-256 before the file takes its name.
func download(ctx context.Context, url, path, want string) error {
	ctx, cancel := context.WithTimeout(ctx, iscTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return writeChecked(resp.Body, path, want, url)
}

// writeChecked copies r to path through a .part file, refusing it unless its SHA-256 is want.
func writeChecked(r io.Reader, path, want, what string) error {
	part := path + ".part"
	f, err := os.Create(part)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(part)
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		os.Remove(part)
		return fmt.Errorf("%w: %s has SHA-256 %s, the table says %s", ErrChecksum, what, got, want)
	}
	return os.Rename(part, path)
}

// debianSource runs `apt-get source --download-only bind9` in a container of v.DebianSuite
// with deb-src entries for the same mirror, and copies the .orig tarball out.
func debianSource(ctx context.Context, v Version, dir string, progress io.Writer) (*Source, error) {
	ref, err := baseimage.Ensure(ctx, "debian:"+v.DebianSuite, baseimage.WithLog(progress))
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("dnstapkit-bind-source-%s-%d", v.Release, time.Now().UnixNano())
	script := `set -e
sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/deb-src.list
apt-get update -qq
mkdir -p /out && cd /out
apt-get source --download-only bind9=$(apt-cache showsrc bind9 | sed -n 's/^Version: //p' | grep -F ':` + v.Release + `-' | head -n1)
ls -l /out`
	defer func() { _ = docker.Run(context.WithoutCancel(ctx), nil, "rm", "-f", name) }()
	var out tail.Buffer
	if err := docker.Run(ctx, &out, "run", "--name", name, ref, "sh", "-c", script); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, out.String())
	}
	orig := "bind9_" + v.Release + ".orig.tar.xz"
	tmp, err := os.MkdirTemp(dir, "debian-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := docker.Run(ctx, nil, "cp", name+":/out/"+orig, tmp); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(tmp, orig))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	path := filepath.Join(dir, "bind-"+v.Release+".tar.xz")
	if v.SHA256 == "" {
		return nil, fmt.Errorf("no SHA-256 of %s in the version table to check %s against", v.Release, orig)
	}
	if err := writeChecked(f, path, v.SHA256, orig+" from Debian "+v.DebianSuite); err != nil {
		return nil, err
	}
	return &Source{Path: path, Release: v.Release, SHA256: v.SHA256, From: "Debian " + v.DebianSuite}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
