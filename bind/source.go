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
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/docker"
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
	From    string // where it came from, for the log: "BIND_TARBALL", "ISC", "Debian bullseye"
}

var tarballRelease = regexp.MustCompile(`^bind9?[-_](\d+\.\d+\.\d+)(?:\.orig)?\.tar\.(?:gz|xz|bz2)$`)

// FetchSource finds the source tarball of v, in this order: the local tarball (when not
// ""), the cache, ISC's URL (checked against v.SHA256), the upstream tarball inside
// Debian's bind9 source package of v.DebianSuite (fetched in a container of that suite).
// A tarball whose checksum differs from the table's is refused. progress gets one line a
// step.
func FetchSource(ctx context.Context, v Version, local, cacheDir string, progress io.Writer) (*Source, error) {
	if local != "" {
		return localSource(v, local)
	}
	dir := filepath.Join(cacheDir, "src")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("source cache: %w", err)
	}
	cached := filepath.Join(dir, "bind-"+v.Release+".tar"+filepath.Ext(v.URL))
	if v.SHA256 != "" {
		if sum, err := fileSHA256(cached); err == nil && sum == v.SHA256 {
			return &Source{Path: cached, Release: v.Release, SHA256: sum, From: "cache"}, nil
		}
	}
	var reasons []string
	if v.SHA256 == "" {
		reasons = append(reasons, "ISC: no SHA-256 of "+v.Release+" in the version table, so a download could not be checked")
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
	return nil, fmt.Errorf("no source tarball for BIND %s (set BIND_TARBALL to a local bind-%s.tar.xz):\n  %s",
		v.Release, v.Release, strings.Join(reasons, "\n  "))
}

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
	if rel == v.Release && v.SHA256 != "" && sum != v.SHA256 {
		return nil, fmt.Errorf("%w: BIND_TARBALL %s has SHA-256 %s, the table says %s for %s",
			ErrChecksum, path, sum, v.SHA256, v.Release)
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
	var out tailBuffer
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
