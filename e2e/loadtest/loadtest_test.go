package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// moduleRoot finds the checkout's go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestZone checks that named-checkzone loads the generated zone with every name, and that the
// query file has the promised mix of answers, NXDOMAIN and NODATA.
func TestZone(t *testing.T) {
	checkzone := testenv.LookPath(t, "named-checkzone", "bind9-utils")
	z := Zone{Origin: "load.test", Names: 10000}
	path := filepath.Join(t.TempDir(), "zone.db")
	if err := writeFile(path, func(f *os.File) error { return z.WriteZone(f) }); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(checkzone, "-D", "-o", "-", z.Origin, path).CombinedOutput()
	if err != nil {
		t.Fatalf("named-checkzone: %v\n%s", err, out)
	}
	owners := map[string]map[string]bool{} // owner -> types it has
	types := map[string]int{}
	for l := range strings.SplitSeq(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) >= 4 && f[2] == "IN" {
			if owners[f[0]] == nil {
				owners[f[0]] = map[string]bool{}
			}
			owners[f[0]][f[3]] = true
			types[f[3]]++
		}
	}
	if len(owners) < z.Names {
		t.Errorf("named-checkzone loaded %d owner names, want >= %d", len(owners), z.Names)
	}
	for _, typ := range []string{"A", "AAAA", "MX", "TXT", "CNAME", "SOA", "NS"} {
		if types[typ] == 0 {
			t.Errorf("zone has no %s record", typ)
		}
	}

	var q bytes.Buffer
	if err := z.WriteQueries(&q, 10000, DefaultMix); err != nil {
		t.Fatal(err)
	}
	var nx, nodata, lines int
	sc := bufio.NewScanner(&q)
	for sc.Scan() {
		lines++
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("query line %q: want name and type", sc.Text())
		}
		owner, typ := f[0]+".", f[1]
		switch has := owners[owner]; {
		case has == nil:
			nx++
		case !has[typ] && !has["CNAME"]:
			nodata++
		}
	}
	if lines != 10000 {
		t.Errorf("query file has %d lines, want 10000", lines)
	}
	// 15% and 5% of 10000 draws: allow a wide margin around the expected shares.
	if nx < 1200 || nx > 1800 {
		t.Errorf("%d NXDOMAIN queries of 10000, want about 1500", nx)
	}
	if nodata < 350 || nodata > 650 {
		t.Errorf("%d NODATA queries of 10000, want about 500", nodata)
	}
}

// TestLoadShort runs every mode for a couple of seconds at a modest, bounded rate and checks
// that the pipeline works end to end; it asserts no speed.
func TestLoadShort(t *testing.T) {
	named := testenv.LookPath(t, "named", "bind9")
	dnsperf := testenv.LookPath(t, "dnsperf", "dnsperf")
	capture := testenv.LookPath(t, "fstrm_capture", "fstrm-bin")
	testenv.LookPath(t, "taskset", "util-linux")
	testenv.LookPath(t, "ip", "iproute2")
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "the load test adds its address to lo and runs named as root")
	}
	root := moduleRoot(t)
	c := DefaultConfig(root)
	c.Named, c.Dnsperf, c.FstrmCapture = named, dnsperf, capture
	c.WorkDir, c.OutDir = t.TempDir(), t.TempDir()
	c.Addr, c.Port, c.StatsPort = "127.0.56.2", 5654, 5681 // apart from a full run on 127.0.56.1
	c.Names, c.Queries = 10000, 5000
	c.Rounds, c.Settle = 1, 1500*time.Millisecond
	c.Load = Load{Seconds: 2, Clients: 2, Threads: 1, Outstanding: 20, MaxQPS: 2000, Timeout: 2, Latencies: true}
	c.Logf = t.Logf
	c.Modes = AllModes
	// One offered load after saturation (bounded at 2000 qps): half of mode 1's rate.
	c.Offered, c.SearchSteps = []int{50}, 0
	if _, err := os.Stat(filepath.Join(root, "cmd", "dnstap-collector")); err != nil {
		// Modes 3 and 6 need the toolkit's collector.
		if testenv.InCI() {
			t.Fatalf("CI=true but cmd/dnstap-collector is missing: %v", err)
		}
		t.Logf("cmd/dnstap-collector is missing: modes 3 and 6 not run")
		c.Modes = []Mode{ModeNone, ModeQuerylog, ModeFstrmCapture, ModeNoListener}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	c.Pinning = []Pinning{Unpinned}
	rep, err := Run(ctx, c)
	if err != nil {
		t.Fatalf("unpinned run: %v", err)
	}
	// Pinned: only the modes whose processes taskset places differently.
	cp := c
	cp.Pinning, cp.Modes, cp.Offered = []Pinning{Pinned}, []Mode{ModeNone, ModeFstrmCapture}, nil
	prep, err := Run(ctx, cp)
	if err != nil {
		t.Fatalf("pinned run: %v", err)
	}
	rep.Rounds = append(rep.Rounds, prep.Rounds...)
	rep.Summaries = Summarize(rep.Rounds)
	rep.Host = HostInfo(ctx, c)

	if got, want := len(rep.Summaries), 2*len(c.Modes)+len(cp.Modes); got != want {
		t.Fatalf("%d summaries, want %d", got, want)
	}
	sat := rep.Saturation[c.Pinning[0].Name]
	if want := saturationQPS(rep.Rounds, "unpinned"); sat <= 0 || sat != want {
		t.Fatalf("saturation %v, want mode 1's median %v", rep.Saturation, want)
	}
	for _, s := range rep.Summaries {
		if s.Bind == "" || s.Bind == "unknown" {
			t.Errorf("%s: no BIND version", s.Name)
		}
		if s.OfferedPct == 50 && s.OfferedQPS != offeredPoint(sat, 50).QPS {
			t.Errorf("%s at 50%%: dnsperf -Q %d, want half of mode 1's %.0f qps", s.Name, s.OfferedQPS, sat)
		}
	}
	for _, s := range rep.Summaries {
		t.Run(strings.ReplaceAll(s.Pinning+"/"+s.Point+"/"+s.Name, " ", "_"), func(t *testing.T) { checkSummary(t, s) })
	}

	if err := rep.WriteFiles(c.OutDir); err != nil {
		t.Fatal(err)
	}
	checkReportFiles(t, c.OutDir, rep)
}

func checkSummary(t *testing.T, s Summary) {
	t.Helper()
	if s.Rounds != 1 || len(s.Errors) > 0 {
		t.Fatalf("rounds %d, errors %v", s.Rounds, s.Errors)
	}
	if s.Completed == 0 || s.QPS <= 0 {
		t.Errorf("dnsperf completed %d queries at %.0f qps: want answers", s.Completed, s.QPS)
	}
	if s.Requests < s.Completed || s.Responses < s.Completed {
		t.Errorf("named counted %d requests and %d responses, fewer than dnsperf's %d answers", s.Requests, s.Responses, s.Completed)
	}
	if s.P99Latency <= 0 || s.AvgLatency <= 0 {
		t.Errorf("latency avg %s p99 %s: want both measured", s.AvgLatency, s.P99Latency)
	}
	if s.NamedCPUPerQuery <= 0 {
		t.Errorf("named CPU per query %s: want > 0", s.NamedCPUPerQuery)
	}
	switch {
	case s.Mode == ModeQuerylog:
		// One query-log line per query named received.
		if s.QuerylogLines != s.Requests {
			t.Errorf("query log has %d lines for %d requests", s.QuerylogLines, s.Requests)
		}
	case s.Mode.Collector() != "":
		if s.ByType["AQ"] == 0 || s.ByType["CR"] == 0 {
			t.Errorf("frames by type %v: want AQ and CR", s.ByType)
		}
		// Every frame named handed to fstrm reached the file, and named handed over or
		// counted as dropped one frame per query received and one per response sent.
		if s.Captured != s.DnstapSent {
			t.Errorf("captured %d frames, named sent %d", s.Captured, s.DnstapSent)
		}
		if s.DnstapSent+s.DnstapDropped != s.Expected {
			t.Errorf("named sent %d + dropped %d frames, want %d (requests + responses)", s.DnstapSent, s.DnstapDropped, s.Expected)
		}
		if s.Mode != ModeCollectorDefault && s.DnstapDropped != 0 {
			t.Errorf("named dropped %d frames at a modest rate with the tuned fstrm settings", s.DnstapDropped)
		}
		if s.CollectorPeakKiB <= 0 {
			t.Errorf("collector peak memory %d KiB: want measured", s.CollectorPeakKiB)
		}
	case s.Mode == ModeNoListener:
		if s.Captured != 0 {
			t.Errorf("nothing listened, yet %d frames were captured", s.Captured)
		}
	}
}

func checkReportFiles(t *testing.T, dir string, rep *Report) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "loadtest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("loadtest.json: %v", err)
	}
	if len(back.Summaries) != len(rep.Summaries) || len(back.Rounds) != len(rep.Rounds) {
		t.Errorf("loadtest.json has %d summaries and %d rounds, want %d and %d",
			len(back.Summaries), len(back.Rounds), len(rep.Summaries), len(rep.Rounds))
	}
	for i, s := range back.Summaries {
		if s.Completed != rep.Summaries[i].Completed || s.QPS != rep.Summaries[i].QPS {
			t.Errorf("loadtest.json summary %d does not round-trip", i)
		}
	}

	md, err := os.ReadFile(filepath.Join(dir, "loadtest.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for l := range strings.SplitSeq(string(md), "\n") {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| BIND |") {
			rows++
		}
	}
	if rows != len(rep.Summaries) {
		t.Errorf("loadtest.md has %d table rows, want %d\n%s", rows, len(rep.Summaries), md)
	}

	f, err := os.Open(filepath.Join(dir, "loadtest.svg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Per pinning: every mode's p99, p50 and named CPU line.
	lines := 0
	for _, s := range rep.Summaries {
		if s.OfferedPct == 0 {
			lines += 3
		}
	}
	checkSVG(t, f, lines)
}
