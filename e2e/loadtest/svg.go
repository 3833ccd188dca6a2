package loadtest

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
)

// modeColors gives each mode its color in the chart (mode 1 first).
var modeColors = []string{"#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2"}

// curve is one mode's line in a panel: a value per offered load.
type curve struct {
	mode   Mode
	dashed bool
	pts    [][2]float64 // x: percent of saturation (saturation at 100), y
}

// SVG draws, for each BIND and pinning, two panels against the offered load (percent of
// mode 1's saturation; saturation itself at 100%): named's p99 latency (solid) and p50
// (dashed) on a log scale, and named's CPU per query, one line per mode. This is the curve
// an operator reads: where querylog bends and dnstap does not. No external tool: plain SVG.
func (r *Report) SVG(w io.Writer) error {
	type group struct{ bind, pin string }
	var groups []group
	var modes []Mode
	for _, s := range r.Summaries {
		if g := (group{s.Bind, s.Pinning}); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
		if !slices.Contains(modes, s.Mode) {
			modes = append(modes, s.Mode)
		}
	}
	const panelW, panelH, rowH, left, gap = 400, 240, 320, 70, 110
	width := left + 2*panelW + gap + 20
	height := 50 + rowH*max(1, len(groups)) + 20*((len(modes)+2)/3) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	for gi, g := range groups {
		var lat, cpu []curve
		for _, m := range modes {
			p99, p50, c := curve{mode: m}, curve{mode: m, dashed: true}, curve{mode: m}
			for _, s := range r.Summaries {
				if s.Bind != g.bind || s.Pinning != g.pin || s.Mode != m || s.Rounds == 0 {
					continue
				}
				x := float64(s.OfferedPct)
				if s.OfferedPct == 0 {
					x = 100
				}
				if s.P99Latency > 0 {
					p99.pts = append(p99.pts, [2]float64{x, ms(s.P99Latency)})
				}
				if s.P50Latency > 0 {
					p50.pts = append(p50.pts, [2]float64{x, ms(s.P50Latency)})
				}
				if s.NamedCPUPerQuery > 0 {
					c.pts = append(c.pts, [2]float64{x, us(s.NamedCPUPerQuery)})
				}
			}
			lat = append(lat, p99, p50)
			cpu = append(cpu, c)
		}
		y0 := 60 + gi*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" font-weight="bold">%s</text>`+"\n", 10, y0-36,
			html.EscapeString(fmt.Sprintf("BIND %s, %s", g.bind, g.pin)))
		linePanel(&b, left, y0, panelW, panelH, "latency, ms (log scale): p99 solid, p50 dashed", true, lat)
		linePanel(&b, left+panelW+gap, y0, panelW, panelH, "named CPU µs per query", false, cpu)
	}
	ly := 50 + rowH*max(1, len(groups))
	for i, m := range modes {
		x, y := left+(i%3)*260, ly+(i/3)*20
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%d: %s</text>`+"\n",
			x, y-4, x+20, y-4, modeColor(m), x+26, y, int(m), html.EscapeString(m.String()))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func modeColor(m Mode) string { return modeColors[(int(m)-1+len(modeColors))%len(modeColors)] }

// linePanel draws curves against offered load (x from 0 to 100%) with a y axis from 0 (or,
// on a log scale, from the decade below the smallest value) to a rounded maximum.
func linePanel(b *strings.Builder, x0, y0, w, h int, title string, logY bool, cs []curve) {
	lo, hi := math.Inf(1), 0.0
	for _, c := range cs {
		for _, p := range c.pts {
			lo, hi = min(lo, p[1]), max(hi, p[1])
		}
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="12">%s</text>`+"\n", x0, y0-12, html.EscapeString(title))
	if hi == 0 {
		fmt.Fprintf(b, `<text x="%d" y="%d">no data</text>`+"\n", x0+w/2-25, y0+h/2)
		return
	}
	var yOf func(v float64) float64
	var ticks []float64
	if logY {
		bot, top := math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
		if top <= bot {
			top = bot * 10
		}
		yOf = func(v float64) float64 {
			return float64(y0+h) - float64(h)*(math.Log10(v)-math.Log10(bot))/(math.Log10(top)-math.Log10(bot))
		}
		for t := bot; t <= top*1.0001; t *= 10 {
			ticks = append(ticks, t)
		}
	} else {
		top := niceCeil(hi)
		yOf = func(v float64) float64 { return float64(y0+h) - float64(h)*v/top }
		for i := 0; i <= 4; i++ {
			ticks = append(ticks, top*float64(i)/4)
		}
	}
	for _, t := range ticks {
		y := yOf(t)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", x0, y, x0+w, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-5, y+4, tick(t))
	}
	xOf := func(pct float64) float64 { return float64(x0) + float64(w)*pct/100 }
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, y0+h, x0+w, y0+h)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", x0, y0, x0, y0+h)
	for _, pct := range []int{0, 25, 50, 75, 100} {
		label := fmt.Sprintf("%d%%", pct)
		if pct == 100 {
			label = "saturation"
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", xOf(float64(pct)), y0+h+16, label)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">offered load, %% of mode 1's saturation</text>`+"\n", xOf(50), y0+h+34)
	for _, c := range cs {
		if len(c.pts) == 0 {
			continue
		}
		pts := slices.Clone(c.pts)
		slices.SortFunc(pts, func(a, b [2]float64) int { return int(a[0] - b[0]) })
		var path []string
		for _, p := range pts {
			path = append(path, fmt.Sprintf("%.1f,%.1f", xOf(p[0]), yOf(p[1])))
		}
		dash := ""
		if c.dashed {
			dash = ` stroke-dasharray="5,4"`
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(path, " "), modeColor(c.mode), dash)
		for _, p := range pts {
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>mode %d at %s: %s</title></circle>`+"\n",
				xOf(p[0]), yOf(p[1]), modeColor(c.mode), int(c.mode), pointLabel(p[0]), tick(p[1]))
		}
	}
}

func pointLabel(x float64) string {
	if x >= 100 {
		return "saturation"
	}
	return fmt.Sprintf("%.0f%%", x)
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
