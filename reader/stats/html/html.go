package html

import (
	"fmt"
	stdhtml "html"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/reader/stats"
)

// Chart geometry, in SVG user units (the page scales them to its width).
const (
	chartWidth  = 900
	chartHeight = 220
	barHeight   = 18
	barGap      = 4
	labelWidth  = 300

	smallWidth      = 440
	smallLabelWidth = 110
)

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"rateChart": rateChart,
	"bars":      bars,
	"smallBars": smallBars,
	"topBars":   topBars,
	"time":      func(t time.Time) string { return t.Format(time.RFC3339) },
	"seconds":   func(s float64) string { return time.Duration(s * 1e9).Round(time.Millisecond).String() },
}).Parse(pageTemplate))

// Write writes the page for r to w.
func Write(w io.Writer, r *stats.Report) error {
	if err := page.Execute(w, r); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// rateChart draws queries per second over time as an area chart.
func rateChart(r stats.Rate) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="queries per second over time">`, chartWidth, chartHeight+30)
	pts := r.Points
	if len(pts) == 0 {
		b.WriteString(`<text x="10" y="20">no queries</text></svg>`)
		return template.HTML(b.String())
	}
	peak := 0.0
	for _, p := range pts {
		peak = max(peak, p.QPS)
	}
	if peak == 0 {
		peak = 1
	}
	const left = 60
	w := float64(chartWidth - left - 10)
	x := func(i int) float64 {
		if len(pts) == 1 {
			return left + w/2
		}
		return left + w*float64(i)/float64(len(pts)-1)
	}
	y := func(v float64) float64 { return 10 + float64(chartHeight-20)*(1-v/peak) }
	// Axes and labels.
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="axis"/>`, left, chartHeight-10, chartWidth-10, chartHeight-10)
	fmt.Fprintf(&b, `<line x1="%d" y1="10" x2="%d" y2="%d" class="axis"/>`, left, left, chartHeight-10)
	fmt.Fprintf(&b, `<text x="%d" y="16" class="ylab">%.1f</text>`, left-4, peak)
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="ylab">0</text>`, left-4, chartHeight-10)
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left, chartHeight+10, pts[0].Time.Format(time.RFC3339))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, chartWidth-10, chartHeight+10, pts[len(pts)-1].Time.Format(time.RFC3339))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">queries/s, every %gs</text>`, chartWidth/2, chartHeight+25, r.IntervalSeconds)
	// Area.
	fmt.Fprintf(&b, `<path class="area" d="M%.1f,%.1f`, x(0), y(0))
	for i, p := range pts {
		fmt.Fprintf(&b, ` L%.1f,%.1f`, x(i), y(p.QPS))
	}
	fmt.Fprintf(&b, ` L%.1f,%.1f Z"/>`, x(len(pts)-1), y(0))
	// Hover targets with the exact value.
	for i, p := range pts {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" class="dot"><title>%s: %d queries (%.1f/s)</title></circle>`,
			x(i), y(p.QPS), p.Time.Format(time.RFC3339), p.Queries, p.QPS)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

type bar struct {
	label string
	value uint64
	note  string
}

// barChart draws horizontal bars; small charts are for the two-column grid.
func barChart(title string, rows []bar, small bool) template.HTML {
	var b strings.Builder
	width, labelWidth := chartWidth, labelWidth
	if small {
		width, labelWidth = smallWidth, smallLabelWidth
	}
	h := len(rows)*(barHeight+barGap) + 10
	if len(rows) == 0 {
		h = 30
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, width, h, stdhtml.EscapeString(title))
	if len(rows) == 0 {
		b.WriteString(`<text x="10" y="20">none</text></svg>`)
		return template.HTML(b.String())
	}
	var peak uint64 = 1
	for _, r := range rows {
		peak = max(peak, r.value)
	}
	w := float64(width - labelWidth - 80)
	for i, r := range rows {
		y := 5 + i*(barHeight+barGap)
		bw := math.Max(1, w*float64(r.value)/float64(peak))
		label := r.label
		if len(label) > 45 {
			label = label[:42] + "..."
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="lab">%s</text>`, labelWidth-6, y+barHeight-5, stdhtml.EscapeString(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" class="bar"><title>%s: %d%s</title></rect>`,
			labelWidth, y, bw, barHeight, stdhtml.EscapeString(r.label), r.value, stdhtml.EscapeString(r.note))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="val">%d%s</text>`, float64(labelWidth)+bw+6, y+barHeight-5, r.value, stdhtml.EscapeString(r.note))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func bars(title string, c []stats.Count) template.HTML { return countBars(title, c, false) }

func smallBars(title string, c []stats.Count) template.HTML { return countBars(title, c, true) }

func countBars(title string, c []stats.Count, small bool) template.HTML {
	rows := make([]bar, 0, len(c))
	for _, x := range c {
		rows = append(rows, bar{label: x.Key, value: x.Count})
	}
	return barChart(title, rows, small)
}

func topBars(title string, t []stats.Top) template.HTML {
	rows := make([]bar, 0, len(t))
	for _, x := range t {
		r := bar{label: x.Key, value: x.Count}
		if x.Error != 0 {
			r.note = fmt.Sprintf(" (±%d)", x.Error)
		}
		rows = append(rows, r)
	}
	return barChart(title, rows, false)
}

const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>dnstap stats{{if not .Span.First.IsZero}} {{time .Span.First}} to {{time .Span.Last}}{{end}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 960px; color: #1b1f24; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: 2px 10px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.chart { width: 100%; height: auto; font-size: 12px; }
.axis { stroke: #57606a; stroke-width: 1; } .ylab { text-anchor: end; }
.area { fill: #218bff; fill-opacity: .35; stroke: #0969da; stroke-width: 1.5; }
.dot { fill: #0969da; } .bar { fill: #2da44e; } .lab { fill: #1b1f24; } .val { fill: #57606a; }
.signals { table-layout: fixed; width: 100%; } .signals th.kind { width: 13em; } .signals th.subject { width: 11em; }
.signals td { border-top: 1px solid #eee; vertical-align: top; overflow-wrap: anywhere; } .signals td.kind { color: #cf222e; font-weight: 600; }
.none { color: #2da44e; } .note { color: #57606a; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 2em; }
</style>
</head>
<body>
<h1>dnstap stats</h1>
<table>
<tr><th>messages</th><td class="n">{{.Messages}}</td></tr>
{{if .Malformed}}<tr><th>malformed</th><td class="n">{{.Malformed}}</td></tr>{{end}}
{{if not .Span.First.IsZero}}<tr><th>from</th><td>{{time .Span.First}}</td></tr>
<tr><th>to</th><td>{{time .Span.Last}}</td></tr>
<tr><th>span</th><td>{{seconds .Span.Seconds}}</td></tr>{{end}}
<tr><th>accuracy</th><td>{{if .Accuracy.Exact}}exact{{else}}top tables: space-saving, {{.Accuracy.Capacity}} keys each; latency ±{{.Accuracy.LatencyRelativeError}} (relative){{end}}</td></tr>
</table>

<h2>Abnormal signals</h2>
{{if .Signals}}<table class="signals">
<tr><th class="kind">signal</th><th class="subject">subject</th><th>reason</th></tr>
{{range .Signals}}<tr><td class="kind">{{.Kind}}</td><td>{{.Subject}}</td><td>{{.Reason}}{{if .Sample}}, e.g. <code>{{.Sample}}</code>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="none">none</p>{{end}}

<h2>Queries over time</h2>
<p class="note">median {{printf "%.1f" .Rate.MedianQPS}} q/s, peak {{printf "%.1f" .Rate.PeakQPS}} q/s</p>
{{rateChart .Rate}}

<div class="grid">
<div><h2>Message types</h2>{{smallBars "message types" .ByType}}</div>
<div><h2>Transports and families</h2>{{smallBars "transports" .ByTransport}}{{smallBars "families" .ByFamily}}</div>
<div><h2>Query types</h2>{{smallBars "query types" .QTypes}}</div>
<div><h2>Response codes</h2>{{smallBars "response codes" .RCodes}}</div>
</div>

<h2>Top domains</h2>{{topBars "top domains by queries" .Domains.ByQueries}}
<h2>Top domains by NXDOMAIN</h2>{{topBars "top domains by NXDOMAIN" .Domains.ByNXDOMAIN}}
<h2>Top clients</h2>{{topBars "top clients by queries" .Clients.ByQueries}}
<h2>Top clients by NXDOMAIN</h2>{{topBars "top clients by NXDOMAIN" .Clients.ByNXDOMAIN}}
<h2>Top names</h2>{{topBars "top names by queries" .Names.ByQueries}}
<h2>Top names by NXDOMAIN</h2>{{topBars "top names by NXDOMAIN" .Names.ByNXDOMAIN}}
<h2>Top names by SERVFAIL</h2>{{topBars "top names by SERVFAIL" .Names.BySERVFAIL}}

<h2>Response sizes</h2>
<p class="note">p50 {{.ResponseSize.P50}}, p90 {{.ResponseSize.P90}}, p99 {{.ResponseSize.P99}}, max {{.ResponseSize.Max}} bytes</p>
{{bars "response sizes" .ResponseSize.Buckets}}

<h2>Latency</h2>
<p class="note">By the query and response types matched: BIND 9.18 logs an authoritative answer as AQ, then CR.</p>
{{if .Latency}}<table>
<tr><th>pair</th><th>timed</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>
{{range .Latency}}<tr><td>{{.Pair}}</td><td class="n">{{.Timed}}</td><td class="n">{{.P50ms}}</td><td class="n">{{.P90ms}}</td><td class="n">{{.P99ms}}</td><td class="n">{{.MaxMs}}</td></tr>
{{end}}</table>{{else}}<p>none timed</p>{{end}}
{{if .Pairing}}<table>
<tr><th>type</th><th>messages</th><th>paired</th><th>unpaired</th></tr>
{{range .Pairing}}<tr><td>{{.Type}}</td><td class="n">{{.Messages}}</td><td class="n">{{.Paired}}</td><td class="n">{{.Unpaired}}</td></tr>
{{end}}</table>
<p class="note">Paired: a query answered by a response matched to it, a response timed.</p>{{end}}
{{with .Baseline}}<h2>Domains not in the baseline</h2>
<p>{{.Distinct}} new domains ({{.Queries}} queries); the baseline had {{.BaselineDomains}}.</p>
{{topBars "new domains" .Top}}{{end}}
</body>
</html>
`
