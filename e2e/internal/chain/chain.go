// Package chain runs the whole dnstapkit chain in one container, the way a site runs it: the
// collector from the dnstap-collector .deb listening on named's dnstap socket, then named
// (the bind9-dnstap .deb, or Debian's own bind9), plus a second named without dnstap on
// 127.0.0.1#5300 that named forwards fwd.test to. Unlike bindcontainer, which starts both
// programs from its entrypoint, the container here idles and the test starts, stops, restarts
// and signals each program itself, so that faults can be injected between queries.
//
//	img, err := chain.Image(ctx, base, chain.DnstapBIND("9.18", deb, "/usr/local/bin/dnstap-read", true, debs...), log)
//	ctr, err := chain.Run(ctx, img, chain.DnstapBIND(...), dnsqPath)
//	testcontainers.CleanupContainer(t, ctr)
//	err = ctr.StartCollector(ctx, "-w", chain.CaptureDir+"/capture.fstrm")
//	err = ctr.StartNamed(ctx)
package chain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/dnstapkit/dnstapkit/e2e/internal/dnsq"
	"github.com/dnstapkit/dnstapkit/internal/docker"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// Paths inside the container.
const (
	SocketPath   = "/var/cache/bind/dnstap.sock" // named's dnstap-output, the collector's -u
	CaptureDir   = "/var/log/dnstap"             // the collector's output directory
	LogDir       = "/var/log/e2e"                // program logs (outside CaptureDir, which may fill up)
	NamedLog     = LogDir + "/named.log"
	CollectorLog = LogDir + "/collector.log"
	UpstreamLog  = LogDir + "/upstream.log"
	Collector    = "/usr/bin/dnstap-collector" // from the dnstap-collector .deb
	Reader       = "/usr/bin/dnstap-reader"    // from the dnstap-reader .deb
	confDir      = "/etc/dnstapkit-e2e"
	dnsqPath     = "/usr/local/bin/dnsq"
	toolkitDir   = "/dnstapkit/toolkit"
	statsPort    = "8053"
	inputsLabel  = "dnstapkit.e2e.inputs"
	pollEvery    = 100 * time.Millisecond
)

// Flavor is a way of installing BIND beside the toolkit's collector and reader.
type Flavor struct {
	Name       string   // "bind9-dnstap-9.14", ..., or "debian-bind9"
	Named      string   // path of named in the image
	DnstapRead string   // path of BIND's dnstap-read in the image
	ReaderArgs []string // what makes dnstap-reader print as this dnstap-read: --format <version>
	NoLockFile bool     // named refuses the lock-file option (9.20 on)
	Stats      bool     // named has a statistics channel (built with libxml2 or json-c)
	Debs       []string // host paths of .debs baked into the image (BIND's)
	Packages   []string // Debian packages baked into the image from the archive
	Toolkit    []string // host paths of the toolkit's .debs, installed with dpkg -i at Run
}

// Both flavors bake in systemd: the dnstap-collector package depends on it (for its units),
// though the tests run the programs without it. The toolkit's own packages change with every
// commit, so they are installed when the container starts (dpkg -i, a second) rather than
// baked into the image, which then stays cached.

// DnstapBIND is BIND from the bind9-dnstap .deb (bind:build) of series ("9.14"), with the
// toolkit's debs. dnstapRead is where the package has dnstap-read (/usr/local/bin, or
// /usr/local/sbin for 9.16 and older); stats says named has a statistics channel in JSON
// (built with json-c).
func DnstapBIND(series, bindDeb, dnstapRead string, stats bool, toolkitDebs ...string) Flavor {
	return Flavor{Name: "bind9-dnstap-" + series, Named: "/usr/local/sbin/named", DnstapRead: dnstapRead,
		ReaderArgs: []string{"--format", series}, Stats: stats, NoLockFile: series >= "9.20",
		Debs: []string{bindDeb}, Packages: []string{"systemd"}, Toolkit: toolkitDebs}
}

// DebianBIND is Debian's own bind9 package (built with dnstap, libxml2 and json-c), with
// the toolkit's debs.
func DebianBIND(toolkitDebs ...string) Flavor {
	return Flavor{Name: "debian-bind9", Named: "/usr/sbin/named", DnstapRead: "/usr/bin/dnstap-read", Stats: true,
		Packages: []string{"bind9", "bind9-dnsutils", "systemd"}, Toolkit: toolkitDebs}
}

// Image returns an image of base with f installed, building it when no image with the same
// inputs (base image id, package contents, package names) exists. Build output goes to log.
func Image(ctx context.Context, base string, f Flavor, log io.Writer) (string, error) {
	baseID, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", base)
	if err != nil {
		return "", fmt.Errorf("e2e image: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "e2e-image/1\x00%s\x00%s\x00", baseID, strings.Join(f.Packages, " "))
	dir, err := os.MkdirTemp("", "dnstapkit-e2e-image-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	for _, d := range f.Debs {
		b, err := os.ReadFile(d)
		if err != nil {
			return "", fmt.Errorf("e2e image: %w", err)
		}
		fmt.Fprintf(h, "%s\x00", filepath.Base(d))
		h.Write(b)
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(d)), b, 0o644); err != nil {
			return "", err
		}
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	ref := "dnstapkit/e2e:" + f.Name + "-" + key
	if got, ok, err := docker.Label(ctx, ref, inputsLabel); err == nil && ok && got == key {
		return ref, nil
	}
	if len(f.Debs) == 0 { // COPY needs something to copy
		if err := os.WriteFile(filepath.Join(dir, "none"), nil, 0o644); err != nil {
			return "", err
		}
	}
	install := strings.Join(f.Packages, " ")
	if len(f.Debs) > 0 {
		install = "/debs/*.deb " + install
	}
	dockerfile := "FROM " + base + "\n" +
		"COPY . /debs/\n" +
		"RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends " +
		install + " && rm -rf /var/lib/apt/lists/* /debs\n" +
		"LABEL " + inputsLabel + "=" + key + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	if err := docker.Run(ctx, log, "build", "--network", "bridge", "-t", ref, dir); err != nil {
		return "", fmt.Errorf("e2e image %s: %w", ref, err)
	}
	return ref, nil
}

// Container is a container with the chain installed and nothing running yet.
type Container struct {
	testcontainers.Container
	Flavor Flavor
	IP     string // the container's address on the Docker bridge, reachable from the host
}

// Run starts a container of img (made by Image for f) with the e2e named configuration and
// the dnsq program (host path dnsqBin) in it. IPv6 is enabled on its loopback. Further
// options (a tmpfs for CaptureDir, say) are passed to testcontainers. Like testcontainers
// modules it returns the container even on error, so the caller can clean it up.
func Run(ctx context.Context, img string, f Flavor, dnsqBin string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	files := []testcontainers.ContainerFile{
		{HostFilePath: dnsqBin, ContainerFilePath: dnsqPath, FileMode: 0o755},
	}
	for _, d := range f.Toolkit {
		files = append(files, testcontainers.ContainerFile{HostFilePath: d, ContainerFilePath: toolkitDir + "/" + filepath.Base(d), FileMode: 0o644})
	}
	for name, text := range configFiles(f.Stats, !f.NoLockFile) {
		files = append(files, testcontainers.ContainerFile{Reader: strings.NewReader(text), ContainerFilePath: confDir + "/" + name, FileMode: 0o644})
	}
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithFiles(files...),
		// An idle PID 1 that stops at once on SIGTERM; the test starts the programs with exec.
		testcontainers.WithEntrypoint("/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1 & wait $!; done"),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if hc.Sysctls == nil {
				hc.Sysctls = map[string]string{}
			}
			hc.Sysctls["net.ipv6.conf.lo.disable_ipv6"] = "0"
			hc.Sysctls["net.ipv6.conf.all.disable_ipv6"] = "0"
		}),
	}
	c, err := testcontainers.Run(ctx, img, append(defaults, opts...)...)
	var ctr *Container
	if c != nil {
		ctr = &Container{Container: c, Flavor: f}
	}
	if err != nil {
		return ctr, fmt.Errorf("run chain (%s): %w", f.Name, err)
	}
	if ctr.IP, err = c.ContainerIP(ctx); err != nil {
		return ctr, fmt.Errorf("run chain (%s): %w", f.Name, err)
	}
	setup := `set -e
dpkg -i ` + toolkitDir + `/*.deb
mkdir -p ` + CaptureDir + ` ` + LogDir + ` /run/named /var/cache/bind /var/cache/bind-upstream
chown bind:bind /run/named /var/cache/bind /var/cache/bind-upstream
`
	if out, err := ctr.Sh(ctx, setup); err != nil {
		return ctr, fmt.Errorf("run chain (%s): %w\n%s", f.Name, err, out)
	}
	return ctr, nil
}

// Sh runs script with /bin/sh in the container and returns its combined output; a non-zero
// exit is an error.
func (c *Container) Sh(ctx context.Context, script string) (string, error) {
	code, r, err := c.Exec(ctx, []string{"/bin/sh", "-c", script}, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("exec %q: %w", firstLine(script), err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("exec %q: %w", firstLine(script), err)
	}
	if code != 0 {
		return string(b), fmt.Errorf("exec %q: exit code %d: %s", firstLine(script), code, bytes.TrimSpace(b))
	}
	return string(b), nil
}

// Output runs the program cmd (no shell) and returns its standard output; on a non-zero
// exit the error carries its standard error.
func (c *Container) Output(ctx context.Context, cmd ...string) ([]byte, error) {
	out := fmt.Sprintf("/tmp/e2e-out-%d", time.Now().UnixNano())
	script := shellQuote(cmd) + " >" + out + ".1 2>" + out + ".2 || { cat " + out + ".2; rm -f " + out + ".*; exit 1; }"
	if msg, err := c.Sh(ctx, script); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", strings.Join(cmd, " "), err, msg)
	}
	b, err := c.ReadFile(ctx, out+".1")
	_, _ = c.Sh(ctx, "rm -f "+out+".*")
	return b, err
}

// StartUpstream starts the second named (no dnstap) that serves fwd.test on 127.0.0.1#5300.
func (c *Container) StartUpstream(ctx context.Context) error {
	return c.startNamed(ctx, "upstream", confDir+"/upstream.conf", UpstreamLog)
}

// StartNamed starts named with the e2e configuration and waits until it logs "running".
// The collector should be listening first, as the units order them.
func (c *Container) StartNamed(ctx context.Context) error {
	return c.startNamed(ctx, "named", confDir+"/named.conf", NamedLog)
}

func (c *Container) startNamed(ctx context.Context, name, conf, log string) error {
	before, err := c.count(ctx, log, "running$")
	if err != nil {
		return err
	}
	start := fmt.Sprintf("setsid %s -g -u bind -c %s >>%s 2>&1 </dev/null & echo $! >/run/%s.pid", c.Flavor.Named, conf, log, name)
	if out, err := c.Sh(ctx, start); err != nil {
		return fmt.Errorf("start %s: %w\n%s", name, err, out)
	}
	return c.waitFor(ctx, name, log, "running$", before+1, time.Minute)
}

// StopNamed stops named with SIGTERM and waits for it to exit; named flushes its dnstap
// queues on the way out.
func (c *Container) StopNamed(ctx context.Context) error { return c.stop(ctx, "named") }

// StartCollector starts dnstap-collector on SocketPath (owner group bind) with the extra
// flags args (fstrm_capture's, e.g. "-w", path), and waits until it listens.
func (c *Container) StartCollector(ctx context.Context, args ...string) error {
	before, err := c.count(ctx, CollectorLog, "listening")
	if err != nil {
		return err
	}
	cmd := append([]string{Collector, "-t", tapct.ContentType, "-u", SocketPath, "--socket-group", "bind"}, args...)
	start := fmt.Sprintf("setsid %s >>%s 2>&1 </dev/null & echo $! >/run/collector.pid", shellQuote(cmd), CollectorLog)
	if out, err := c.Sh(ctx, start); err != nil {
		return fmt.Errorf("start collector: %w\n%s", err, out)
	}
	return c.waitFor(ctx, "collector", CollectorLog, "listening", before+1, 30*time.Second)
}

// StopCollector stops the collector with SIGTERM and waits for it to exit (it drains its
// connections and closes its file with a STOP frame).
func (c *Container) StopCollector(ctx context.Context) error { return c.stop(ctx, "collector") }

// SignalCollector sends sig ("HUP") to the collector.
func (c *Container) SignalCollector(ctx context.Context, sig string) error {
	out, err := c.Sh(ctx, "kill -"+sig+" $(cat /run/collector.pid)")
	if err != nil {
		return fmt.Errorf("signal collector: %w\n%s", err, out)
	}
	return nil
}

// Running reports whether the program started as name ("named", "collector") is alive.
func (c *Container) Running(ctx context.Context, name string) bool {
	_, err := c.Sh(ctx, fmt.Sprintf(`pid=$(cat /run/%s.pid) && state=$(cut -d' ' -f3 /proc/"$pid"/stat) && [ "$state" != Z ]`, name))
	return err == nil
}

func (c *Container) stop(ctx context.Context, name string) error {
	script := fmt.Sprintf(`pid=$(cat /run/%s.pid)
kill -TERM "$pid" 2>/dev/null || true
i=0
# Gone, or a zombie that PID 1 (a shell) does not reap.
while state=$(cut -d' ' -f3 /proc/"$pid"/stat 2>/dev/null) && [ "$state" != Z ]; do
	[ $i -lt 300 ] || { echo "%s (pid $pid) did not exit in 30 s"; exit 1; }
	sleep 0.1; i=$((i+1))
done`, name, name)
	if out, err := c.Sh(ctx, script); err != nil {
		return fmt.Errorf("stop %s: %w\n%s", name, err, out)
	}
	return nil
}

// Count returns the number of lines of the file at p that match the extended regexp re
// (0 when the file does not exist).
func (c *Container) count(ctx context.Context, p, re string) (int, error) {
	out, err := c.Sh(ctx, fmt.Sprintf("grep -cE %s %s 2>/dev/null || true", shellQuote([]string{re}), p))
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n, nil
}

// Count is count for callers: matching lines of a log.
func (c *Container) Count(ctx context.Context, p, re string) (int, error) { return c.count(ctx, p, re) }

// WaitLog polls until the file at p has at least n lines matching re, or timeout passes.
func (c *Container) WaitLog(ctx context.Context, p, re string, n int, timeout time.Duration) error {
	return c.waitFor(ctx, path.Base(p), p, re, n, timeout)
}

func (c *Container) waitFor(ctx context.Context, name, p, re string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := c.count(ctx, p, re)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			tail, _ := c.Sh(ctx, "tail -n 30 "+p)
			return fmt.Errorf("%s: %q seen %d times in %s, want %d, after %s; last lines:\n%s", name, re, got, p, n, timeout, tail)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}

// Server returns the address:port of named's port 53 on the bridge.
func (c *Container) Server() string { return net.JoinHostPort(c.IP, "53") }

// QueryInside runs the dnsq program in the container with qs, one after the other.
func (c *Container) QueryInside(ctx context.Context, qs []dnsq.Query) ([]dnsq.Result, error) {
	arg, err := json.Marshal(qs)
	if err != nil {
		return nil, err
	}
	code, r, err := c.Exec(ctx, []string{dnsqPath, string(arg)}, tcexec.Multiplexed())
	if err != nil {
		return nil, fmt.Errorf("dnsq: %w", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("dnsq: %w", err)
	}
	if code != 0 {
		return nil, fmt.Errorf("dnsq: exit code %d: %s", code, out)
	}
	return dnsq.DecodeResults(out)
}

// DnstapStats returns named's dnstap counters from its statistics channel (JSON):
// messages handed to its Frame Streams queue (DNSTAPsuccess) and dropped because the
// queue was full (DNSTAPdropped). BIND leaves zero counters out; they read as 0.
func (c *Container) DnstapStats(ctx context.Context) (success, dropped uint64, err error) {
	return DnstapStatsAt(ctx, c.IP)
}

// DnstapStatsAt reads named's dnstap counters (DNSTAPsuccess: frames handed to its dnstap
// queue; DNSTAPdropped: frames it dropped) from the JSON statistics channel of the named at
// ip, port 8053.
func DnstapStatsAt(ctx context.Context, ip string) (success, dropped uint64, err error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(ip, statsPort) + "/json/v1/server"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("named statistics channel: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("named statistics channel: GET %s: %s", url, resp.Status)
	}
	var doc struct {
		Dnstap map[string]uint64 `json:"dnstapstats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return 0, 0, fmt.Errorf("named statistics channel: %w", err)
	}
	return doc.Dnstap["DNSTAPsuccess"], doc.Dnstap["DNSTAPdropped"], nil
}

// ReadFile copies a file out of the container. It runs cat rather than the copy API, which
// does not see into tmpfs mounts (the disk-full test puts CaptureDir on one).
func (c *Container) ReadFile(ctx context.Context, p string) ([]byte, error) {
	code, r, err := c.Exec(ctx, []string{"cat", p}, tcexec.Multiplexed())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if code != 0 {
		return nil, fmt.Errorf("read %s: cat: exit code %d: %s", p, code, bytes.TrimSpace(b))
	}
	return b, nil
}

// SaveArtifacts copies the program logs and every file of CaptureDir into dir on the host.
func (c *Container) SaveArtifacts(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := c.Sh(ctx, "find "+LogDir+" "+CaptureDir+" -maxdepth 1 -type f")
	if err != nil {
		return err
	}
	var errs []string
	for _, p := range strings.Fields(out) {
		b, err := c.ReadFile(ctx, p)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, path.Base(p)), b, 0o644)
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("save artifacts: %s", strings.Join(errs, "; "))
	}
	return nil
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
