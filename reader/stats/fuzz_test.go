package stats

import (
	"bytes"
	"testing"
)

// FuzzParseHeader: any bytes parse or fail without panic; a parsed name is lower-case
// presentation form ending in a dot, with label offsets inside it.
func FuzzParseHeader(f *testing.F) {
	f.Add(wire(1, "www.example.org", 1, 0, false))
	f.Add(wire(2, "a\\.b.example.org", 16, 3, true))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	s := New(Config{Capacity: 4}) // shared: New allocates megabytes
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) > 1<<16 {
			return
		}
		var h header
		if err := parseHeader(&h, msg); err != nil {
			return
		}
		if len(h.name) == 0 || h.name[len(h.name)-1] != '.' {
			t.Fatalf("name %q does not end in a dot", h.name)
		}
		if !bytes.Equal(h.name, bytes.ToLower(h.name)) {
			t.Fatalf("name %q is not lower-case", h.name)
		}
		for _, c := range h.name {
			if c < '!' || c > '~' {
				t.Fatalf("name %q has an unescaped byte %#x", h.name, c)
			}
		}
		for _, e := range h.labels {
			if int(e) >= len(h.name) || h.name[e] != '.' {
				t.Fatalf("label end %d of %q is not a dot", e, h.name)
			}
		}
		// The accounting accepts whatever parsed.
		s.Add(&Record{Type: 5, QueryAddr: []byte{192, 0, 2, 1}, Wire: msg, QueryTime: 1})
		s.Add(&Record{Type: 6, QueryAddr: []byte{192, 0, 2, 1}, Wire: msg, ResponseTime: 2})
	})
}
