package collectortest

import (
	"regexp"
	"strconv"
)

// CompareCounts compares two multisets of frames (or messages): how many of want's are
// missing from got, how many got holds more often than want (duplicates), and how many got
// holds that want has not at all (alien).
func CompareCounts(want, got map[string]int) (missing, dups, alien int) {
	for m, n := range want {
		if c := got[m]; c < n {
			missing += n - c
		} else {
			dups += c - n
		}
	}
	for m, c := range got {
		if want[m] == 0 {
			alien += c
		}
	}
	return missing, dups, alien
}

var metricLine = regexp.MustCompile(`(?m)^(dnstap_[a-z_]+)(?:\{[^}]*\})? (\S+)$`)

// ParseMetrics returns the dnstap_* samples of a Prometheus text page by name (labels
// dropped: the collector exports one sample per name but for the rejection reasons).
func ParseMetrics(page string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range metricLine.FindAllStringSubmatch(page, -1) {
		out[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	return out
}
