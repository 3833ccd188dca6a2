package aptrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"
)

// FuzzDebControl feeds debControl whatever bytes: it must return a paragraph or an error,
// never panic, and a paragraph it returns must print and parse back to itself.
func FuzzDebControl(f *testing.F) {
	f.Add(testDeb(f, "Package: a\nVersion: 1\nArchitecture: amd64\nDescription: x\n y\n"))
	f.Add([]byte("!<arch>\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		p, err := debControl(data)
		if err != nil {
			return
		}
		again, err := ParseParagraph([]byte(p.String()))
		if err != nil || again.String() != p.String() {
			t.Fatalf("paragraph %q printed as %q parses as %q (%v)", p, p.String(), again.String(), err)
		}
	})
}

// testDeb makes the bytes of a .deb whose control file is control (gzip members).
func testDeb(tb testing.TB, control string) []byte {
	tb.Helper()
	var tarBuf bytes.Buffer
	tw := newTar(&tarBuf)
	tw("./control", control)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarBuf.Bytes())
	zw.Close()
	b := bytes.NewBufferString(arMagic)
	for _, m := range []struct {
		name string
		data []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", gz.Bytes()}} {
		fmt.Fprintf(b, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", m.name, 0, 0, 0, 0o644, len(m.data))
		b.Write(m.data)
		if len(m.data)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// newTar returns a function that adds a regular file to a tar stream written to w (closed
// by the caller's use of the buffer: the end-of-archive blocks are not needed by debControl).
func newTar(w *bytes.Buffer) func(name, body string) {
	tw := tar.NewWriter(w)
	return func(name, body string) {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(body))
		_ = tw.Flush()
	}
}
