package stats

import (
	"math"
	"unsafe"

	"golang.org/x/net/publicsuffix"
)

// registeredDomain returns the registered domain (eTLD+1 by the public suffix list) of a
// presentation-form name with a trailing dot, as a suffix of name ("example.co.uk."). A
// name that is itself a public suffix (or the root) is returned whole.
func registeredDomain(name []byte) []byte {
	if len(name) <= 1 {
		return name
	}
	// publicsuffix takes a string and returns a substring of it; the string does not
	// outlive this call, so viewing name's bytes is safe.
	s := unsafe.String(unsafe.SliceData(name), len(name)-1)
	d, err := publicsuffix.EffectiveTLDPlusOne(s)
	if err != nil {
		return name
	}
	return name[len(name)-1-len(d):]
}

// nameCache remembers, for recently seen names (by hash), the offset of the registered
// domain and whether the name is suspicious: the public suffix lookup and the label entropy
// cost more than the rest of a message's accounting, and names repeat.
type nameCache struct {
	slots [1 << 14]struct {
		hash uint64
		off  uint16
		sus  bool
	}
}

// get returns the registered domain of name (hash h), whether score says it is suspicious
// (score may be nil: false), and whether the name was in the cache.
func (c *nameCache) get(h uint64, name []byte, labels []uint16, score func(name []byte, labels []uint16, suffixStart int) bool) (dom []byte, sus, hit bool) {
	s := &c.slots[h&(uint64(len(c.slots))-1)]
	if s.hash == h && int(s.off) < len(name) {
		return name[s.off:], s.sus, true
	}
	dom = registeredDomain(name)
	if score != nil {
		sus = score(name, labels, publicSuffixStart(name, dom))
	}
	s.hash, s.off, s.sus = h, uint16(len(name)-len(dom)), sus
	return dom, sus, false
}

// labelScore describes the most suspicious label of a name.
type labelScore struct {
	longest int     // longest label, in bytes of presentation form
	entropy float64 // highest Shannon entropy (bits per character) of a label long enough to judge
	label   []byte  // the label with that entropy
}

// scoreLabels looks at the labels of name left of its public suffix (the part a client or
// malware chooses). labels are the end offsets from parseHeader; suffixLen is the length of
// the public suffix part including its dots.
func scoreLabels(name []byte, labels []uint16, suffixStart int, minLen int) labelScore {
	var s labelScore
	start := 0
	for _, end := range labels {
		e := int(end)
		if e > suffixStart {
			break
		}
		l := name[start:e]
		if len(l) > s.longest {
			s.longest = len(l)
		}
		if len(l) >= minLen {
			if h := entropy(l); h > s.entropy {
				s.entropy, s.label = h, l
			}
		}
		start = e + 1
	}
	return s
}

// entropy returns the Shannon entropy of b in bits per byte.
func entropy(b []byte) float64 {
	var counts [256]uint16
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, c := range counts {
		if c != 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// publicSuffixStart returns the offset in name where its public suffix begins (len(name)-1
// for the root). dom is name's registered domain, a suffix of name.
func publicSuffixStart(name, dom []byte) int {
	for i, c := range dom {
		if c == '.' {
			return len(name) - len(dom) + i + 1
		}
	}
	return len(name)
}

// The rcodes and qtypes the signals look at.
const (
	rcodeServfail = 2
	rcodeNXDomain = 3
	qtypeNULL     = 10
	qtypeTXT      = 16
	qtypeANY      = 255
)
