package reader

import (
	"path/filepath"
	"testing"

	"github.com/dnstapkit/dnstapkit/reader/internal/bindtext"
)

// checkAgrees fails when bindAccepts vouches for a message that bindtext.Check (BIND's
// dns_message_parse, rebuilt) rejects, and reports whether the fast path was taken.
func checkAgrees(t *testing.T, wire []byte) bool {
	t.Helper()
	var d DNS
	parseDNS(&d, wire, nil)
	err := bindtext.Check(wire)
	if !d.Parsed && err == nil {
		t.Fatalf("structural walk rejects a message BIND accepts: %x", wire)
	}
	if bindAccepts(wire, &d) {
		if err != nil {
			t.Fatalf("fast path accepts a message BIND rejects (%v): %x", err, wire)
		}
		return true
	}
	return false
}

// allWires returns the DNS messages of every capture in the tree.
func allWires(t testing.TB) [][]byte {
	t.Helper()
	files, _ := filepath.Glob("testdata/golden/*.fstrm")
	extra, _ := filepath.Glob("internal/bindtext/testdata/*.fstrm")
	var out [][]byte
	for _, f := range append(files, extra...) {
		for _, fr := range framesOf(t, readFile(t, f)) {
			var m Message
			if m.unmarshal(fr) == nil {
				if m.QueryMessage != nil {
					out = append(out, m.QueryMessage)
				}
				if m.ResponseMessage != nil {
					out = append(out, m.ResponseMessage)
				}
			}
		}
	}
	return out
}

func TestBINDAcceptsAgreesWithBindtext(t *testing.T) {
	fast := 0
	wires := allWires(t)
	for _, w := range wires {
		if checkAgrees(t, w) {
			fast++
		}
	}
	if fast == 0 {
		t.Fatal("the fast path never applies to the captures")
	}
	t.Logf("fast path for %d of %d messages", fast, len(wires))
}

// FuzzBINDAccepts: the fast path never accepts what BIND rejects, and the structural walk
// never rejects what BIND accepts.
func FuzzBINDAccepts(f *testing.F) {
	for _, w := range allWires(f) {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		checkAgrees(t, wire)
	})
}
