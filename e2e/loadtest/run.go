package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
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
	Mode    Mode   `json:"mode"`
	Pinning string `json:"pinning"`
	Round   int    `json:"round"`
	Error   string `json:"error,omitempty"`

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
}

func (c Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// Run runs every mode Rounds times under each pinning and returns the results. A mode that
// fails is recorded with its error and the others go on; the returned error joins them.
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
	var collectorErr error
	if needsCollector(c.Modes) && c.Collector == "" {
		c.Collector, collectorErr = BuildCollector(ctx, c.ModuleRoot, c.WorkDir)
	}
	rep := &Report{Started: time.Now().UTC(), Config: c.summary(), LoadAvgStart: loadAvg()}
	var errs []error
	for round := 1; round <= c.Rounds; round++ {
		for _, pin := range c.Pinning {
			for _, m := range c.Modes {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				c.logf("round %d/%d, %s, mode %d (%s)", round, c.Rounds, pin.Name, int(m), m)
				var r RoundResult
				var err error
				if m.Collector() == "dnstap-collector" && collectorErr != nil {
					r, err = RoundResult{Mode: m, Pinning: pin.Name, Round: round}, collectorErr
				} else {
					r, err = c.runOnce(ctx, m, pin, round, queries)
				}
				if err != nil {
					r.Error = err.Error()
					errs = append(errs, fmt.Errorf("round %d, %s, mode %d: %w", round, pin.Name, int(m), err))
					c.logf("  error: %v", err)
				} else {
					c.logf("  %.0f qps, avg %s, p99 %s, lost %d, dnstap sent %d dropped %d, frames %v",
						r.Perf.QPS, r.Perf.AvgLatency, r.Perf.P99Latency, r.Perf.Lost,
						r.Total.DnstapSuccess, r.Total.DnstapDropped, framesTotal(r.Frames))
				}
				rep.Rounds = append(rep.Rounds, r)
			}
		}
	}
	rep.Finished = time.Now().UTC()
	rep.Summaries = Summarize(rep.Rounds)
	return rep, errors.Join(errs...)
}

func (c Config) zone() Zone { return Zone{Origin: "load.test", Names: c.Names} }

// runOnce starts the collector (if the mode has one) and named, runs dnsperf, and collects
// the counters.
func (c Config) runOnce(ctx context.Context, m Mode, pin Pinning, round int, queries string) (RoundResult, error) {
	r := RoundResult{Mode: m, Pinning: pin.Name, Round: round}
	dir := filepath.Join(c.WorkDir, fmt.Sprintf("r%d-%s-m%d", round, pin.Name, int(m)))
	if err := os.RemoveAll(dir); err != nil {
		return r, fmt.Errorf("clean %s: %w", dir, err)
	}
	if !c.Keep {
		defer os.RemoveAll(dir) // captures of a full run are hundreds of MB
	}
	sc := ServerConf{Dir: dir, Addr: c.Addr, Port: c.Port, StatsPort: c.StatsPort, Zone: c.zone(), Mode: m, Fstrm: c.Fstrm}
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
			bin, "-t", "protobuf:dnstap.Dnstap", "-u", sc.SocketPath(), "-w", filepath.Join(capDir, "capture.fstrm"))
		if err != nil {
			return r, err
		}
		defer coll.stop(time.Second) // no-op when stopped below
		if err := waitFor(5*time.Second, coll, func() error { return isSocket(sc.SocketPath()) }); err != nil {
			return r, fmt.Errorf("%s did not listen on %s: %w (log: %s)", name, sc.SocketPath(), err, readTail(coll.log.Name()))
		}
	}
	named, err := start("named", filepath.Join(dir, "named.stderr"), pin.Named,
		c.Named, "-f", "-4", "-c", filepath.Join(dir, "named.conf"))
	if err != nil {
		return r, err
	}
	defer named.stop(time.Second)
	server := net.JoinHostPort(c.Addr, strconv.Itoa(c.Port))
	if err := waitFor(20*time.Second, named, func() error { return probe(server, "h1."+sc.Zone.Origin) }); err != nil {
		return r, fmt.Errorf("named did not answer on %s: %w (log: %s %s)", server, err,
			readTail(named.log.Name()), readTail(filepath.Join(dir, "named.log")))
	}
	s0, err := FetchStats(ctx, sc.StatsURL())
	if err != nil {
		return r, err
	}
	nc0, err := cpuTime(named.cmd.Process.Pid)
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
	r.Perf, err = RunDnsperf(ctx, c.Dnsperf, c.Addr, c.Port, queries, load)
	if err != nil {
		return r, err
	}
	nc1, err := cpuTime(named.cmd.Process.Pid)
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
	if r.NamedPeakKiB, err = peakRSS(named.cmd.Process.Pid); err != nil {
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
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/dnstap-collector")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build dnstap-collector: %w: %s", err, b)
	}
	return out, nil
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
	if err := rep.WriteFiles(c.OutDir); err != nil {
		return errors.Join(runErr, err)
	}
	if err := rep.Markdown(out); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(out, "\nreport: %s/loadtest.{md,json,svg}\n", c.OutDir)
	return runErr
}
