package loadtest

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
)

type series struct {
	name   string
	color  string
	values []float64 // one per group; NaN for none
}

// SVG draws two bar charts side by side: queries/s by mode, and average and p99 latency by
// mode, one bar per pinning. No external tool: plain SVG text.
func (r *Report) SVG(w io.Writer) error {
	var modes []Mode
	var pins []string
	for _, s := range r.Summaries {
		if !slices.Contains(modes, s.Mode) {
			modes = append(modes, s.Mode)
		}
		if !slices.Contains(pins, s.Pinning) {
			pins = append(pins, s.Pinning)
		}
	}
	value := func(m Mode, pin string, f func(Summary) float64) float64 {
		for _, s := range r.Summaries {
			if s.Mode == m && s.Pinning == pin && s.Rounds > 0 {
				return f(s)
			}
		}
		return math.NaN()
	}
	colors := []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759"}
	var qps, lat []series
	for i, pin := range pins {
		s := series{name: pin, color: colors[i%2*2]}
		avg := series{name: "avg " + pin, color: colors[i%2*2]}
		p99 := series{name: "p99 " + pin, color: colors[i%2*2+1]}
		for _, m := range modes {
			s.values = append(s.values, value(m, pin, func(s Summary) float64 { return s.QPS }))
			avg.values = append(avg.values, value(m, pin, func(s Summary) float64 { return ms(s.AvgLatency) }))
			p99.values = append(p99.values, value(m, pin, func(s Summary) float64 { return ms(s.P99Latency) }))
		}
		qps = append(qps, s)
		lat = append(lat, avg, p99)
	}
	groups := make([]string, len(modes))
	for i, m := range modes {
		groups[i] = fmt.Sprintf("%d", int(m))
	}
	const width, height = 1000, 470
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	barPanel(&b, 60, 40, 400, 300, "queries/s by mode", groups, qps)
	barPanel(&b, 570, 40, 400, 300, "latency (ms) by mode", groups, lat)
	// Mode legend under the panels.
	y := 420
	for i, m := range modes {
		fmt.Fprintf(&b, `<text x="%d" y="%d">%d: %s</text>`+"\n", 60+(i%3)*310, y+(i/3)*18, int(m), html.EscapeString(m.String()))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// barPanel draws grouped bars with a y axis from 0 to a rounded maximum.
func barPanel(b *strings.Builder, x0, y0, w, h int, title string, groups []string, ss []series) {
	top := 0.0
	for _, s := range ss {
		for _, v := range s.values {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	top = niceCeil(top)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", x0, y0-15, html.EscapeString(title))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := float64(y0+h) - float64(h)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", x0, y, x0+w, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-5, y+4, tick(v))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, y0+h, x0+w, y0+h)
	if len(groups) == 0 || len(ss) == 0 {
		return
	}
	gw := float64(w) / float64(len(groups))
	bw := gw * 0.8 / float64(len(ss))
	for gi, g := range groups {
		gx := float64(x0) + gw*float64(gi) + gw*0.1
		for si, s := range ss {
			v := s.values[gi]
			if math.IsNaN(v) || top == 0 {
				continue
			}
			bh := float64(h) * v / top
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s mode %s: %s</title></rect>`+"\n",
				gx+bw*float64(si), float64(y0+h)-bh, bw-1, bh, s.color, html.EscapeString(s.name), g, tick(v))
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx+gw*0.4, y0+h+16, html.EscapeString(g))
	}
	for si, s := range ss {
		lx := x0 + (si%2)*200
		ly := y0 + h + 34 + (si/2)*16
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n",
			lx, ly-9, s.color, lx+14, ly, html.EscapeString(s.name))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func tick(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.4gk", v/1000)
	case v == 0:
		return "0"
	case v >= 10:
		return fmt.Sprintf("%.3g", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}
