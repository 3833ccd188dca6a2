package loadtest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/e2e/internal/bindcontainer"
	"github.com/dnstapkit/dnstapkit/internal/docker"
)

// containerNamed is where the bind9-dnstap package installs named.
const containerNamed = "/usr/local/sbin/named"

// containerSeq numbers the containers of this process.
var containerSeq atomic.Int64

// containerRunner runs the toolkit's bind9-dnstap of series c.Bind in a container: bind.Build
// gives the package (from its cache when bind:build made it, else it compiles, minutes), an
// image of the distro it was built for gets the package installed, and each round runs
// `named -f` in a container of it on the host's network, with the round's directory mounted
// at the same path (so the collector on the host listens on the dnstap socket named opens),
// pinned with --cpuset-cpus as taskset pins the host's named.
func (c Config) containerRunner(ctx context.Context) (namedRunner, error) {
	v, err := bind.Lookup(c.Bind)
	if err != nil {
		return namedRunner{}, fmt.Errorf("%s: %w", envBind, err)
	}
	distro := cmp.Or(c.BindDistro, v.Distro)
	progress := io.Writer(io.Discard)
	if c.Logf != nil {
		progress = logfWriter(c.logf)
	}
	c.logf("LOAD_BIND=%s: the bind9-dnstap package of BIND %s for %s (bind:build; cached when built before)", c.Bind, v.Release, distro)
	res, err := bind.Build(ctx, bind.BuildOptions{Version: v.Series, Distro: distro,
		Sources: bind.DefaultSourcesDir(c.ModuleRoot), DistDir: filepath.Join(c.ModuleRoot, "dist"), Progress: progress})
	if err != nil {
		return namedRunner{}, fmt.Errorf("%s=%s: %w", envBind, c.Bind, err)
	}
	base, err := bindcontainer.Image(ctx, distro, res.Depends, progress)
	if err != nil {
		return namedRunner{}, fmt.Errorf("%s=%s: %w", envBind, c.Bind, err)
	}
	img, err := loadImage(ctx, base, res.Deb, v.Series, progress)
	if err != nil {
		return namedRunner{}, fmt.Errorf("%s=%s: %w", envBind, c.Bind, err)
	}
	version := BindVersion(res.NamedV)
	return namedRunner{version: version + " (bind9-dnstap, container)", zoneType: zoneType(version),
		start: func(ctx context.Context, dir, cpus string) (*proc, error) {
			name := fmt.Sprintf("dnstapkit-loadtest-%d-%d", os.Getpid(), containerSeq.Add(1))
			args := []string{"docker", "run", "--rm", "--name", name, "--network", "host",
				"-v", dir + ":" + dir, "--entrypoint", containerNamed}
			if cpus != "" {
				args = append(args, "--cpuset-cpus", cpus)
			}
			args = append(args, img, "-f", "-4", "-c", filepath.Join(dir, "named.conf"))
			// The docker client passes the SIGTERM of proc.stop on to named (PID 1 in the
			// container, which handles it) and exits with named's status.
			p, err := start("named", filepath.Join(dir, "named.stderr"), "", args...)
			if err != nil {
				return nil, err
			}
			p.lookupPID = func(ctx context.Context) (int, error) {
				out, err := docker.Output(ctx, "inspect", "--format", "{{.State.Pid}}", name)
				if err != nil {
					return 0, err
				}
				pid, err := strconv.Atoi(out)
				if err != nil || pid <= 0 {
					return 0, fmt.Errorf("container %s: no running process (pid %q)", name, out)
				}
				return pid, nil
			}
			p.cleanup = func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				_, _ = docker.Output(ctx, "rm", "-f", name) // gone already after --rm, unless the client was killed
			}
			return p, nil
		}}, nil
}

// loadImage is base (bindcontainer.Image: the distro with the package's dependencies) with
// the bind9-dnstap package at deb installed, tagged by the hash of both.
func loadImage(ctx context.Context, base, deb, series string, log io.Writer) (string, error) {
	baseID, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", base)
	if err != nil {
		return "", fmt.Errorf("load image: %w", err)
	}
	b, err := os.ReadFile(deb)
	if err != nil {
		return "", fmt.Errorf("load image: %w", err)
	}
	sum := sha256.Sum256(b)
	key := docker.InputHash("loadtest-bind/1", baseID, hex.EncodeToString(sum[:]))
	ref := "dnstapkit/loadtest-bind:" + series + "-" + key
	const label = "dnstapkit.loadtest.inputs"
	if got, ok, err := docker.Label(ctx, ref, label); err == nil && ok && got == key {
		return ref, nil
	}
	dir, err := os.MkdirTemp("", "dnstapkit-loadtest-image-")
	if err != nil {
		return "", fmt.Errorf("load image: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "bind9-dnstap.deb"), b, 0o644); err != nil {
		return "", fmt.Errorf("load image: %w", err)
	}
	// The dependencies are in base: dpkg needs no download. Without systemd running, the
	// postinst only adds the bind user and named's directories.
	dockerfile := "FROM " + base + "\n" +
		"COPY bind9-dnstap.deb /tmp/\n" +
		"RUN dpkg -i /tmp/bind9-dnstap.deb && rm /tmp/bind9-dnstap.deb && " + containerNamed + " -v\n" +
		"LABEL " + label + "=" + key + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", fmt.Errorf("load image: %w", err)
	}
	if err := docker.Run(ctx, log, "build", "-t", ref, dir); err != nil {
		return "", fmt.Errorf("load image %s: %w", ref, err)
	}
	return ref, nil
}

// logfWriter turns a Logf into an io.Writer, a line at a time.
type logfWriter func(format string, args ...any)

func (w logfWriter) Write(p []byte) (int, error) {
	for l := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		w("  %s", l)
	}
	return len(p), nil
}
