package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/bench"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// Config is one load test: which programs, which modes, how hard and how long.
type Config struct {
	Named        string // named binary (Debian's /usr/sbin/named by default)
	Dnsperf      string // dnsperf binary
	FstrmCapture string // fstrm_capture binary (mode 4)
	Collector    string // dnstap-collector binary (modes 3, 6); "" builds ./cmd/dnstap-collector of ModuleRoot
	ModuleRoot   string // the dnstapkit checkout, for building the collector
	WorkDir      string // scratch: configs, zone, captures (each round's capture is removed after counting)
	OutDir       string // where the report goes (dist/loadtest)

	Addr      string // IPv4 loopback address for named; added to lo when missing
	Port      int    // DNS port
	StatsPort int    // statistics-channels port

	Names   int           // owner names in the generated zone (>= 10000 for the real run)
	Queries int           // lines in dnsperf's query file (dnsperf loops over it)
	Mix     QueryMix      // NXDOMAIN and NODATA shares
	Modes   []Mode        // modes to run, in order
	Pinning []Pinning     // unpinned, pinned or both
	Rounds  int           // rounds of every mode; modes are interleaved within a round
	Load    Load          // dnsperf settings (CPUs is set per pinning)
	Fstrm   Fstrm         // fstrm-set-* options for the dnstap modes (not mode 6)
	Settle  time.Duration // wait after the load so named flushes its dnstap frames
	Keep    bool          // keep each round's directory (configs, logs, captures) in WorkDir

	// Offered are the fixed loads after saturation, in percent of mode 1's saturation qps
	// (ascending); none for saturation only.
	Offered []int
	// SearchSteps bounds the search for the highest zero-drop rate (0: no search).
	SearchSteps int
	// Perf counts named's threads with perf stat during dnsperf's run (NamedProfile).
	Perf bool
	// Bind is a BIND series ("9.18") whose bind9-dnstap package (bind:build) runs named in a
	// container instead of the host's Named; "" for the host's.
	Bind string
	// BindDistro is the distro of that build (DISTRO); "" for the one the BIND version table
	// names for it.
	BindDistro string

	Logf func(format string, args ...any) // progress; nil for none
}

// Pinning says whether processes are bound to cores with taskset.
type Pinning struct {
	Name      string // "unpinned" or "pinned"
	Named     string // taskset -c list for named; "" for none
	Collector string // for the collector
	Dnsperf   string // for dnsperf
}

// Unpinned lets the kernel place every process; Pinned puts named on core 0 and the collector
// and dnsperf on core 1, so the collector never takes named's core.
var (
	Unpinned = Pinning{Name: "unpinned"}
	Pinned   = Pinning{Name: "pinned", Named: "0", Collector: "1", Dnsperf: "1"}
)

// RoundResult is one run of one mode.
type RoundResult struct {
	Bind    string `json:"bind"` // BIND's version (BindVersion)
	Mode    Mode   `json:"mode"`
	Pinning string `json:"pinning"`
	Round   int    `json:"round"`
	// OfferedPct is the offered load in percent of mode 1's saturation (0: saturation) and
	// OfferedQPS the rate dnsperf was given (-Q; 0: none).
	OfferedPct int    `json:"offered_pct"`
	OfferedQPS int    `json:"offered_qps"`
	Search     bool   `json:"search,omitempty"` // a round of the zero-drop search, not of the table
	Error      string `json:"error,omitempty"`

	Perf PerfResult `json:"dnsperf"`
	// Load is the change of named's counters during dnsperf's run; Total is their value at
	// the end (after Settle), for comparing with the frames captured over named's life.
	Load  BindStats `json:"bind_during_load"`
	Total BindStats `json:"bind_total"`

	Frames           *Frames       `json:"frames,omitempty"`         // captured by the collector
	QuerylogLines    int64         `json:"querylog_lines,omitempty"` // mode 2
	NamedCPU         time.Duration `json:"named_cpu_ns"`             // during dnsperf's run
	NamedPeakKiB     int64         `json:"named_peak_kib"`
	CollectorCPU     time.Duration `json:"collector_cpu_ns,omitempty"` // during dnsperf's run
	CollectorCPUAll  time.Duration `json:"collector_cpu_total_ns,omitempty"`
	CollectorPeakKiB int64         `json:"collector_peak_kib,omitempty"`
	NamedProfile     *NamedProfile `json:"named_profile,omitempty"` // with Config.Perf
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Run measures every mode under each pinning: first at saturation (Rounds rounds, the modes
// interleaved in each round), which gives mode 1's saturation qps; then at each offered load
// of Offered (percent of that qps, dnsperf -Q), the points and modes interleaved in each
// round; then, when dnstap dropped frames at GoalPct or below, a short search for the highest
// rate with no drop in any round, for dnstap-collector and fstrm_capture. A round that fails
// is recorded with its error and the others go on; the returned error joins them.
func Run(ctx context.Context, c Config) (*Report, error) {
	if err := ensureLoopback(c.Addr); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	queries := filepath.Join(c.WorkDir, "queries.txt")
	if err := writeFile(queries, func(f *os.File) error { return c.zone().WriteQueries(f, c.Queries, c.Mix) }); err != nil {
		return nil, err
	}
	nr, err := c.namedRunner(ctx)
	if err != nil {
		return nil, err
	}
	var collectorErr error
	if needsCollector(c.Modes) && c.Collector == "" {
		c.Collector, collectorErr = BuildCollector(ctx, c.ModuleRoot, c.WorkDir)
	}
	rep := &Report{Started: time.Now().UTC(), Config: c.summary(), LoadAvgStart: loadAvg(), Bind: nr.version}
	var errs []error
	one := func(m Mode, pin Pinning, round int, pt Point, search bool) RoundResult {
		what := fmt.Sprintf("round %d/%d, %s, %s, mode %d (%s)", round, c.Rounds, pin.Name, pt.Name(), int(m), m)
		if pt.QPS > 0 {
			what += fmt.Sprintf(", -Q %d", pt.QPS)
		}
		if search {
			what = "search: " + what
		}
		c.logf("%s", what)
		var r RoundResult
		var err error
		if m.Collector() == "dnstap-collector" && collectorErr != nil {
			err = collectorErr
		} else {
			r, err = c.runOnce(ctx, nr, m, pin, round, pt, queries)
		}
		r.Bind, r.Mode, r.Pinning, r.Round, r.OfferedPct, r.OfferedQPS, r.Search = nr.version, m, pin.Name, round, pt.Pct, pt.QPS, search
		if err != nil {
			r.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			c.logf("  error: %v", err)
		} else {
			c.logf("  %.0f qps, avg %s, p50 %s, p99 %s, lost %d, named CPU %s, dnstap sent %d dropped %d, frames %v",
				r.Perf.QPS, r.Perf.AvgLatency, r.Perf.P50Latency, r.Perf.P99Latency, r.Perf.Lost, r.NamedCPU,
				r.Total.DnstapSuccess, r.Total.DnstapDropped, framesTotal(r.Frames))
		}
		rep.Rounds = append(rep.Rounds, r)
		return r
	}
	finish := func() (*Report, error) {
		rep.Finished = time.Now().UTC()
		rep.Summaries = Summarize(rep.Rounds)
		return rep, errors.Join(errs...)
	}

	// Saturation: as fast as named answers (up to Load.MaxQPS).
	for round := 1; round <= c.Rounds; round++ {
		for _, pin := range c.Pinning {
			for _, m := range c.Modes {
				if err := ctx.Err(); err != nil {
					return finish()
				}
				one(m, pin, round, Saturation, false)
			}
		}
	}
	if len(c.Offered) == 0 {
		return finish()
	}
	rep.Saturation = map[string]float64{}
	for _, pin := range c.Pinning {
		if sat := saturationQPS(rep.Rounds, pin.Name); sat > 0 {
			rep.Saturation[pin.Name] = sat
		} else {
			errs = append(errs, fmt.Errorf("%s: no offered load: mode 1 has no saturation rate (run mode 1, LOAD_MODES)", pin.Name))
		}
	}
	// Offered load: fixed rates, a share of mode 1's saturation.
	for round := 1; round <= c.Rounds; round++ {
		for _, pin := range c.Pinning {
			sat := rep.Saturation[pin.Name]
			if sat == 0 {
				continue
			}
			for _, pct := range c.Offered {
				for _, m := range c.Modes {
					if err := ctx.Err(); err != nil {
						return finish()
					}
					one(m, pin, round, offeredPoint(sat, pct), false)
				}
			}
		}
	}
	// The zero-drop search, when the goal's points dropped: for dnstap-collector and
	// fstrm_capture both, each from its own bracket.
	sums := Summarize(rep.Rounds)
	searched := []Mode{ModeCollector, ModeFstrmCapture}
	for _, pin := range c.Pinning {
		sat := rep.Saturation[pin.Name]
		if sat == 0 || c.SearchSteps == 0 {
			continue
		}
		dropped := false
		for _, m := range searched {
			if _, _, need := searchBracket(summariesOf(sums, nr.version, pin.Name, m)); need {
				dropped = true
			}
		}
		if !dropped {
			continue
		}
		for _, m := range searched {
			if !slices.Contains(c.Modes, m) {
				continue
			}
			lo, hi, need := searchBracket(summariesOf(sums, nr.version, pin.Name, m))
			s := Search{Bind: nr.version, Pinning: pin.Name, Mode: m, Name: m.String(), Saturation: sat, From: lo, To: hi, ZeroDrop: lo}
			if need {
				s.ZeroDrop = bisect(lo, hi, c.SearchSteps, func(pct int) bool {
					pt := offeredPoint(sat, pct)
					st := SearchStep{Pct: pct, QPS: pt.QPS}
					for round := 1; round <= c.Rounds && ctx.Err() == nil; round++ {
						r := one(m, pin, round, pt, true)
						st.Rounds++
						if r.Error != "" {
							st.Error = r.Error
							break
						}
						if st.Drops += r.Drops(); st.Drops > 0 {
							break
						}
					}
					st.Clean = st.Error == "" && st.Drops == 0 && st.Rounds == c.Rounds
					s.Steps = append(s.Steps, st)
					return st.Clean
				})
			}
			c.logf("search: %s, mode %d: highest rate with no drop in %d rounds: %s of %.0f qps", pin.Name, int(m), c.Rounds, pointName(s.ZeroDrop), sat)
			rep.Searches = append(rep.Searches, s)
		}
	}
	return finish()
}

// saturationQPS is mode 1's median qps at saturation under pinning pin; 0 when it has none.
func saturationQPS(rounds []RoundResult, pin string) float64 {
	var qps []float64
	for _, r := range rounds {
		if r.Mode == ModeNone && r.Pinning == pin && r.OfferedPct == 0 && !r.Search && r.Error == "" && r.Perf.QPS > 0 {
			qps = append(qps, r.Perf.QPS)
		}
	}
	if len(qps) == 0 {
		return 0
	}
	return median(qps)
}

// summariesOf picks the summaries of one BIND, pinning and mode.
func summariesOf(sums []Summary, bind, pin string, m Mode) []Summary {
	var out []Summary
	for _, s := range sums {
		if s.Bind == bind && s.Pinning == pin && s.Mode == m {
			out = append(out, s)
		}
	}
	return out
}

func (c Config) zone() Zone { return Zone{Origin: "load.test", Names: c.Names} }

// runOnce starts the collector (if the mode has one) and named, runs dnsperf, and collects
// the counters.
func (c Config) runOnce(ctx context.Context, nr namedRunner, m Mode, pin Pinning, round int, pt Point, queries string) (RoundResult, error) {
	var r RoundResult
	dir := filepath.Join(c.WorkDir, fmt.Sprintf("r%d-%s-%s-m%d", round, pin.Name, strings.TrimSuffix(pt.Name(), "%"), int(m)))
	if err := os.RemoveAll(dir); err != nil {
		return r, fmt.Errorf("clean %s: %w", dir, err)
	}
	if !c.Keep {
		defer os.RemoveAll(dir) // captures of a full run are hundreds of MB
	}
	sc := ServerConf{Dir: dir, Addr: c.Addr, Port: c.Port, StatsPort: c.StatsPort, Zone: c.zone(), Mode: m, Fstrm: c.Fstrm, ZoneType: nr.zoneType}
	if err := sc.Write(); err != nil {
		return r, err
	}
	capDir := filepath.Join(dir, "capture")
	var coll *proc
	if name := m.Collector(); name != "" {
		bin := c.FstrmCapture
		if name == "dnstap-collector" {
			bin = c.Collector
		}
		if err := os.MkdirAll(capDir, 0o755); err != nil {
			return r, fmt.Errorf("capture dir: %w", err)
		}
		var err error
		coll, err = start(name, filepath.Join(dir, "collector.log"), pin.Collector,
			bin, "-t", tapct.ContentType, "-u", sc.SocketPath(), "-w", filepath.Join(capDir, "capture.fstrm"))
		if err != nil {
			return r, err
		}
		defer coll.stop(time.Second) // no-op when stopped below
		if err := waitFor(5*time.Second, coll, func() error { return isSocket(sc.SocketPath()) }); err != nil {
			return r, fmt.Errorf("%s did not listen on %s: %w (log: %s)", name, sc.SocketPath(), err, readTail(coll.log.Name()))
		}
	}
	named, err := nr.start(ctx, dir, pin.Named)
	if err != nil {
		return r, err
	}
	defer named.stop(time.Second)
	server := net.JoinHostPort(c.Addr, strconv.Itoa(c.Port))
	if err := waitFor(20*time.Second, named, func() error { return probe(server, "h1."+sc.Zone.Origin) }); err != nil {
		return r, fmt.Errorf("named did not answer on %s: %w (log: %s %s)", server, err,
			readTail(named.log.Name()), readTail(filepath.Join(dir, "named.log")))
	}
	if err := named.resolvePID(ctx); err != nil {
		return r, err
	}
	s0, err := FetchStats(ctx, sc.StatsURL())
	if err != nil {
		return r, err
	}
	nc0, err := cpuTime(named.pid)
	if err != nil {
		return r, err
	}
	var cc0 time.Duration
	if coll != nil {
		if cc0, err = cpuTime(coll.cmd.Process.Pid); err != nil {
			return r, err
		}
	}
	load := c.Load
	load.CPUs = pin.Dnsperf
	if pt.QPS > 0 {
		load.MaxQPS = pt.QPS
	}
	var perf *proc
	var perfOut string
	if c.Perf {
		if perf, perfOut, err = startPerf(dir, named.pid); err != nil {
			return r, err
		}
		defer perf.stop(time.Second)
	}
	r.Perf, err = RunDnsperf(ctx, c.Dnsperf, c.Addr, c.Port, queries, load)
	if err != nil {
		return r, err
	}
	if perf != nil {
		prof, err := stopPerf(perf, perfOut)
		if err != nil {
			return r, err
		}
		r.NamedProfile = &prof
	}
	nc1, err := cpuTime(named.pid)
	if err != nil {
		return r, fmt.Errorf("named after the load: %w", err)
	}
	r.NamedCPU = nc1 - nc0
	s1, err := FetchStats(ctx, sc.StatsURL())
	if err != nil {
		return r, err
	}
	r.Load = s1.Sub(s0)
	if coll != nil {
		cc1, err := cpuTime(coll.cmd.Process.Pid)
		if err != nil {
			return r, fmt.Errorf("%s after the load: %w", coll.name, err)
		}
		r.CollectorCPU = cc1 - cc0
	}
	time.Sleep(c.Settle)
	if r.Total, err = FetchStats(ctx, sc.StatsURL()); err != nil {
		return r, err
	}
	// VmHWM, not rusage's maxrss: a child that Go forks carries the Go process's resident set
	// into its maxrss (the exec keeps the high-water mark of the old address space).
	if r.NamedPeakKiB, err = peakRSS(named.pid); err != nil {
		return r, err
	}
	if coll != nil {
		if r.CollectorPeakKiB, err = peakRSS(coll.cmd.Process.Pid); err != nil {
			return r, err
		}
	}
	if _, err := named.stop(15 * time.Second); err != nil {
		return r, err
	}
	if coll != nil {
		ru, err := coll.stop(15 * time.Second)
		if ru != nil {
			r.CollectorCPUAll = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		if err != nil {
			return r, err
		}
		fr, err := countDir(capDir)
		if err != nil {
			return r, err
		}
		r.Frames = &fr
	}
	if m == ModeQuerylog {
		if r.QuerylogLines, err = countLines(sc.QuerylogPath()); err != nil {
			return r, err
		}
	}
	return r, nil
}

// BuildCollector builds ./cmd/dnstap-collector of the checkout at root into dir.
func BuildCollector(ctx context.Context, root, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(root, "cmd", "dnstap-collector")); err != nil {
		return "", fmt.Errorf("dnstap-collector not available: %s/cmd/dnstap-collector does not exist (set COLLECTOR=/path/to/dnstap-collector)", root)
	}
	out := filepath.Join(dir, "dnstap-collector")
	return out, bench.Build(ctx, root, "dnstap-collector", out)
}

func needsCollector(modes []Mode) bool {
	for _, m := range modes {
		if m.Collector() == "dnstap-collector" {
			return true
		}
	}
	return false
}

// waitFor polls check every 50ms until it succeeds, p exits, or d passes.
func waitFor(d time.Duration, p *proc, check func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// RunAndReport runs the load test, writes the report files into c.OutDir even when some
// modes failed, prints the Markdown table to out, and returns the modes' errors.
func RunAndReport(ctx context.Context, c Config, out io.Writer) error {
	if c.Logf == nil {
		c.Logf = func(format string, args ...any) {
			fmt.Fprintf(out, "loadtest: "+format+"\n", args...)
		}
	}
	rep, runErr := Run(ctx, c)
	if rep == nil {
		return runErr
	}
	rep.Host = HostInfo(ctx, c)
	if c.Bind != "" {
		rep.Host["named"] = "BIND " + rep.Bind // not the host's NAMED
	}
	if err := rep.WriteFiles(c.OutDir); err != nil {
		return errors.Join(runErr, err)
	}
	if err := rep.Markdown(out); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(out, "\nreport: %s/loadtest.{md,json,svg}\n", c.OutDir)
	return runErr
}
