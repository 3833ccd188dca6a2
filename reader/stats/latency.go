package stats

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/dnstapkit/dnstapkit/reader/stats/internal/sketch"
)

// pairs lists the query types whose responses are timed, by dnstap message type of the
// query; the response type is one more.
var pairNames = map[uint8]string{1: "AQ/AR", 3: "RQ/RR", 5: "CQ/CR", 7: "FQ/FR", 9: "SQ/SR", 11: "TQ/TR", 13: "UQ/UR"}

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

// latency times one query/response pair of message types.
type latency struct {
	q          *sketch.Quantile
	queries    uint64
	responses  uint64
	fromTimes  uint64 // timed from the response's own query_time and response_time
	matched    uint64 // responses matched to a query by address, port, id and question
	unanswered uint64
	evicted    uint64 // unanswered because the pending table was full
	negative   uint64 // response earlier than its query: not timed
}

// matcher pairs queries with responses across all pair types.
type matcher struct {
	seed    maphash.Seed
	pending map[uint64]int64 // key -> query time
	ring    []pendingQuery   // FIFO of queries in arrival order
	head    int
	size    int
	limit   int // 0 means unbounded (exact)
	newest  int64
	pairs   [16]*latency
	exact   bool
	scratch []byte
}

func newMatcher(exact bool) *matcher {
	m := &matcher{seed: maphash.MakeSeed(), pending: map[uint64]int64{}, exact: exact}
	if !exact {
		m.limit = pendingMax
	}
	return m
}

func (m *matcher) pair(t uint8) *latency {
	q := t // query types are odd (AQ=1 ... UQ=13), each response type is its query's plus one
	if t%2 == 0 {
		q = t - 1
	}
	if m.pairs[q] == nil {
		m.pairs[q] = &latency{q: sketch.NewQuantile(0.01, m.exact)}
	}
	return m.pairs[q]
}

// key identifies a query and its response: addresses, ports, DNS ID and question. The
// message type is left out because BIND logs some answers under another pair (a query to an
// authoritative zone of a resolver is logged as AQ, its answer as CR).
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
	t := uint8(r.Type)
	l := m.pair(t)
	l.queries++
	if r.QueryTime == 0 {
		return
	}
	m.expire(r.QueryTime)
	k := m.key(r, h, nameHash)
	m.pending[k] = r.QueryTime
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
	t := uint8(r.Type)
	l := m.pair(t)
	l.responses++
	if r.ResponseTime != 0 {
		m.expire(r.ResponseTime)
	}
	k := m.key(r, h, nameHash)
	qt, found := m.pending[k]
	if found {
		delete(m.pending, k)
		l.matched++
	}
	var d int64
	switch {
	case r.QueryTime != 0 && r.ResponseTime != 0:
		d = r.ResponseTime - r.QueryTime
		l.fromTimes++
	case found && r.ResponseTime != 0:
		d = r.ResponseTime - qt
	default:
		return
	}
	if d < 0 {
		l.negative++
		return
	}
	l.q.Add(float64(d))
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
	if qt, ok := m.pending[e.key]; ok && qt == e.t {
		delete(m.pending, e.key)
		l := m.pairs[e.typ]
		l.unanswered++
		if evicted {
			l.evicted++
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
