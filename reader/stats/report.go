package stats

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/stats/internal/sketch"
)

// SchemaVersion is the version of the JSON report's schema (docs/stats.md).
const SchemaVersion = 2

// Report is the summary of a Stats: what the text, JSON and HTML outputs show.
type Report struct {
	SchemaVersion int         `json:"schema_version"`
	Messages      uint64      `json:"messages"`
	Malformed     uint64      `json:"malformed"` // no DNS message, or one without a parseable question
	Span          Span        `json:"span"`
	Accuracy      Accuracy    `json:"accuracy"`
	ByType        []Count     `json:"by_type"`      // "CQ", "CR", ...
	ByTransport   []Count     `json:"by_transport"` // "UDP", "TCP", ... ("none" when absent)
	ByFamily      []Count     `json:"by_family"`    // "INET", "INET6" ("none" when absent)
	Rate          Rate        `json:"rate"`
	QTypes        []Count     `json:"qtypes"` // over query messages
	RCodes        []Count     `json:"rcodes"` // over response messages
	ResponseSize  SizeDist    `json:"response_size"`
	Names         TopTables   `json:"names"`   // query names
	Domains       TopTables   `json:"domains"` // registered domains (public suffix list + 1 label)
	Clients       TopTables   `json:"clients"` // query addresses of AQ/AR, CQ/CR, TQ/TR, UQ/UR
	Latency       []Latency   `json:"latency"`
	Pairing       []Pairing   `json:"pairing"`
	Baseline      *NewDomains `json:"baseline,omitempty"`
	Signals       []Signal    `json:"signals"`
	// SignalsOmitted counts signals left out because their kind already listed TopN.
	SignalsOmitted uint64     `json:"signals_omitted"`
	Thresholds     Thresholds `json:"thresholds"`
}

// Span is the time covered: the earliest and latest message time.
// First and Last are absent (JSON) when no message carried a time.
type Span struct {
	First   time.Time `json:"first,omitzero"`
	Last    time.Time `json:"last,omitzero"`
	Seconds float64   `json:"seconds"`
}

// Accuracy says how far the top tables and latency quantiles can be off.
type Accuracy struct {
	Exact bool `json:"exact"`
	// Capacity is the number of keys each top table tracks (0 when exact).
	Capacity int `json:"capacity"`
	// LatencyRelativeError bounds the error of a latency quantile as a fraction of it.
	LatencyRelativeError float64 `json:"latency_relative_error"`
	// UniqueNamesFalsePositive estimates the share of new names taken for repeats when
	// counting unique subdomains (Bloom filter), 0 when exact.
	UniqueNamesFalsePositive float64 `json:"unique_names_false_positive"`
}

// Count is a label and how many times it occurred.
type Count struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
}

// Rate is queries per second over time.
type Rate struct {
	IntervalSeconds float64 `json:"interval_seconds"`
	Points          []Point `json:"points"`
	PeakQPS         float64 `json:"peak_qps"`
	MedianQPS       float64 `json:"median_qps"` // over one-second (or the finest kept) buckets holding queries
}

// Point is the number of queries in [Time, Time+interval).
type Point struct {
	Time    time.Time `json:"time"`
	Queries uint64    `json:"queries"`
	QPS     float64   `json:"qps"`
}

// SizeDist is the distribution of response sizes in bytes (exact).
type SizeDist struct {
	Count   uint64  `json:"count"`
	P50     int     `json:"p50"`
	P90     int     `json:"p90"`
	P99     int     `json:"p99"`
	Max     int     `json:"max"`
	Buckets []Count `json:"buckets"` // "0-63", "64-127", ... powers of two
}

// TopTables are the top keys by queries, by NXDOMAIN and by SERVFAIL responses.
type TopTables struct {
	ByQueries  []Top `json:"by_queries"`
	ByNXDOMAIN []Top `json:"by_nxdomain"`
	BySERVFAIL []Top `json:"by_servfail"`
	// MaxError is the largest overestimate any count in the tables can carry (0: exact).
	MaxError uint64 `json:"max_error"`
}

// Top is one row of a top table: the true count is in [Count-Error, Count].
type Top struct {
	Key   string `json:"key"`
	Count uint64 `json:"count"`
	Error uint64 `json:"error"`
}

// Latency is the query-to-response time of the responses of one message type matched to
// queries of one message type, named by what was matched: "CQ->CR" for a resolver's
// client, "AQ->CR" for an authoritative answer of BIND 9.18 (which logs the query as AQ and
// its answer as CR), "RQ->RR" for a resolver's own upstream queries.
type Latency struct {
	Pair      string  `json:"pair"`       // "AQ->CR"
	Query     string  `json:"query"`      // "AQ"
	Response  string  `json:"response"`   // "CR"
	Timed     uint64  `json:"timed"`      // responses timed
	Matched   uint64  `json:"matched"`    // of those, matched to a logged query (address, port, DNS ID, question)
	FromTimes uint64  `json:"from_times"` // of those, timed from the response's own query_time and response_time
	P50ms     float64 `json:"p50_ms"`
	P90ms     float64 `json:"p90_ms"`
	P99ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// Pairing counts, for one message type, the messages and how many of them found their
// other half: a query answered by a response matched to it, a response timed.
type Pairing struct {
	Type     string `json:"type"` // "AQ", "CR", ...
	Messages uint64 `json:"messages"`
	Paired   uint64 `json:"paired"`   // a query answered; a response timed
	Unpaired uint64 `json:"unpaired"` // a query without a matching response within 10 s (or without a time); a response neither matched nor carrying both times
	Evicted  uint64 `json:"evicted"`  // queries unpaired because too many were waiting (sketch mode)
}

// NewDomains lists registered domains not seen in the baseline.
type NewDomains struct {
	BaselineDomains uint64 `json:"baseline_domains"`
	Distinct        uint64 `json:"distinct"` // distinct new domains
	Queries         uint64 `json:"queries"`  // queries to them
	Top             []Top  `json:"top"`
}

// Report summarises what was added. It may be called more than once; it counts queries
// still waiting for a response as unanswered, so call it after the last Add.
func (s *Stats) Report() *Report {
	s.latency.finish()
	r := &Report{SchemaVersion: SchemaVersion, Messages: s.messages, Malformed: s.malformed,
		Thresholds: s.th}
	if s.first != 0 {
		r.Span = Span{First: time.Unix(0, s.first).UTC(), Last: time.Unix(0, s.last).UTC(),
			Seconds: float64(s.last-s.first) / 1e9}
	}
	r.Accuracy = Accuracy{Exact: s.cfg.Exact, LatencyRelativeError: 0.01}
	if !s.cfg.Exact {
		r.Accuracy.Capacity = s.cfg.Capacity
		r.Accuracy.UniqueNamesFalsePositive = bloomFP(s.seenNames.Count(), uniqueNameBits)
	} else {
		r.Accuracy.LatencyRelativeError = 0
	}
	for i, c := range s.byType {
		if c != 0 {
			r.ByType = append(r.ByType, Count{typeName(uint8(i)), c})
		}
	}
	for i, c := range s.byProto {
		if c != 0 {
			r.ByTransport = append(r.ByTransport, Count{orNone(reader.SocketProtocol(i).String()), c})
		}
	}
	for i, c := range s.byFamily {
		if c != 0 {
			r.ByFamily = append(r.ByFamily, Count{orNone(reader.SocketFamily(i).String()), c})
		}
	}
	for i, c := range s.qtypes {
		if c != 0 {
			r.QTypes = append(r.QTypes, Count{reader.TypeString(uint16(i)), c})
		}
	}
	sortCounts(r.QTypes)
	for i, c := range s.rcodes {
		if c != 0 {
			r.RCodes = append(r.RCodes, Count{reader.RcodeString(uint16(i)), c})
		}
	}
	sortCounts(r.RCodes)
	r.ResponseSize = s.sizeDist()
	r.Rate = s.rateReport()
	n := s.cfg.TopN
	r.Names = tables(n, textKey, s.names, s.namesNX, s.namesSF)
	r.Domains = tables(n, textKey, s.domains, s.domainsNX, s.domainsSF)
	r.Clients = TopTables{ByQueries: top(s.clients, n, addrKey), ByNXDOMAIN: top(s.clientsNX, n, addrKey),
		BySERVFAIL: top(s.clientsSF, n, addrKey),
		MaxError:   max(s.clients.MaxErr(), s.clientsNX.MaxErr(), s.clientsSF.MaxErr())}
	r.Latency, r.Pairing = s.latencyReport()
	if b := s.cfg.Baseline; b != nil {
		r.Baseline = &NewDomains{BaselineDomains: b.Domains(), Distinct: s.seenNew.Count(),
			Queries: s.newDomains.Total(), Top: top(s.newDomains, n, textKey)}
	}
	r.Signals = s.signals(r)
	r.fillEmpty()
	return r
}

// fillEmpty makes every absent list an empty one, so that JSON has [] and never null
// (jq '.signals[]' works on a quiet input).
func (r *Report) fillEmpty() {
	for _, c := range []*[]Count{&r.ByType, &r.ByTransport, &r.ByFamily, &r.QTypes, &r.RCodes, &r.ResponseSize.Buckets} {
		if *c == nil {
			*c = []Count{}
		}
	}
	for _, t := range []*TopTables{&r.Names, &r.Domains, &r.Clients} {
		for _, rows := range []*[]Top{&t.ByQueries, &t.ByNXDOMAIN, &t.BySERVFAIL} {
			if *rows == nil {
				*rows = []Top{}
			}
		}
	}
	if r.Baseline != nil && r.Baseline.Top == nil {
		r.Baseline.Top = []Top{}
	}
	if r.Rate.Points == nil {
		r.Rate.Points = []Point{}
	}
	if r.Latency == nil {
		r.Latency = []Latency{}
	}
	if r.Pairing == nil {
		r.Pairing = []Pairing{}
	}
	if r.Signals == nil {
		r.Signals = []Signal{}
	}
}

// latencyReport lists the pairs in message type order (queries, then responses), and the
// pairing of every message type seen.
func (s *Stats) latencyReport() ([]Latency, []Pairing) {
	m := s.latency
	keys := make([]pairKey, 0, len(m.pairs))
	for k := range m.pairs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b pairKey) int {
		if a.query != b.query {
			return int(a.query) - int(b.query)
		}
		return int(a.response) - int(b.response)
	})
	lat := []Latency{}
	for _, k := range keys {
		p := m.pairs[k]
		q, rs := typeName(k.query), typeName(k.response)
		lat = append(lat, Latency{Pair: q + "->" + rs, Query: q, Response: rs, Timed: p.q.Count(),
			Matched: p.matched, FromTimes: p.fromTimes,
			P50ms: ms(p.q.Quantile(0.5)), P90ms: ms(p.q.Quantile(0.9)), P99ms: ms(p.q.Quantile(0.99)),
			MaxMs: ms(p.q.Max())})
	}
	pairing := []Pairing{}
	for t, c := range m.types {
		if c.messages != 0 {
			pairing = append(pairing, Pairing{Type: typeName(uint8(t)), Messages: c.messages, Paired: c.paired,
				Unpaired: c.messages - c.paired, Evicted: c.evicted})
		}
	}
	return lat, pairing
}

// typeName is a dnstap message type's mnemonic ("CQ"), or TYPEn for one without.
func typeName(t uint8) string {
	if k := reader.MessageType(t).Mnemonic(); k != "" {
		return k
	}
	return fmt.Sprintf("TYPE%d", t)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// bloomFP is the false-positive rate of a 3-probe Bloom filter of 2^bits bits holding n keys.
func bloomFP(n uint64, bits uint) float64 {
	return math.Round(math.Pow(1-math.Exp(-3*float64(n)/float64(uint64(1)<<bits)), 3)*1e6) / 1e6
}

func ms(ns float64) float64 { return math.Round(ns/1e3) / 1e3 } // to ms, rounded to 1 µs

func sortCounts(c []Count) {
	slices.SortStableFunc(c, func(a, b Count) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
}

func textKey(k string) string { return k }

// addrKey renders a raw 4- or 16-byte address key.
func addrKey(k string) string {
	if a, ok := netip.AddrFromSlice([]byte(k)); ok {
		return a.Unmap().String()
	}
	return fmt.Sprintf("%x", k)
}

func top[V any](t *sketch.TopK[V], n int, key func(string) string) []Top {
	var out []Top
	for _, e := range t.Top(n) {
		out = append(out, Top{Key: key(e.Key), Count: e.Count, Error: e.Err})
	}
	return out
}

func tables(n int, key func(string) string, q, nx, sf *sketch.TopK[struct{}]) TopTables {
	return TopTables{ByQueries: top(q, n, key), ByNXDOMAIN: top(nx, n, key), BySERVFAIL: top(sf, n, key),
		MaxError: max(q.MaxErr(), nx.MaxErr(), sf.MaxErr())}
}

func (s *Stats) sizeDist() SizeDist {
	d := SizeDist{Count: s.nsizes}
	if s.nsizes == 0 {
		return d
	}
	rank := func(p float64) uint64 { return max(uint64(math.Ceil(p*float64(s.nsizes))), 1) }
	ranks := []uint64{rank(0.5), rank(0.9), rank(0.99)}
	outs := []*int{&d.P50, &d.P90, &d.P99}
	var seen uint64
	lo, hi := 0, 64
	var bucket uint64
	for size, c := range s.sizes {
		if size == hi {
			if bucket != 0 {
				d.Buckets = append(d.Buckets, Count{fmt.Sprintf("%d-%d", lo, hi-1), bucket})
			}
			lo, hi, bucket = hi, hi*2, 0
		}
		if c == 0 {
			continue
		}
		bucket += c
		for i, rk := range ranks {
			if seen < rk && seen+c >= rk {
				*outs[i] = size
			}
		}
		seen += c
		d.Max = size
	}
	if bucket != 0 {
		d.Buckets = append(d.Buckets, Count{fmt.Sprintf("%d-%d", lo, hi-1), bucket})
	}
	return d
}

// niceIntervals are the rate intervals Report chooses from.
var niceIntervals = []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour,
	6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// ratePoints is about how many points an automatic interval gives.
const ratePoints = 120

// maxRatePoints caps the points of a report whatever --interval says.
const maxRatePoints = 10000

func (s *Stats) rateReport() Rate {
	keys := make([]int64, 0, len(s.rate.counts))
	for k := range s.rate.counts {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return Rate{}
	}
	slices.Sort(keys)
	w := s.rate.width
	span := (keys[len(keys)-1] - keys[0] + 1) * w
	iv := int64(s.cfg.Interval)
	if iv <= 0 {
		iv = int64(niceIntervals[len(niceIntervals)-1])
		for _, d := range niceIntervals {
			if span/int64(d) <= ratePoints {
				iv = int64(d)
				break
			}
		}
	}
	iv = max(iv, w) // no finer than the buckets kept
	iv = iv / w * w
	for span/iv > maxRatePoints { // an --interval too fine for the span
		iv *= 2
	}
	r := Rate{IntervalSeconds: float64(iv) / 1e9}
	start := floorDiv(keys[0]*w, iv)
	end := floorDiv(keys[len(keys)-1]*w, iv)
	pts := make([]uint64, end-start+1)
	qps := make([]float64, 0, len(keys))
	for _, k := range keys {
		c := *s.rate.counts[k]
		pts[floorDiv(k*w, iv)-start] += c
		v := float64(c) / (float64(w) / 1e9)
		qps = append(qps, v)
		r.PeakQPS = max(r.PeakQPS, v)
	}
	slices.Sort(qps)
	r.MedianQPS = median(qps)
	for i, c := range pts {
		t := (start + int64(i)) * iv
		r.Points = append(r.Points, Point{Time: time.Unix(0, t).UTC(), Queries: c,
			QPS: math.Round(float64(c)/(float64(iv)/1e9)*1000) / 1000})
	}
	return r
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
