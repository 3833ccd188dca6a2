package stats

import (
	"bytes"
	"context"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/bench/statsbench"
	"github.com/dnstapkit/dnstapkit/reader"
)

// benchFile returns a Frame Streams file of n messages: the mixed capture repeated.
func benchFile(b *testing.B, n int) []byte {
	b.Helper()
	frames, err := statsbench.ReadFrames(mixed)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := statsbench.Generate(&buf, frames, n, 32); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkFeed decodes and accounts real BIND messages; one op is one message.
func BenchmarkFeed(b *testing.B) {
	const n = 200000
	file := benchFile(b, n)
	b.SetBytes(int64(len(file) / n))
	b.ReportAllocs()
	s := New(Config{})
	for b.Loop() {
		d := reader.NewDecoder(bytes.NewReader(file), "bench")
		if _, err := Feed(context.Background(), d, nil, s.Add, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDecode is the reader's decoder alone, for comparison.
func BenchmarkDecode(b *testing.B) {
	const n = 200000
	file := benchFile(b, n)
	b.ReportAllocs()
	for b.Loop() {
		d := reader.NewDecoder(bytes.NewReader(file), "bench")
		if _, err := Feed(context.Background(), d, nil, func(*Record) {}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAdd is the accounting alone, on records decoded beforehand; one op is one message.
func BenchmarkAdd(b *testing.B) {
	var recs []Record
	load(b, func(r *Record) {
		c := *r
		c.QueryAddr = bytes.Clone(r.QueryAddr)
		c.ResponseAddr = bytes.Clone(r.ResponseAddr)
		c.Wire = bytes.Clone(r.Wire)
		recs = append(recs, c)
	}, mixed)
	s := New(Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(&recs[i%len(recs)])
	}
}
