package sketch

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopKExactCounts(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		stream   []string
		want     []Entry[struct{}]
	}{
		{"exact", 0, []string{"a", "b", "a", "c", "a", "b"},
			[]Entry[struct{}]{{Key: "a", Count: 3}, {Key: "b", Count: 2}, {Key: "c", Count: 1}}},
		{"fits", 3, []string{"a", "b", "a", "c", "a", "b"},
			[]Entry[struct{}]{{Key: "a", Count: 3}, {Key: "b", Count: 2}, {Key: "c", Count: 1}}},
		// capacity 2: c replaces b (count 1) and inherits its count as error.
		{"evicts", 2, []string{"a", "a", "b", "c"},
			[]Entry[struct{}]{{Key: "a", Count: 2}, {Key: "c", Count: 2, Err: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			top := NewTopK[struct{}](tc.capacity)
			for _, k := range tc.stream {
				top.Add([]byte(k), 1)
			}
			got := top.Top(0)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Top(0) = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTopKErrorBound checks the space-saving guarantees on a skewed stream: every count is
// an overestimate by at most its Err, Err <= N/k, and every key above N/k is tracked.
func TestTopKErrorBound(t *testing.T) {
	const k, n = 64, 200000
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.2, 1, 100000)
	truth := map[string]uint64{}
	top := NewTopK[uint64](k)
	for range n {
		key := fmt.Sprint(z.Uint64())
		truth[key]++
		*top.Add([]byte(key), 1)++
	}
	bound := uint64(n / k)
	for _, e := range top.Top(0) {
		tc := truth[e.Key]
		if e.Count < tc || e.Count-e.Err > tc {
			t.Errorf("%s: count %d err %d, true %d: true count outside [Count-Err, Count]", e.Key, e.Count, e.Err, tc)
		}
		if e.Err > bound {
			t.Errorf("%s: err %d > N/k = %d", e.Key, e.Err, bound)
		}
		if e.Value > tc || e.Value != e.Count-e.Err {
			t.Errorf("%s: payload %d, want Count-Err = %d (<= true %d)", e.Key, e.Value, e.Count-e.Err, tc)
		}
	}
	for key, c := range truth {
		if c > bound && top.Get(key) == nil {
			t.Errorf("key %s with true count %d > N/k = %d not tracked", key, c, bound)
		}
	}
	if top.Total() != n {
		t.Errorf("Total() = %d, want %d", top.Total(), n)
	}
	if top.MaxErr() > bound {
		t.Errorf("MaxErr() = %d > %d", top.MaxErr(), bound)
	}
}

func TestQuantileRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vals := make([]float64, 50000)
	sk := NewQuantile(0.01, false)
	ex := NewQuantile(0.01, true)
	for i := range vals {
		v := math.Exp(r.NormFloat64()*2 + 12) // lognormal, around 160 µs in ns
		vals[i] = v
		sk.Add(v)
		ex.Add(v)
	}
	slices.Sort(vals)
	for _, p := range []float64{0, 0.5, 0.9, 0.99, 1} {
		rank := max(int(math.Ceil(p*float64(len(vals)))), 1)
		want := vals[rank-1]
		if got := ex.Quantile(p); got != want {
			t.Errorf("exact Quantile(%v) = %v, want %v", p, got, want)
		}
		if got := sk.Quantile(p); math.Abs(got-want) > 0.0101*want {
			t.Errorf("sketch Quantile(%v) = %v, want %v within 1%%", p, got, want)
		}
	}
	if sk.Max() != vals[len(vals)-1] || sk.Count() != uint64(len(vals)) {
		t.Errorf("Max, Count = %v, %d; want %v, %d", sk.Max(), sk.Count(), vals[len(vals)-1], len(vals))
	}
	if got := NewQuantile(0.01, false).Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile(0.5) = %v, want 0", got)
	}
}

func TestBloom(t *testing.T) {
	for _, exact := range []bool{false, true} {
		t.Run(fmt.Sprint("exact=", exact), func(t *testing.T) {
			b := NewBloom(20, exact) // 1 Mbit
			seed := maphash.MakeSeed()
			const n = 100000 // one key per ~10 bits
			fresh := 0
			for i := range n {
				if b.AddNew(maphash.String(seed, fmt.Sprint("name", i))) {
					fresh++
				}
			}
			for i := range n {
				if !b.Has(maphash.String(seed, fmt.Sprint("name", i))) {
					t.Fatalf("false negative for name%d", i)
				}
				if b.AddNew(maphash.String(seed, fmt.Sprint("name", i))) {
					t.Fatalf("AddNew(name%d) twice reported new", i)
				}
			}
			fp := 0
			for i := range n {
				if b.Has(maphash.String(seed, fmt.Sprint("other", i))) {
					fp++
				}
			}
			if exact && (fp != 0 || fresh != n) {
				t.Errorf("exact: %d false positives, %d new; want 0, %d", fp, fresh, n)
			}
			if !exact && (fp > n/25 || fresh < n*96/100) {
				t.Errorf("bloom: %d false positives, %d new of %d; want < 4%% and > 96%%", fp, fresh, n)
			}
		})
	}
}

func BenchmarkTopKAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, 1000000)
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "host%d.example.org.", z.Uint64())
	}
	top := NewTopK[struct{}](4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		top.Add(keys[i&(len(keys)-1)], 1)
	}
}
