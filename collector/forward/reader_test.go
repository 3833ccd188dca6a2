package forward

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// spoolBytes is a file of n frames "fN" with START (and STOP when closed).
func spoolBytes(n int, closed bool) []byte {
	b := []byte{0, 0, 0, 0, 0, 0, 0, 0x22, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0x16}
	b = append(b, "protobuf:dnstap.Dnstap"...)
	for i := range n {
		p := []byte{'f', byte('0' + i%10)}
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	if closed {
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3)
	}
	return b
}

// TestReadVariants: each variant of a spool file reads the same frames from an offset; an
// offset past the end of the file (what a power loss can leave) reads nothing, whatever the
// variant; a cut-off last frame is reported, not read.
func TestReadVariants(t *testing.T) {
	dir := t.TempDir()
	raw := spoolBytes(10, true)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write("a.fstrm", raw)
	write("b.fstrm.part", spoolBytes(10, false)[:len(spoolBytes(10, false))-1])
	var zb []byte
	enc, _ := zstd.NewWriter(nil)
	zb = enc.EncodeAll(raw, nil)
	write("c.fstrm.zst", zb)
	f, _ := os.Create(filepath.Join(dir, "d.fstrm.gz"))
	gz := gzip.NewWriter(f)
	_, _ = gz.Write(raw)
	_ = gz.Close()
	_ = f.Close()
	second := int64(42 + 6) // START (escape, length, 34 bytes), then the first frame
	for _, tc := range []struct {
		key  string
		off  int64
		want int
		end  error
	}{
		{"a.fstrm", 0, 10, errFileEnd},
		{"a.fstrm", second, 9, errFileEnd},
		{"a.fstrm", 10_000, 0, errFileEnd},
		{"b.fstrm", 0, 9, errPartial},
		{"c.fstrm", second, 9, errFileEnd},
		{"c.fstrm", 10_000, 0, errFileEnd},
		{"d.fstrm", second, 9, errFileEnd},
		{"d.fstrm", 10_000, 0, errFileEnd},
	} {
		r, err := openSpoolFile(filepath.Join(dir, tc.key), tc.off, 64)
		if err != nil {
			t.Fatalf("%s at %d: %v", tc.key, tc.off, err)
		}
		n := 0
		for {
			_, _, err = r.next(-1, 1<<20)
			if err != nil {
				break
			}
			n++
		}
		r.close()
		if n != tc.want || !errors.Is(err, tc.end) {
			t.Errorf("%s at %d: %d frames then %v, want %d then %v", tc.key, tc.off, n, err, tc.want, tc.end)
		}
	}
	if _, err := openSpoolFile(filepath.Join(dir, "none.fstrm"), 0, 64); !errors.Is(err, errVanished) {
		t.Errorf("a missing file: %v", err)
	}
}

// FuzzSpoolFile: whatever a spool file holds (a crash's leftovers, garbage), reading it does
// not panic, every frame returned is a whole frame of the file at the offset reported, in
// increasing offsets, and reading ends with the end of the file or a clear error.
func FuzzSpoolFile(f *testing.F) {
	f.Add(spoolBytes(3, true))
	f.Add(spoolBytes(3, false)[:30])
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := filepath.Join(dir, "x.fstrm")
		if err := os.WriteFile(p, raw, 0o640); err != nil {
			t.Fatal(err)
		}
		r, err := openPath(p, 0, 16)
		if err != nil {
			t.Fatal(err)
		}
		defer r.close()
		last := int64(-1)
		for range len(raw) + 1 {
			fr, off, err := r.next(-1, 1<<16)
			if err != nil {
				return
			}
			if off <= last || off+int64(len(fr)) > int64(len(raw)) || string(raw[off:off+int64(len(fr))]) != string(fr) {
				t.Fatalf("frame %q at %d (after %d) is not the file's", fr, off, last)
			}
			if n := binary.BigEndian.Uint32(fr); n == 0 || int(n) != len(fr)-4 {
				t.Fatalf("frame at %d: length %d, %d bytes", off, n, len(fr))
			}
			last = off
		}
		t.Fatal("more frames than bytes")
	})
}
