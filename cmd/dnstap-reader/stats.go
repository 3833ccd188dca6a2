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

	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/stats"
	"github.com/dnstapkit/dnstapkit/reader/stats/html"
)

func init() { subcommands["stats"] = runStats }

const statsUsage = `usage: dnstap-reader stats [flags] [file ...]

Summarises dnstap files: totals, queries over time, qtype/rcode/size distributions, top
names, domains and clients, latency, and abnormal signals. "-" or no file reads standard
input. Flags may come before or after the files; "--" ends them. See docs/stats.md.

Output (default: aligned text tables):
  --json               print the report as JSON (schema in docs/stats.md)
  --html FILE          also write a self-contained HTML page with charts to FILE;
                       "--html -" prints the page instead of the text report
  --top N              rows in each top table (default 10)
  --interval D         width of a rate point (default: chosen from the span)
  --capacity N         keys tracked by each top-N sketch (default 10000)
  --exact              count exactly (memory grows with the input)
  --upstream           analyse the server's own queries (RQ/RR, FQ/FR, SQ/SR) instead of
                       its clients' (AQ/AR, CQ/CR, TQ/TR, UQ/UR)
  --baseline LIST      capture files whose domains are "known"; report the others
  --no-progress        no progress line on a terminal
  --by identity        a summary per dnstap identity (each router of a fleet) and the fleet's
                       total, then the total's report; --json: every identity's whole report
  -h, --help           print this help and exit
Signal thresholds:
  --long-label N       label length (bytes) that is suspicious (default 40)
  --entropy BITS       label entropy (bits/char) that is suspicious (default 3.5)
  --entropy-min-len N  shortest label judged by entropy (default 12)
  --min-suspicious N   suspicious names that flag a domain or client (default 10)
  --max-subdomains N   new subdomains (unknown or random-looking names) that flag a
                       domain (default 200)
  --nx-ratio R         NXDOMAIN per query that flags a client (default 0.5)
  --txt-ratio R        TXT+NULL+ANY share that flags a client (default 0.5)
  --min-client-queries N  queries before a client's ratios are judged (default 20)
  --burst-factor F     times the median rate that makes a burst (default 10)
  --burst-min-qps Q    and at least this rate (default 50)
Filters (as dnstap-reader's; combine with AND, comma lists are OR, repeated flags add):
  --type --qname --qtype --rcode --client --since --until
Inputs: kafka://BROKER/TOPIC and nats://SERVER/SUBJECT as well as files, reached with
dnstap-reader's --engine-tls --engine-ca --engine-cert --engine-key --nats-creds
--kafka-sasl-user --kafka-sasl-password-file --kafka-sasl-sha256 (docs/fleet.md).
Exit status: 0 ok; 1 an input is missing, not dnstap or corrupt (the report of the others
is printed); 2 bad flags; 3 an input ended mid-frame or before STOP.
`

func printStatsUsage(w io.Writer) { fmt.Fprint(w, statsUsage) }

type statsOptions struct {
	cfg        stats.Config
	filter     reader.Filter
	json       bool
	html       string
	baseline   []string
	noProgress bool
	files      []string
	by         string
	engine     engineFlags
}

func parseStatsFlags(args []string) (*statsOptions, error) {
	fs := flag.NewFlagSet("dnstap-reader stats", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &statsOptions{}
	th := &o.cfg.Thresholds
	var (
		ff       filterFlags
		ef       engineFlags
		baseline listFlag
		help     bool
	)
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.html, "html", "", "")
	fs.IntVar(&o.cfg.TopN, "top", 10, "")
	fs.DurationVar(&o.cfg.Interval, "interval", 0, "")
	fs.IntVar(&o.cfg.Capacity, "capacity", 10000, "")
	fs.BoolVar(&o.cfg.Exact, "exact", false, "")
	fs.BoolVar(&o.cfg.Upstream, "upstream", false, "")
	fs.Var(&baseline, "baseline", "")
	fs.BoolVar(&o.noProgress, "no-progress", false, "")
	fs.StringVar(&o.by, "by", "", "")
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&help, "help", false, "")
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
	ef.register(fs)
	usage := func(format string, args ...any) error {
		return usageError("dnstap-reader stats", fmt.Errorf(format, args...))
	}
	files, err := parseArgs(fs, args)
	switch {
	case err != nil:
		return nil, usageError("dnstap-reader stats", err)
	case help:
		return nil, errHelp
	}
	if err := o.cfg.Validate(); err != nil { // names the flag
		return nil, usageError("dnstap-reader stats", err)
	}
	// Each check names the one flag it judges.
	for _, c := range []struct {
		bad  bool
		flag string
		val  any
		want string
	}{
		{o.json && o.html == "-", "html", o.html, "prints the page on standard output, so it cannot be combined with --json"},
		{o.by != "" && o.by != "identity", "by", o.by, "only identity"},
		{o.by != "" && o.html != "", "html", o.html, "has no page of --by identity"},
	} {
		if c.bad {
			return nil, usage("invalid --%s %v: %s", c.flag, c.val, c.want)
		}
	}
	if o.filter, err = ff.filter(time.Now()); err != nil {
		return nil, usageError("dnstap-reader stats", err)
	}
	if err := ef.check(); err != nil {
		return nil, usageError("dnstap-reader stats", err)
	}
	o.engine = ef
	o.baseline = baseline
	o.files = files
	if len(o.files) == 0 {
		o.files = []string{"-"}
	}
	return o, nil
}

// statsInputs reads the inputs of stats, reporting each problem on stderr as it comes and
// going on with the next input, as the reader does.
type statsInputs struct {
	ctx       context.Context
	stderr    io.Writer
	prog      *stats.Progress
	failed    bool        // an input was missing, not dnstap or corrupt
	truncated bool        // an input ended mid-frame or before STOP
	read      int         // inputs read to their end or to a truncation
	by        *byIdentity // --by identity: messages go to it, not to feed's add
	engine    *engineFlags
}

// status is the exit status the inputs call for.
func (in *statsInputs) status() error {
	switch {
	case in.failed:
		return &statusError{code: exitError}
	case in.truncated:
		return &statusError{code: exitTruncated}
	}
	return nil
}

func (in *statsInputs) warn(format string, args ...any) {
	fmt.Fprintf(in.stderr, "dnstap-reader: "+format+"\n", args...)
}

// feed adds every message of the files at paths that f matches; a cancelled ctx ends it.
func (in *statsInputs) feed(paths []string, f *reader.Filter, add func(*stats.Record)) error {
	for _, path := range paths {
		var d *reader.Decoder
		var us *reader.URLStream
		var err error
		if reader.IsURL(path) {
			var co engine.ConsumeOptions
			if f != nil {
				co.Since = f.Since
			}
			ef := in.engine
			if ef == nil {
				ef = &engineFlags{}
			}
			var uo reader.URLOptions
			if uo, err = ef.urlOptions(co); err == nil {
				if us, err = reader.OpenURL(in.ctx, path, uo); err == nil {
					d = reader.NewDecoder(us, us.Name())
				}
			}
		} else {
			d, err = reader.Open(path)
		}
		if err != nil {
			in.warn("%v", err)
			in.failed = true
			continue
		}
		var skips stats.Skips
		if in.by != nil {
			skips, err = in.by.feed(in.ctx, d, f, in.prog)
		} else {
			skips, err = stats.Feed(in.ctx, d, f, add, in.prog)
		}
		d.Close()
		if us != nil {
			us.Close()
			if _, dups, _ := us.Counts(); dups > 0 {
				in.warn("%s: %d duplicate frames dropped (the same router, spool file and offset, sent again)", path, dups)
			}
		}
		for _, e := range skips.Errors {
			in.warn("%v (frame skipped)", e)
		}
		if n := skips.Count - len(skips.Errors); n > 0 {
			in.warn("%s: %d more frames skipped", path, n)
		}
		if skips.Count > 0 {
			in.failed = true
		}
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			return err
		case errors.Is(err, reader.ErrTruncated):
			in.warn("warning: %v", err) // every complete message was counted
			in.truncated = true
			in.read++
		case err != nil:
			in.warn("%v", err)
			in.failed = true
		default:
			in.read++
		}
	}
	return nil
}

func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseStatsFlags(args)
	switch {
	case errors.Is(err, errHelp):
		printStatsUsage(stdout)
		return nil
	case err != nil:
		return err
	}
	if err := checkStdin("dnstap-reader stats", o.files, printStatsUsage, stderr); err != nil {
		return err
	}
	prog := &stats.Progress{}
	stopProgress := startProgress(stderr, prog, o.noProgress)
	defer stopProgress()
	if len(o.baseline) > 0 {
		// A baseline with a file missing would make its domains look new: no report.
		b := stats.NewBaseline(o.cfg.Exact, o.cfg.Upstream)
		in := &statsInputs{ctx: ctx, stderr: stderr, prog: prog, engine: &o.engine}
		if err := in.feed(o.baseline, nil, b.Add); err != nil {
			return err
		}
		if in.failed {
			return &statusError{code: exitError, err: errors.New("--baseline: an input could not be read; no report")}
		}
		o.cfg.Baseline = b
	}
	if o.by == "identity" {
		return statsByIdentity(ctx, o, stdout, stderr, prog, stopProgress)
	}
	s := stats.New(o.cfg)
	in := &statsInputs{ctx: ctx, stderr: stderr, prog: prog, engine: &o.engine}
	if err := in.feed(o.files, &o.filter, s.Add); err != nil {
		return err
	}
	stopProgress()
	status := in.status
	if in.read == 0 {
		return status() // nothing was read: no report
	}
	rep := s.Report()
	w := bufio.NewWriter(stdout)
	switch {
	case o.html == "-":
		err = html.Write(w, rep)
	case o.html != "":
		if err := writeHTML(o.html, rep); err != nil {
			return err
		}
		fallthrough
	default:
		if o.json {
			err = stats.WriteJSON(w, rep)
		} else {
			err = stats.WriteText(w, rep)
		}
	}
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if err != nil {
		return err
	}
	return status()
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
