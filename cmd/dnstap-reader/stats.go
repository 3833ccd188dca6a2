package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/stats"
	"github.com/dnstapkit/dnstapkit/reader/stats/html"
)

func init() { subcommands["stats"] = runStats }

const statsUsage = `usage: dnstap-reader stats [flags] [file ...]

Summarises dnstap files: totals, queries over time, qtype/rcode/size distributions, top
names, domains and clients, latency, and abnormal signals. "-" or no file reads standard
input. See docs/stats.md.

Output (default: aligned text tables):
  --json               print the report as JSON (schema in docs/stats.md)
  --html FILE          also write a self-contained HTML page with charts to FILE
  --top N              rows in each top table (default 10)
  --interval D         width of a rate point (default: chosen from the span)
  --capacity N         keys tracked by each top-N sketch (default 10000)
  --exact              count exactly (memory grows with the input)
  --upstream           analyse the server's own queries (RQ/RR, FQ/FR, SQ/SR) instead of
                       its clients' (AQ/AR, CQ/CR, TQ/TR, UQ/UR)
  --baseline LIST      capture files whose domains are "known"; report the others
  --no-progress        no progress line on a terminal
Signal thresholds:
  --long-label N       label length (bytes) that is suspicious (default 40)
  --entropy BITS       label entropy (bits/char) that is suspicious (default 3.5)
  --entropy-min-len N  shortest label judged by entropy (default 12)
  --min-suspicious N   suspicious names that flag a domain or client (default 10)
  --max-subdomains N   unique names that flag a domain (default 200)
  --nx-ratio R         NXDOMAIN per query that flags a client (default 0.5)
  --txt-ratio R        TXT+NULL+ANY share that flags a client (default 0.5)
  --min-client-queries N  queries before a client's ratios are judged (default 20)
  --burst-factor F     times the median rate that makes a burst (default 10)
  --burst-min-qps Q    and at least this rate (default 50)
Filters (as dnstap-reader's; combine with AND, comma lists are OR):
  --type --qname --qtype --rcode --client --since --until
`

type statsOptions struct {
	cfg        stats.Config
	filter     reader.Filter
	json       bool
	html       string
	baseline   []string
	noProgress bool
	files      []string
}

func parseStatsFlags(args []string, stderr io.Writer) (*statsOptions, error) {
	fs := flag.NewFlagSet("dnstap-reader stats", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &statsOptions{}
	th := &o.cfg.Thresholds
	var (
		ff       filterFlags
		baseline string
	)
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.html, "html", "", "")
	fs.IntVar(&o.cfg.TopN, "top", 10, "")
	fs.DurationVar(&o.cfg.Interval, "interval", 0, "")
	fs.IntVar(&o.cfg.Capacity, "capacity", 10000, "")
	fs.BoolVar(&o.cfg.Exact, "exact", false, "")
	fs.BoolVar(&o.cfg.Upstream, "upstream", false, "")
	fs.StringVar(&baseline, "baseline", "", "")
	fs.BoolVar(&o.noProgress, "no-progress", false, "")
	d := stats.DefaultThresholds
	fs.IntVar(&th.LongLabel, "long-label", d.LongLabel, "")
	fs.Float64Var(&th.EntropyBits, "entropy", d.EntropyBits, "")
	fs.IntVar(&th.EntropyMinLen, "entropy-min-len", d.EntropyMinLen, "")
	fs.Uint64Var(&th.MinSuspicious, "min-suspicious", d.MinSuspicious, "")
	fs.Uint64Var(&th.MaxSubdomains, "max-subdomains", d.MaxSubdomains, "")
	fs.Float64Var(&th.NXRatio, "nx-ratio", d.NXRatio, "")
	fs.Float64Var(&th.TXTRatio, "txt-ratio", d.TXTRatio, "")
	fs.Uint64Var(&th.MinClientQueries, "min-client-queries", d.MinClientQueries, "")
	fs.Float64Var(&th.BurstFactor, "burst-factor", d.BurstFactor, "")
	fs.Float64Var(&th.BurstMinQPS, "burst-min-qps", d.BurstMinQPS, "")
	ff.register(fs)
	usage := func(err error) error { return &statusError{code: exitUsage, err: err} }
	if err := fs.Parse(args); err != nil {
		fmt.Fprint(stderr, statsUsage)
		if errors.Is(err, flag.ErrHelp) {
			return nil, &statusError{code: exitOK}
		}
		return nil, usage(err)
	}
	switch {
	case o.cfg.TopN < 1 || o.cfg.TopN > 100000:
		return nil, usage(fmt.Errorf("invalid --top %d: must be between 1 and 100000", o.cfg.TopN))
	case o.cfg.Capacity < 1:
		return nil, usage(fmt.Errorf("invalid --capacity %d: must be at least 1", o.cfg.Capacity))
	case o.cfg.Capacity < o.cfg.TopN:
		return nil, usage(fmt.Errorf("invalid --capacity %d: must be at least --top (%d)", o.cfg.Capacity, o.cfg.TopN))
	case o.cfg.Interval < 0 || (o.cfg.Interval > 0 && o.cfg.Interval < time.Second):
		return nil, usage(fmt.Errorf("invalid --interval %s: must be at least 1s", o.cfg.Interval))
	case th.LongLabel < 1 || th.LongLabel > 63:
		return nil, usage(fmt.Errorf("invalid --long-label %d: must be between 1 and 63 (bytes)", th.LongLabel))
	case th.EntropyBits <= 0 || th.EntropyBits > 8:
		return nil, usage(fmt.Errorf("invalid --entropy %g: must be above 0 and at most 8 (bits/char)", th.EntropyBits))
	case th.EntropyMinLen < 1 || th.EntropyMinLen > 63:
		return nil, usage(fmt.Errorf("invalid --entropy-min-len %d: must be between 1 and 63", th.EntropyMinLen))
	case th.NXRatio <= 0 || th.NXRatio > 1 || th.TXTRatio <= 0 || th.TXTRatio > 1:
		return nil, usage(fmt.Errorf("invalid --nx-ratio %g or --txt-ratio %g: must be above 0 and at most 1", th.NXRatio, th.TXTRatio))
	case th.MinSuspicious < 1 || th.MaxSubdomains < 1 || th.MinClientQueries < 1:
		return nil, usage(errors.New("--min-suspicious, --max-subdomains and --min-client-queries must be at least 1"))
	case th.BurstFactor <= 1 || th.BurstMinQPS <= 0:
		return nil, usage(fmt.Errorf("invalid --burst-factor %g or --burst-min-qps %g: must be above 1 and above 0", th.BurstFactor, th.BurstMinQPS))
	}
	var err error
	if o.filter, err = ff.filter(time.Now()); err != nil {
		return nil, usage(err)
	}
	o.baseline = reader.SplitList(baseline)
	o.files = fs.Args()
	if len(o.files) == 0 {
		o.files = []string{"-"}
	}
	return o, nil
}

func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseStatsFlags(args, stderr)
	if err != nil {
		return err
	}
	prog := &stats.Progress{}
	stopProgress := startProgress(stderr, prog, o.noProgress)
	defer stopProgress()
	var truncated []error
	read := func(paths []string, f *reader.Filter, add func(*stats.Record)) error {
		for _, path := range paths {
			d, err := reader.Open(path)
			if err != nil {
				return err
			}
			skipped, err := stats.Feed(ctx, d, f, add, prog)
			d.Close()
			if skipped > 0 {
				fmt.Fprintf(stderr, "dnstap-reader: %s: skipped %d bad frames\n", path, skipped)
			}
			switch {
			case errors.Is(err, reader.ErrTruncated):
				truncated = append(truncated, err) // every complete message was counted
			case err != nil:
				return err
			}
		}
		return nil
	}
	if len(o.baseline) > 0 {
		b := stats.NewBaseline(o.cfg.Exact, o.cfg.Upstream)
		if err := read(o.baseline, nil, b.Add); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		o.cfg.Baseline = b
	}
	s := stats.New(o.cfg)
	if err := read(o.files, &o.filter, s.Add); err != nil {
		return err
	}
	stopProgress()
	rep := s.Report()
	if o.html != "" {
		if err := writeHTML(o.html, rep); err != nil {
			return err
		}
	}
	w := bufio.NewWriter(stdout)
	if o.json {
		err = stats.WriteJSON(w, rep)
	} else {
		err = stats.WriteText(w, rep)
	}
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if err != nil {
		return err
	}
	if len(truncated) > 0 {
		return &statusError{code: exitTruncated, err: errors.Join(truncated...)}
	}
	return nil
}

func writeHTML(path string, rep *stats.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("html: %w", err)
	}
	if err := html.Write(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("html %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("html %s: %w", path, err)
	}
	return nil
}

// progressDelay is how long input is read before a progress line appears: short runs print
// nothing.
const progressDelay = 2 * time.Second

// startProgress prints a progress line to stderr once a second after progressDelay, when
// stderr is a terminal. The returned func stops it and clears the line; it may be called
// more than once.
func startProgress(stderr io.Writer, p *stats.Progress, disabled bool) func() {
	f, ok := stderr.(*os.File)
	if disabled || !ok {
		return func() {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprint(f, "\r\033[K")
				}
				return
			case now := <-t.C:
				if now.Sub(start) >= progressDelay {
					fmt.Fprintf(f, "\r\033[K%s", stats.ProgressLine(p, now.Sub(start)))
					shown = true
				}
			}
		}
	}()
	stopped := false
	return func() {
		if !stopped {
			stopped = true
			close(done)
			<-finished
		}
	}
}
