//go:build e2e

package e2e

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/e2e/loadtest"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestLoadContainer runs the load test on the toolkit's own BIND 9.18 (the bind9-dnstap
// package of bind:build, named in a container, as LOAD_BIND=9.18 does): no logging,
// dnstap-collector and fstrm_capture, at a bounded saturation (2000 qps) and then at one
// offered load, half of mode 1's rate. It checks the pipeline and what must hold at a modest
// rate (every frame named sent is in the capture, none dropped); it asserts no speed.
func TestLoadContainer(t *testing.T) {
	testenv.Docker(t)
	dnsperf := testenv.LookPath(t, "dnsperf", "dnsperf")
	capture := testenv.LookPath(t, "fstrm_capture", "fstrm-bin")
	testenv.LookPath(t, "ip", "iproute2")
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "the load test adds its address to lo")
	}
	t.Parallel()
	bindSerial.Lock()
	defer bindSerial.Unlock()
	targets, err := bindTargets()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(targets, func(tg bindTarget) bool { return tg.Version.Series == "9.18" })
	if i < 0 {
		t.Skip("BIND_VERSION leaves out 9.18: no build to load")
	}
	v := targets[i].Version
	// The build the other BIND tests share (from the cache when bind:build made it).
	if _, log, err := bindBuild(targets[i]); err != nil {
		t.Fatalf("build BIND %s: %v\n%s", v.Release, err, log)
	}

	c := loadtest.DefaultConfig("..")
	c.Bind, c.BindDistro, c.Dnsperf, c.FstrmCapture = "9.18", targets[i].Distro, dnsperf, capture
	c.WorkDir, c.OutDir = t.TempDir(), t.TempDir()
	c.Addr, c.Port, c.StatsPort = "127.0.56.3", 5655, 5682 // apart from TestLoadShort and a full run
	c.Names, c.Queries = 10000, 5000
	c.Rounds, c.Settle = 1, 1500*time.Millisecond
	c.Load = loadtest.Load{Seconds: 2, Clients: 2, Threads: 1, Outstanding: 20, MaxQPS: 2000, Timeout: 2, Latencies: true}
	c.Modes = []loadtest.Mode{loadtest.ModeNone, loadtest.ModeCollector, loadtest.ModeFstrmCapture}
	c.Pinning = []loadtest.Pinning{loadtest.Unpinned}
	c.Offered, c.SearchSteps = []int{50}, 0
	c.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, c)
	if err != nil {
		t.Fatalf("load test on BIND %s in a container: %v", v.Release, err)
	}
	if !strings.HasPrefix(rep.Bind, v.Release+" ") || !strings.Contains(rep.Bind, "container") {
		t.Errorf("BIND version %q, want %s in a container", rep.Bind, v.Release)
	}
	sat := rep.Saturation["unpinned"]
	if got, want := len(rep.Summaries), 2*len(c.Modes); got != want || sat <= 0 {
		t.Fatalf("%d summaries and saturation %.0f qps, want %d and > 0", got, sat, want)
	}
	for _, s := range rep.Summaries {
		t.Run(s.Point+"/"+strings.ReplaceAll(s.Name, " ", "_"), func(t *testing.T) {
			if s.Rounds != 1 || len(s.Errors) > 0 || s.Bind != rep.Bind {
				t.Fatalf("rounds %d, errors %v, BIND %q", s.Rounds, s.Errors, s.Bind)
			}
			if s.Completed == 0 || s.Requests < s.Completed || s.NamedCPUPerQuery <= 0 || s.P99Latency <= 0 {
				t.Errorf("completed %d, named counted %d requests, CPU %s/query, p99 %s: want answers that named counted and measured",
					s.Completed, s.Requests, s.NamedCPUPerQuery, s.P99Latency)
			}
			if s.OfferedPct == 50 && s.OfferedQPS != int(sat/2+0.5) {
				t.Errorf("offered -Q %d, want half of %.0f", s.OfferedQPS, sat)
			}
			if s.Mode.Collector() == "" {
				return
			}
			if s.Captured != s.DnstapSent || s.DnstapDropped != 0 || s.DropRounds != 0 {
				t.Errorf("named sent %d frames and dropped %d, the capture has %d: want all, at a modest rate", s.DnstapSent, s.DnstapDropped, s.Captured)
			}
			if s.DnstapSent != s.Expected || s.ByType["AQ"] == 0 || s.ByType["CR"] == 0 {
				t.Errorf("named sent %d frames (%v) for %d requests + responses", s.DnstapSent, s.ByType, s.Expected)
			}
		})
	}
	if err := rep.WriteFiles(c.OutDir); err != nil {
		t.Fatal(err)
	}
}
