package bindcontainer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Paths inside the container.
const (
	SocketPath   = "/var/cache/bind/dnstap.sock"   // where named sends dnstap (the default named.conf)
	CapturePath  = "/var/log/dnstap/capture.fstrm" // what the collector writes
	NamedLogPath = "/var/log/named.log"            // named -g output
	CollectorLog = "/var/log/dnstap/collector.log" // the collector's output
	debDir       = "/dnstapkit/debs"               // where WithDeb puts packages
	startScript  = "/dnstapkit/start.sh"
	stopScript   = "/dnstapkit/stop.sh"
	udpPort      = "53/udp"
	tcpPort      = "53/tcp"
	startTimeout = 5 * time.Minute // apt-get update and install from the mirror dominate
)

// Container is a running named with a dnstap collector beside it.
type Container struct {
	testcontainers.Container
}

type options struct {
	debs      []string
	collector string
}

// Option is a bindcontainer option; it is also a testcontainers.ContainerCustomizer, so it
// can be passed to Run among the generic ones.
type Option func(*options)

// Customize does nothing: Run reads these options itself.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

var _ testcontainers.ContainerCustomizer = Option(nil)

// WithDeb installs the package at hostPath (repeatable; the bind9-dnstap .deb is required).
func WithDeb(hostPath string) Option {
	return func(o *options) { o.debs = append(o.debs, hostPath) }
}

// WithCollector runs the program at hostPath (for example dist/dnstap-collector) instead
// of fstrm_capture, with fstrm_capture's flags.
func WithCollector(hostPath string) Option {
	return func(o *options) { o.collector = hostPath }
}

// Run starts named from the bind9-dnstap package in a container of img (a plain distro
// image with apt sources). Like testcontainers modules it returns the container even on
// error, so the caller can clean it up.
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
	collector, extra := "fstrm_capture", "fstrm-bin"
	files := []testcontainers.ContainerFile{
		{Reader: strings.NewReader(startSh), ContainerFilePath: startScript, FileMode: 0o755},
		{Reader: strings.NewReader(stopSh), ContainerFilePath: stopScript, FileMode: 0o755},
	}
	if o.collector != "" {
		collector, extra = "/usr/local/bin/"+path.Base(o.collector), ""
		files = append(files, testcontainers.ContainerFile{HostFilePath: o.collector, ContainerFilePath: collector, FileMode: 0o755})
	}
	for _, d := range o.debs {
		files = append(files, testcontainers.ContainerFile{HostFilePath: d, ContainerFilePath: debDir + "/" + path.Base(d), FileMode: 0o644})
	}
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithFiles(files...),
		testcontainers.WithEnv(map[string]string{"COLLECTOR": collector, "EXTRA_PACKAGES": extra}),
		testcontainers.WithEntrypoint("/bin/sh", startScript),
		testcontainers.WithExposedPorts(udpPort, tcpPort),
		testcontainers.WithWaitStrategyAndDeadline(startTimeout,
			// Each strategy has its own startup timeout (60 s by default), not only the deadline.
			wait.ForLog("dnstapkit: named is running").WithStartupTimeout(startTimeout),
			wait.ForListeningPort(tcpPort).WithStartupTimeout(startTimeout)),
	}
	c, err := testcontainers.Run(ctx, img, append(defaults, rest...)...)
	var ctr *Container
	if c != nil {
		ctr = &Container{Container: c}
	}
	if err != nil {
		return ctr, fmt.Errorf("run bind: %w", err)
	}
	return ctr, nil
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

// Query asks named for name and qtype over UDP through the mapped port, and again over TCP
// when the answer is truncated.
func (c *Container) Query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	r, err := c.QueryNet(ctx, "udp", name, qtype)
	if err == nil && r.Truncated {
		return c.QueryNet(ctx, "tcp", name, qtype)
	}
	return r, err
}

// QueryNet asks named for name and qtype over network ("udp" or "tcp").
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

// Output runs cmd in the container and returns its combined output; a non-zero exit is an
// error carrying the output.
func (c *Container) Output(ctx context.Context, cmd ...string) (string, error) {
	code, r, err := c.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("exec %s: %w", strings.Join(cmd, " "), err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("exec %s: %w", strings.Join(cmd, " "), err)
	}
	if code != 0 {
		return string(b), fmt.Errorf("exec %s: exit code %d: %s", strings.Join(cmd, " "), code, bytes.TrimSpace(b))
	}
	return string(b), nil
}

// StopCapture stops named (which flushes its dnstap queues on the way out), then the
// collector (which closes the file with a STOP frame), and returns the capture file.
// named stays stopped; the container keeps running for copies and execs.
func (c *Container) StopCapture(ctx context.Context) ([]byte, error) {
	if out, err := c.Output(ctx, "/bin/sh", stopScript); err != nil {
		return nil, fmt.Errorf("stop capture: %w\n%s", err, out)
	}
	return c.ReadFile(ctx, CapturePath)
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

// startSh is the container's entrypoint: install the packages, start the collector as the
// bind user (setpriv execs it, so its pid is the collector's), then named; stay up (and stop at once on SIGTERM) until the container is
// removed, even after StopCapture stopped named.
const startSh = `set -e
trap 'exit 0' TERM INT
apt-get update -q
(cd ` + debDir + ` && apt-get install -y -q ./*.deb $EXTRA_PACKAGES)
mkdir -p /var/log/dnstap /run/named
chown bind:bind /var/log/dnstap /run/named
setpriv --reuid=bind --regid=bind --init-groups "$COLLECTOR" -t protobuf:dnstap.Dnstap -u ` + SocketPath + ` -w ` + CapturePath + ` \
	> ` + CollectorLog + ` 2>&1 &
echo $! > /run/collector.pid
i=0
while [ ! -S ` + SocketPath + ` ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
[ -S ` + SocketPath + ` ] || { echo "dnstapkit: the collector made no socket"; cat ` + CollectorLog + `; exit 1; }
/usr/local/sbin/named -V
/usr/local/sbin/named -g -u bind -c /etc/bind/named.conf > ` + NamedLogPath + ` 2>&1 &
echo $! > /run/named.pid
i=0
while ! grep -q 'running$' ` + NamedLogPath + ` && [ $i -lt 300 ]; do
	kill -0 $(cat /run/named.pid) 2>/dev/null || { cat ` + NamedLogPath + `; echo "dnstapkit: named exited"; exit 1; }
	sleep 0.1; i=$((i+1))
done
cat ` + NamedLogPath + `
echo "dnstapkit: named is running"
while :; do sleep 1 & wait $!; done
`

// stopSh stops named, waits for it to exit, then does the same for the collector.
const stopSh = `set -e
for p in named collector; do
	pid=$(cat /run/$p.pid)
	kill -TERM "$pid" 2>/dev/null || true
	i=0
	# Gone, or a zombie that PID 1 has not reaped yet.
	while state=$(cut -d' ' -f3 /proc/"$pid"/stat 2>/dev/null) && [ "$state" != Z ]; do
		[ $i -lt 300 ] || { echo "$p (pid $pid) did not exit"; exit 1; }
		sleep 0.1; i=$((i+1))
	done
done
ls -l ` + CapturePath + `
`
