package loadtest

import (
	"fmt"
	"math"
	"slices"
)

// GoalPct is the highest offered load, in percent of mode 1's saturation, at which the goal
// asks for zero dnstap drops: an operator's router runs below it.
const GoalPct = 80

// DefaultOffered are the offered loads of a run, in percent of mode 1's saturation qps.
var DefaultOffered = []int{25, 50, 80}

// Point is one load level: saturation (Pct 0: dnsperf as fast as named answers, capped only
// by Load.MaxQPS) or a fixed offered rate (dnsperf -Q QPS), Pct percent of mode 1's
// saturation qps under the same pinning.
type Point struct {
	Pct int // percent of mode 1's saturation; 0 for saturation
	QPS int // dnsperf -Q; 0 for none
}

// Saturation is the point at which dnsperf sends as fast as named answers.
var Saturation = Point{}

// Name is "saturation" or "25%".
func (p Point) Name() string { return pointName(p.Pct) }

func pointName(pct int) string {
	if pct == 0 {
		return "saturation"
	}
	return fmt.Sprintf("%d%%", pct)
}

// offeredPoint is pct percent of the saturation rate sat, rounded to a whole query per second.
func offeredPoint(sat float64, pct int) Point {
	return Point{Pct: pct, QPS: int(math.Round(sat * float64(pct) / 100))}
}

// Drops is what a round lost of its dnstap frames: named's DNSTAPdropped, plus the frames
// named handed to fstrm that are not in the collector's files. 0 for modes without dnstap.
func (r RoundResult) Drops() int64 {
	if !r.Mode.Dnstap() {
		return 0
	}
	d := r.Total.DnstapDropped
	if r.Frames != nil && r.Frames.Total < r.Total.DnstapSuccess {
		d += r.Total.DnstapSuccess - r.Frames.Total
	}
	return d
}

// SearchStep is one rate the zero-drop search tried.
type SearchStep struct {
	Pct    int    `json:"pct"`       // percent of mode 1's saturation
	QPS    int    `json:"qps"`       // dnsperf -Q
	Rounds int    `json:"rounds"`    // rounds run: a rate is given up at its first round with a drop
	Drops  int64  `json:"drops"`     // frames dropped in those rounds (BIND and collector)
	Clean  bool   `json:"zero_drop"` // no drop in every one of Config.Rounds rounds
	Error  string `json:"error,omitempty"`
}

// Search is the outcome of the short search for the highest offered rate at which a mode
// drops no dnstap frame in any round, run when the goal's GoalPct point dropped.
type Search struct {
	Bind       string       `json:"bind"`
	Pinning    string       `json:"pinning"`
	Mode       Mode         `json:"mode"`
	Name       string       `json:"name"`
	Saturation float64      `json:"saturation_qps"` // mode 1's, the 100% of the percentages
	From       int          `json:"from_pct"`       // highest offered point with no drop (0: none)
	To         int          `json:"to_pct"`         // lowest offered point with a drop (0: none up to GoalPct, no search)
	ZeroDrop   int          `json:"zero_drop_pct"`  // the answer: highest rate with no drop in every round (0: none found)
	Steps      []SearchStep `json:"steps"`
}

// ZeroDropQPS is the answer as queries per second.
func (s Search) ZeroDropQPS() int { return offeredPoint(s.Saturation, s.ZeroDrop).QPS }

// bisect narrows the bracket (lo clean, hi not clean; percent of saturation) with at most
// steps probes, stopping once it is 2 points wide, and returns the highest clean rate
// found. A probe that fails (err) counts as not clean: no claim of zero drops without a
// measurement.
func bisect(lo, hi, steps int, probe func(pct int) bool) int {
	for range steps {
		if hi-lo <= 2 {
			break
		}
		mid := (lo + hi) / 2
		if probe(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// searchBracket returns, for one mode's summaries at the offered points (not saturation),
// the highest point at or below GoalPct with no drop in any round (0 when none), the lowest
// point above it that dropped, and whether a search is needed at all (the GoalPct point, or
// the highest one below it, dropped in some round).
func searchBracket(sums []Summary) (lo, hi int, need bool) {
	var pts []Summary
	for _, s := range sums {
		if s.OfferedPct > 0 && s.OfferedPct <= GoalPct && s.Rounds > 0 {
			pts = append(pts, s)
		}
	}
	slices.SortFunc(pts, func(a, b Summary) int { return a.OfferedPct - b.OfferedPct })
	if len(pts) == 0 {
		return 0, 0, false
	}
	for _, s := range pts {
		if s.DropRounds > 0 {
			return lo, s.OfferedPct, true
		}
		lo = s.OfferedPct
	}
	return lo, 0, false
}
