package baseimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/docker"
	"github.com/dnstapkit/dnstapkit/internal/tail"
)

// Repository is the local image repository of the base images.
const Repository = "dnstapkit/base"

// InputsLabel is the image label that holds the hash of an image's inputs.
const InputsLabel = "org.dnstapkit.inputs"

// recipe is bumped whenever the way an image is made changes, so old images are rebuilt.
const recipe = "baseimage/3"

// pullTimeout bounds `docker pull`, which fails at once or hangs where no registry answers.
const pullTimeout = 45 * time.Second

// RunArgsSystemd are the `docker run` flags a WithSystemd image needs to boot systemd as
// PID 1 without --privileged.
var RunArgsSystemd = []string{"--tmpfs", "/run", "--tmpfs", "/run/lock", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"}

// SystemdTmpfs and SystemdMounts are RunArgsSystemd for testcontainers-go
// (HostConfig.Tmpfs and HostConfig.Binds).
var (
	SystemdTmpfs  = map[string]string{"/run": "", "/run/lock": ""}
	SystemdMounts = []string{"/sys/fs/cgroup:/sys/fs/cgroup:ro"}
)

type options struct {
	systemd  bool
	log      io.Writer
	noPull   bool
	hostRoot string
}

// Option changes what Ensure makes.
type Option func(*options)

// WithSystemd makes the image with systemd as its init (tag suffix "-systemd").
func WithSystemd() Option { return func(o *options) { o.systemd = true } }

// WithLog sends the progress and the output of debootstrap and docker to w (default: none).
func WithLog(w io.Writer) Option { return func(o *options) { o.log = w } }

// WithoutPull skips the `docker pull` attempt and always builds from the mirror.
func WithoutPull() Option { return func(o *options) { o.noPull = true } }

// Ensure returns the reference of the local base image of distro ("debian:bookworm"),
// building it first when it is missing or was made from other inputs. See the package doc.
func Ensure(ctx context.Context, distro string, opts ...Option) (string, error) {
	o := options{log: io.Discard, hostRoot: "/"}
	for _, f := range opts {
		f(&o)
	}
	d, err := ParseDistro(distro)
	if err != nil {
		return "", err
	}
	if err := docker.Check(ctx); err != nil {
		return "", err
	}
	unlock, err := docker.Lock("dnstapkit-baseimage-" + d.Tag() + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	ref, err := ensureBase(ctx, d, &o)
	if err != nil || !o.systemd {
		return ref, err
	}
	return ensureSystemd(ctx, d, ref, &o)
}

func ensureBase(ctx context.Context, d Distro, o *options) (string, error) {
	ref := Repository + ":" + d.Tag()
	// An image already made from the mirror is reused without asking a registry.
	m, merr := HostMirrors(d, o.hostRoot)
	if merr == nil {
		if ok, err := upToDate(ctx, ref, docker.InputHash(recipe, d.String(), m.Archive, m.Security)); err != nil || ok {
			return ref, err
		}
	}
	if !o.noPull && tryPull(ctx, d, o) {
		// The pulled image's ID is an input too.
		id, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", d.String())
		if err != nil {
			return "", fmt.Errorf("base image %s: %w", d, err)
		}
		key := docker.InputHash(recipe, d.String(), "pulled", id)
		if ok, err := upToDate(ctx, ref, key); err != nil || ok {
			return ref, err
		}
		return ref, dockerBuild(ctx, o.log, ref, pulledDockerfile(d, key))
	}
	if merr != nil {
		return "", fmt.Errorf("base image %s: %w", d, merr)
	}
	return ref, debootstrapImport(ctx, d, m, ref, docker.InputHash(recipe, d.String(), m.Archive, m.Security), o)
}

// upToDate reports whether the local image ref carries the inputs label key.
func upToDate(ctx context.Context, ref, key string) (bool, error) {
	have, ok, err := docker.Label(ctx, ref, InputsLabel)
	if err != nil {
		return false, fmt.Errorf("base image %s: %w", ref, err)
	}
	return ok && have == key, nil
}

func tryPull(ctx context.Context, d Distro, o *options) bool {
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	fmt.Fprintf(o.log, "base image %s: trying docker pull %s\n", d, d)
	if err := docker.Run(ctx, nil, "pull", "-q", d.String()); err != nil {
		fmt.Fprintf(o.log, "base image %s: pull failed (%v); building from an apt mirror\n", d, err)
		return false
	}
	return true
}

// debootstrapImport makes a minbase tree of d from m and imports it as ref.
func debootstrapImport(ctx context.Context, d Distro, m Mirrors, ref, key string, o *options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("base image %s: debootstrap needs root (run as root, or make the image with `sudo go tool mage image:base`)", d)
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("base image %s: debootstrap is not installed (apt-get install debootstrap)", d)
	}
	dir, err := os.MkdirTemp("", "dnstapkit-rootfs-")
	if err != nil {
		return fmt.Errorf("base image %s: %w", d, err)
	}
	defer os.RemoveAll(dir)
	args := []string{"--variant=minbase", "--components=" + strings.Join(d.components(), ",")}
	if kr := keyring(d); kr != "" {
		args = append(args, "--keyring="+kr)
	} else {
		fmt.Fprintf(o.log, "base image %s: no archive keyring on this host; debootstrap runs with --no-check-gpg\n", d)
		args = append(args, "--no-check-gpg")
	}
	args = append(args, d.Suite, dir, m.Archive)
	fmt.Fprintf(o.log, "base image %s: debootstrap %s\n", d, strings.Join(args, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, "debootstrap", args...)
	var last tail.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(o.log, &last), io.MultiWriter(o.log, &last)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("base image %s: debootstrap: %w: %s", d, err, last.LastLine())
	}
	if err := configureRoot(dir, d, m); err != nil {
		return fmt.Errorf("base image %s: %w", d, err)
	}
	fmt.Fprintf(o.log, "base image %s: debootstrap took %s; importing as %s\n", d, time.Since(start).Round(time.Second), ref)
	tar := exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "-C", dir, "-c", ".")
	pipe, err := tar.StdoutPipe()
	if err != nil {
		return fmt.Errorf("base image %s: %w", d, err)
	}
	tar.Stderr = o.log
	if err := tar.Start(); err != nil {
		return fmt.Errorf("base image %s: tar: %w", d, err)
	}
	ierr := docker.RunStdin(ctx, pipe, o.log, "import",
		"--change", "LABEL "+InputsLabel+"="+key,
		"--change", "LABEL org.dnstapkit.distro="+d.String(),
		"--change", "ENV DEBIAN_FRONTEND=noninteractive",
		"--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", `CMD ["/bin/bash"]`,
		"-", ref)
	terr := tar.Wait()
	if err := errors.Join(ierr, terr); err != nil {
		return fmt.Errorf("base image %s: import: %w", d, err)
	}
	return nil
}

// configureRoot writes the apt configuration of the image into the tree at dir.
func configureRoot(dir string, d Distro, m Mirrors) error {
	files := map[string]string{
		"etc/apt/sources.list":                   SourcesList(d, m, false),
		"etc/apt/apt.conf.d/90dnstapkit":         "APT::Install-Recommends \"false\";\nAPT::Install-Suggests \"false\";\nAcquire::Retries \"3\";\n",
		"etc/dpkg/dpkg.cfg.d/90dnstapkit-unsafe": "force-unsafe-io\n",
		"usr/sbin/policy-rc.d":                   "#!/bin/sh\n# dnstapkit base image: maintainer scripts do not start services.\nexit 101\n",
	}
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "usr/sbin/") {
			mode = 0o755
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	// Drop apt's downloaded lists and archives: each container runs apt-get update anyway.
	for _, g := range []string{"var/lib/apt/lists/*_*", "var/cache/apt/archives/*.deb", "var/cache/apt/*.bin"} {
		matches, _ := filepath.Glob(filepath.Join(dir, g))
		for _, p := range matches {
			_ = os.Remove(p)
		}
	}
	return nil
}

func ensureSystemd(ctx context.Context, d Distro, base string, o *options) (string, error) {
	ref := base + "-systemd"
	id, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", base)
	if err != nil {
		return "", fmt.Errorf("systemd image %s: %w", d, err)
	}
	key := docker.InputHash(recipe, "systemd", id)
	if ok, err := upToDate(ctx, ref, key); err != nil || ok {
		return ref, err
	}
	fmt.Fprintf(o.log, "systemd image %s: installing systemd into %s\n", d, base)
	return ref, dockerBuild(ctx, o.log, ref, systemdDockerfile(base, key))
}

func pulledDockerfile(d Distro, key string) string {
	return "FROM " + d.String() + "\n" +
		"RUN printf 'APT::Install-Recommends \"false\";\\nAPT::Install-Suggests \"false\";\\n' > /etc/apt/apt.conf.d/90dnstapkit \\\n" +
		" && printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d\n" +
		"ENV DEBIAN_FRONTEND=noninteractive\n" +
		"LABEL " + InputsLabel + "=" + key + " org.dnstapkit.distro=" + d.String() + "\n"
}

// systemdDockerfile installs systemd, removes policy-rc.d so that maintainer scripts start
// services as on a real machine, and masks the units that make no sense in a container.
func systemdDockerfile(base, key string) string {
	return "FROM " + base + "\n" +
		"RUN apt-get update && apt-get install -y systemd systemd-sysv dbus \\\n" +
		" && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d \\\n" +
		" && systemctl mask getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \\\n" +
		"    systemd-logind.service systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount \\\n" +
		"    systemd-firstboot.service systemd-modules-load.service\n" +
		"STOPSIGNAL SIGRTMIN+3\n" +
		"ENV container=docker\n" +
		"CMD [\"/sbin/init\"]\n" +
		"LABEL " + InputsLabel + "=" + key + "\n"
}

// dockerBuild builds ref from a Dockerfile given as text, with an empty context.
func dockerBuild(ctx context.Context, log io.Writer, ref, dockerfile string) error {
	dir, err := os.MkdirTemp("", "dnstapkit-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	if err := docker.Run(ctx, log, "build", "--network", "bridge", "-t", ref, dir); err != nil {
		return fmt.Errorf("build %s: %w", ref, err)
	}
	return nil
}

// keyring returns the host's archive keyring for d, or "".
func keyring(d Distro) string {
	for _, p := range []string{
		"/usr/share/keyrings/" + d.Name + "-archive-keyring.gpg",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
