package bind

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/docker"
	"github.com/dnstapkit/dnstapkit/internal/tail"
)

// BuildOptions says what Build builds. The zero value of a field means its default.
type BuildOptions struct {
	Version  string    // BIND_VERSION: a series ("9.18", the default) or a release
	Distro   string    // DISTRO: "debian:bookworm" (default)
	Tarball  string    // BIND_TARBALL: a local source tarball instead of a download
	Sources  string    // BIND_SOURCES: a directory of tarballs whose SHA-256 the table lists (see DefaultSourcesDir)
	DistDir  string    // where the .deb goes (default "dist")
	CacheDir string    // sources, staging trees and logs (default DefaultCacheDir())
	Progress io.Writer // one line a phase (default: discard)
	Log      io.Writer // what the base and builder images' making prints (default: Progress)
}

// Result is what Build made.
type Result struct {
	Deb     string   // the package, dist/bind9-dnstap_<release>-<distro>_<arch>.deb
	Log     string   // the full build log
	Staging string   // the installed tree the package was made from
	Depends []string // the package's runtime dependencies
	NamedV  string   // `named -V` of the build
	Cached  bool     // true when the compile was skipped: nothing had changed
}

// recipeVersion is bumped when Build's way of building changes outside the embedded files.
const recipeVersion = "bind-build/1"

// Build compiles BIND in a builder container (the distro's base image plus the version's
// build dependencies) and packages the installed tree as a .deb. Images and builds are
// keyed by their inputs; with nothing changed the compile is skipped and only the package
// is written again (a few seconds).
func Build(ctx context.Context, o BuildOptions) (*Result, error) {
	o = o.withDefaults()
	v, err := Lookup(o.Version)
	if err != nil {
		return nil, err
	}
	d, err := baseimage.ParseDistro(o.Distro)
	if err != nil {
		return nil, err
	}
	if err := docker.Check(ctx); err != nil {
		return nil, err
	}
	// Two builds of the same version and distro into one cache (two test binaries, two
	// shells, two checkouts) would share a container name, a cache directory and a .deb:
	// one waits for the other, then finds its result cached.
	cache, err := filepath.Abs(o.CacheDir)
	if err != nil {
		return nil, err
	}
	unlock, err := docker.Lock(fmt.Sprintf("dnstapkit-bind-build-%s-%s-%s.lock", d.Tag(), v.Series, docker.InputHash(cache)))
	if err != nil {
		return nil, err
	}
	defer unlock()
	t0 := time.Now()
	step := func(format string, args ...any) {
		fmt.Fprintf(o.Progress, "[%5.0fs] %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
	}
	src, err := FetchSource(ctx, v, SourceOptions{Tarball: o.Tarball, Dir: o.Sources, CacheDir: o.CacheDir}, o.Progress)
	if err != nil {
		return nil, err
	}
	step("source: %s (%s, sha256 %s)", src.Path, src.From, src.SHA256)

	builder, err := ensureBuilder(ctx, v, d, o.Log)
	if err != nil {
		return nil, err
	}
	step("builder image: %s", builder.ref)

	recipe, err := assets.ReadFile("recipe/build.sh")
	if err != nil {
		return nil, fmt.Errorf("recipe: %w", err)
	}
	key := docker.InputHash(recipeVersion, builder.key, src.SHA256, strings.Join(v.Configure, " "),
		strings.Join(v.MakeEnv, "\n"), string(recipe))
	dir := filepath.Join(o.CacheDir, fmt.Sprintf("%s-%s-%s", d.Tag(), src.Release, key))
	res := &Result{
		Log:     filepath.Join(dir, "build.log"),
		Staging: filepath.Join(dir, "staging"),
		Deb:     filepath.Join(o.DistDir, DebFileName(src.Release, d.String(), debArch())),
	}
	if _, err := os.Stat(filepath.Join(dir, "ok")); err == nil {
		res.Cached = true
		step("compile: up to date (%s)", dir)
	} else {
		step("compile: BIND %s on %s, full log in %s", src.Release, d, res.Log)
		if err := compile(ctx, builder.ref, src, v, dir, res.Log, step); err != nil {
			return nil, err
		}
		step("compile: done")
	}
	if res.Depends, err = readLines(filepath.Join(dir, "out/depends")); err != nil {
		return nil, err
	}
	res.Depends = append(res.Depends, scriptDepends(res.Staging)...)
	nv, err := os.ReadFile(filepath.Join(dir, "out/named-V"))
	if err != nil {
		return nil, fmt.Errorf("build result: %w", err)
	}
	res.NamedV = string(nv)
	debOpts := DebOptions{
		Release: src.Release, Distro: d.String(), Arch: debArch(), Staging: res.Staging,
		Depends: res.Depends, Out: res.Deb, MTime: time.Unix(0, 0).UTC(),
	}
	if packaged(dir, res.Deb, debOpts) {
		step("package: up to date (%s)", res.Deb)
		return res, nil
	}
	if err := BuildDeb(debOpts); err != nil {
		return nil, err
	}
	if err := stampDeb(dir, res.Deb, debOpts); err != nil {
		return nil, err
	}
	step("package: %s", res.Deb)
	return res, nil
}

func (o BuildOptions) withDefaults() BuildOptions {
	if o.Version == "" {
		o.Version = "9.18"
	}
	if o.Distro == "" {
		o.Distro = "debian:bookworm"
	}
	if o.DistDir == "" {
		o.DistDir = "dist"
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Log == nil {
		o.Log = o.Progress
	}
	return o
}

// DefaultCacheDir is where builds are cached when BuildOptions.CacheDir is "": dnstapkit/bind
// under the user's cache directory ($XDG_CACHE_HOME, else ~/.cache), outside any checkout,
// so that a fresh clone on the same machine finds the builds of the last one (entries are
// keyed by their inputs). Without a home directory it is .cache/bind in the working
// directory.
func DefaultCacheDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "dnstapkit", "bind")
	}
	return filepath.Join(".cache", "bind")
}

type builderImage struct{ ref, key string }

// ensureBuilder returns the builder image of v on d: the base image plus v's build
// dependencies, tagged dnstapkit/bind-builder:<distro>-<series> and labelled with the
// hash of its inputs.
func ensureBuilder(ctx context.Context, v Version, d baseimage.Distro, progress io.Writer) (builderImage, error) {
	base, err := baseimage.Ensure(ctx, d.String(), baseimage.WithLog(progress))
	if err != nil {
		return builderImage{}, err
	}
	baseID, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", base)
	if err != nil {
		return builderImage{}, fmt.Errorf("builder image: %w", err)
	}
	deps := v.Deps(d.String())
	sort.Strings(deps)
	b := builderImage{
		ref: fmt.Sprintf("dnstapkit/bind-builder:%s-%s", d.Tag(), v.Series),
		key: docker.InputHash(recipeVersion, baseID, strings.Join(deps, " ")),
	}
	if have, ok, err := docker.Label(ctx, b.ref, baseimage.InputsLabel); err != nil {
		return b, fmt.Errorf("builder image: %w", err)
	} else if ok && have == b.key {
		return b, nil
	}
	fmt.Fprintf(progress, "builder image: installing %s\n", strings.Join(deps, " "))
	// Two layers: what every version needs, then the version's own packages. Builders of
	// two versions on one distro share the first (Docker's build cache), the larger one.
	common, own := splitDeps(deps)
	dockerfile := "FROM " + base + "\n" + aptLayer(common) + aptLayer(own) +
		"LABEL " + baseimage.InputsLabel + "=" + b.key + "\n"
	tmp, err := os.MkdirTemp("", "bind-builder-")
	if err != nil {
		return b, err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return b, err
	}
	var out tail.Buffer
	if err := docker.Run(ctx, &out, "build", "-t", b.ref, tmp); err != nil {
		return b, fmt.Errorf("builder image %s: %w\n%s", b.ref, err, out.String())
	}
	return b, nil
}

// splitDeps parts sorted deps into those of commonDeps and the others, both sorted.
func splitDeps(deps []string) (common, own []string) {
	in := map[string]bool{}
	for _, d := range commonDeps {
		in[d] = true
	}
	for _, d := range deps {
		if in[d] {
			common = append(common, d)
		} else {
			own = append(own, d)
		}
	}
	return common, own
}

func aptLayer(pkgs []string) string {
	if len(pkgs) == 0 {
		return ""
	}
	return "RUN apt-get update && apt-get install -y " + strings.Join(pkgs, " ") + " && rm -rf /var/lib/apt/lists/*\n"
}

// compile runs the recipe in a fresh container of the builder image and copies the
// staging tree and the recipe's outputs into dir. It writes the full output to logPath
// and passes the recipe's "== phase" lines to step.
func compile(ctx context.Context, image string, src *Source, v Version, dir, logPath string, step func(string, ...any)) error {
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	defer logf.Close()
	name := "dnstapkit-bind-build-" + filepath.Base(dir)
	cleanup := func() { _ = docker.Run(context.WithoutCancel(ctx), nil, "rm", "-f", name) }
	cleanup()
	defer cleanup()
	if err := docker.Run(ctx, nil, "create", "--name", name, "--network", "none", image, "/bin/sh", "/in/build.sh"); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	in, err := os.MkdirTemp("", "bind-in-")
	if err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	defer os.RemoveAll(in)
	recipe, _ := assets.ReadFile("recipe/build.sh")
	if err := os.WriteFile(filepath.Join(in, "build.sh"), recipe, 0o755); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := os.WriteFile(filepath.Join(in, "configure-flags"), []byte(strings.Join(v.Configure, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := os.WriteFile(filepath.Join(in, "make-env"), []byte(strings.Join(v.MakeEnv, "\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := copyFile(src.Path, filepath.Join(in, "bind.tar")); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	if err := docker.Run(ctx, logf, "cp", in+"/.", name+":/in"); err != nil {
		return fmt.Errorf("compile: %w", err)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "== ") {
				step("compile: %s", strings.TrimPrefix(l, "== "))
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	runErr := docker.Run(ctx, io.MultiWriter(logf, pw), "start", "-a", name)
	pw.Close()
	<-done
	if runErr != nil {
		return fmt.Errorf("compile BIND %s failed; the last lines of %s:\n%s\n(full log: %s)",
			src.Release, logPath, lastLines(logPath, 25), logPath)
	}
	for _, p := range []string{"staging", "out"} {
		if err := docker.Run(ctx, logf, "cp", name+":/"+p, dir); err != nil {
			return fmt.Errorf("compile: copy %s out: %w", p, err)
		}
	}
	return os.WriteFile(filepath.Join(dir, "ok"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// scriptDepends returns what the installed scripts need that ldd cannot see: 9.14's
// python tools (dnssec-keymgr, dnssec-checkds, dnssec-coverage) run /usr/bin/python3 with
// the ply module.
func scriptDepends(staging string) []string {
	for _, dir := range []string{"usr/local/bin", "usr/local/sbin"} {
		entries, _ := os.ReadDir(filepath.Join(staging, dir))
		for _, e := range entries {
			f, err := os.Open(filepath.Join(staging, dir, e.Name()))
			if err != nil {
				continue
			}
			line, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			if strings.HasPrefix(line, "#!") && strings.Contains(line, "python3") {
				return []string{"python3", "python3-ply"}
			}
		}
	}
	return nil
}

// debStamp is the file in a build directory that records the last package made from it:
// the hash of the package's inputs and the SHA-256 of the .deb.
const debStamp = "deb.stamp"

// debInputs hashes what goes into the package besides the staging tree (which the build
// directory's own key covers): the embedded files, the options and the destination.
func debInputs(o DebOptions) string {
	h := sha256.New()
	_ = fs.WalkDir(assets, ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := assets.ReadFile(p)
			fmt.Fprintf(h, "%s\x00%x\x00", p, sha256.Sum256(b))
		}
		return nil
	})
	out, _ := filepath.Abs(o.Out)
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", o.Release, o.Distro, o.Arch, strings.Join(o.Depends, ","), out)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// packaged reports whether the .deb at path is the one the last BuildDeb of dir made from
// the same inputs, unchanged since.
func packaged(dir, path string, o DebOptions) bool {
	b, err := os.ReadFile(filepath.Join(dir, debStamp))
	if err != nil {
		return false
	}
	key, sum, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	if key != debInputs(o) {
		return false
	}
	have, err := fileSHA256(path)
	return err == nil && have == sum
}

func stampDeb(dir, path string, o DebOptions) error {
	sum, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("package stamp: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, debStamp), []byte(debInputs(o)+" "+sum+"\n"), 0o644)
}

// debArch is the Debian architecture of the packages: the builder runs on this host.
func debArch() string {
	switch runtime.GOARCH {
	case "arm":
		return "armhf"
	case "386":
		return "i386"
	default:
		return runtime.GOARCH
	}
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("build result: %w", err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
