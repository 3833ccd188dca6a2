package loadtest

import (
	"cmp"
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
	LoadAvgStart string `json:"loadavg_start"`
	Bind         string `json:"bind"` // BIND's version (BindVersion; the container's when LOAD_BIND)
	// Saturation is mode 1's saturation qps by pinning: the 100% of the offered loads.
	Saturation map[string]float64 `json:"saturation_qps,omitempty"`
	Summaries  []Summary          `json:"summaries"`
	Searches   []Search           `json:"zero_drop_searches,omitempty"`
	Rounds     []RoundResult      `json:"rounds"`
}

// Summary folds the rounds of one mode under one pinning.
type Summary struct {
	Bind       string   `json:"bind"`
	Mode       Mode     `json:"mode"`
	Name       string   `json:"name"`
	Pinning    string   `json:"pinning"`
	Point      string   `json:"point"`       // "saturation" or "25%"
	OfferedPct int      `json:"offered_pct"` // 0: saturation
	OfferedQPS int      `json:"offered_qps"` // dnsperf -Q of the rounds (0: none)
	Rounds     int      `json:"rounds"`      // rounds that completed
	Errors     []string `json:"errors,omitempty"`

	QPS        float64       `json:"qps"` // median of the rounds
	QPSMin     float64       `json:"qps_min"`
	QPSMax     float64       `json:"qps_max"`
	QPSRatio   float64       `json:"qps_ratio"`      // QPS / mode 1's QPS (same pinning); 0 when unknown
	AvgLatency time.Duration `json:"avg_latency_ns"` // mean of the rounds
	P50Latency time.Duration `json:"p50_latency_ns"` // median of the rounds
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
	DropRounds    int              `json:"drop_rounds"`     // rounds in which BIND or the collector dropped a frame
	ByType        map[string]int64 `json:"frames_by_type,omitempty"`
	QuerylogLines int64            `json:"querylog_lines,omitempty"`

	NamedCPUPerQuery time.Duration `json:"named_cpu_per_query_ns"`
	CPURatio         float64       `json:"named_cpu_per_query_ratio"`            // to mode 1, same pinning
	CollectorCPU     time.Duration `json:"collector_cpu_per_round_ns,omitempty"` // mean, during the load
	CollectorPeakKiB int64         `json:"collector_peak_kib,omitempty"`         // max of the rounds
	NamedPeakKiB     int64         `json:"named_peak_kib"`

	Profile *ProfileSummary `json:"named_profile,omitempty"` // rounds run with LOAD_PERF
}

// ProfileSummary is named's work by thread over the rounds that were counted with perf.
type ProfileSummary struct {
	Rounds           int     `json:"rounds"`
	WorkerUSPerQuery float64 `json:"worker_us_per_query"`       // the workers' CPU over dnsperf's answers
	RecvmmsgPerQuery float64 `json:"worker_recvmmsg_per_query"` // how many wake-ups a query costs (batching)
	IOUSPerFrame     float64 `json:"io_thread_us_per_frame"`    // fstrm's I/O thread's CPU over the frames named sent meanwhile
	FramesPerSendmsg float64 `json:"frames_per_sendmsg"`        // frames in each write to the dnstap socket
	SwitchesPerQuery float64 `json:"context_switches_per_query"`
}

// Summarize folds the rounds of the table (not the search's) into one Summary per (BIND,
// pinning, offered load, mode), ordered by BIND and pinning as first seen, then offered load
// (saturation last), then mode as first seen; and fills the ratios to mode 1 of the same
// BIND, pinning and load.
func Summarize(rounds []RoundResult) []Summary {
	type key struct {
		bind string
		pin  string
		pct  int
		mode Mode
	}
	var order []key
	groups := map[key][]RoundResult{}
	rank := map[string]int{}
	seen := func(k string) {
		if _, ok := rank[k]; !ok {
			rank[k] = len(rank)
		}
	}
	for _, r := range rounds {
		if r.Search {
			continue
		}
		k := key{r.Bind, r.Pinning, r.OfferedPct, r.Mode}
		seen("b" + r.Bind)
		seen("p" + r.Pinning)
		seen(fmt.Sprint("m", int(r.Mode)))
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortStableFunc(order, func(a, b key) int {
		pct := func(p int) int {
			if p == 0 {
				return 1000 // saturation after every offered load
			}
			return p
		}
		return cmp.Or(cmp.Compare(rank["b"+a.bind], rank["b"+b.bind]), cmp.Compare(rank["p"+a.pin], rank["p"+b.pin]),
			cmp.Compare(pct(a.pct), pct(b.pct)), cmp.Compare(rank[fmt.Sprint("m", int(a.mode))], rank[fmt.Sprint("m", int(b.mode))]))
	})
	var out []Summary
	for _, k := range order {
		s := Summary{Bind: k.bind, Mode: k.mode, Name: k.mode.String(), Pinning: k.pin, Point: pointName(k.pct), OfferedPct: k.pct}
		var qps []float64
		var p50, p99 []time.Duration
		var avg, namedCPU, collCPU time.Duration
		var prof NamedProfile
		var profRounds int
		var profQueries, profFrames int64
		for _, r := range groups[k] {
			s.OfferedQPS = max(s.OfferedQPS, r.OfferedQPS)
			if r.Error != "" {
				s.Errors = append(s.Errors, fmt.Sprintf("round %d: %s", r.Round, r.Error))
				continue
			}
			s.Rounds++
			qps = append(qps, r.Perf.QPS)
			p50 = append(p50, r.Perf.P50Latency)
			p99 = append(p99, r.Perf.P99Latency)
			avg += r.Perf.AvgLatency
			s.Sent += r.Perf.Sent
			s.Completed += r.Perf.Completed
			s.Lost += r.Perf.Lost
			s.Requests += r.Total.Requests
			s.Responses += r.Total.Responses
			s.DnstapSent += r.Total.DnstapSuccess
			s.DnstapDropped += r.Total.DnstapDropped
			if r.Drops() > 0 {
				s.DropRounds++
			}
			namedCPU += r.NamedCPU
			collCPU += r.CollectorCPU
			if p := r.NamedProfile; p != nil {
				profRounds++
				profQueries += r.Perf.Completed
				profFrames += r.Load.DnstapSuccess
				prof.WorkerCPU += p.WorkerCPU
				prof.WorkerRecvmmsg += p.WorkerRecvmmsg
				prof.IOThreadCPU += p.IOThreadCPU
				prof.IOSendmsg += p.IOSendmsg
				prof.Switches += p.Switches
			}
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
			s.P50Latency = time.Duration(median(durationsToFloats(p50)))
			s.P99Latency = time.Duration(median(durationsToFloats(p99)))
			s.AvgLatency = avg / time.Duration(s.Rounds)
			s.CollectorCPU = collCPU / time.Duration(s.Rounds)
			if s.Completed > 0 {
				s.NamedCPUPerQuery = namedCPU / time.Duration(s.Completed)
			}
			if profRounds > 0 && profQueries > 0 {
				ps := &ProfileSummary{Rounds: profRounds,
					WorkerUSPerQuery: us(prof.WorkerCPU) / float64(profQueries),
					RecvmmsgPerQuery: float64(prof.WorkerRecvmmsg) / float64(profQueries),
					SwitchesPerQuery: float64(prof.Switches) / float64(profQueries)}
				if profFrames > 0 && prof.IOSendmsg > 0 {
					ps.IOUSPerFrame = us(prof.IOThreadCPU) / float64(profFrames)
					ps.FramesPerSendmsg = float64(profFrames) / float64(prof.IOSendmsg)
				}
				s.Profile = ps
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
		if base := find(out, out[i].Bind, out[i].Pinning, out[i].OfferedPct, ModeNone); base != nil && base.QPS > 0 && out[i].Rounds > 0 {
			out[i].QPSRatio = out[i].QPS / base.QPS
			if base.NamedCPUPerQuery > 0 {
				out[i].CPURatio = float64(out[i].NamedCPUPerQuery) / float64(base.NamedCPUPerQuery)
			}
		}
	}
	return out
}

// find returns the summary of mode m at one BIND, pinning and offered load that has rounds,
// or nil.
func find(sums []Summary, bind, pin string, pct int, m Mode) *Summary {
	for i := range sums {
		if s := &sums[i]; s.Bind == bind && s.Pinning == pin && s.OfferedPct == pct && s.Mode == m && s.Rounds > 0 {
			return s
		}
	}
	return nil
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

// Markdown writes the summary table, the goal lines, the zero-drop searches and the notes
// that explain the columns.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# dnstapkit load test\n\n%s; loadavg at start: %s; %s to %s UTC.\n\n", r.hostLine(), r.LoadAvgStart,
		r.Started.Format("2006-01-02 15:04:05"), r.Finished.Format("15:04:05"))
	if len(r.Saturation) > 0 {
		b.WriteString("Mode 1's saturation (the 100% of the offered loads):")
		for i, pin := range r.pinnings() {
			if sat, ok := r.Saturation[pin]; ok {
				fmt.Fprintf(&b, "%s %s %.0f qps", map[bool]string{true: "", false: ";"}[i == 0], pin, sat)
			}
		}
		b.WriteString(".\n\n")
	}
	b.WriteString("| BIND | pinning | load | mode | qps (median) | × mode 1 | p50 ms | p99 ms | lost | named CPU µs/query (× mode 1) | dnstap sent | BIND dropped | rounds with drops | frames captured / expected | collector lost | collector CPU s | collector peak MiB |\n")
	b.WriteString("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Summaries {
		load := s.Point
		if s.OfferedQPS > 0 {
			load = fmt.Sprintf("%s (-Q %d)", s.Point, s.OfferedQPS)
		}
		if s.Rounds == 0 {
			fmt.Fprintf(&b, "| %s | %s | %s | %d %s | failed: %s |||||||||||||\n", s.Bind, s.Pinning, load, int(s.Mode), s.Name, mdEscape(strings.Join(s.Errors, "; ")))
			continue
		}
		ratio, cpuRatio := "-", ""
		if s.QPSRatio > 0 {
			ratio = fmt.Sprintf("%.2f×", s.QPSRatio)
			cpuRatio = fmt.Sprintf(" (%.2f×)", s.CPURatio)
		}
		sent, dropped, dropRounds, frames, lost, ccpu, cmem := "-", "-", "-", "-", "-", "-", "-"
		if s.Mode.Dnstap() {
			sent = fmt.Sprint(s.DnstapSent)
			dropped = fmt.Sprintf("%d (%.2f%%)", s.DnstapDropped, s.DroppedPct)
			dropRounds = fmt.Sprintf("%d of %d", s.DropRounds, s.Rounds)
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
		errs := ""
		if len(s.Errors) > 0 {
			errs = " (failed: " + mdEscape(strings.Join(s.Errors, "; ")) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d %s%s | %.0f (%.0f–%.0f) | %s | %.3f | %.2f | %d | %.1f%s | %s | %s | %s | %s | %s | %s | %s |\n",
			s.Bind, s.Pinning, load, int(s.Mode), s.Name, errs, s.QPS, s.QPSMin, s.QPSMax, ratio,
			ms(s.P50Latency), ms(s.P99Latency), s.Lost,
			float64(s.NamedCPUPerQuery.Nanoseconds())/1000, cpuRatio, sent, dropped, dropRounds, frames, lost, ccpu, cmem)
	}
	b.WriteString(r.profileTable())
	b.WriteString(r.goalLines())
	b.WriteString(r.offeredGoalLines())
	b.WriteString(r.searchLines())
	b.WriteString(`
- load: saturation (dnsperf as fast as named answers, with LOAD_OUTSTANDING queries in flight), or a fixed offered rate (dnsperf -Q), in percent of mode 1's saturation qps under the same pinning.
- qps: dnsperf's queries/s, median of the rounds (min–max); × mode 1: against no logging at the same BIND, pinning and load.
- p50, p99: the 50th and 99th percentiles of the per-query latencies of dnsperf -v, median of the rounds. At saturation latency is mostly queueing.
- lost: queries dnsperf sent that got no answer within its timeout (at saturation mostly queries the kernel dropped from named's full UDP receive buffer: named never counted them).
- named CPU µs/query: named's user+system CPU during dnsperf's run (/proc/<pid>/stat) over the queries completed.
- dnstap sent / BIND dropped: named's DNSTAPsuccess and DNSTAPdropped counters (statistics channel), over named's life; dropped % is of the frames named tried to send. With nothing listening (mode 5) fstrm's I/O thread discards the frames, yet named counts them as sent.
- rounds with drops: rounds in which named dropped a frame or a frame named sent is not in the collector's files.
- frames captured / expected: frames in the collector's files, against named's received queries (AQ) plus responses sent (CR), by message type; collector lost: dnstap sent - captured.
- collector CPU s: the collector's CPU during dnsperf's run, mean per round; peak MiB: its peak resident set (VmHWM of /proc/PID/status just before SIGTERM), max of the rounds.
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// profileTable is named's work by thread, for the summaries counted with LOAD_PERF.
func (r *Report) profileTable() string {
	var b strings.Builder
	for _, s := range r.Summaries {
		p := s.Profile
		if p == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nnamed by thread (LOAD_PERF: perf stat --per-thread during dnsperf's run; fstrm's I/O thread is the thread that calls sendmsg and never recvmmsg):\n\n")
			b.WriteString("| BIND | pinning | load | mode | rounds | named CPU µs/query | workers µs/query | workers recvmmsg/query | fstrm I/O thread µs/frame | frames per sendmsg | context switches/query |\n")
			b.WriteString("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
		}
		io, per := "-", "-"
		if p.FramesPerSendmsg > 0 {
			io, per = fmt.Sprintf("%.3f", p.IOUSPerFrame), fmt.Sprintf("%.1f", p.FramesPerSendmsg)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d %s | %d | %.1f | %.1f | %.3f | %s | %s | %.3f |\n", s.Bind, s.Pinning, s.Point, int(s.Mode), s.Name,
			p.Rounds, us(s.NamedCPUPerQuery), p.WorkerUSPerQuery, p.RecvmmsgPerQuery, io, per, p.SwitchesPerQuery)
	}
	return b.String()
}

// pinnings lists the pinnings of the summaries in order.
func (r *Report) pinnings() []string {
	var pins []string
	for _, s := range r.Summaries {
		if !slices.Contains(pins, s.Pinning) {
			pins = append(pins, s.Pinning)
		}
	}
	return pins
}

// check formats one goal as "yes: ..." or "no: ...".
func check(ok bool, format string, args ...any) string {
	mark := "no"
	if ok {
		mark = "yes"
	}
	return fmt.Sprintf("%s: "+format, append([]any{mark}, args...)...)
}

// offeredGoalLines checks the goal at each offered load up to GoalPct: dnstap into
// dnstap-collector drops no frame (BIND and collector) in any round, its p99 is within 10% of
// mode 1's, named's CPU per query is below querylog's, and (what the read path is for) no
// higher than with fstrm_capture.
func (r *Report) offeredGoalLines() string {
	var b strings.Builder
	for _, c := range r.Summaries {
		if c.Mode != ModeCollector || c.OfferedPct == 0 || c.OfferedPct > GoalPct || c.Rounds == 0 {
			continue
		}
		if b.Len() == 0 {
			fmt.Fprintf(&b, "\nGoal at offered load (at %d%% of saturation and below, dnstap -> dnstap-collector: 0 frames dropped by BIND and collector in every round, p99 within 10%% of mode 1, named CPU per query below querylog's and no higher than with fstrm_capture):\n\n", GoalPct)
		}
		parts := []string{check(c.DropRounds == 0 && len(c.Errors) == 0, "%d frames dropped (BIND %d, collector %d) in %d of %d rounds",
			c.DnstapDropped+max(0, c.CollectorLost), c.DnstapDropped, c.CollectorLost, c.DropRounds, c.Rounds+len(c.Errors))}
		if base := find(r.Summaries, c.Bind, c.Pinning, c.OfferedPct, ModeNone); base != nil && base.P99Latency > 0 {
			parts = append(parts, check(float64(c.P99Latency) <= 1.1*float64(base.P99Latency), "p99 %.2f ms vs mode 1 %.2f ms (%.2f×)",
				ms(c.P99Latency), ms(base.P99Latency), float64(c.P99Latency)/float64(base.P99Latency)))
		}
		if q := find(r.Summaries, c.Bind, c.Pinning, c.OfferedPct, ModeQuerylog); q != nil {
			parts = append(parts, check(c.NamedCPUPerQuery < q.NamedCPUPerQuery, "named CPU %.1f vs querylog %.1f µs/query",
				us(c.NamedCPUPerQuery), us(q.NamedCPUPerQuery)))
		}
		if f := find(r.Summaries, c.Bind, c.Pinning, c.OfferedPct, ModeFstrmCapture); f != nil {
			parts = append(parts, check(c.NamedCPUPerQuery <= f.NamedCPUPerQuery, "named CPU %.1f vs fstrm_capture %.1f µs/query",
				us(c.NamedCPUPerQuery), us(f.NamedCPUPerQuery)))
		}
		fmt.Fprintf(&b, "- %s, %s, %s (-Q %d): %s\n", c.Bind, c.Pinning, c.Point, c.OfferedQPS, strings.Join(parts, "; "))
	}
	return b.String()
}

// searchLines reports the zero-drop searches: the answer per pinning and mode, and the rates
// tried.
func (r *Report) searchLines() string {
	if len(r.Searches) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nHighest offered rate with zero drops in every round (dnstap dropped at %d%% of saturation or below, so a short search narrowed the bracket between the highest clean and the lowest dropping point):\n\n", GoalPct)
	for _, s := range r.Searches {
		answer := "none found"
		if s.ZeroDrop > 0 {
			answer = fmt.Sprintf("%d%% of saturation (%d qps of %.0f)", s.ZeroDrop, s.ZeroDropQPS(), s.Saturation)
		}
		var tried []string
		for _, st := range s.Steps {
			res := "clean"
			switch {
			case st.Error != "":
				res = "failed: " + mdEscape(st.Error)
			case !st.Clean:
				res = fmt.Sprintf("%d dropped in round %d", st.Drops, st.Rounds)
			}
			tried = append(tried, fmt.Sprintf("%d%% (-Q %d) %s", st.Pct, st.QPS, res))
		}
		if s.To == 0 {
			fmt.Fprintf(&b, "- %s, %s, %d %s: no drop at any offered load up to %d%% (%d qps of %.0f): no search\n", s.Bind, s.Pinning, int(s.Mode), s.Name,
				s.From, s.ZeroDropQPS(), s.Saturation)
			continue
		}
		if len(tried) == 0 {
			tried = []string{"nothing (bracket already narrow)"}
		}
		fmt.Fprintf(&b, "- %s, %s, %d %s: %s; bracket %d%%–%d%%; tried %s\n", s.Bind, s.Pinning, int(s.Mode), s.Name, answer,
			s.From, s.To, strings.Join(tried, ", "))
	}
	return b.String()
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

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

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

// goalLines checks the saturation goal under each pinning: dnstap into dnstap-collector keeps
// at least 95% of mode 1's qps, with zero frames dropped by BIND and zero lost by the
// collector, and does better than querylog (mode 2) and than fstrm_capture (mode 4).
func (r *Report) goalLines() string {
	var b strings.Builder
	for _, c := range r.Summaries {
		if c.Mode != ModeCollector || c.OfferedPct != 0 || c.Rounds == 0 {
			continue
		}
		base := find(r.Summaries, c.Bind, c.Pinning, 0, ModeNone)
		if base == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nGoal at saturation (dnstap-collector keeps >= 95% of mode 1's qps, BIND drops 0, collector loses 0, faster than querylog and fstrm_capture):\n\n")
		}
		parts := []string{
			check(c.QPSRatio >= 0.95, "%.2f× mode 1", c.QPSRatio),
			check(c.DnstapDropped == 0, "BIND dropped %d", c.DnstapDropped),
			check(c.CollectorLost == 0, "collector lost %d", c.CollectorLost),
		}
		if q := find(r.Summaries, c.Bind, c.Pinning, 0, ModeQuerylog); q != nil {
			parts = append(parts, check(c.QPS > q.QPS, "%.0f vs querylog %.0f qps", c.QPS, q.QPS))
		}
		if f := find(r.Summaries, c.Bind, c.Pinning, 0, ModeFstrmCapture); f != nil {
			parts = append(parts, check(c.QPS > f.QPS, "%.0f vs fstrm_capture %.0f qps", c.QPS, f.QPS))
		}
		fmt.Fprintf(&b, "- %s, %s: %s\n", c.Bind, c.Pinning, strings.Join(parts, "; "))
	}
	return b.String()
}
