package stats

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
)

// wire builds a DNS message with one question.
func wire(id uint16, name string, qtype uint16, rcode uint8, response bool) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	flags := uint16(rcode)
	if response {
		flags |= 0x8000
	}
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, 0, 1, 0, 0, 0, 0, 0, 0)
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if l != "" {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, 1)
}

func TestParseHeader(t *testing.T) {
	ptr := append(wire(1, "example.org", 1, 0, false)[:12], 0xc0, 12) // points at itself
	tests := []struct {
		name    string
		msg     []byte
		want    string
		qtype   uint16
		rcode   uint8
		wantErr error
	}{
		{"plain", wire(1, "www.Example.ORG", 1, 0, false), "www.example.org.", 1, 0, nil},
		{"root", wire(1, ".", 2, 0, false), ".", 2, 0, nil},
		{"rcode", wire(2, "nx.example.org", 16, 3, true), "nx.example.org.", 16, 3, nil},
		{"escapes", wire(1, "a\\.b", 1, 0, false), "a\\\\.b.", 1, 0, nil},
		{"binary", append(append(wire(1, ".", 1, 0, false)[:12], 2, 0x01, ' ', 0), 0, 1, 0, 1), "\\001\\032.", 1, 0, nil},
		{"short", []byte{1, 2, 3}, "", 0, 0, errShort},
		{"no question", wire(1, "a", 1, 0, false)[:12:12], "", 0, 0, errTruncName},
		{"loop", append(ptr, 0, 1, 0, 1), "", 0, 0, errLoop},
		{"truncated", wire(1, "example.org", 1, 0, false)[:16], "", 0, 0, errTruncName},
		{"bad label type", append(wire(1, ".", 1, 0, false)[:12], 0x80), "", 0, 0, errBadName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h header
			err := parseHeader(&h, tc.msg)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("parseHeader = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if string(h.name) != tc.want || h.qtype != tc.qtype || h.rcode != tc.rcode {
				t.Errorf("parseHeader = %q %d %d, want %q %d %d", h.name, h.qtype, h.rcode, tc.want, tc.qtype, tc.rcode)
			}
		})
	}
	// A question whose name ends in a compression pointer to a name after it.
	var h header
	msg := append([]byte{}, wire(7, ".", 28, 3, true)[:12]...)
	msg = append(msg, 3, 'w', 'w', 'w', 0xc0, 22, 0, 28, 0, 1) // the pointer: offset 12+10
	msg = append(msg, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0)
	if err := parseHeader(&h, msg); err != nil || string(h.name) != "www.example.org." || h.qtype != 28 || h.rcode != 3 {
		t.Errorf("compressed: %q %d %d %v, want www.example.org. 28 3", h.name, h.qtype, h.rcode, err)
	}
}

func TestSuspicious(t *testing.T) {
	s := New(Config{})
	tests := []struct {
		name string
		want bool
	}{
		{"www.example.org.", false},
		{"mail.google.com.", false},
		{"lh3.googleusercontent.com.", false},
		{"www.example.co.uk.", false},
		{"accounts.microsoftonline.com.", false},
		{"1.2.0.192.in-addr.arpa.", false},
		{"xozgquftqesm73cwre.com.", true},
		{"mgpynzhqmcnthok63xypubnd53gkjvikphao7r3shifktr7tbwza.1.t.tunnel-c2.net.", true},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.org.", true}, // long, low entropy
	}
	for _, tc := range tests {
		var h header
		if err := parseHeader(&h, wire(1, tc.name, 1, 0, false)); err != nil {
			t.Fatal(err)
		}
		dom := registeredDomain(h.name)
		if got := s.score(h.name, h.labels, publicSuffixStart(h.name, dom)); got != tc.want {
			t.Errorf("suspicious(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRegisteredDomain(t *testing.T) {
	for name, want := range map[string]string{
		"www.example.org.": "example.org.", "www.example.co.uk.": "example.co.uk.", "org.": "org.",
		".": ".", "a.b.c.tunnel-c2.net.": "tunnel-c2.net.",
	} {
		if got := string(registeredDomain([]byte(name))); got != want {
			t.Errorf("registeredDomain(%q) = %q, want %q", name, got, want)
		}
	}
}

func rec(typ reader.MessageType, client byte, port uint16, qt, rt int64, msg []byte) *Record {
	return &Record{Type: typ, Family: reader.FamilyINET, Protocol: reader.ProtoUDP,
		QueryAddr: []byte{192, 0, 2, client}, ResponseAddr: []byte{192, 0, 2, 1},
		QueryPort: port, ResponsePort: 53, QueryTime: qt, ResponseTime: rt, Wire: msg}
}

// TestLatency: a CR without query_time is timed from its matching CQ; an RR with both
// times from its own; a query with no response is unpaired; an AR logged as CR (BIND 9.18's
// authoritative answers) is timed under the pair that was matched, AQ->CR.
func TestLatency(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	ms := int64(time.Millisecond)
	s := New(Config{Exact: true})
	s.Add(rec(reader.ClientQuery, 10, 4000, t0, 0, wire(1, "a.example.org", 1, 0, false)))
	s.Add(rec(reader.ClientQuery, 10, 4001, t0, 0, wire(2, "b.example.org", 1, 0, false))) // never answered
	s.Add(rec(reader.ClientQuery, 11, 4000, t0, 0, wire(1, "a.example.org", 1, 0, false)))
	s.Add(rec(reader.ClientResponse, 10, 4000, 0, t0+5*ms, wire(1, "a.example.org", 1, 0, true)))
	s.Add(rec(reader.ClientResponse, 11, 4000, 0, t0+7*ms, wire(1, "a.example.org", 1, 0, true)))
	s.Add(rec(reader.ResolverResponse, 1, 5000, t0, t0+20*ms, wire(9, "c.example.org", 1, 0, true)))
	s.Add(rec(reader.AuthQuery, 12, 4000, t0, 0, wire(3, "d.example.org", 1, 0, false)))
	s.Add(rec(reader.ClientResponse, 12, 4000, 0, t0+2*ms, wire(3, "d.example.org", 1, 0, true)))
	s.Add(rec(reader.ClientResponse, 13, 4000, 0, t0+2*ms, wire(4, "e.example.org", 1, 0, true))) // no query
	r := s.Report()
	want := []Latency{
		{Pair: "AQ->CR", Query: "AQ", Response: "CR", Timed: 1, Matched: 1, P50ms: 2, P90ms: 2, P99ms: 2, MaxMs: 2},
		{Pair: "RQ->RR", Query: "RQ", Response: "RR", Timed: 1, FromTimes: 1, P50ms: 20, P90ms: 20, P99ms: 20, MaxMs: 20},
		{Pair: "CQ->CR", Query: "CQ", Response: "CR", Timed: 2, Matched: 2, P50ms: 5, P90ms: 7, P99ms: 7, MaxMs: 7},
	}
	if !slices.Equal(r.Latency, want) {
		t.Errorf("latency = %+v\nwant %+v", r.Latency, want)
	}
	wantPairing := []Pairing{
		{Type: "AQ", Messages: 1, Paired: 1},
		{Type: "RR", Messages: 1, Paired: 1},
		{Type: "CQ", Messages: 3, Paired: 2, Unpaired: 1},
		{Type: "CR", Messages: 4, Paired: 3, Unpaired: 1},
	}
	if !slices.Equal(r.Pairing, wantPairing) {
		t.Errorf("pairing = %+v\nwant %+v", r.Pairing, wantPairing)
	}
}

// TestUnansweredTimeout: a query left waiting more than 10 s of input time is unanswered
// even though the input goes on.
func TestUnansweredTimeout(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	s := New(Config{})
	s.Add(rec(reader.ClientQuery, 10, 4000, t0, 0, wire(1, "a.example.org", 1, 0, false)))
	s.Add(rec(reader.ClientQuery, 10, 4001, t0+11e9, 0, wire(2, "b.example.org", 1, 0, false)))
	// The late response no longer matches.
	s.Add(rec(reader.ClientResponse, 10, 4000, 0, t0+11e9, wire(1, "a.example.org", 1, 0, true)))
	r := s.Report()
	if len(r.Latency) != 0 || r.Pairing[0] != (Pairing{Type: "CQ", Messages: 2, Unpaired: 2}) {
		t.Errorf("latency %+v, pairing %+v; want none timed, both queries unpaired", r.Latency, r.Pairing)
	}
}

func TestBursts(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	tests := []struct {
		name  string
		burst int // queries in second 50; every other second has 10
		want  int // burst signals
	}{
		{"steady", 10, 0},
		{"doubled", 20, 0},
		{"far above but few", 45, 0}, // under --burst-min-qps 50
		{"burst", 500, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New(Config{})
			msg := wire(1, "www.example.org", 1, 0, false)
			for sec := range 100 {
				n := 10
				if sec == 50 {
					n = tc.burst
				}
				for i := range n {
					s.Add(rec(reader.ClientQuery, byte(i%5+10), uint16(i), t0+int64(sec)*1e9+int64(i), 0, msg))
				}
			}
			r := s.Report()
			var got []Signal
			for _, sg := range r.Signals {
				if sg.Kind == SignalBurst {
					got = append(got, sg)
				}
			}
			if len(got) != tc.want {
				t.Fatalf("burst signals = %+v, want %d", got, tc.want)
			}
			if tc.want == 1 && (got[0].Subject != "2026-12-01T10:00:50Z" || got[0].Value != float64(tc.burst)) {
				t.Errorf("burst = %+v, want second 50 at %d q/s", got[0], tc.burst)
			}
		})
	}
}

// TestRateCoarsens: a long span keeps few buckets and still counts every query.
func TestRateCoarsens(t *testing.T) {
	s := New(Config{})
	s.rate.maxBuckets = 64
	msg := wire(1, "www.example.org", 1, 0, false)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for sec := range 1000 {
		s.Add(rec(reader.ClientQuery, 10, 1, t0+int64(sec)*1e9, 0, msg))
	}
	r := s.Report()
	var total uint64
	for _, p := range r.Rate.Points {
		total += p.Queries
	}
	if total != 1000 || len(s.rate.counts) > 64 || s.rate.width != 16e9 {
		t.Errorf("total %d, %d buckets of %d ns; want 1000, <= 64, 16 s", total, len(s.rate.counts), s.rate.width)
	}
	if r.Rate.IntervalSeconds != 16 {
		t.Errorf("interval %g s, want 16 (no finer than the buckets)", r.Rate.IntervalSeconds)
	}
}

// TestFeed: filters apply, a truncated input yields every complete message then
// ErrTruncated, and a cancelled context stops reading.
func TestFeed(t *testing.T) {
	file, err := readFile(mixed)
	if err != nil {
		t.Fatal(err)
	}
	count := func(f *reader.Filter, data []byte, ctx context.Context) (int, error) {
		n := 0
		_, err := Feed(ctx, reader.NewDecoder(bytes.NewReader(data), "test"), f, func(*Record) { n++ }, nil)
		return n, err
	}
	n, err := count(nil, file, context.Background())
	if err != nil || n != 1364 {
		t.Errorf("all: %d, %v; want 1364, nil", n, err)
	}
	n, err = count(&reader.Filter{Types: []reader.MessageType{reader.ClientQuery}}, file, context.Background())
	if err != nil || n != 350 {
		t.Errorf("--type CQ: %d, %v; want 350, nil", n, err)
	}
	n, err = count(nil, file[:len(file)-300], context.Background())
	if !errors.Is(err, reader.ErrTruncated) || n < 1360 || n >= 1364 {
		t.Errorf("truncated: %d, %v; want 1360-1363 and ErrTruncated", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err = count(nil, file, ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

func TestProgressLine(t *testing.T) {
	var p Progress
	p.Messages.Store(3000000)
	p.Bytes.Store(600 << 20)
	p.Input.Store("a.fstrm")
	if got, want := ProgressLine(&p, 2*time.Second), "3000000 messages, 1500000/s, a.fstrm at 600 MiB"; got != want {
		t.Errorf("ProgressLine = %q, want %q", got, want)
	}
}
