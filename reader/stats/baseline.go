package stats

import (
	"hash/maphash"

	"github.com/dnstapkit/dnstapkit/reader/stats/internal/sketch"
)

// baselineBits sizes the Bloom filter of baseline domains (2^24 bits = 2 MiB): under 1%
// false positives (a new domain taken for a known one) up to about 1.5 million domains.
const baselineBits = 24

// Baseline is the set of registered domains queried in a reference capture (for example
// last month's). Stats given a Baseline reports the domains queried now that it lacks.
type Baseline struct {
	seed     maphash.Seed
	set      *sketch.Bloom
	cache    nameCache
	hdr      header
	queries  uint64
	upstream bool
}

// NewBaseline returns an empty baseline; exact keeps a set of hashes instead of a Bloom
// filter (no false positives, memory grows with the number of domains). upstream takes the
// same view as Config.Upstream: the server's own queries rather than its clients'.
func NewBaseline(exact, upstream bool) *Baseline {
	return &Baseline{seed: maphash.MakeSeed(), set: sketch.NewBloom(baselineBits, exact), upstream: upstream}
}

// Add adds the registered domain of r's question when r is a query in the baseline's view.
func (b *Baseline) Add(r *Record) {
	if !r.Type.IsQuery() || clientSide(r.Type) == b.upstream || len(r.Wire) == 0 || parseHeader(&b.hdr, r.Wire) != nil {
		return
	}
	b.queries++
	dom, _, _ := b.cache.get(maphash.Bytes(b.seed, b.hdr.name), b.hdr.name, nil, nil)
	b.set.AddNew(maphash.Bytes(b.seed, dom))
}

// Domains returns the number of distinct registered domains in the baseline.
func (b *Baseline) Domains() uint64 { return b.set.Count() }

// Queries returns the number of queries the baseline was built from.
func (b *Baseline) Queries() uint64 { return b.queries }

func (b *Baseline) has(h uint64) bool { return b.set.Has(h) }
