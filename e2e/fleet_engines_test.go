//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/internal/natstest"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestFleetEngines: two router containers (named with dnstap, the toolkit's .debs), router1's
// collector forwarding to NATS JetStream (Debian's nats-server on this host, file storage),
// router2's to Kafka (kfake, franz-go's Kafka-protocol fake, on this host, its data in a
// directory); dnsperf traffic; both engines killed in the middle of it and started again on
// the same storage. Then dnstap-reader --json in a container reads the stream and the topic,
// and each equals, message for message, what the router's own files hold (the identity is in
// every message: named's dnstap-identity); the duplicates the reader dropped are reported.
func TestFleetEngines(t *testing.T) {
	dnsperf := testenv.LookPath(t, "dnsperf", "dnsperf")
	natsBin := testenv.LookPath(t, "nats-server", "nats-server")
	f := newFleet(t, "router1", "router2")
	ctx := context.Background()
	out, err := exec.Command("docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", f.nw.Name).Output()
	gw := strings.TrimSpace(string(out))
	if err != nil || net.ParseIP(gw) == nil {
		t.Fatalf("gateway of the Docker network: %q %v", gw, err)
	}
	// The engines listen on the network's gateway: the containers and this process reach them.
	srv, err := natstest.StartAt(natsBin, t.TempDir(), gw)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Kill()
	if err := srv.Stream(ctx, "DNSTAP", "dnstap", 0); err != nil {
		t.Fatal(err)
	}
	kdata := t.TempDir()
	listen := kfake.ListenFn(func(network, addr string) (net.Listener, error) {
		_, port, _ := net.SplitHostPort(addr)
		return net.Listen(network, net.JoinHostPort(gw, port))
	})
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "dnstap"), kfake.DataDir(kdata), listen)
	if err != nil {
		t.Fatal(err)
	}
	kaddr := kc.ListenAddrs()[0]
	_, kport, _ := net.SplitHostPort(kaddr)
	kp, _ := strconv.Atoi(kport)
	defer func() { kc.Close() }()
	natsURL, kafkaURL := srv.URL()+"/dnstap.router1", "kafka://"+kaddr+"/dnstap"
	f.forward = map[string][]string{
		"router1": {"--forward", natsURL, "--forward-identity", "router1", "--forward-timeout", "5s"},
		"router2": {"--forward", kafkaURL, "--forward-identity", "router2", "--forward-timeout", "5s"},
	}
	names := []string{"router1", "router2"}
	routers := map[string]*chain.Container{}
	for _, name := range names {
		routers[name] = f.router(name, false)
	}

	done := chainPhase(t, "traffic, the engines restarted")
	var perf []*exec.Cmd
	for _, name := range names {
		perf = append(perf, dnsperfLoad(t, dnsperf, routers[name].IP, name, 300, 50*time.Second))
	}
	time.Sleep(15 * time.Second)
	srv.Kill()
	kc.Close()
	time.Sleep(20 * time.Second) // both engines down: longer than the Kafka client retries on its own (--forward-timeout)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if kc, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(kp), kfake.DataDir(kdata), listen); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range perf {
		if err := cmd.Wait(); err != nil {
			t.Errorf("dnsperf on %s: %v", names[i], err)
		}
	}
	done()

	done = chainPhase(t, "routers catch up, then stop")
	final := map[string]map[string]float64{}
	for _, name := range names {
		if err := routers[name].StopNamed(ctx); err != nil {
			t.Error(err)
		}
		final[name] = waitCaughtUp(t, name, routers[name], 3*time.Minute)
		if err := routers[name].StopCollector(ctx); err != nil {
			t.Error(err)
		}
	}
	done()

	done = chainPhase(t, "count with dnstap-reader")
	defer done()
	for _, tc := range []struct{ name, url string }{{"router1", natsURL}, {"router2", kafkaURL}} {
		own, ownTotal := readerMessages(t, routers[tc.name], chain.CaptureDir+"/cap-*")
		got, gotTotal, stderr := readerURL(t, f.central, tc.url)
		missing, dups, alien := collectortest.CompareCounts(own, got)
		t.Logf("%s -> %s: %d messages in its own files, %d read from the engine: %d missing, %d duplicates, %d foreign; %v sends retried; reader: %q",
			tc.name, tc.url, ownTotal, gotTotal, missing, dups, alien, final[tc.name]["dnstap_forward_batches_retried_total"], strings.TrimSpace(stderr))
		if ownTotal < 1000 {
			t.Errorf("%s: only %d messages captured; the traffic did not flow", tc.name, ownTotal)
		}
		if missing > 0 || alien > 0 || dups > 0 {
			t.Errorf("%s: the engine's messages are not the router's, each once", tc.name)
		}
		if final[tc.name]["dnstap_forward_batches_retried_total"] == 0 {
			t.Errorf("%s never retried: the engine's restart went unnoticed", tc.name)
		}
	}
}

// readerURL runs dnstap-reader --json URL in ctr and counts each message.
func readerURL(t *testing.T, ctr *chain.Container, url string) (map[string]int, int, string) {
	t.Helper()
	ctx := context.Background()
	if out, err := ctr.Sh(ctx, fmt.Sprintf(`%s --json '%s' >/tmp/url.json 2>/tmp/url.err || { cat /tmp/url.err; exit 1; }`, chain.Reader, url)); err != nil {
		t.Fatalf("dnstap-reader %s: %v\n%s", url, err, out)
	}
	b, err := ctr.ReadFile(ctx, "/tmp/url.json")
	if err != nil {
		t.Fatal(err)
	}
	errb, _ := ctr.ReadFile(ctx, "/tmp/url.err")
	counts, total := map[string]int{}, 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		counts[sc.Text()]++
		total++
	}
	return counts, total, string(errb)
}
