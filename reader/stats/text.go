package stats

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes r as one indented JSON document (schema in docs/stats.md).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// WriteText writes r as aligned tables for a terminal.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	section := func(title string) { p("\n%s\n%s\n", title, strings.Repeat("-", len(title))) }

	p("messages\t%d\n", r.Messages)
	if r.Malformed != 0 {
		p("malformed\t%d\t(no DNS message or no parseable question)\n", r.Malformed)
	}
	if !r.Span.First.IsZero() {
		p("first\t%s\n", r.Span.First.Format(time.RFC3339Nano))
		p("last\t%s\n", r.Span.Last.Format(time.RFC3339Nano))
		p("span\t%s\n", time.Duration(r.Span.Seconds*1e9).Round(time.Millisecond))
	}
	if r.Accuracy.Exact {
		p("accuracy\texact\n")
	} else {
		p("accuracy\ttop tables: space-saving, %d keys each (count - error <= true <= count); latency: +-%g%%\n",
			r.Accuracy.Capacity, r.Accuracy.LatencyRelativeError*100)
	}

	// table starts a section of n rows: "(none)" when there are none, else the header.
	table := func(title string, n int, header string) {
		section(title)
		if n == 0 {
			p("(none)\n")
		} else {
			p("%s", header)
		}
	}
	counts := func(title string, c []Count) {
		section(title)
		var total uint64
		for _, x := range c {
			total += x.Count
		}
		for _, x := range c {
			p("%s\t%d\t%5.1f%%\n", x.Key, x.Count, pct(x.Count, total))
		}
	}
	counts("message types", r.ByType)
	counts("transports", r.ByTransport)
	counts("families", r.ByFamily)

	section(fmt.Sprintf("queries over time (every %gs)", r.Rate.IntervalSeconds))
	p("median\t%.1f q/s\n", r.Rate.MedianQPS)
	p("peak\t%.1f q/s\n", r.Rate.PeakQPS)
	for _, pt := range r.Rate.Points {
		p("%s\t%d\t%.1f q/s\n", pt.Time.Format(time.RFC3339), pt.Queries, pt.QPS)
	}

	counts("query types", r.QTypes)
	counts("response codes", r.RCodes)
	section("response sizes (bytes)")
	p("responses\t%d\n", r.ResponseSize.Count)
	p("p50 p90 p99 max\t%d %d %d %d\n", r.ResponseSize.P50, r.ResponseSize.P90, r.ResponseSize.P99, r.ResponseSize.Max)
	for _, b := range r.ResponseSize.Buckets {
		p("%s\t%d\t%5.1f%%\n", b.Key, b.Count, pct(b.Count, r.ResponseSize.Count))
	}

	tops := func(what string, t TopTables) {
		for _, x := range []struct {
			by   string
			rows []Top
		}{{"queries", t.ByQueries}, {"NXDOMAIN", t.ByNXDOMAIN}, {"SERVFAIL", t.BySERVFAIL}} {
			section(fmt.Sprintf("top %s by %s", what, x.by))
			if len(x.rows) == 0 {
				p("(none)\n")
			}
			for _, row := range x.rows {
				if row.Error != 0 {
					p("%s\t%d\t+-%d\n", row.Key, row.Count, row.Error)
				} else {
					p("%s\t%d\n", row.Key, row.Count)
				}
			}
		}
		if t.MaxError != 0 {
			p("(counts may be over by at most %d)\n", t.MaxError)
		}
	}
	tops("names", r.Names)
	tops("domains", r.Domains)
	tops("clients", r.Clients)

	table("latency (ms), by query and response types matched", len(r.Latency), "pair\ttimed\tp50\tp90\tp99\tmax\n")
	for _, l := range r.Latency {
		p("%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", l.Pair, l.Timed, l.P50ms, l.P90ms, l.P99ms, l.MaxMs)
	}
	table("pairing (queries answered, responses timed)", len(r.Pairing), "type\tmessages\tpaired\tunpaired\n")
	for _, x := range r.Pairing {
		if x.Evicted != 0 {
			p("%s\t%d\t%d\t%d\t(%d evicted)\n", x.Type, x.Messages, x.Paired, x.Unpaired, x.Evicted)
		} else {
			p("%s\t%d\t%d\t%d\n", x.Type, x.Messages, x.Paired, x.Unpaired)
		}
	}

	if b := r.Baseline; b != nil {
		section("domains not in the baseline")
		p("baseline domains\t%d\n", b.BaselineDomains)
		p("new domains\t%d\t(%d queries)\n", b.Distinct, b.Queries)
	}

	section("abnormal signals")
	if len(r.Signals) == 0 {
		p("(none)\n")
	}
	for _, sg := range r.Signals {
		line := fmt.Sprintf("%s\t%s\t%s", sg.Kind, sg.Subject, sg.Reason)
		if sg.Sample != "" {
			line += ", e.g. " + sg.Sample
		}
		p("%s\n", line)
	}
	if r.SignalsOmitted > 0 {
		p("(%d more signals not shown: each kind lists its strongest --top)\n", r.SignalsOmitted)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	return nil
}

func pct(n, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}
