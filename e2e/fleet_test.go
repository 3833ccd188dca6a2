//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/internal/certs"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// Fleet settings inside the containers.
const (
	fleetTLSDir      = "/etc/dnstapkit-e2e/tls"
	fleetPort        = "6000"
	fleetMetricsPort = "9553"
	// The central collector's per-sender template and the routers' spool template.
	fleetCentralOut = chain.CaptureDir + "/%{identity}/%Y%m%d-%H%M%S.fstrm"
	fleetRouterOut  = chain.CaptureDir + "/cap-%Y%m%d-%H%M%S.fstrm"
)

// fleet is a Docker network with a central collector and routers on it.
type fleet struct {
	t       *testing.T
	flavor  string
	nw      *testcontainers.DockerNetwork
	pki     certs.Files
	bad     certs.Files // another CA: a router with these is refused
	central *chain.Container
	// forward, when it has a router's name, replaces the fstrm+tls --forward flags of that
	// router's collector (TestFleetEngines: kafka://, nats://).
	forward map[string][]string
}

// newFleet makes the network, the certificates and the central container (its collector
// not started).
func newFleet(t *testing.T, routers ...string) *fleet {
	t.Helper()
	testenv.Docker(t)
	ctx := context.Background()
	f := &fleet{t: t, flavor: chainEnv("E2E_FAULTS_FLAVOR", flavorDebian)}
	nw, err := network.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nw.Remove(context.Background()) })
	f.nw = nw
	dir := t.TempDir()
	if f.pki, err = certs.Generate(certs.Options{Dir: filepath.Join(dir, "pki"), Central: []string{"central"}, Routers: routers}); err != nil {
		t.Fatal(err)
	}
	if f.bad, err = certs.Generate(certs.Options{Dir: filepath.Join(dir, "other"), Routers: routers}); err != nil {
		t.Fatal(err)
	}
	f.central = chainRun(t, f.flavor, network.WithNetwork([]string{"central"}, nw),
		testcontainers.WithFiles(tlsFile(f.pki.CA, "ca.pem"), tlsFile(f.pki.CentralCert, "central.pem"), tlsFile(f.pki.CentralKey, "central-key.pem")))
	return f
}

func tlsFile(host, name string) testcontainers.ContainerFile {
	return testcontainers.ContainerFile{HostFilePath: host, ContainerFilePath: fleetTLSDir + "/" + name, FileMode: 0o600}
}

// startCentral starts the central collector: mutual TLS on port 6000, files per sender.
func (f *fleet) startCentral() {
	f.t.Helper()
	defer chainPhase(f.t, "start the central collector")()
	err := f.central.StartCollector(context.Background(), "-a", "0.0.0.0", "-p", fleetPort,
		"--tls-cert", fleetTLSDir+"/central.pem", "--tls-key", fleetTLSDir+"/central-key.pem", "--tls-client-ca", fleetTLSDir+"/ca.pem",
		"-w", fleetCentralOut, "--gmtime", "-s", "20")
	if err != nil {
		f.t.Fatal(err)
	}
}

// router runs a router container: named with dnstap-identity name, its collector forwarding
// to the central one with name's certificate (from the other CA when bad), extra flags added.
func (f *fleet) router(name string, bad bool, extra ...string) *chain.Container {
	f.t.Helper()
	ctx := context.Background()
	files := f.pki
	if bad {
		files = f.bad
	}
	ctr := chainRun(f.t, f.flavor, network.WithNetwork([]string{name}, f.nw),
		testcontainers.WithFiles(tlsFile(f.pki.CA, "ca.pem"), tlsFile(files.Routers[name][0], "router.pem"), tlsFile(files.Routers[name][1], "router-key.pem")))
	defer chainPhase(f.t, "start "+name)()
	if out, err := ctr.Sh(ctx, `sed -i 's/dnstap-identity "e2e"/dnstap-identity "`+name+`"/' /etc/dnstapkit-e2e/named.conf`); err != nil {
		f.t.Fatalf("%v\n%s", err, out)
	}
	f.startRouterCollector(ctr, append(f.forward[name], extra...)...)
	if err := ctr.StartNamed(ctx); err != nil {
		f.t.Fatal(err)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "sender connected", 1, 30*time.Second); err != nil {
		f.t.Fatalf("named did not connect to %s's collector: %v", name, err)
	}
	return ctr
}

func (f *fleet) startRouterCollector(ctr *chain.Container, extra ...string) {
	f.t.Helper()
	args := []string{"-w", fleetRouterOut, "--gmtime", "-s", "5", "--metrics", "0.0.0.0:" + fleetMetricsPort, "--forward-batch-interval", "500ms"}
	if len(extra) == 0 || extra[0] != "--forward" {
		args = append(args, "--forward", "fstrm+tls://central:"+fleetPort, "--forward-ca", fleetTLSDir+"/ca.pem",
			"--forward-cert", fleetTLSDir+"/router.pem", "--forward-key", fleetTLSDir+"/router-key.pem")
	}
	args = append(args, extra...)
	if err := ctr.StartCollector(context.Background(), args...); err != nil {
		f.t.Fatal(err)
	}
}

// metrics reads the collector's /metrics over the Docker network.
func metrics(t *testing.T, ctr *chain.Container) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ctr.IP, fleetMetricsPort)+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("metrics of %s: %v", ctr.IP, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return collectortest.ParseMetrics(string(body))
}

// waitCaughtUp polls a router's forwarder until nothing written is unacknowledged.
func waitCaughtUp(t *testing.T, name string, ctr *chain.Container, timeout time.Duration) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := metrics(t, ctr)
		if m["dnstap_forward_lag_complete"] == 1 && m["dnstap_forward_lag_frames"] == 0 {
			return m
		}
		if time.Now().After(deadline) {
			tail, _ := ctr.Sh(context.Background(), "tail -n 20 "+chain.CollectorLog)
			t.Fatalf("%s has not shipped everything after %v: lag %v frames, %v files pending\n%s", name, timeout,
				m["dnstap_forward_lag_frames"], m["dnstap_forward_files_pending"], tail)
		}
		time.Sleep(time.Second)
	}
}

// readerMessages runs the container's dnstap-reader --json over the files matching glob and
// counts each message (its whole JSON line: times, addresses, ports, DNS message). Files cut
// off by a kill (exit 3) count up to their last whole message.
func readerMessages(t *testing.T, ctr *chain.Container, glob string) (map[string]int, int) {
	t.Helper()
	ctx := context.Background()
	script := `set -- ` + glob + `
[ -e "$1" ] || { : >/tmp/msgs.json; exit 0; }
` + chain.Reader + ` --json "$@" >/tmp/msgs.json 2>/tmp/msgs.err; rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat /tmp/msgs.err; exit 1; }`
	if out, err := ctr.Sh(ctx, script); err != nil {
		t.Fatalf("dnstap-reader %s: %v\n%s", glob, err, out)
	}
	b, err := ctr.ReadFile(ctx, "/tmp/msgs.json")
	if err != nil {
		t.Fatal(err)
	}
	counts, total := map[string]int{}, 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		counts[sc.Text()]++
		total++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts, total
}

// dnsperfLoad runs the host's dnsperf against server for d at qps (bounded by both), on
// names of the wildcard under burst.example.test.
func dnsperfLoad(t *testing.T, bin, server, tag string, qps int, d time.Duration) *exec.Cmd {
	t.Helper()
	cmd, _ := dnsperfRun(t, bin, server, "burst."+chain.ZoneExample, tag, qps, d)
	return cmd
}

// dnsperfRun starts the host's dnsperf against server for d at qps (bounded by both),
// asking for A of <tag><n>.<zone>, and returns it and the buffer its report goes to.
func dnsperfRun(t *testing.T, bin, server, zone, tag string, qps int, d time.Duration) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	qf := filepath.Join(t.TempDir(), "queries")
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "%s%d.%s A\n", tag, i, zone)
	}
	if err := os.WriteFile(qf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-s", server, "-d", qf, "-Q", fmt.Sprint(qps), "-l", fmt.Sprint(int(d.Seconds())), "-c", "2", "-t", "2")
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}

// TestFleet proves store and forward on real BIND: three router containers (named + a
// collector forwarding over mutual TLS) and a central collector on a Docker network the
// test makes, dnsperf traffic on all three; the central collector is stopped for 30 s in
// the middle and started again; router1's collector is killed (SIGKILL) and started again;
// router3's certificate comes from another CA. Then, counted with dnstap-reader in the
// containers: for router1 and router2 every message in the router's own files is in the
// central files (nothing missing, duplicates counted and within what the forwarder
// reported); router3 is refused (logged and counted at the centre) and its messages stay
// on its disk.
func TestFleet(t *testing.T) {
	dnsperf := testenv.LookPath(t, "dnsperf", "dnsperf")
	f := newFleet(t, "router1", "router2", "router3")
	ctx := context.Background()
	f.startCentral()
	names := []string{"router1", "router2", "router3"}
	routers := map[string]*chain.Container{}
	for _, name := range names {
		routers[name] = f.router(name, name == "router3")
	}

	done := chainPhase(t, "traffic, with the faults")
	const traffic = 75 * time.Second
	var perf []*exec.Cmd
	for _, name := range names {
		perf = append(perf, dnsperfLoad(t, dnsperf, routers[name].IP, name, 300, traffic))
	}
	time.Sleep(10 * time.Second) // traffic flows and ships; the faults are spread over it
	if err := f.central.StopCollector(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Second) // the central collector is down for 30 s
	f.startCentral()
	time.Sleep(10 * time.Second)
	before := metrics(t, routers["router1"])
	if err := routers["router1"].SignalCollector(ctx, "KILL"); err != nil {
		t.Fatal(err)
	}
	if _, err := routers["router1"].Sh(ctx, `pid=$(cat /run/collector.pid); while [ -d /proc/$pid ] && [ "$(cut -d' ' -f3 /proc/$pid/stat)" != Z ]; do sleep 0.1; done`); err != nil {
		t.Fatal(err)
	}
	f.startRouterCollector(routers["router1"])
	if err := routers["router1"].WaitLog(ctx, chain.CollectorLog, "sender connected", 2, 30*time.Second); err != nil {
		t.Fatalf("named did not reconnect to router1's restarted collector: %v", err)
	}
	for i, cmd := range perf {
		if err := cmd.Wait(); err != nil {
			t.Errorf("dnsperf on %s: %v", names[i], err)
		}
	}
	done()

	done = chainPhase(t, "routers catch up, then stop")
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := routers[name].StopNamed(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	final := map[string]map[string]float64{}
	for _, name := range names[:2] {
		final[name] = waitCaughtUp(t, name, routers[name], 3*time.Minute)
	}
	final["router3"] = metrics(t, routers["router3"])
	for _, name := range names {
		if err := routers[name].StopCollector(ctx); err != nil {
			t.Error(err)
		}
	}
	if err := f.central.StopCollector(ctx); err != nil {
		t.Error(err)
	}
	done()

	done = chainPhase(t, "count with dnstap-reader")
	defer done()
	perIdentity := fleetStatsByIdentity(t, f.central)
	for _, name := range names[:2] {
		own, ownTotal := readerMessages(t, routers[name], chain.CaptureDir+"/cap-*")
		central, centralTotal := readerMessages(t, f.central, chain.CaptureDir+"/"+name+"/*")
		missing, dups, alien := collectortest.CompareCounts(own, central)
		reported := final[name]["dnstap_forward_duplicate_frames_possible_total"]
		if name == "router1" {
			reported += before["dnstap_forward_duplicate_frames_possible_total"]
		}
		t.Logf("%s: %d messages in its own files, %d in the central files: %d missing, %d duplicates (the forwarder reported %v possible)",
			name, ownTotal, centralTotal, missing, dups, reported)
		if perIdentity[name] != uint64(centralTotal) {
			t.Errorf("%s: dnstap-reader stats --by identity counts %d messages, the central files hold %d", name, perIdentity[name], centralTotal)
		}
		if ownTotal < 1000 {
			t.Errorf("%s: only %d messages captured; the traffic did not flow", name, ownTotal)
		}
		if missing > 0 || alien > 0 {
			t.Errorf("%s: %d messages missing at the centre, %d there that %s never wrote", name, missing, alien, name)
		}
		if float64(dups) > reported {
			t.Errorf("%s: %d duplicates at the centre, more than the %v the forwarder counted as possible", name, dups, reported)
		}
		if final[name]["dnstap_forward_evicted_frames_total"] != 0 {
			t.Errorf("%s: frames evicted with no --keep-size", name)
		}
	}
	if final["router1"]["dnstap_forward_batches_retried_total"]+before["dnstap_forward_batches_retried_total"] == 0 {
		t.Error("router1 never retried: the central collector's 30 s outage went unnoticed")
	}

	// router3: refused at the centre, its frames kept on its own disk.
	refused, err := f.central.Count(ctx, chain.CollectorLog, "TLS handshake failed")
	if err != nil || refused == 0 {
		t.Errorf("the central collector logged no refused TLS handshake (%d, %v)", refused, err)
	}
	if out, _ := f.central.Sh(ctx, "ls -d "+chain.CaptureDir+"/router3 2>&1 || true"); !strings.Contains(out, "No such file") {
		t.Errorf("the centre has files for router3: %s", out)
	}
	_, own3 := readerMessages(t, routers["router3"], chain.CaptureDir+"/cap-*")
	if own3 < 1000 || final["router3"]["dnstap_forward_frames_total"] != 0 {
		t.Errorf("router3: %d messages on its disk, %v shipped", own3, final["router3"]["dnstap_forward_frames_total"])
	}
	t.Logf("router3: refused %d times at the centre, %d messages kept on its disk, lag %v frames",
		refused, own3, final["router3"]["dnstap_forward_lag_frames"])
}

// fleetStatsByIdentity runs dnstap-reader stats --by identity --json over the central
// directory and returns the messages of each identity, checking the fleet total.
func fleetStatsByIdentity(t *testing.T, ctr *chain.Container) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	if out, err := ctr.Sh(ctx, chain.Reader+" stats --by identity --json "+chain.CaptureDir+"/*/*.fstrm* >/tmp/by.json 2>/tmp/by.err || [ $? -eq 3 ] || { cat /tmp/by.err; exit 1; }"); err != nil {
		t.Fatalf("stats --by identity: %v\n%s", err, out)
	}
	b, err := ctr.ReadFile(ctx, "/tmp/by.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ByIdentity []struct {
			Identity string `json:"identity"`
			Report   struct {
				Messages uint64 `json:"messages"`
			} `json:"report"`
		} `json:"by_identity"`
		Total struct {
			Messages uint64 `json:"messages"`
		} `json:"total"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("stats --by identity --json: %v", err)
	}
	out, sum := map[string]uint64{}, uint64(0)
	for _, ir := range doc.ByIdentity {
		out[ir.Identity] = ir.Report.Messages
		sum += ir.Report.Messages
	}
	if sum != doc.Total.Messages {
		t.Errorf("stats --by identity: the identities add up to %d, the fleet total is %d", sum, doc.Total.Messages)
	}
	t.Logf("stats --by identity at the centre: %v, fleet total %d", out, doc.Total.Messages)
	return out
}

// TestFleetEviction: the central collector is down while a router writes more than its
// --keep-size: retention deletes files not yet shipped. When the centre comes back, what
// is left arrives, and the frames evicted are counted exactly: the distinct messages at the
// centre plus the evicted frames equal the frames the router's collector wrote (its own
// counter), and the log names every evicted file.
func TestFleetEviction(t *testing.T) {
	f := newFleet(t, "router1")
	ctx := context.Background()
	r := f.router("router1", false, "-s", "1", "--keep-size", "200K")

	done := chainPhase(t, "traffic with the centre down")
	for i := range 8 {
		send(t, r, fmt.Sprint("ev", i), 250)
		time.Sleep(1200 * time.Millisecond) // a file a second: spreads the traffic over files
	}
	if err := r.WaitLog(ctx, chain.CollectorLog, "retention deletes a file not yet shipped", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	done()

	done = chainPhase(t, "the centre comes back")
	f.startCentral()
	send(t, r, "after", 100)
	if err := r.StopNamed(ctx); err != nil {
		t.Fatal(err)
	}
	m := waitCaughtUp(t, "router1", r, 2*time.Minute)
	if err := r.StopCollector(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.central.StopCollector(ctx); err != nil {
		t.Fatal(err)
	}
	done()

	central, centralTotal := readerMessages(t, f.central, chain.CaptureDir+"/router1/*")
	own, _ := readerMessages(t, r, chain.CaptureDir+"/cap-*")
	// Frames of an evicted file that were already in a batch in memory are still shipped:
	// the centre may hold frames the router's remaining files do not.
	missing, _, _ := collectortest.CompareCounts(own, central)
	written := m["dnstap_collector_frames_written_total"]
	evicted := m["dnstap_forward_evicted_frames_total"]
	logged := 0
	logs, _ := r.Sh(ctx, "grep 'retention deletes a file not yet shipped' "+chain.CollectorLog)
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if mm := regexp.MustCompile(`frames_lost=(\d+)`).FindStringSubmatch(l); mm != nil && strings.Contains(l, "file=") {
			n, _ := strconv.Atoi(mm[1])
			logged += n
		}
	}
	t.Logf("written %v frames, %d distinct at the centre (%d in all), %v evicted in %v files (%d in the log lines)",
		written, len(central), centralTotal, evicted, m["dnstap_forward_evicted_files_total"], logged)
	if missing > 0 {
		t.Errorf("%d messages of the router's remaining files missing at the centre", missing)
	}
	if evicted == 0 {
		t.Fatal("nothing was evicted: the test did not exceed --keep-size")
	}
	if distinct := float64(len(central)); distinct+evicted != written {
		t.Errorf("%v distinct at the centre + %v evicted = %v, but the router wrote %v", distinct, evicted, distinct+evicted, written)
	}
	if float64(logged) != evicted {
		t.Errorf("the log lines name %d evicted frames, the metric %v", logged, evicted)
	}
}
