package bindcontainer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/docker"
)

// Paths inside the container, as the packages install them.
const (
	SocketPath = "/var/cache/bind/dnstap.sock" // the collector's socket, named's dnstap-output
	CaptureDir = "/var/log/dnstap"             // where the collector writes
	debDir     = "/dnstapkit/debs"             // where WithDeb puts packages
	udpPort    = "53/udp"
	tcpPort    = "53/tcp"
	bootWait   = 3 * time.Minute // systemd boots in seconds; a loaded machine takes longer
	inputs     = "dnstapkit.e2e.inputs"
)

// Container is a booted systemd with the packages installed and named running.
type Container struct {
	testcontainers.Container
}

type options struct {
	debs [][]string // install steps, in order; each a list of host paths
}

// Option is a bindcontainer option; it is also a testcontainers.ContainerCustomizer, so it
// can be passed to Run among the generic ones.
type Option func(*options)

// Customize does nothing: Run reads these options itself.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

var _ testcontainers.ContainerCustomizer = Option(nil)

// WithDeb installs the packages at hostPaths in one step (apt-get install ./x.deb ...),
// after the steps of earlier WithDeb options: WithDeb(collector, reader), then
// WithDeb(bind9-dnstap) installs the collector's socket before named first starts.
func WithDeb(hostPaths ...string) Option {
	return func(o *options) { o.debs = append(o.debs, hostPaths) }
}

// Image returns a systemd image of distro (baseimage.WithSystemd) with the packages named
// in depends installed ("libuv1 (>= 1.44.2-1)": the name is taken), so that installing the
// .deb in Run needs no download. It is built once and cached by its inputs.
func Image(ctx context.Context, distro string, depends []string, log io.Writer) (string, error) {
	base, err := baseimage.Ensure(ctx, distro, baseimage.WithSystemd(), baseimage.WithLog(log))
	if err != nil {
		return "", fmt.Errorf("bind image: %w", err)
	}
	baseID, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", base)
	if err != nil {
		return "", fmt.Errorf("bind image: %w", err)
	}
	pkgs := map[string]bool{"adduser": true}
	for _, d := range depends {
		name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			pkgs[name] = true
		}
	}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	sum := sha256.Sum256([]byte("bindcontainer/1\x00" + baseID + "\x00" + strings.Join(names, " ")))
	key := hex.EncodeToString(sum[:])[:16]
	ref := "dnstapkit/e2e-bind:" + strings.ReplaceAll(distro, ":", "-") + "-" + key
	if got, ok, err := docker.Label(ctx, ref, inputs); err == nil && ok && got == key {
		return ref, nil
	}
	dockerfile := "FROM " + base + "\n" +
		"RUN apt-get update -q && apt-get install -y -q " + strings.Join(names, " ") + " && rm -rf /var/lib/apt/lists/*\n" +
		"LABEL " + inputs + "=" + key + "\n"
	if err := docker.RunStdin(ctx, strings.NewReader(dockerfile), log, "build", "-t", ref, "-"); err != nil {
		return "", fmt.Errorf("bind image %s: %w", ref, err)
	}
	return ref, nil
}

// Run boots systemd in a container of img (made by Image), without --privileged, installs
// the packages of the WithDeb options in their order, and waits until named.service is
// active. Ports 53/udp and 53/tcp are mapped. Like testcontainers modules it returns the
// container even on error, so the caller can clean it up.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	var o options
	var rest []testcontainers.ContainerCustomizer
	for _, opt := range opts {
		if bo, ok := opt.(Option); ok {
			bo(&o)
			continue
		}
		rest = append(rest, opt)
	}
	if len(o.debs) == 0 {
		return nil, fmt.Errorf("run bind: no package: pass WithDeb(path to bind9-dnstap .deb)")
	}
	var files []testcontainers.ContainerFile
	var steps []string
	for _, step := range o.debs {
		var args []string
		for _, d := range step {
			p := debDir + "/" + path.Base(d)
			files = append(files, testcontainers.ContainerFile{HostFilePath: d, ContainerFilePath: p, FileMode: 0o644})
			args = append(args, p)
		}
		steps = append(steps, "apt-get install -y -q "+strings.Join(args, " "))
	}
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithFiles(files...),
		testcontainers.WithEntrypoint("/sbin/init"),
		testcontainers.WithTmpfs(baseimage.SystemdTmpfs),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.Binds = append(hc.Binds, baseimage.SystemdMounts...)
		}),
		testcontainers.WithExposedPorts(udpPort, tcpPort),
	}
	c, err := testcontainers.Run(ctx, img, append(defaults, rest...)...)
	var ctr *Container
	if c != nil {
		ctr = &Container{Container: c}
	}
	if err != nil {
		return ctr, fmt.Errorf("run bind: %w", err)
	}
	if _, err := ctr.Eventually(ctx, `s=$(systemctl is-system-running); echo $s; [ "$s" = running ] || [ "$s" = degraded ]`, bootWait); err != nil {
		return ctr, fmt.Errorf("run bind: systemd did not boot: %w", err)
	}
	for _, s := range steps {
		if out, err := ctr.Sh(ctx, "DEBIAN_FRONTEND=noninteractive "+s); err != nil {
			return ctr, fmt.Errorf("run bind: %w\n%s", err, out)
		}
	}
	if _, err := ctr.Eventually(ctx, "systemctl is-active named", time.Minute); err != nil {
		out, _ := ctr.Sh(ctx, "journalctl --no-pager -n 40 -u named")
		return ctr, fmt.Errorf("run bind: named.service is not active after the install: %w\n%s", err, out)
	}
	return ctr, nil
}

// Sh runs script with /bin/sh and returns its combined output; a non-zero exit is an error
// carrying the output.
func (c *Container) Sh(ctx context.Context, script string) (string, error) {
	code, r, err := c.Exec(ctx, []string{"/bin/sh", "-c", script}, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("exec %q: %w", script, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("exec %q: %w", script, err)
	}
	if code != 0 {
		return string(b), fmt.Errorf("exec %q: exit code %d: %s", script, code, bytes.TrimSpace(b))
	}
	return string(b), nil
}

// Output runs the program cmd (no shell) and returns its standard output alone; on a
// non-zero exit the error carries its standard error.
func (c *Container) Output(ctx context.Context, cmd ...string) ([]byte, error) {
	code, r, err := c.Exec(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", strings.Join(cmd, " "), err)
	}
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, r); err != nil {
		return nil, fmt.Errorf("exec %s: %w", strings.Join(cmd, " "), err)
	}
	if code != 0 {
		return stdout.Bytes(), fmt.Errorf("exec %s: exit code %d: %s", strings.Join(cmd, " "), code, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// Eventually runs script until it exits 0 or timeout passes (units start in the
// background; named sends dnstap about a second after a query), and returns its output.
func (c *Container) Eventually(ctx context.Context, script string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		out, err := c.Sh(ctx, script)
		if err == nil {
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("still failing after %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Addr returns the host address of the container's port 53 over network ("udp" or "tcp").
func (c *Container) Addr(ctx context.Context, network string) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("bind address: %w", err)
	}
	p, err := c.MappedPort(ctx, "53/"+network)
	if err != nil {
		return "", fmt.Errorf("bind address: %w", err)
	}
	return net.JoinHostPort(host, p.Port()), nil
}

// QueryNet asks named for name and qtype over network ("udp" or "tcp") through the mapped
// port, with RD set.
func (c *Container) QueryNet(ctx context.Context, network, name string, qtype uint16) (*dns.Msg, error) {
	addr, err := c.Addr(ctx, network)
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	cl := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := cl.ExchangeContext(ctx, m, addr)
	if err != nil {
		return nil, fmt.Errorf("query %s %s over %s to %s: %w", name, dns.TypeToString[qtype], network, addr, err)
	}
	return r, nil
}

// Rotate makes the collector close its current file (systemctl reload: SIGHUP) and returns
// the path of the finished file that holds what came before.
func (c *Container) Rotate(ctx context.Context) (string, error) {
	part, err := c.Eventually(ctx, "f=$(ls "+CaptureDir+"/*.fstrm.part) && [ -s \"$f\" ] && echo $f", time.Minute)
	if err != nil {
		return "", fmt.Errorf("rotate: no capture being written: %w", err)
	}
	part = strings.TrimSpace(part)
	if _, err := c.Sh(ctx, "systemctl reload dnstap-collector.service"); err != nil {
		return "", fmt.Errorf("rotate: %w", err)
	}
	closed := strings.TrimSuffix(part, ".part")
	if _, err := c.Eventually(ctx, "test -f "+closed+" && ! test -e "+part, time.Minute); err != nil {
		return "", fmt.Errorf("rotate: %s was not finished: %w", part, err)
	}
	return closed, nil
}

// ReadFile copies a file out of the container.
func (c *Container) ReadFile(ctx context.Context, p string) ([]byte, error) {
	rc, err := c.CopyFileFromContainer(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", p, err)
	}
	return b, nil
}

// Journal returns the last lines of the journal of the units involved, for failure reports.
func (c *Container) Journal(ctx context.Context) string {
	out, _ := c.Sh(ctx, "journalctl --no-pager -n 80 -u dnstap-collector.socket -u dnstap-collector.service -u named 2>&1")
	return out
}
