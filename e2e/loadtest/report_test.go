package loadtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -run %s -update rewrites it); got:\n%s", path, t.Name(), got)
	}
}

// round makes a synthetic round: qps, p50 and p99 in ms, named CPU in µs per query, and for
// dnstap modes the frames sent, dropped by BIND and captured.
func round(bind, pin string, m Mode, n, pct, offered int, qps, p50, p99, cpuUS float64, sent, dropped, captured int64) RoundResult {
	completed := int64(qps * 10)
	r := RoundResult{Bind: bind, Mode: m, Pinning: pin, Round: n, OfferedPct: pct, OfferedQPS: offered,
		Perf: PerfResult{Sent: completed + 3, Completed: completed, Lost: 3, QPS: qps,
			AvgLatency: time.Duration(p50 * 1.2 * float64(time.Millisecond)),
			P50Latency: time.Duration(p50 * float64(time.Millisecond)), P99Latency: time.Duration(p99 * float64(time.Millisecond))},
		Total:        BindStats{Requests: completed + 1, Responses: completed + 1},
		NamedCPU:     time.Duration(cpuUS * float64(completed) * float64(time.Microsecond)),
		NamedPeakKiB: 50000,
	}
	if m.Dnstap() {
		r.Total.DnstapSuccess, r.Total.DnstapDropped = sent, dropped
		r.Total.Requests, r.Total.Responses = (sent+dropped)/2, (sent+dropped)/2
	}
	if m.Collector() != "" {
		r.Frames = &Frames{Total: captured, ByType: map[string]int64{"AQ": captured / 2, "CR": captured - captured/2}}
		r.CollectorCPU, r.CollectorPeakKiB = 300*time.Millisecond, 13000
	}
	if m == ModeQuerylog {
		r.QuerylogLines = r.Total.Requests
	}
	return r
}

// syntheticReport is a run of modes 1-4 at saturation and at 25% and 80% of mode 1's
// saturation, 2 rounds, unpinned, in the order Run makes them: dnstap-collector drops in one
// round at 80%, fstrm_capture does not; querylog bends at 80%.
func syntheticReport() *Report {
	const bind, pin = "9.18.49-1~deb12u3-Debian", "unpinned"
	var rs []RoundResult
	for n := 1; n <= 2; n++ {
		d := float64(n) // rounds differ a little
		rs = append(rs,
			round(bind, pin, ModeNone, n, 0, 0, 30000+1000*d, 6, 40, 19, 0, 0, 0),
			round(bind, pin, ModeQuerylog, n, 0, 0, 19000+500*d, 10, 50, 33, 0, 0, 0),
			round(bind, pin, ModeCollector, n, 0, 0, 28000+800*d, 7, 45, 22.5, 560000, 900*int64(n), 560000),
			round(bind, pin, ModeFstrmCapture, n, 0, 0, 27000, 7, 47, 22.4, 540000, 1200, 540000),
		)
	}
	for n := 1; n <= 2; n++ {
		rs = append(rs,
			round(bind, pin, ModeNone, n, 25, 7750, 7750, 0.1, 0.4, 18, 0, 0, 0),
			round(bind, pin, ModeQuerylog, n, 25, 7750, 7750, 0.12, 0.6, 31, 0, 0, 0),
			round(bind, pin, ModeCollector, n, 25, 7750, 7750, 0.11, 0.42, 21, 155000, 0, 155000),
			round(bind, pin, ModeFstrmCapture, n, 25, 7750, 7750, 0.11, 0.43, 21.5, 155000, 0, 155000),
			round(bind, pin, ModeNone, n, 80, 24800, 24800, 0.3, 2.0, 18.5, 0, 0, 0),
			round(bind, pin, ModeQuerylog, n, 80, 24800, 18500, 9, 48, 32, 0, 0, 0),
			round(bind, pin, ModeCollector, n, 80, 24800, 24800, 0.35, 2.4, 21.8, 496000, int64(2-n)*40, 496000),
			round(bind, pin, ModeFstrmCapture, n, 80, 24800, 24800, 0.33, 2.1, 21.6, 496000, 0, 496000-int64(n-1)),
		)
	}
	// LOAD_PERF counted named's threads in the 25% rounds of modes 3 and 4.
	for i, r := range rs {
		if r.OfferedPct == 25 && (r.Mode == ModeCollector || r.Mode == ModeFstrmCapture) {
			rs[i].Load.DnstapSuccess = 2 * r.Perf.Completed
			rs[i].NamedProfile = &NamedProfile{WorkerCPU: time.Duration(19 * float64(r.Perf.Completed) * float64(time.Microsecond)),
				WorkerRecvmmsg: r.Perf.Completed / 2, IOThreadCPU: time.Duration(0.2 * 2 * float64(r.Perf.Completed) * float64(time.Microsecond)),
				IOSendmsg: 2 * r.Perf.Completed / 125, Switches: r.Perf.Completed / 4}
		}
	}
	return &Report{
		Started:      time.Date(2026, 12, 5, 18, 0, 0, 0, time.UTC),
		Finished:     time.Date(2026, 12, 5, 18, 30, 0, 0, time.UTC),
		Host:         map[string]string{"cpus": "2", "named": "BIND 9.18.49-1~deb12u3-Debian"},
		LoadAvgStart: "4.00 3.00 2.00",
		Bind:         bind,
		Saturation:   map[string]float64{pin: 31000},
		Rounds:       rs,
		Summaries:    Summarize(rs),
		Searches: []Search{{Bind: bind, Pinning: pin, Mode: ModeCollector, Name: ModeCollector.String(), Saturation: 31000,
			From: 25, To: 80, ZeroDrop: 66, Steps: []SearchStep{
				{Pct: 52, QPS: 16120, Rounds: 2, Clean: true},
				{Pct: 66, QPS: 20460, Rounds: 2, Clean: true},
				{Pct: 73, QPS: 22630, Rounds: 1, Drops: 12},
			}},
			{Bind: bind, Pinning: pin, Mode: ModeFstrmCapture, Name: ModeFstrmCapture.String(), Saturation: 31000,
				From: 0, To: 25, ZeroDrop: 0, Steps: []SearchStep{
					{Pct: 12, QPS: 3720, Rounds: 2, Drops: 5},
					{Pct: 6, QPS: 1860, Rounds: 1, Error: "named did not answer"},
				}},
			{Bind: bind, Pinning: "pinned", Mode: ModeFstrmCapture, Name: ModeFstrmCapture.String(), Saturation: 20000, From: 80, ZeroDrop: 80},
		},
	}
}

func TestSummarize(t *testing.T) {
	sums := syntheticReport().Summaries
	var order []string
	for _, s := range sums {
		order = append(order, s.Point+"/"+s.Name)
	}
	// Offered loads ascending, saturation last; modes in the order run.
	want := []string{
		"25%/no logging", "25%/querylog to file", "25%/dnstap -> dnstap-collector", "25%/dnstap -> fstrm_capture",
		"80%/no logging", "80%/querylog to file", "80%/dnstap -> dnstap-collector", "80%/dnstap -> fstrm_capture",
		"saturation/no logging", "saturation/querylog to file", "saturation/dnstap -> dnstap-collector", "saturation/dnstap -> fstrm_capture",
	}
	if !slices.Equal(order, want) {
		t.Fatalf("summaries in order\n%q\nwant\n%q", order, want)
	}
	tests := []struct {
		point                   string
		mode                    Mode
		dropRounds              int
		p50, p99                time.Duration
		qpsRatio, cpuRatio      float64
		collectorLost, dnstapDr int64
	}{
		{"25%", ModeCollector, 0, 110 * time.Microsecond, 420 * time.Microsecond, 1, 21.0 / 18, 0, 0},
		{"80%", ModeCollector, 1, 350 * time.Microsecond, 2400 * time.Microsecond, 1, 21.8 / 18.5, 0, 40},
		{"80%", ModeFstrmCapture, 1, 330 * time.Microsecond, 2100 * time.Microsecond, 1, 21.6 / 18.5, 1, 0},
		{"saturation", ModeCollector, 2, 7 * time.Millisecond, 45 * time.Millisecond, 29200.0 / 31500, 22.5 / 19, 0, 2700},
	}
	for _, tt := range tests {
		t.Run(tt.point+"/"+tt.mode.String(), func(t *testing.T) {
			i := slices.IndexFunc(sums, func(s Summary) bool { return s.Point == tt.point && s.Mode == tt.mode })
			s := sums[i]
			if s.Rounds != 2 || s.DropRounds != tt.dropRounds || s.CollectorLost != tt.collectorLost || s.DnstapDropped != tt.dnstapDr {
				t.Errorf("rounds %d, drop rounds %d, collector lost %d, BIND dropped %d; want 2, %d, %d, %d",
					s.Rounds, s.DropRounds, s.CollectorLost, s.DnstapDropped, tt.dropRounds, tt.collectorLost, tt.dnstapDr)
			}
			if s.P50Latency != tt.p50 || s.P99Latency != tt.p99 {
				t.Errorf("p50 %s p99 %s, want %s %s", s.P50Latency, s.P99Latency, tt.p50, tt.p99)
			}
			if !near(s.QPSRatio, tt.qpsRatio) || !near(s.CPURatio, tt.cpuRatio) {
				t.Errorf("qps ratio %.4f cpu ratio %.4f, want %.4f %.4f", s.QPSRatio, s.CPURatio, tt.qpsRatio, tt.cpuRatio)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-3 && b-a < 1e-3 }

func TestSummarizeSkipsSearchRounds(t *testing.T) {
	rs := syntheticReport().Rounds
	extra := round("x", "unpinned", ModeCollector, 1, 66, 20000, 20000, 1, 2, 3, 100, 0, 100)
	extra.Search = true
	if got, want := len(Summarize(append(rs, extra))), len(Summarize(rs)); got != want {
		t.Errorf("a search round made %d summaries, want %d", got, want)
	}
}

func TestReportGolden(t *testing.T) {
	rep := syntheticReport()
	var md, svg bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md", md.Bytes())
	if err := rep.SVG(&svg); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.svg", svg.Bytes())
	checkSVG(t, bytes.NewReader(svg.Bytes()), 12)

	// The goal lines a reader acts on.
	for _, want := range []string{
		"- 9.18.49-1~deb12u3-Debian, unpinned, 25% (-Q 7750): yes: 0 frames dropped (BIND 0, collector 0) in 0 of 2 rounds; yes: p99 0.42 ms vs mode 1 0.40 ms (1.05×); yes: named CPU 21.0 vs querylog 31.0 µs/query; yes: named CPU 21.0 vs fstrm_capture 21.5 µs/query",
		"- 9.18.49-1~deb12u3-Debian, unpinned, 80% (-Q 24800): no: 40 frames dropped (BIND 40, collector 0) in 1 of 2 rounds; no: p99 2.40 ms vs mode 1 2.00 ms (1.20×); yes: named CPU 21.8 vs querylog 32.0 µs/query; no: named CPU 21.8 vs fstrm_capture 21.6 µs/query",
		"- 9.18.49-1~deb12u3-Debian, unpinned, 3 dnstap -> dnstap-collector: 66% of saturation (20460 qps of 31000); bracket 25%–80%; tried 52% (-Q 16120) clean, 66% (-Q 20460) clean, 73% (-Q 22630) 12 dropped in round 1",
		"- 9.18.49-1~deb12u3-Debian, unpinned, 4 dnstap -> fstrm_capture: none found; bracket 0%–25%; tried 12% (-Q 3720) 5 dropped in round 2, 6% (-Q 1860) failed: named did not answer",
		"- 9.18.49-1~deb12u3-Debian, pinned, 4 dnstap -> fstrm_capture: no drop at any offered load up to 80% (16000 qps of 20000): no search",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks the line\n%s", want)
		}
	}
	// The JSON carries BIND's version, the offered loads and the search.
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Bind != rep.Bind || back.Summaries[0].Bind != rep.Bind || back.Summaries[0].OfferedQPS != 7750 ||
		len(back.Searches) != 3 || back.Searches[0].ZeroDrop != 66 || back.Saturation["unpinned"] != 31000 {
		t.Errorf("loadtest.json does not carry BIND, offered load and search: %s", b)
	}
}

// checkSVG checks that r is an SVG document with at least lines polylines (one per mode and
// panel curve that has points).
func checkSVG(t *testing.T, r io.Reader, lines int) {
	t.Helper()
	dec := xml.NewDecoder(r)
	var root string
	polylines := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "polyline" {
				polylines++
			}
		}
	}
	if root != "svg" {
		t.Errorf("SVG root element %q, want svg", root)
	}
	if polylines < lines {
		t.Errorf("SVG has %d lines, want >= %d", polylines, lines)
	}
}

func TestParsePerfStat(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "perf-stat-per-thread.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	threads, err := parsePerfStat(f)
	if err != nil {
		t.Fatal(err)
	}
	// named pinned to one core: one worker, fstrm's I/O thread (same comm), and threads that
	// did not run (not counted).
	want := []ThreadCounts{
		{Thread: "isc-net-0000-15278", CPU: 1683430 * time.Microsecond, Switches: 10611, Syscalls: 62196, Recvmmsg: 22177},
		{Thread: "isc-net-0000-15281", CPU: 34080 * time.Microsecond, Switches: 83, Syscalls: 1323, Sendmsg: 1284},
	}
	if !slices.Equal(threads, want) {
		t.Fatalf("parsePerfStat =\n%+v\nwant\n%+v", threads, want)
	}
	p := profileOf(threads)
	if p.WorkerCPU != want[0].CPU || p.WorkerRecvmmsg != 22177 || p.IOThreadCPU != want[1].CPU || p.IOSendmsg != 1284 ||
		p.IOSyscalls != 1323 || p.Switches != 10694 {
		t.Errorf("profileOf = %+v", p)
	}
	for _, bad := range []string{"x,1\n", "t-1,abc,msec,task-clock\n", "t-1,5,usec,task-clock\n"} {
		if _, err := parsePerfStat(strings.NewReader(bad)); err == nil {
			t.Errorf("parsePerfStat(%q): no error", bad)
		}
	}
}

func TestSummarizeProfile(t *testing.T) {
	sums := syntheticReport().Summaries
	i := slices.IndexFunc(sums, func(s Summary) bool { return s.Point == "25%" && s.Mode == ModeCollector })
	p := sums[i].Profile
	if p == nil || p.Rounds != 2 || !near(p.WorkerUSPerQuery, 19) || !near(p.RecvmmsgPerQuery, 0.5) ||
		!near(p.IOUSPerFrame, 0.2) || !near(p.FramesPerSendmsg, 125) || !near(p.SwitchesPerQuery, 0.25) {
		t.Errorf("profile summary %+v", p)
	}
	if j := slices.IndexFunc(sums, func(s Summary) bool { return s.Point == "80%" && s.Mode == ModeCollector }); sums[j].Profile != nil {
		t.Errorf("a summary without perf rounds has a profile")
	}
}

func TestBisect(t *testing.T) {
	tests := []struct {
		name           string
		lo, hi, steps  int
		threshold      int // rates at or below it are clean
		want           int
		wantProbes     []int
		failingProbeAt int // a probe of this rate fails (counts as not clean); 0 none
	}{
		{"narrows to the threshold", 50, 80, 3, 70, 68, []int{65, 72, 68}, 0},
		{"nothing clean below", 0, 25, 3, 0, 0, []int{12, 6, 3}, 0},
		{"already narrow", 78, 80, 3, 79, 78, nil, 0},
		{"no steps", 50, 80, 0, 70, 50, nil, 0},
		{"a failed probe is not clean", 50, 80, 2, 79, 57, []int{65, 57}, 65},
		{"stops at 2 points", 50, 80, 10, 79, 78, []int{65, 72, 76, 78}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var probes []int
			got := bisect(tt.lo, tt.hi, tt.steps, func(pct int) bool {
				probes = append(probes, pct)
				return pct != tt.failingProbeAt && pct <= tt.threshold
			})
			if got != tt.want || !slices.Equal(probes, tt.wantProbes) {
				t.Errorf("bisect = %d after probes %v, want %d after %v", got, probes, tt.want, tt.wantProbes)
			}
		})
	}
}

func TestSearchBracket(t *testing.T) {
	s := func(pct, dropRounds int) Summary { return Summary{OfferedPct: pct, DropRounds: dropRounds, Rounds: 3} }
	tests := []struct {
		name   string
		sums   []Summary
		lo, hi int
		need   bool
	}{
		{"clean up to the goal", []Summary{s(0, 3), s(25, 0), s(50, 0), s(80, 0)}, 80, 0, false},
		{"80% drops", []Summary{s(0, 3), s(80, 1), s(25, 0), s(50, 0)}, 50, 80, true},
		{"25% drops", []Summary{s(25, 2), s(50, 0), s(80, 3)}, 0, 25, true},
		{"above the goal does not count", []Summary{s(25, 0), s(90, 3)}, 25, 0, false},
		{"saturation only", []Summary{s(0, 3)}, 0, 0, false},
		{"failed rounds only", []Summary{{OfferedPct: 50, Rounds: 0}}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi, need := searchBracket(tt.sums)
			if lo != tt.lo || hi != tt.hi || need != tt.need {
				t.Errorf("searchBracket = %d, %d, %v; want %d, %d, %v", lo, hi, need, tt.lo, tt.hi, tt.need)
			}
		})
	}
}

func TestDrops(t *testing.T) {
	tests := []struct {
		name string
		r    RoundResult
		want int64
	}{
		{"no dnstap", RoundResult{Mode: ModeQuerylog, Total: BindStats{DnstapDropped: 5}}, 0},
		{"BIND dropped", RoundResult{Mode: ModeNoListener, Total: BindStats{DnstapSuccess: 10, DnstapDropped: 2}}, 2},
		{"collector lost", RoundResult{Mode: ModeCollector, Total: BindStats{DnstapSuccess: 10}, Frames: &Frames{Total: 7}}, 3},
		{"both", RoundResult{Mode: ModeFstrmCapture, Total: BindStats{DnstapSuccess: 10, DnstapDropped: 1}, Frames: &Frames{Total: 9}}, 2},
		{"all captured", RoundResult{Mode: ModeCollector, Total: BindStats{DnstapSuccess: 10}, Frames: &Frames{Total: 10}}, 0},
	}
	for _, tt := range tests {
		if got := tt.r.Drops(); got != tt.want {
			t.Errorf("%s: Drops() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestParseOffered(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"25,50,80", []int{25, 50, 80}, false},
		{"80, 25%,50,25", []int{25, 50, 80}, false},
		{"none", nil, false},
		{"0", nil, true},
		{"100", nil, true},
		{"x", nil, true},
		{",", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseOffered(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("ParseOffered(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOfferedPoint(t *testing.T) {
	if p := offeredPoint(31234, 80); p.QPS != 24987 || p.Pct != 80 || p.Name() != "80%" {
		t.Errorf("offeredPoint(31234, 80) = %+v %q", p, p.Name())
	}
	if Saturation.Name() != "saturation" {
		t.Errorf("Saturation.Name() = %q", Saturation.Name())
	}
}

func TestBindVersion(t *testing.T) {
	tests := []struct{ in, want, zone string }{
		{"BIND 9.18.49-1~deb12u3-Debian (Extended Support Version) <id:>\n", "9.18.49-1~deb12u3-Debian", "primary"},
		{"BIND 9.14.12 (Stable Release) <id:f3dc26e>\nrunning on Linux\n", "9.14.12", "master"},
		{"BIND 9.20.30 (Stable Release) <id:>", "9.20.30", "primary"},
		{"BIND 9.16.50 (Extended Support Version) <id:>", "9.16.50", "primary"},
		{"named: not found", "unknown", "primary"},
	}
	for _, tt := range tests {
		v := BindVersion(tt.in)
		if v != tt.want || zoneType(v) != tt.zone {
			t.Errorf("BindVersion(%q) = %q (zone type %q), want %q (%q)", tt.in, v, zoneType(v), tt.want, tt.zone)
		}
	}
}

func TestParseDnsperf(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "dnsperf-v.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parseDnsperf(f)
	if err != nil {
		t.Fatal(err)
	}
	want := PerfResult{Sent: 12, Completed: 11, Lost: 1, QPS: 1.099868,
		AvgLatency: 6818 * time.Microsecond, P50Latency: 6 * time.Millisecond, P99Latency: 20 * time.Millisecond,
		RunTime: 10001199 * time.Microsecond, Rcodes: map[string]int64{"NOERROR": 10, "NXDOMAIN": 1}}
	got, _ := json.Marshal(res)
	w, _ := json.Marshal(want)
	if !bytes.Equal(got, w) {
		t.Errorf("parseDnsperf:\n got %s\nwant %s", got, w)
	}
	if _, err := parseDnsperf(strings.NewReader("> NOERROR a A 0.1\n")); err == nil {
		t.Error("output without a Statistics block parsed without error")
	}
}
