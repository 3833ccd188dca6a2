package sketch

import (
	"cmp"
	"slices"
)

// TopK is the space-saving heavy-hitters summary of Metwally, Agrawal and El Abbadi (2005).
// With capacity k it keeps k counters; a key that is not tracked replaces the key with the
// smallest count m and starts at m+weight with an error of m. Every reported count
// overestimates the true count by at most its Err, and Err <= N/k where N is the total
// weight added, so any key whose true count exceeds N/k is always tracked.
//
// V is a payload kept with each key (sub-counters, a sample); it is reset to its zero value
// when the key's slot is taken by another key, so a payload counts only since the key
// entered the table. TopK is not safe for concurrent use.
type TopK[V any] struct {
	capacity int
	index    map[string]*node[V]
	heap     []*node[V] // min-heap on Count
	total    uint64
}

// Entry is one tracked key. The true count lies in [Count-Err, Count].
type Entry[V any] struct {
	Key   string
	Count uint64
	Err   uint64
	Value V
}

type node[V any] struct {
	Entry[V]
	pos int
}

// NewTopK returns a summary with room for capacity keys; capacity <= 0 makes it exact
// (unbounded: it never evicts, and every Err is 0).
func NewTopK[V any](capacity int) *TopK[V] {
	if capacity < 0 {
		capacity = 0
	}
	return &TopK[V]{capacity: capacity, index: make(map[string]*node[V], min(capacity, 1<<12))}
}

// Exact reports whether t never evicts.
func (t *TopK[V]) Exact() bool { return t.capacity == 0 }

// Total returns the sum of all weights added.
func (t *TopK[V]) Total() uint64 { return t.total }

// Len returns the number of tracked keys.
func (t *TopK[V]) Len() int { return len(t.heap) }

// MaxErr returns the largest possible overestimate of any count: the smallest tracked count
// once the table is full, 0 before (or when exact).
func (t *TopK[V]) MaxErr() uint64 {
	if t.capacity == 0 || len(t.heap) < t.capacity {
		return 0
	}
	return t.heap[0].Count
}

// Add adds weight to key and returns the payload of its entry, valid until the next Add.
// key is copied only when a new entry is made.
func (t *TopK[V]) Add(key []byte, weight uint64) *V {
	t.total += weight
	if e, ok := t.index[string(key)]; ok {
		e.Count += weight
		t.down(e.pos)
		return &e.Value
	}
	k := string(key)
	if t.capacity == 0 || len(t.heap) < t.capacity {
		e := &node[V]{Entry: Entry[V]{Key: k, Count: weight}, pos: len(t.heap)}
		t.heap = append(t.heap, e)
		t.index[k] = e
		t.up(e.pos)
		return &e.Value
	}
	// Replace the minimum.
	e := t.heap[0]
	delete(t.index, e.Key)
	m := e.Count
	e.Entry = Entry[V]{Key: k, Count: m + weight, Err: m}
	t.index[k] = e
	t.down(0)
	return &e.Value
}

// Get returns the entry for key, or nil when it is not tracked.
func (t *TopK[V]) Get(key string) *Entry[V] {
	if e, ok := t.index[key]; ok {
		return &e.Entry
	}
	return nil
}

// Top returns copies of the n entries with the highest counts, highest first (ties by key);
// n <= 0 returns all.
func (t *TopK[V]) Top(n int) []Entry[V] {
	out := make([]Entry[V], len(t.heap))
	for i, e := range t.heap {
		out[i] = e.Entry
	}
	slices.SortFunc(out, func(a, b Entry[V]) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// All calls f for every tracked entry, in no particular order.
func (t *TopK[V]) All(f func(*Entry[V])) {
	for _, e := range t.heap {
		f(&e.Entry)
	}
}

func (t *TopK[V]) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.heap[i].pos = i
	t.heap[j].pos = j
}

func (t *TopK[V]) up(i int) int {
	for i > 0 {
		p := (i - 1) / 2
		if t.heap[p].Count <= t.heap[i].Count {
			break
		}
		t.swap(i, p)
		i = p
	}
	return i
}

func (t *TopK[V]) down(i int) int {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return i
		}
		c := l
		if r := l + 1; r < n && t.heap[r].Count < t.heap[l].Count {
			c = r
		}
		if t.heap[i].Count <= t.heap[c].Count {
			return i
		}
		t.swap(i, c)
		i = c
	}
}

// Lookup returns the payload of key when it is tracked, nil otherwise; it adds nothing.
func (t *TopK[V]) Lookup(key []byte) *V {
	if e, ok := t.index[string(key)]; ok {
		return &e.Value
	}
	return nil
}
