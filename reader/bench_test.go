package reader

import (
	"bytes"
	"io"
	"testing"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	fs "github.com/farsightsec/golang-framestream"
	"google.golang.org/protobuf/proto"
)

// benchInput is the golden resolver capture's frames repeated to about 10,000 messages.
func benchInput(b *testing.B) ([]byte, int) {
	b.Helper()
	frames := framesOf(b, readFile(b, "testdata/golden/resolver.fstrm"))
	var all [][]byte
	for len(all) < 10000 {
		all = append(all, frames...)
	}
	return writeStream(b, all...), len(all)
}

// BenchmarkDecode compares this decoder with golang-framestream + proto.Unmarshal into
// golang-dnstap's generated type, the reference it replaces.
func BenchmarkDecode(b *testing.B) {
	data, n := benchInput(b)
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			d := NewDecoder(bytes.NewReader(data), "bench")
			for {
				m, err := d.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				_ = m.DNS()
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("golang-dnstap", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		buf := make([]byte, 1<<20)
		for b.Loop() {
			r, err := fs.NewReader(bytes.NewReader(data), &fs.ReaderOptions{ContentTypes: [][]byte{tap.FSContentType}})
			if err != nil {
				b.Fatal(err)
			}
			for {
				k, err := r.ReadFrame(buf)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				var m tap.Dnstap
				if err := proto.Unmarshal(buf[:k], &m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

func BenchmarkFormat(b *testing.B) {
	data, n := benchInput(b)
	for _, mode := range []Mode{ModeText, ModeHex, ModePrint, ModeYAML, ModeJSON} {
		b.Run(modeName(mode), func(b *testing.B) {
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				d := NewDecoder(bytes.NewReader(data), "bench")
				p := &Printer{Mode: mode, Location: time.UTC}
				for {
					m, err := d.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					out = p.Append(out[:0], m)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func modeName(m Mode) string {
	return [...]string{"text", "hex", "print", "yaml", "json"}[m]
}
