package packaging

import (
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/debpkg"
	"github.com/goreleaser/nfpm/v2"
)

// Spec says which package to build, from what, and where to.
type Spec struct {
	Name    string    // "dnstap-collector" or "dnstap-reader"
	Version string    // Debian version, starting with a digit: "0.1.0", "0.0.0~git1a2b3c4"
	Arch    string    // GOARCH of the binary ("amd64", "arm64", "arm"); "" means amd64
	Root    string    // repository root, holding packaging/ and systemd/
	BinDir  string    // directory holding the built binary called Name
	OutDir  string    // directory the .deb is written to, created if missing
	Time    time.Time // SOURCE_DATE_EPOCH: mtime of every file, date of the man page; required
	// Help is the program's usage text for the man page. nil runs BinDir/Name -h, which
	// needs a binary the build machine can execute.
	Help []byte
}

// pkgDoc is what the man page and changelog of each package say beyond the -h output.
type pkgDoc struct {
	section     string
	summary     string
	description []string
	files       [][2]string
	seeAlso     []string
}

// Names lists the packages BuildDeb knows, in build order.
var Names = []string{"dnstap-collector", "dnstap-reader"}

var docs = map[string]pkgDoc{
	"dnstap-collector": {
		section: "8",
		summary: "receive dnstap over Frame Streams and write rotated capture files",
		description: []string{
			"dnstap-collector accepts Frame Streams connections from a DNS server (BIND's named, " +
				"Unbound, Knot, CoreDNS, PowerDNS) and writes the dnstap frames to self-contained " +
				"Frame Streams files, rotated by time or size. It accepts the flags of fstrm_capture.",
			"Installed from the Debian package it is started by systemd: dnstap-collector.socket " +
				"listens on /var/cache/bind/dnstap.sock (owner dnstap, group bind, mode 0660) and " +
				"starts dnstap-collector.service on the first connection. Captures go to " +
				"/var/log/dnstap. SIGHUP (systemctl reload dnstap-collector) closes the current " +
				"file and starts a new one.",
		},
		files: [][2]string{
			{"/etc/default/dnstap-collector", "Settings read by dnstap-collector.service."},
			{"/var/cache/bind/dnstap.sock", "The socket named writes to (dnstap-output unix)."},
			{"/var/log/dnstap", "The capture files."},
		},
		seeAlso: []string{"dnstap-reader(1)", "fstrm_capture(1)", "named(8)", "systemd.socket(5)"},
	},
	"dnstap-reader": {
		section: "1",
		summary: "print dnstap capture files like dnstap-read, or as JSON and statistics",
		description: []string{
			"dnstap-reader reads dnstap Frame Streams files (plain, .gz or .zst) and prints each " +
				"message the way BIND's dnstap-read does, or as YAML, JSON or statistics.",
		},
		seeAlso: []string{"dnstap-collector(8)", "dnstap-read(1)"},
	},
}

// BuildDeb builds the .deb of s.Name into s.OutDir and returns its path. The file name is
// Debian's conventional name_version_arch.deb.
func BuildDeb(ctx context.Context, s Spec) (string, error) {
	doc, ok := docs[s.Name]
	if !ok {
		return "", fmt.Errorf("build deb: unknown package %q: known are %s", s.Name, strings.Join(Names, ", "))
	}
	if s.Version == "" || s.Version[0] < '0' || s.Version[0] > '9' {
		return "", fmt.Errorf("build deb %s: invalid version %q: must start with a digit", s.Name, s.Version)
	}
	if s.Time.IsZero() {
		return "", fmt.Errorf("build deb %s: no time given (SOURCE_DATE_EPOCH)", s.Name)
	}
	if s.Arch == "" {
		s.Arch = "amd64"
	}
	root, err := filepath.Abs(s.Root)
	if err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	bin, err := filepath.Abs(filepath.Join(s.BinDir, s.Name))
	if err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("build deb %s: binary: %w", s.Name, err)
	}
	built, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("build deb %s: Go version of %s: %w", s.Name, bin, err)
	}
	help := s.Help
	if help == nil {
		if help, err = helpText(ctx, bin, s.Name); err != nil {
			return "", fmt.Errorf("build deb %s: %w", s.Name, err)
		}
	}

	gen, err := os.MkdirTemp("", "dnstapkit-deb-")
	if err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	defer os.RemoveAll(gen)
	man := ManPage{
		Name: s.Name, Section: doc.section, Summary: doc.summary, Version: s.Version,
		Date: s.Time, Description: doc.description, Help: help, Files: doc.files, SeeAlso: doc.seeAlso,
	}
	if err := writeGzip(filepath.Join(gen, s.Name+"."+doc.section+".gz"), man.Roff()); err != nil {
		return "", fmt.Errorf("build deb %s: man page: %w", s.Name, err)
	}
	if err := writeGzip(filepath.Join(gen, "changelog.gz"), changelog(s.Name, s.Version, built.GoVersion, s.Time)); err != nil {
		return "", fmt.Errorf("build deb %s: changelog: %w", s.Name, err)
	}

	// Policy 12.7: a version with a Debian revision ("1.0-1") is not native, and its changelog
	// is changelog.Debian.gz.
	changelogName := "changelog.gz"
	if strings.Contains(s.Version, "-") {
		changelogName = "changelog.Debian.gz"
	}
	vars := map[string]string{"BIN": bin, "GEN": gen, "VERSION": s.Version, "ARCH": s.Arch, "CHANGELOG": changelogName}
	var unknown []string
	cfg, err := nfpm.ParseFileWithEnvMapping(filepath.Join(root, "packaging", s.Name+".yaml"), func(k string) string {
		v, ok := vars[k]
		if !ok && !strings.HasPrefix(k, "NFPM_") { // nfpm asks for its signing passphrases
			unknown = append(unknown, k)
		}
		return v
	})
	if err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	if len(unknown) > 0 {
		return "", fmt.Errorf("build deb %s: unknown variables in %s.yaml: %s", s.Name, s.Name, strings.Join(unknown, ", "))
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	// Sources and scripts are named relative to the repository root.
	for _, c := range info.Contents {
		if c.Source != "" && !filepath.IsAbs(c.Source) {
			c.Source = filepath.Join(root, c.Source)
		}
	}
	for _, p := range []*string{&info.Scripts.PreInstall, &info.Scripts.PostInstall,
		&info.Scripts.PreRemove, &info.Scripts.PostRemove} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(root, *p)
		}
	}
	if err := os.MkdirAll(s.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	name, err := debpkg.FileName(info)
	if err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	out := filepath.Join(s.OutDir, name)
	if err := debpkg.Write(info, s.Time, out); err != nil {
		return "", fmt.Errorf("build deb %s: %w", s.Name, err)
	}
	return out, nil
}

// Options says what BuildAll packages.
type Options struct {
	Root    string    // repository root
	BinDir  string    // where the binaries are (dist/)
	OutDir  string    // where the .debs go (dist/)
	Version string    // Debian version
	GOARCH  string    // "" means amd64
	Time    time.Time // zero means CommitTime(Root)
}

// BuildAll builds every package in Names and returns their paths.
func BuildAll(ctx context.Context, o Options) ([]string, error) {
	if o.Time.IsZero() {
		t, err := CommitTime(ctx, o.Root)
		if err != nil {
			return nil, err
		}
		o.Time = t
	}
	var paths []string
	for _, name := range Names {
		p, err := BuildDeb(ctx, Spec{Name: name, Version: o.Version, Arch: o.GOARCH, Root: o.Root,
			BinDir: o.BinDir, OutDir: o.OutDir, Time: o.Time})
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// CommitTime returns SOURCE_DATE_EPOCH when it is set, else the committer time of HEAD in
// the git checkout at dir.
func CommitTime(ctx context.Context, dir string) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		cmd := exec.CommandContext(ctx, "git", "log", "-1", "--format=%ct")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("commit time: git log: %w (set SOURCE_DATE_EPOCH outside a git checkout)", err)
		}
		s = strings.TrimSpace(string(out))
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, fmt.Errorf("commit time: invalid SOURCE_DATE_EPOCH %q: must be seconds since 1970", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// helpText runs bin -h with argv[0] set to name, so the text names the program and not the
// path it was built at, and returns what it printed (on stdout or stderr; the exit status of
// -h varies between programs and is ignored).
func helpText(ctx context.Context, bin, name string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h")
	cmd.Args[0] = name
	cmd.Env = []string{"LANG=C", "LC_ALL=C", "HOME=/nonexistent"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("run %s -h: %w", bin, err)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, fmt.Errorf("run %s -h: printed nothing", bin)
	}
	return out, nil
}

// changelog is a one-entry Debian changelog for a package built from the repository with
// the Go release goVersion.
func changelog(name, version, goVersion string, t time.Time) []byte {
	return []byte(fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n"+
		"  * Built from the dnstapkit repository; see its git history for changes.\n"+
		"  * Compiled with %s.\n\n"+
		" -- dnstapkit maintainers <dnstapkit@users.noreply.github.com>  %s\n",
		name, version, goVersion, t.UTC().Format(time.RFC1123Z)))
}

// writeGzip writes data gzipped at the best compression with an empty header (no name, no
// mtime), so the bytes depend on data only.
func writeGzip(path string, data []byte) error {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
