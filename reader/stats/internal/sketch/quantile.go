package sketch

import (
	"math"
	"slices"
)

// Quantile estimates quantiles of positive durations (or any positive values) with a fixed
// relative error, in the manner of DDSketch (Masson, Rim and Lee, 2019): values fall into
// logarithmic buckets of ratio gamma = (1+a)/(1-a), and a quantile is reported as the middle
// of its bucket, so it is within a fraction a of a true value of that rank. Memory is a few
// thousand counters whatever the input. In exact mode every value is kept and sorted.
type Quantile struct {
	alpha    float64
	logGamma float64
	counts   []uint64 // counts[i] holds values in (gamma^(i-1+minIndex), gamma^(i+minIndex)]
	low      uint64   // values <= 1 (below the first bucket)
	n        uint64
	max      float64
	exact    []float64
	isExact  bool
}

// quantileBuckets covers 1 to gamma^4096: with a = 1% that is beyond 10^35, far more than
// any latency in nanoseconds.
const quantileBuckets = 4096

// NewQuantile returns a sketch with relative accuracy alpha (0.01 is 1%); exact keeps every
// value instead.
func NewQuantile(alpha float64, exact bool) *Quantile {
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.01
	}
	gamma := (1 + alpha) / (1 - alpha)
	q := &Quantile{alpha: alpha, logGamma: math.Log(gamma), isExact: exact}
	if !exact {
		q.counts = make([]uint64, quantileBuckets)
	}
	return q
}

// RelativeError returns the sketch's bound on relative error (0 when exact).
func (q *Quantile) RelativeError() float64 {
	if q.isExact {
		return 0
	}
	return q.alpha
}

// Add records v; values below 1 count as 1.
func (q *Quantile) Add(v float64) {
	q.n++
	if v > q.max {
		q.max = v
	}
	if q.isExact {
		q.exact = append(q.exact, v)
		return
	}
	if v <= 1 {
		q.low++
		return
	}
	i := int(math.Ceil(math.Log(v) / q.logGamma))
	if i >= quantileBuckets {
		i = quantileBuckets - 1
	}
	q.counts[i]++
}

// Count returns the number of values added.
func (q *Quantile) Count() uint64 { return q.n }

// Max returns the largest value added (exact), 0 when empty.
func (q *Quantile) Max() float64 { return q.max }

// Quantile returns the estimate of the p-quantile (0 <= p <= 1), 0 when empty. The value of
// rank ceil(p*n) (1-based, at least 1) is reported.
func (q *Quantile) Quantile(p float64) float64 {
	if q.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p * float64(q.n)))
	if rank < 1 {
		rank = 1
	}
	if rank > q.n {
		rank = q.n
	}
	if q.isExact {
		if !slices.IsSorted(q.exact) {
			slices.Sort(q.exact)
		}
		return q.exact[rank-1]
	}
	seen := q.low
	if seen >= rank {
		return 1
	}
	for i, c := range q.counts {
		seen += c
		if seen >= rank {
			// The bucket is (gamma^(i-1), gamma^i]; its middle in relative terms.
			v := 2 * math.Exp(float64(i)*q.logGamma) / (1 + math.Exp(q.logGamma))
			return min(v, q.max)
		}
	}
	return q.max
}
