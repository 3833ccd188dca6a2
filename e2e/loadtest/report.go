package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Report is the outcome of Run: every round, and one summary per mode and pinning.
type Report struct {
	Started  time.Time         `json:"started"`
	Finished time.Time         `json:"finished"`
	Config   map[string]any    `json:"config"`
	Host     map[string]string `json:"host,omitempty"`
	// LoadAvgStart is /proc/loadavg when the run began (Host has it at the end).
	LoadAvgStart string        `json:"loadavg_start"`
	Summaries    []Summary     `json:"summaries"`
	Rounds       []RoundResult `json:"rounds"`
}

// Summary folds the rounds of one mode under one pinning.
type Summary struct {
	Mode    Mode     `json:"mode"`
	Name    string   `json:"name"`
	Pinning string   `json:"pinning"`
	Rounds  int      `json:"rounds"` // rounds that completed
	Errors  []string `json:"errors,omitempty"`

	QPS        float64       `json:"qps"` // median of the rounds
	QPSMin     float64       `json:"qps_min"`
	QPSMax     float64       `json:"qps_max"`
	QPSRatio   float64       `json:"qps_ratio"`      // QPS / mode 1's QPS (same pinning); 0 when unknown
	AvgLatency time.Duration `json:"avg_latency_ns"` // mean of the rounds
	P99Latency time.Duration `json:"p99_latency_ns"` // median of the rounds
	Sent       int64         `json:"sent"`
	Completed  int64         `json:"completed"`
	Lost       int64         `json:"lost"`

	// Frames, summed over the rounds and over named's life in each round.
	Requests      int64            `json:"requests"`
	Responses     int64            `json:"responses"`
	DnstapSent    int64            `json:"dnstap_sent"`
	DnstapDropped int64            `json:"dnstap_dropped"`
	DroppedPct    float64          `json:"dnstap_dropped_pct"` // of the frames named tried to send
	Captured      int64            `json:"frames_captured"`
	Expected      int64            `json:"frames_expected"` // requests (AQ) + responses (CR)
	CollectorLost int64            `json:"collector_lost"`  // dnstap sent - captured
	ByType        map[string]int64 `json:"frames_by_type,omitempty"`
	QuerylogLines int64            `json:"querylog_lines,omitempty"`

	NamedCPUPerQuery time.Duration `json:"named_cpu_per_query_ns"`
	CPURatio         float64       `json:"named_cpu_per_query_ratio"`            // to mode 1, same pinning
	CollectorCPU     time.Duration `json:"collector_cpu_per_round_ns,omitempty"` // mean, during the load
	CollectorPeakKiB int64         `json:"collector_peak_kib,omitempty"`         // max of the rounds
	NamedPeakKiB     int64         `json:"named_peak_kib"`
}

// Summarize folds rounds into one Summary per (pinning, mode), in the order first seen, and
// fills the ratios to mode 1 of the same pinning.
func Summarize(rounds []RoundResult) []Summary {
	type key struct {
		pin  string
		mode Mode
	}
	var order []key
	groups := map[key][]RoundResult{}
	for _, r := range rounds {
		k := key{r.Pinning, r.Mode}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []Summary
	for _, k := range order {
		s := Summary{Mode: k.mode, Name: k.mode.String(), Pinning: k.pin}
		var qps []float64
		var p99 []time.Duration
		var avg, namedCPU, collCPU time.Duration
		for _, r := range groups[k] {
			if r.Error != "" {
				s.Errors = append(s.Errors, fmt.Sprintf("round %d: %s", r.Round, r.Error))
				continue
			}
			s.Rounds++
			qps = append(qps, r.Perf.QPS)
			p99 = append(p99, r.Perf.P99Latency)
			avg += r.Perf.AvgLatency
			s.Sent += r.Perf.Sent
			s.Completed += r.Perf.Completed
			s.Lost += r.Perf.Lost
			s.Requests += r.Total.Requests
			s.Responses += r.Total.Responses
			s.DnstapSent += r.Total.DnstapSuccess
			s.DnstapDropped += r.Total.DnstapDropped
			namedCPU += r.NamedCPU
			collCPU += r.CollectorCPU
			s.NamedPeakKiB = max(s.NamedPeakKiB, r.NamedPeakKiB)
			s.CollectorPeakKiB = max(s.CollectorPeakKiB, r.CollectorPeakKiB)
			s.QuerylogLines += r.QuerylogLines
			if r.Frames != nil {
				if s.ByType == nil {
					s.ByType = map[string]int64{}
				}
				s.Captured += r.Frames.Total
				for t, n := range r.Frames.ByType {
					s.ByType[t] += n
				}
			}
		}
		if s.Rounds > 0 {
			s.QPS = median(qps)
			s.QPSMin, s.QPSMax = slices.Min(qps), slices.Max(qps)
			s.P99Latency = time.Duration(median(durationsToFloats(p99)))
			s.AvgLatency = avg / time.Duration(s.Rounds)
			s.CollectorCPU = collCPU / time.Duration(s.Rounds)
			if s.Completed > 0 {
				s.NamedCPUPerQuery = namedCPU / time.Duration(s.Completed)
			}
			if k.mode.Dnstap() {
				s.Expected = s.Requests + s.Responses
				if tried := s.DnstapSent + s.DnstapDropped; tried > 0 {
					s.DroppedPct = 100 * float64(s.DnstapDropped) / float64(tried)
				}
				if k.mode.Collector() != "" {
					s.CollectorLost = s.DnstapSent - s.Captured
				}
			}
		}
		out = append(out, s)
	}
	for i := range out {
		for _, base := range out {
			if base.Pinning == out[i].Pinning && base.Mode == ModeNone && base.QPS > 0 && out[i].Rounds > 0 {
				out[i].QPSRatio = out[i].QPS / base.QPS
				if base.NamedCPUPerQuery > 0 {
					out[i].CPURatio = float64(out[i].NamedCPUPerQuery) / float64(base.NamedCPUPerQuery)
				}
			}
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func durationsToFloats(d []time.Duration) []float64 {
	f := make([]float64, len(d))
	for i, x := range d {
		f[i] = float64(x)
	}
	return f
}

// Markdown writes the summary table and the notes that explain its columns.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# dnstapkit load test\n\n%s; loadavg at start: %s; %s to %s UTC.\n\n", r.hostLine(), r.LoadAvgStart,
		r.Started.Format("2006-01-02 15:04:05"), r.Finished.Format("15:04:05"))
	b.WriteString("| mode | pinning | qps (median) | × mode 1 | avg ms | p99 ms | lost | named CPU µs/query (× mode 1) | dnstap sent | BIND dropped | frames captured / expected | collector lost | collector CPU s | collector peak MiB |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Summaries {
		if s.Rounds == 0 {
			fmt.Fprintf(&b, "| %d %s | %s | failed: %s |||||||||||||\n", int(s.Mode), s.Name, s.Pinning, mdEscape(strings.Join(s.Errors, "; ")))
			continue
		}
		ratio, cpuRatio := "-", ""
		if s.QPSRatio > 0 {
			ratio = fmt.Sprintf("%.2f×", s.QPSRatio)
			cpuRatio = fmt.Sprintf(" (%.2f×)", s.CPURatio)
		}
		sent, dropped, frames, lost, ccpu, cmem := "-", "-", "-", "-", "-", "-"
		if s.Mode.Dnstap() {
			sent = fmt.Sprint(s.DnstapSent)
			dropped = fmt.Sprintf("%d (%.2f%%)", s.DnstapDropped, s.DroppedPct)
		}
		if s.Mode.Collector() != "" {
			frames = fmt.Sprintf("%d / %d (%.2f%%) %s", s.Captured, s.Expected, pct(s.Captured, s.Expected), typesLine(s.ByType))
			lost = fmt.Sprint(s.CollectorLost)
			ccpu = fmt.Sprintf("%.2f", s.CollectorCPU.Seconds())
			cmem = fmt.Sprintf("%.1f", float64(s.CollectorPeakKiB)/1024)
		}
		if s.Mode == ModeQuerylog {
			frames = fmt.Sprintf("%d log lines / %d queries", s.QuerylogLines, s.Requests)
		}
		fmt.Fprintf(&b, "| %d %s | %s | %.0f (%.0f–%.0f) | %s | %.2f | %.2f | %d | %.1f%s | %s | %s | %s | %s | %s | %s |\n",
			int(s.Mode), s.Name, s.Pinning, s.QPS, s.QPSMin, s.QPSMax, ratio,
			ms(s.AvgLatency), ms(s.P99Latency), s.Lost,
			float64(s.NamedCPUPerQuery.Nanoseconds())/1000, cpuRatio, sent, dropped, frames, lost, ccpu, cmem)
	}
	b.WriteString(r.goalLines())
	b.WriteString(`
- qps: dnsperf's queries/s, median of the rounds (min–max); × mode 1: against no logging under the same pinning.
- avg, p99: dnsperf's average latency (mean of the rounds) and the 99th percentile of the per-query latencies of dnsperf -v (median of the rounds). dnsperf keeps a fixed number of queries outstanding, so at saturation latency is mostly queueing.
- lost: queries dnsperf sent that got no answer within its timeout (at saturation mostly queries the kernel dropped from named's full UDP receive buffer: named never counted them).
- named CPU µs/query: named's user+system CPU during dnsperf's run (/proc/<pid>/stat) over the queries completed.
- dnstap sent / BIND dropped: named's DNSTAPsuccess and DNSTAPdropped counters (statistics channel), over named's life; dropped % is of the frames named tried to send. With nothing listening (mode 5) fstrm's I/O thread discards the frames, yet named counts them as sent.
- frames captured / expected: frames in the collector's files, against named's received queries (AQ) plus responses sent (CR), by message type; collector lost: dnstap sent - captured.
- collector CPU s: the collector's CPU during dnsperf's run, mean per round; peak MiB: its peak resident set (VmHWM of /proc/PID/status just before SIGTERM), max of the rounds.
`)
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) hostLine() string {
	if len(r.Host) == 0 {
		return "host unknown"
	}
	keys := make([]string, 0, len(r.Host))
	for k := range r.Host {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+r.Host[k])
	}
	return strings.Join(parts, "; ")
}

func typesLine(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mdEscape(s string) string { return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s) }

// WriteFiles writes loadtest.md, loadtest.json and loadtest.svg into dir.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	write := func(name string, fn func(io.Writer) error) error {
		return writeFile(filepath.Join(dir, name), func(f *os.File) error { return fn(f) })
	}
	if err := write("loadtest.md", r.Markdown); err != nil {
		return err
	}
	if err := write("loadtest.json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}); err != nil {
		return err
	}
	return write("loadtest.svg", r.SVG)
}

// goalLines checks the goal under each pinning: dnstap into dnstap-collector keeps at
// least 95% of mode 1's qps, with zero frames dropped by BIND and zero lost by the collector,
// and does better than querylog (mode 2) and than fstrm_capture (mode 4).
func (r *Report) goalLines() string {
	find := func(pin string, m Mode) *Summary {
		for i := range r.Summaries {
			if s := &r.Summaries[i]; s.Pinning == pin && s.Mode == m && s.Rounds > 0 {
				return s
			}
		}
		return nil
	}
	var b strings.Builder
	var pins []string
	for _, s := range r.Summaries {
		if !slices.Contains(pins, s.Pinning) {
			pins = append(pins, s.Pinning)
		}
	}
	for _, pin := range pins {
		c, base := find(pin, ModeCollector), find(pin, ModeNone)
		if c == nil || base == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nGoal (dnstap-collector keeps >= 95% of mode 1's qps, BIND drops 0, collector loses 0, faster than querylog and fstrm_capture):\n\n")
		}
		check := func(ok bool, format string, args ...any) string {
			mark := "no"
			if ok {
				mark = "yes"
			}
			return fmt.Sprintf("%s: "+format, append([]any{mark}, args...)...)
		}
		parts := []string{
			check(c.QPSRatio >= 0.95, "%.2f× mode 1", c.QPSRatio),
			check(c.DnstapDropped == 0, "BIND dropped %d", c.DnstapDropped),
			check(c.CollectorLost == 0, "collector lost %d", c.CollectorLost),
		}
		if q := find(pin, ModeQuerylog); q != nil {
			parts = append(parts, check(c.QPS > q.QPS, "%.0f vs querylog %.0f qps", c.QPS, q.QPS))
		}
		if f := find(pin, ModeFstrmCapture); f != nil {
			parts = append(parts, check(c.QPS > f.QPS, "%.0f vs fstrm_capture %.0f qps", c.QPS, f.QPS))
		}
		fmt.Fprintf(&b, "- %s: %s\n", pin, strings.Join(parts, "; "))
	}
	return b.String()
}
