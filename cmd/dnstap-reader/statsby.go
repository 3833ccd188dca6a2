package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/stats"
)

// stats --by identity: one report per dnstap identity (each router of a fleet, as named's
// dnstap-identity names it) and the fleet's total. Over a central collector's directory:
// dnstap-reader stats --by identity /var/log/dnstap/*/*.fstrm*

// noIdentity names the messages without an identity field.
const noIdentity = "(none)"

// byIdentity keeps one Stats per identity and one for all.
type byIdentity struct {
	cfg   stats.Config
	per   map[string]*stats.Stats
	total *stats.Stats
}

func newByIdentity(cfg stats.Config) *byIdentity {
	return &byIdentity{cfg: cfg, per: map[string]*stats.Stats{}, total: stats.New(cfg)}
}

// feed adds every message of d that f matches, to its identity's Stats and to the total,
// skipping the frames the decoder skips (as stats.Feed).
func (b *byIdentity) feed(ctx context.Context, d *reader.Decoder, f *reader.Filter, p *stats.Progress) (skips stats.Skips, err error) {
	var rec stats.Record
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return skips, err
			}
			p.Bytes.Store(d.Offset())
		}
		m, err := d.Next()
		if err != nil {
			if reader.Recoverable(err) {
				skips.Count++
				if len(skips.Errors) < 10 {
					skips.Errors = append(skips.Errors, err)
				}
				continue
			}
			if errors.Is(err, io.EOF) {
				return skips, nil
			}
			return skips, err
		}
		p.Messages.Add(1)
		if !m.HasMessage || !f.Match(m) {
			continue
		}
		s := b.per[string(m.Identity)]
		if s == nil {
			s = stats.New(b.cfg)
			b.per[string(m.Identity)] = s
		}
		stats.FromMessage(&rec, m)
		s.Add(&rec)
		b.total.Add(&rec)
	}
}

// identityReport is one identity's report in the JSON output.
type identityReport struct {
	Identity string        `json:"identity"`
	Report   *stats.Report `json:"report"`
}

// byIdentityJSON is the JSON output of stats --by identity.
type byIdentityJSON struct {
	ByIdentity []identityReport `json:"by_identity"`
	Total      *stats.Report    `json:"total"`
}

// reports returns the identities' reports, by name ("(none)" for messages without one).
func (b *byIdentity) reports() []identityReport {
	out := make([]identityReport, 0, len(b.per))
	for id, s := range b.per {
		name := id
		if name == "" {
			name = noIdentity
		}
		out = append(out, identityReport{Identity: name, Report: s.Report()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Identity < out[j].Identity })
	return out
}

// write prints the table of identities and the total, then the full report of the total
// (text), or everything as JSON.
func (b *byIdentity) write(w io.Writer, asJSON bool) error {
	reps, total := b.reports(), b.total.Report()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(byIdentityJSON{ByIdentity: reps, Total: total}); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	fmt.Fprintf(w, "By identity: %d\n", len(reps))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "identity\tmessages\tqueries\tresponses\tNXDOMAIN\tSERVFAIL\tmedian qps\tpeak qps\tsignals\tfirst\tlast\t")
	row := func(name string, r *stats.Report) {
		q, resp := 0.0, 0.0
		for _, c := range r.ByType {
			switch {
			case strings.HasSuffix(c.Key, "Q"):
				q += float64(c.Count)
			case strings.HasSuffix(c.Key, "R"):
				resp += float64(c.Count)
			}
		}
		share := func(rc string) string {
			for _, c := range r.RCodes {
				if c.Key == rc && resp > 0 {
					return fmt.Sprintf("%.1f%%", 100*float64(c.Count)/resp)
				}
			}
			return "0.0%"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%s\t%s\t%.1f\t%.1f\t%d\t%s\t%s\t\n", name, r.Messages, q, resp, share("NXDOMAIN"), share("SERVFAIL"),
			r.Rate.MedianQPS, r.Rate.PeakQPS, len(r.Signals), stamp(r.Span.First), stamp(r.Span.Last))
	}
	for _, ir := range reps {
		row(ir.Identity, ir.Report)
	}
	row("fleet total", total)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	fmt.Fprintln(w, "\nFleet total:")
	return stats.WriteText(w, total)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// statsByIdentity is runStats for --by identity (after any --baseline is read into o.cfg).
func statsByIdentity(ctx context.Context, o *statsOptions, stdout, stderr io.Writer, prog *stats.Progress, stopProgress func()) error {
	by := newByIdentity(o.cfg)
	in := &statsInputs{ctx: ctx, stderr: stderr, prog: prog, by: by, engine: &o.engine}
	if err := in.feed(o.files, &o.filter, nil); err != nil {
		return err
	}
	stopProgress()
	if in.read == 0 {
		return in.status() // nothing was read: no report
	}
	w := bufio.NewWriter(stdout)
	err := by.write(w, o.json)
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if err != nil {
		return err
	}
	return in.status()
}
