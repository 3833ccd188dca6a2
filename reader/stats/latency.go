package stats

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/dnstapkit/dnstapkit/reader/stats/internal/sketch"
)

// answerTimeout is how long a query waits for its response before it counts as unanswered:
// BIND's default resolver-query-timeout is 10 s, and stub resolvers give up sooner.
const answerTimeout = int64(10e9)

// pendingMax bounds the queries waiting for a response (sketch mode): 16 bytes each in the
// ring and about 40 in the map, so at most ~56 MiB.
const pendingMax = 1 << 20

type pendingQuery struct {
	key uint64
	t   int64
	typ uint8 // query message type
}

// pending is a query waiting for its response.
type pending struct {
	t   int64
	typ uint8
}

// pairLatency times the responses of one type matched to queries of one type.
type pairLatency struct {
	q         *sketch.Quantile
	matched   uint64 // timed from a matching logged query
	fromTimes uint64 // timed from the response's own query_time and response_time
}

// typeCount counts, for one message type, the messages and how many were paired.
type typeCount struct {
	messages uint64
	paired   uint64 // a query: answered; a response: timed
	evicted  uint64 // queries unanswered because the pending table was full
}

// pairKey is a query message type and a response message type.
type pairKey struct{ query, response uint8 }

// matcher pairs queries with responses across all message types: BIND logs some answers
// under another type than their query's (an authoritative answer of BIND 9.18 is AQ, then
// CR), so a response is matched on addresses, ports, DNS ID and question alone, and the
// pair is named by what was matched.
type matcher struct {
	seed    maphash.Seed
	pending map[uint64]pending // key -> the waiting query
	ring    []pendingQuery     // FIFO of queries in arrival order
	head    int
	size    int
	limit   int // 0 means unbounded (exact)
	newest  int64
	pairs   map[pairKey]*pairLatency
	types   [16]typeCount
	exact   bool
	scratch []byte
}

func newMatcher(exact bool) *matcher {
	m := &matcher{seed: maphash.MakeSeed(), pending: map[uint64]pending{}, pairs: map[pairKey]*pairLatency{}, exact: exact}
	if !exact {
		m.limit = pendingMax
	}
	return m
}

func (m *matcher) pair(query, response uint8) *pairLatency {
	k := pairKey{query, response}
	p := m.pairs[k]
	if p == nil {
		p = &pairLatency{q: sketch.NewQuantile(0.01, m.exact)}
		m.pairs[k] = p
	}
	return p
}

// key identifies a query and its response: addresses, ports, DNS ID and question.
func (m *matcher) key(r *Record, h *header, nameHash uint64) uint64 {
	b := m.scratch[:0]
	b = append(b, r.QueryAddr...)
	b = binary.BigEndian.AppendUint16(b, r.QueryPort)
	b = append(b, r.ResponseAddr...)
	b = binary.BigEndian.AppendUint16(b, r.ResponsePort)
	b = binary.BigEndian.AppendUint16(b, h.id)
	b = binary.BigEndian.AppendUint16(b, h.qtype)
	b = binary.BigEndian.AppendUint64(b, nameHash)
	m.scratch = b
	return maphash.Bytes(m.seed, b)
}

func (m *matcher) query(r *Record, h *header, nameHash uint64) {
	t := uint8(r.Type) & 15
	m.types[t].messages++
	if r.QueryTime == 0 {
		return // cannot be timed: neither answered nor unanswered
	}
	m.expire(r.QueryTime)
	k := m.key(r, h, nameHash)
	m.pending[k] = pending{r.QueryTime, t}
	if m.limit > 0 && m.size == m.limit {
		m.pop(true)
	}
	if m.size == len(m.ring) {
		m.grow()
	}
	m.ring[(m.head+m.size)%len(m.ring)] = pendingQuery{k, r.QueryTime, t}
	m.size++
}

func (m *matcher) response(r *Record, h *header, nameHash uint64) {
	t := uint8(r.Type) & 15
	m.types[t].messages++
	if r.ResponseTime != 0 {
		m.expire(r.ResponseTime)
	}
	k := m.key(r, h, nameHash)
	q, found := m.pending[k]
	if found {
		delete(m.pending, k)
		m.types[q.typ].paired++
	}
	var d int64
	var p *pairLatency
	switch {
	case r.QueryTime != 0 && r.ResponseTime != 0:
		// Both times in the response itself (BIND fills them for RR): its own pair.
		qt := t - 1
		if found {
			qt = q.typ
		}
		d = r.ResponseTime - r.QueryTime
		p = m.pair(qt, t)
		p.fromTimes++
	case found && r.ResponseTime != 0:
		d = r.ResponseTime - q.t
		p = m.pair(q.typ, t)
	default:
		return
	}
	if d < 0 {
		return // a response earlier than its query: not timed
	}
	if found {
		p.matched++
	}
	m.types[t].paired++
	p.q.Add(float64(d))
}

// expire counts queries older than answerTimeout before now as unanswered.
func (m *matcher) expire(now int64) {
	if now > m.newest {
		m.newest = now
	}
	for m.size > 0 && m.ring[m.head].t < m.newest-answerTimeout {
		m.pop(false)
	}
}

func (m *matcher) pop(evicted bool) {
	e := m.ring[m.head]
	m.head = (m.head + 1) % len(m.ring)
	m.size--
	if q, ok := m.pending[e.key]; ok && q.t == e.t {
		delete(m.pending, e.key)
		if evicted {
			m.types[e.typ].evicted++
		}
	}
}

func (m *matcher) grow() {
	n := max(1024, 2*len(m.ring))
	if m.limit > 0 {
		n = min(n, m.limit)
	}
	ring := make([]pendingQuery, n)
	for i := range m.size {
		ring[i] = m.ring[(m.head+i)%len(m.ring)]
	}
	m.ring, m.head = ring, 0
}

// finish counts every query still waiting as unanswered.
func (m *matcher) finish() {
	for m.size > 0 {
		m.pop(false)
	}
}
