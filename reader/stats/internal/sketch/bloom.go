package sketch

// Bloom is a Bloom filter over 64-bit hashes: it answers "added before?" with no false
// negatives and a false-positive rate that grows as it fills (about 2% with 3 probes at
// one key per 8 bits). Callers hash keys themselves (hash/maphash) so the filter never
// sees the key. In exact mode it keeps the hashes in a map instead (no false positives
// beyond 64-bit hash collisions).
type Bloom struct {
	bits  []uint64
	mask  uint64
	exact map[uint64]struct{}
	n     uint64
}

// NewBloom returns a filter of 2^log2Bits bits (log2Bits between 10 and 34), or an exact set.
func NewBloom(log2Bits uint, exact bool) *Bloom {
	if exact {
		return &Bloom{exact: make(map[uint64]struct{})}
	}
	log2Bits = min(max(log2Bits, 10), 34)
	return &Bloom{bits: make([]uint64, 1<<(log2Bits-6)), mask: 1<<log2Bits - 1}
}

// AddNew adds h and reports whether it was absent before (a false "not new" happens at the
// filter's false-positive rate).
func (b *Bloom) AddNew(h uint64) bool {
	if b.exact != nil {
		if _, ok := b.exact[h]; ok {
			return false
		}
		b.exact[h] = struct{}{}
		b.n++
		return true
	}
	isNew := false
	// Three probes from one 64-bit hash (Kirsch and Mitzenmacher's double hashing).
	h1, h2 := h, h>>32|h<<32|1
	for i := range uint64(3) {
		p := (h1 + i*h2) & b.mask
		w, m := p>>6, uint64(1)<<(p&63)
		if b.bits[w]&m == 0 {
			isNew = true
			b.bits[w] |= m
		}
	}
	if isNew {
		b.n++
	}
	return isNew
}

// Has reports whether h may have been added.
func (b *Bloom) Has(h uint64) bool {
	if b.exact != nil {
		_, ok := b.exact[h]
		return ok
	}
	h1, h2 := h, h>>32|h<<32|1
	for i := range uint64(3) {
		p := (h1 + i*h2) & b.mask
		if b.bits[p>>6]&(uint64(1)<<(p&63)) == 0 {
			return false
		}
	}
	return true
}

// Count returns how many hashes were added as new.
func (b *Bloom) Count() uint64 { return b.n }
