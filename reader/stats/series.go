package stats

// series counts queries per time bucket. It starts at one-second buckets and doubles the
// bucket width whenever it holds more than maxBuckets, so a month of input stays small.
type series struct {
	width      int64 // bucket width in ns
	maxBuckets int
	counts     map[int64]*uint64 // bucket start / width -> queries
	lastKey    int64
	last       *uint64
}

const (
	seriesBaseWidth  = int64(1e9) // one second: the finest rate a report shows
	seriesMaxBuckets = 1 << 16    // 18 hours at 1 s; a month at 64 s
)

func newSeries() *series {
	return &series{width: seriesBaseWidth, maxBuckets: seriesMaxBuckets, counts: map[int64]*uint64{}}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (s *series) add(t int64) {
	k := floorDiv(t, s.width)
	if s.last != nil && k == s.lastKey {
		*s.last++
		return
	}
	p, ok := s.counts[k]
	if !ok {
		p = new(uint64)
		s.counts[k] = p
	}
	*p++
	s.lastKey, s.last = k, p
	if len(s.counts) > s.maxBuckets {
		s.coarsen()
	}
}

func (s *series) coarsen() {
	old := s.counts
	s.width *= 2
	s.counts = make(map[int64]*uint64, len(old)/2+1)
	for k, v := range old {
		nk := floorDiv(k, 2)
		if p, ok := s.counts[nk]; ok {
			*p += *v
		} else {
			s.counts[nk] = v
		}
	}
	s.last = nil
}
