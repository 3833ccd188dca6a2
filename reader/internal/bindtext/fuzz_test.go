package bindtext

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzAppendMessage feeds arbitrary wire data to every style: no panics, dst untouched on
// error, and all three styles agree on whether the message renders.
func FuzzAppendMessage(f *testing.F) {
	for _, fr := range readFrames(f, "testdata/capture.fstrm") {
		f.Add(fr.wire)
	}
	for _, c := range craftedCases() {
		f.Add(c.msg.wire())
	}
	f.Add([]byte{})
	f.Add(make([]byte, 12))
	f.Fuzz(func(t *testing.T, wire []byte) {
		prefix := []byte("prefix")
		var errs [3]error
		for i, style := range []Style{StylePrint, StyleYAML, StyleIndent} {
			out, err := AppendMessage(prefix, wire, style)
			errs[i] = err
			if err != nil {
				if !bytes.Equal(out, prefix) {
					t.Fatalf("style %d: error %v but dst changed", style, err)
				}
				if !errors.Is(err, ErrNotRendered) {
					t.Fatalf("style %d: error %v does not wrap ErrNotRendered", style, err)
				}
				continue
			}
			if !bytes.HasPrefix(out, prefix) || len(out) == len(prefix) {
				t.Fatalf("style %d: output does not extend dst", style)
			}
		}
		if (errs[0] == nil) != (errs[1] == nil) || (errs[0] == nil) != (errs[2] == nil) {
			t.Fatalf("styles disagree: %v / %v / %v", errs[0], errs[1], errs[2])
		}
		if _, err := AppendYAML(nil, wire, true); (err == nil) != (errs[0] == nil) {
			t.Fatalf("AppendYAML error %v, AppendMessage error %v", err, errs[0])
		}
		// The other formats parse alike and render every message 9.18's does.
		for _, format := range []Format{Format914, Format920} {
			for _, style := range []Style{StylePrint, StyleYAML, StyleIndent} {
				if _, err := format.AppendMessage(nil, wire, style); (err == nil) != (errs[0] == nil) {
					t.Fatalf("format %s style %d: error %v, 9.18's %v", format, style, err, errs[0])
				}
			}
			if _, err := format.AppendYAML(nil, wire, false); (err == nil) != (errs[0] == nil) {
				t.Fatalf("format %s: AppendYAML error %v, 9.18's %v", format, err, errs[0])
			}
		}
	})
}

// BenchmarkAppendMessage renders every message of the golden capture (queries and
// responses of many types) into a reused buffer; ns/op is per message.
func BenchmarkAppendMessage(b *testing.B) {
	frames := readFrames(b, "testdata/capture.fstrm")
	var wires [][]byte
	size := 0
	for _, fr := range frames {
		if _, err := AppendMessage(nil, fr.wire, StylePrint); err == nil {
			wires = append(wires, fr.wire)
			size += len(fr.wire)
		}
	}
	for _, bc := range []struct {
		name  string
		style Style
	}{{"print", StylePrint}, {"yaml", StyleYAML}, {"indent", StyleIndent}} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			b.SetBytes(int64(size / len(wires)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var err error
				buf, err = AppendMessage(buf[:0], wires[i%len(wires)], bc.style)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("yaml-both", func(b *testing.B) {
		buf := make([]byte, 0, 64<<10)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var err error
			buf, err = AppendYAML(buf[:0], wires[i%len(wires)], i%2 == 0)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("message-question-print", func(b *testing.B) {
		var msg Message
		buf := make([]byte, 0, 64<<10)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := msg.Parse(wires[i%len(wires)]); err != nil {
				b.Fatal(err)
			}
			buf, _ = msg.AppendQuestion(buf[:0])
			buf, _ = msg.Append(buf, StylePrint)
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := Check(wires[i%len(wires)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A typical small message: the first query with a COOKIE and its A response.
	for _, fr := range frames {
		if len(fr.wire) > 0 && len(fr.wire) < 120 && !fr.query {
			wire := fr.wire
			b.Run("small-response-print", func(b *testing.B) {
				buf := make([]byte, 0, 4096)
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					buf, _ = AppendMessage(buf[:0], wire, StylePrint)
				}
			})
			break
		}
	}
}
