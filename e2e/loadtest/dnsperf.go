package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Load is what dnsperf is told to do.
type Load struct {
	Seconds     int    // -l: run time
	Clients     int    // -c: number of clients (sockets)
	Threads     int    // -T: sending threads
	Outstanding int    // -q: queries in flight; dnsperf sends as fast as answers return
	MaxQPS      int    // -Q: cap on the rate; 0 for none (saturate)
	Timeout     int    // -t: seconds until a query counts as lost
	Latencies   bool   // -v: record each query's latency, for p99 (costs dnsperf some CPU)
	CPUs        string // taskset -c for dnsperf; "" for any core
}

// PerfResult is what dnsperf reports for one run.
type PerfResult struct {
	Sent       int64            `json:"sent"`
	Completed  int64            `json:"completed"`
	Lost       int64            `json:"lost"`
	QPS        float64          `json:"qps"`
	AvgLatency time.Duration    `json:"avg_latency_ns"`
	P50Latency time.Duration    `json:"p50_latency_ns"` // 0 when Latencies was off
	P99Latency time.Duration    `json:"p99_latency_ns"` // 0 when Latencies was off
	RunTime    time.Duration    `json:"run_time_ns"`
	Rcodes     map[string]int64 `json:"rcodes"`
}

// dnsperfArgs builds dnsperf's command line.
func dnsperfArgs(bin, server string, port int, queries string, l Load) []string {
	args := []string{bin, "-s", server, "-p", strconv.Itoa(port), "-d", queries,
		"-l", strconv.Itoa(l.Seconds), "-c", strconv.Itoa(l.Clients), "-T", strconv.Itoa(l.Threads),
		"-q", strconv.Itoa(l.Outstanding), "-t", strconv.Itoa(l.Timeout)}
	if l.MaxQPS > 0 {
		args = append(args, "-Q", strconv.Itoa(l.MaxQPS))
	}
	if l.Latencies {
		args = append(args, "-v")
	}
	return args
}

// RunDnsperf runs dnsperf against server:port with the queries file and parses its report.
func RunDnsperf(ctx context.Context, bin, server string, port int, queries string, l Load) (PerfResult, error) {
	cmd := command(ctx, l.CPUs, dnsperfArgs(bin, server, port, queries, l)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return PerfResult{}, fmt.Errorf("dnsperf: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return PerfResult{}, fmt.Errorf("dnsperf: %w", err)
	}
	res, perr := parseDnsperf(out)
	// Drain whatever is left so dnsperf never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("dnsperf: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if perr != nil {
		return res, fmt.Errorf("dnsperf output: %w", perr)
	}
	return res, nil
}

// parseDnsperf reads dnsperf 2.x output: with -v one line per query ("> NOERROR name type
// 0.000473", or "> T name type" when it timed out), then the "Statistics:" block.
func parseDnsperf(r io.Reader) (PerfResult, error) {
	res := PerfResult{Rcodes: map[string]int64{}}
	var lat []time.Duration
	var sawStats bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			f := strings.Fields(rest)
			if len(f) == 4 && f[0] != "T" {
				if s, err := strconv.ParseFloat(f[3], 64); err == nil {
					lat = append(lat, time.Duration(s*float64(time.Second)))
				}
			}
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		first := strings.Fields(val + " ")
		var err error
		switch key {
		case "Statistics":
			sawStats = true
		case "Queries sent":
			res.Sent, err = strconv.ParseInt(first[0], 10, 64)
		case "Queries completed":
			res.Completed, err = strconv.ParseInt(first[0], 10, 64)
		case "Queries lost":
			res.Lost, err = strconv.ParseInt(first[0], 10, 64)
		case "Queries per second":
			res.QPS, err = strconv.ParseFloat(first[0], 64)
		case "Run time (s)":
			res.RunTime, err = seconds(first[0])
		case "Average Latency (s)":
			res.AvgLatency, err = seconds(first[0])
		case "Response codes":
			// "NOERROR 2 (50.00%), NXDOMAIN 2 (50.00%)"
			for part := range strings.SplitSeq(val, ",") {
				f := strings.Fields(part)
				if len(f) >= 2 {
					n, perr := strconv.ParseInt(f[1], 10, 64)
					if perr == nil {
						res.Rcodes[f[0]] = n
					}
				}
			}
		}
		if err != nil {
			return res, fmt.Errorf("%q: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return res, err
	}
	if !sawStats {
		return res, fmt.Errorf("no Statistics block")
	}
	if len(lat) > 0 {
		res.P50Latency = percentile(lat, 0.50)
		res.P99Latency = percentile(lat, 0.99)
	}
	return res, nil
}

func seconds(s string) (time.Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Second)), err
}

// percentile returns the q-quantile (0 < q <= 1) of d by the nearest-rank method; it sorts d.
func percentile(d []time.Duration, q float64) time.Duration {
	slices.Sort(d)
	i := int(float64(len(d))*q+0.999999) - 1
	return d[max(0, min(i, len(d)-1))]
}
