package stats

import (
	"hash/maphash"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/stats/internal/sketch"
)

// Thresholds set when a signal is raised. The zero value of a field means its default
// (DefaultThresholds).
type Thresholds struct {
	LongLabel        int     `json:"long_label"`         // a label this long (bytes) or longer is suspicious; default 40
	EntropyBits      float64 `json:"entropy_bits"`       // a label with this Shannon entropy (bits/char) or more is suspicious; default 3.5
	EntropyMinLen    int     `json:"entropy_min_len"`    // labels shorter than this are not judged by entropy; default 12
	MinSuspicious    uint64  `json:"min_suspicious"`     // suspicious query names needed to flag a domain or client; default 10
	MaxSubdomains    uint64  `json:"max_subdomains"`     // new subdomains (distinct names that look generated or got NXDOMAIN) under one registered domain that flag it; default 200
	NXRatio          float64 `json:"nx_ratio"`           // NXDOMAIN responses per query that flag a client; default 0.5
	TXTRatio         float64 `json:"txt_ratio"`          // TXT+NULL+ANY share of a client's queries that flags it; default 0.5
	MinClientQueries uint64  `json:"min_client_queries"` // a client needs this many queries before ratios are judged; default 20
	BurstFactor      float64 `json:"burst_factor"`       // a second whose rate is this many times the median is a burst; default 10
	BurstMinQPS      float64 `json:"burst_min_qps"`      // and at least this many queries per second; default 50
}

// DefaultThresholds are the thresholds used for zero fields.
var DefaultThresholds = Thresholds{
	LongLabel: 40, EntropyBits: 3.5, EntropyMinLen: 12, MinSuspicious: 10, MaxSubdomains: 200,
	NXRatio: 0.5, TXTRatio: 0.5, MinClientQueries: 20, BurstFactor: 10, BurstMinQPS: 50,
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds
	orDefault(&d.LongLabel, t.LongLabel)
	orDefault(&d.EntropyBits, t.EntropyBits)
	orDefault(&d.EntropyMinLen, t.EntropyMinLen)
	orDefault(&d.MinSuspicious, t.MinSuspicious)
	orDefault(&d.MaxSubdomains, t.MaxSubdomains)
	orDefault(&d.NXRatio, t.NXRatio)
	orDefault(&d.TXTRatio, t.TXTRatio)
	orDefault(&d.MinClientQueries, t.MinClientQueries)
	orDefault(&d.BurstFactor, t.BurstFactor)
	orDefault(&d.BurstMinQPS, t.BurstMinQPS)
	return d
}

// orDefault sets *dst to v when v is above zero; otherwise *dst keeps its default.
func orDefault[T int | uint64 | float64](dst *T, v T) {
	if v > 0 {
		*dst = v
	}
}

// Config sets up a Stats. The zero value is usable.
type Config struct {
	// TopN is the number of rows of each top table; default 10.
	TopN int
	// Capacity is the number of keys each heavy-hitters sketch tracks; default 10000. More
	// slots mean smaller error bounds and more memory (about 150 bytes a slot).
	Capacity int
	// Exact counts every key and keeps every latency: no error, memory grows with the input.
	Exact bool
	// Interval is the width of a rate point; 0 chooses one from the span (about 100 points).
	Interval time.Duration
	// Thresholds for the abnormal signals.
	Thresholds Thresholds
	// Upstream makes the distributions, top tables and signals count the server's own
	// upstream traffic (RQ/RR, FQ/FR, SQ/SR) instead of its clients' (AQ/AR, CQ/CR, TQ/TR,
	// UQ/UR). Totals and latency always count every message.
	Upstream bool
	// Baseline, when set, makes Report list registered domains that the baseline never saw.
	Baseline *Baseline
}

const (
	defaultTopN     = 10
	defaultCapacity = 10000
	// uniqueNameBits sizes the Bloom filter that tells a new subdomain from a repeated one
	// (2^26 bits = 8 MiB): about 2% false positives at 10 million distinct names.
	uniqueNameBits = 26
)

// clientInfo is counted for each tracked client, since it entered the sketch.
type clientInfo struct {
	queries    uint64
	nxdomain   uint64
	servfail   uint64
	txtNullAny uint64
	suspicious uint64
	sample     string // one suspicious name
}

type domainInfo struct {
	sample string
}

// Stats accumulates messages. It is not safe for concurrent use; Merge is not provided, so
// feed one Stats from one goroutine.
type Stats struct {
	cfg  Config
	th   Thresholds
	seed maphash.Seed

	messages  uint64
	malformed uint64 // DNS message absent or unparseable
	first     int64
	last      int64

	byType   [16]uint64
	byProto  [8]uint64
	byFamily [3]uint64
	qtypes   [65536]uint64
	rcodes   [16]uint64
	sizes    [65536]uint64 // response sizes in bytes: exact
	nsizes   uint64

	rate *series

	names, namesNX, namesSF       *sketch.TopK[struct{}]
	domains, domainsNX, domainsSF *sketch.TopK[struct{}]
	clientsNX, clientsSF          *sketch.TopK[struct{}]
	clients                       *sketch.TopK[clientInfo]
	// growth counts new subdomains per registered domain: distinct names under it that
	// look generated (a suspicious label) or that got NXDOMAIN. A zone's own names, however
	// many, do not count: a server's zones are not a tunnel. growthBy counts them per
	// (client, domain), to name the client that asks most of them.
	growth, growthBy *sketch.TopK[struct{}]
	suspicious       *sketch.TopK[domainInfo] // suspicious names per registered domain
	newDomains       *sketch.TopK[struct{}]   // queries to domains absent from the baseline
	seenNames        *sketch.Bloom            // names counted in growth
	seenNew          *sketch.Bloom
	keyBuf           []byte

	latency *matcher
	cache   *nameCache
	score   func(name []byte, labels []uint16, suffixStart int) bool
	hdr     header
}

// New returns an empty Stats.
func New(cfg Config) *Stats {
	if cfg.TopN <= 0 {
		cfg.TopN = defaultTopN
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = defaultCapacity
	}
	capacity := cfg.Capacity
	if cfg.Exact {
		capacity = 0
	}
	s := &Stats{cfg: cfg, th: cfg.Thresholds.withDefaults(), seed: maphash.MakeSeed(), rate: newSeries(),
		latency: newMatcher(cfg.Exact), cache: new(nameCache),
		seenNames: sketch.NewBloom(uniqueNameBits, cfg.Exact), seenNew: sketch.NewBloom(20, cfg.Exact)}
	for _, p := range []**sketch.TopK[struct{}]{&s.names, &s.namesNX, &s.namesSF, &s.domains,
		&s.domainsNX, &s.domainsSF, &s.clientsNX, &s.clientsSF, &s.growth, &s.growthBy, &s.newDomains} {
		*p = sketch.NewTopK[struct{}](capacity)
	}
	s.clients = sketch.NewTopK[clientInfo](capacity)
	s.score = func(name []byte, labels []uint16, suffixStart int) bool {
		sc := scoreLabels(name, labels, suffixStart, s.th.EntropyMinLen)
		return sc.longest >= s.th.LongLabel || sc.entropy >= s.th.EntropyBits
	}
	s.suspicious = sketch.NewTopK[domainInfo](capacity)
	return s
}

// Messages returns the number of messages added.
func (s *Stats) Messages() uint64 { return s.messages }

// clientSide reports whether the query address of a message of type t is a client of the
// server that logged it (AQ/AR, CQ/CR, UQ/UR, TQ/TR). For RQ/RR, FQ/FR and SQ/SR it is the
// server itself talking upstream.
func clientSide(t reader.MessageType) bool {
	switch t {
	case reader.ResolverQuery, reader.ResolverResponse, reader.ForwarderQuery,
		reader.ForwarderResponse, reader.StubQuery, reader.StubResponse:
		return false
	}
	return true
}

// Add accounts for one message. It keeps no reference to r's slices.
func (s *Stats) Add(r *Record) {
	s.messages++
	if r.Type < 16 {
		s.byType[r.Type]++
	}
	if r.Protocol < 8 {
		s.byProto[r.Protocol]++
	}
	if r.Family < 3 {
		s.byFamily[r.Family]++
	}
	t := r.Time()
	if t != 0 {
		if s.first == 0 || t < s.first {
			s.first = t
		}
		if t > s.last {
			s.last = t
		}
	}
	h := &s.hdr
	if len(r.Wire) == 0 || parseHeader(h, r.Wire) != nil || !r.Type.Valid() {
		s.malformed++
		return
	}
	nh := maphash.Bytes(s.seed, h.name)
	if r.Type.IsQuery() {
		s.latency.query(r, h, nh)
	} else {
		s.latency.response(r, h, nh)
	}
	if clientSide(r.Type) == s.cfg.Upstream {
		return // outside the view: totals and latency only
	}
	if r.Type.IsQuery() {
		s.query(r, h, t, nh)
	} else {
		s.response(r, h, nh)
	}
}

func (s *Stats) query(r *Record, h *header, t int64, nh uint64) {
	if t != 0 {
		s.rate.add(t)
	}
	s.qtypes[h.qtype]++
	name := h.name
	dom, sus, hit := s.cache.get(nh, name, h.labels, s.score)
	s.names.Add(name, 1)
	s.domains.Add(dom, 1)
	// A name found in the cache has been seen: only a miss needs the (cache-unfriendly)
	// Bloom filter.
	if sus && !hit && s.seenNames.AddNew(nh) {
		s.grow(dom, r.QueryAddr)
	}
	if b := s.cfg.Baseline; b != nil && !b.has(maphash.Bytes(b.seed, dom)) {
		s.newDomains.Add(dom, 1)
		s.seenNew.AddNew(maphash.Bytes(s.seed, dom))
	}
	if sus {
		d := s.suspicious.Add(dom, 1)
		if d.sample == "" {
			d.sample = string(name)
		}
	}
	if len(r.QueryAddr) == 0 {
		return
	}
	c := s.clients.Add(r.QueryAddr, 1)
	c.queries++
	switch h.qtype {
	case qtypeTXT, qtypeNULL, qtypeANY:
		c.txtNullAny++
	}
	if sus {
		c.suspicious++
		if c.sample == "" {
			c.sample = string(name)
		}
	}
}

func (s *Stats) response(r *Record, h *header, nh uint64) {
	s.rcodes[h.rcode]++
	s.sizes[min(len(r.Wire), len(s.sizes)-1)]++
	s.nsizes++
	if h.rcode != rcodeNXDomain && h.rcode != rcodeServfail {
		return
	}
	name := h.name
	dom, _, _ := s.cache.get(nh, name, h.labels, s.score)
	client := len(r.QueryAddr) > 0
	if h.rcode == rcodeNXDomain {
		if s.seenNames.AddNew(nh) {
			s.grow(dom, r.QueryAddr)
		}
		s.namesNX.Add(name, 1)
		s.domainsNX.Add(dom, 1)
		if client {
			s.clientsNX.Add(r.QueryAddr, 1)
		}
	} else {
		s.namesSF.Add(name, 1)
		s.domainsSF.Add(dom, 1)
		if client {
			s.clientsSF.Add(r.QueryAddr, 1)
		}
	}
	if !client {
		return
	}
	if c := s.clients.Lookup(r.QueryAddr); c != nil {
		if h.rcode == rcodeNXDomain {
			c.nxdomain++
		} else {
			c.servfail++
		}
	}
}

// grow counts a new subdomain of dom, asked by client (4 or 16 bytes; may be empty).
func (s *Stats) grow(dom, client []byte) {
	s.growth.Add(dom, 1)
	if len(client) > 0 {
		s.keyBuf = append(append(append(s.keyBuf[:0], byte(len(client))), client...), dom...)
		s.growthBy.Add(s.keyBuf, 1)
	}
}

// splitGrowthKey splits a growthBy key into its client and domain.
func splitGrowthKey(k string) (client, dom string) {
	n := int(k[0])
	return k[1 : 1+n], k[1+n:]
}

type (
	entryPlain  = sketch.Entry[struct{}]
	entryClient = sketch.Entry[clientInfo]
	entryDomain = sketch.Entry[domainInfo]
)
