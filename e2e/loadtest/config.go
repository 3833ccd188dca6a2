package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environment knobs of `go tool mage loadtest` (see docs/loadtest.md).
const (
	envSeconds     = "LOAD_SECONDS"     // dnsperf run time per round, seconds (default 30)
	envRounds      = "LOAD_ROUNDS"      // rounds of every mode (default 3)
	envModes       = "LOAD_MODES"       // comma-separated modes (default 1,2,3,4,5,6)
	envPin         = "LOAD_PIN"         // both, off or on (default both)
	envClients     = "LOAD_CLIENTS"     // dnsperf -c (default 8)
	envThreads     = "LOAD_THREADS"     // dnsperf -T (default 2)
	envOutstanding = "LOAD_OUTSTANDING" // dnsperf -q (default 500)
	envQPS         = "LOAD_QPS"         // dnsperf -Q, 0 = saturate (default 0)
	envLatencies   = "LOAD_LATENCIES"   // dnsperf -v for p99 (default true)
	envNames       = "LOAD_NAMES"       // names in the zone (default 20000)
	envFstrm       = "LOAD_FSTRM"       // tuned or default fstrm-set-* in modes 3-5 (default tuned)
	envNamed       = "NAMED"            // named binary (default /usr/sbin/named)
	envCollector   = "COLLECTOR"        // dnstap-collector binary (default: build ./cmd/dnstap-collector)
	envAddr        = "LOAD_ADDR"        // named's loopback address (default 127.0.56.1)
	envKeep        = "LOAD_KEEP"        // keep each round's directory (default false)
	envOffered     = "LOAD_OFFERED"     // offered loads, percent of mode 1's saturation (default 25,50,80; none)
	envSearch      = "LOAD_SEARCH"      // steps of the zero-drop search (default 3; 0 = none)
	envBind        = "LOAD_BIND"        // the toolkit's bind9-dnstap of this series in a container ("" = the host's named)
	envPerf        = "LOAD_PERF"        // count named's threads with perf stat (default false)
)

// DefaultConfig is the full run for people: 30 s a round, 3 rounds, every mode, unpinned and
// pinned, saturating dnsperf.
func DefaultConfig(root string) Config {
	return Config{
		Named:        "/usr/sbin/named",
		Dnsperf:      "dnsperf",
		FstrmCapture: "fstrm_capture",
		ModuleRoot:   root,
		WorkDir:      filepath.Join(os.TempDir(), "dnstapkit-loadtest"),
		OutDir:       filepath.Join(root, "dist", "loadtest"),
		Addr:         "127.0.56.1",
		Port:         5653,
		StatsPort:    5680,
		Names:        20000,
		Queries:      100000,
		Mix:          DefaultMix,
		Modes:        AllModes,
		Pinning:      []Pinning{Unpinned, Pinned},
		Rounds:       3,
		Load:         Load{Seconds: 30, Clients: 8, Threads: 2, Outstanding: 500, Timeout: 2, Latencies: true},
		Fstrm:        TunedFstrm,
		Settle:       2 * time.Second,
		Offered:      DefaultOffered,
		SearchSteps:  3,
	}
}

// ConfigFromEnv is DefaultConfig(root) with the LOAD_* knobs, NAMED and COLLECTOR applied.
func ConfigFromEnv(root string) (Config, error) {
	c := DefaultConfig(root)
	ints := []struct {
		env string
		dst *int
		min int
	}{
		{envSeconds, &c.Load.Seconds, 1}, {envRounds, &c.Rounds, 1}, {envClients, &c.Load.Clients, 1},
		{envThreads, &c.Load.Threads, 1}, {envOutstanding, &c.Load.Outstanding, 1},
		{envQPS, &c.Load.MaxQPS, 0}, {envNames, &c.Names, 10000}, {envSearch, &c.SearchSteps, 0},
	}
	for _, k := range ints {
		v := os.Getenv(k.env)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < k.min {
			return c, fmt.Errorf("invalid %s %q: must be an integer >= %d", k.env, v, k.min)
		}
		*k.dst = n
	}
	if v := os.Getenv(envLatencies); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("invalid %s %q: must be true or false", envLatencies, v)
		}
		c.Load.Latencies = b
	}
	if v := os.Getenv(envModes); v != "" {
		m, err := ParseModes(v)
		if err != nil {
			return c, fmt.Errorf("invalid %s: %w", envModes, err)
		}
		c.Modes = m
	}
	switch v := os.Getenv(envPin); v {
	case "", "both":
	case "off":
		c.Pinning = []Pinning{Unpinned}
	case "on":
		c.Pinning = []Pinning{Pinned}
	default:
		return c, fmt.Errorf("invalid %s %q: must be both, off or on", envPin, v)
	}
	switch v := os.Getenv(envFstrm); v {
	case "", "tuned":
	case "default":
		c.Fstrm = Fstrm{}
	default:
		return c, fmt.Errorf("invalid %s %q: must be tuned or default", envFstrm, v)
	}
	if v := os.Getenv(envOffered); v != "" {
		o, err := ParseOffered(v)
		if err != nil {
			return c, fmt.Errorf("invalid %s: %w", envOffered, err)
		}
		c.Offered = o
	}
	c.Bind, c.BindDistro = os.Getenv(envBind), os.Getenv("DISTRO")
	if v := os.Getenv(envPerf); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("invalid %s %q: must be true or false", envPerf, v)
		}
		c.Perf = b
	}
	if v := os.Getenv(envKeep); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("invalid %s %q: must be true or false", envKeep, v)
		}
		c.Keep = b
	}
	if v := os.Getenv(envNamed); v != "" {
		c.Named = v
	}
	if v := os.Getenv(envCollector); v != "" {
		c.Collector = v
	}
	if v := os.Getenv(envAddr); v != "" {
		c.Addr = v
	}
	return c, nil
}

// ParseOffered reads LOAD_OFFERED: comma-separated percentages of mode 1's saturation, each
// from 1 to 99 ("25,50,80"), or "none" for saturation only.
func ParseOffered(s string) ([]int, error) {
	if strings.TrimSpace(s) == "none" {
		return nil, nil
	}
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "%"))
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 99 {
			return nil, fmt.Errorf("invalid offered load %q: must be a percentage from 1 to 99, or none", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no offered load in %q (none for saturation only)", s)
	}
	slices.Sort(out)
	return out, nil
}

// summary is the part of the configuration that the report records.
func (c Config) summary() map[string]any {
	modes := make([]int, len(c.Modes))
	for i, m := range c.Modes {
		modes[i] = int(m)
	}
	var pins []string
	for _, p := range c.Pinning {
		pins = append(pins, p.Name)
	}
	return map[string]any{
		"named": c.Named, "collector": c.Collector, "fstrm_capture": c.FstrmCapture,
		"zone_names": c.Names, "query_lines": c.Queries,
		"nxdomain_pct": c.Mix.NXDomainPct, "nodata_pct": c.Mix.NoDataPct,
		"modes": modes, "pinning": pins, "rounds": c.Rounds,
		"seconds": c.Load.Seconds, "clients": c.Load.Clients, "threads": c.Load.Threads,
		"outstanding": c.Load.Outstanding, "max_qps": c.Load.MaxQPS, "latencies": c.Load.Latencies,
		"fstrm": c.Fstrm, "fstrm_conf": c.Fstrm.Conf(),
		"offered_pct": c.Offered, "search_steps": c.SearchSteps, "load_bind": c.Bind, "perf": c.Perf,
	}
}

// HostInfo describes the machine for the report: CPU model and count, kernel, and the
// versions of named, dnsperf and fstrm_capture.
func HostInfo(ctx context.Context, c Config) map[string]string {
	h := map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "go": runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				h["cpu"] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	h["loadavg at end"] = loadAvg()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		h["debian"] = strings.TrimSpace(string(b))
	}
	version := func(argv ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		out, _ := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		for l := range strings.SplitSeq(string(out), "\n") {
			if strings.Contains(strings.ToLower(l), "version") || strings.HasPrefix(l, "BIND") {
				return strings.TrimSpace(l)
			}
		}
		return strings.TrimSpace(string(bytes.SplitN(out, []byte("\n"), 2)[0]))
	}
	h["named"] = version(c.Named, "-v")
	h["dnsperf"] = version(c.Dnsperf, "-h")
	return h
}

// loadAvg returns the first three fields of /proc/loadavg (1, 5 and 15 minutes): on a shared
// machine, the other load explains much of the spread between rounds.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
