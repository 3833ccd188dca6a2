package jsonvalue

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/collector/forward/forwardtest"
)

// TestSameAsReader: the value of each frame of real BIND captures is the line dnstap-reader
// --json prints for it, without the newline.
func TestSameAsReader(t *testing.T) {
	files, err := filepath.Glob("../../../reader/testdata/golden/*.fstrm")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden captures: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want, err := forwardtest.ReaderJSON(path)
			if err != nil {
				t.Fatal(err)
			}
			batches, err := forwardtest.Batches(path, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var e Encoder
			var got []byte
			frames := 0
			for _, b := range batches {
				for i := range b.Len() {
					v := e.Append(nil, b.Payload(i))
					if !json.Valid(v) {
						t.Fatalf("frame %d: not JSON: %s", frames, v)
					}
					got = append(append(got, v...), '\n')
					frames++
				}
			}
			if frames == 0 {
				t.Fatal("no frames")
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%d frames: values differ from dnstap-reader --json\ngot  %.300s\nwant %.300s", frames, got, want)
			}
		})
	}
}

// TestFrameError: a frame the reader prints no object for is still one value, naming why and
// carrying the frame.
func TestFrameError(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame []byte
		why   string
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}, "dnstap protobuf:"},
		{"truncated field", []byte{0x0a, 0x10, 'a'}, "dnstap protobuf:"},
		{"no message", []byte{0x78, 0x01}, "without a message (type 1)"}, // type = MESSAGE, no message field
		{"no type", []byte{0x0a, 0x02, 0x00, 0x01}, "dnstap protobuf:"},  // identity "\x00\x01", required type missing
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Encoder
			v := e.Append([]byte("prefix"), tc.frame)
			if !bytes.HasPrefix(v, []byte("prefix")) {
				t.Fatalf("dst not appended to: %s", v)
			}
			var obj struct {
				FrameError string `json:"frame_error"`
				Frame      string `json:"frame"`
			}
			if err := json.Unmarshal(v[len("prefix"):], &obj); err != nil {
				t.Fatalf("not JSON: %s: %v", v, err)
			}
			if !strings.Contains(obj.FrameError, tc.why) {
				t.Errorf("frame_error %q, want it to contain %q", obj.FrameError, tc.why)
			}
			raw, err := base64.StdEncoding.DecodeString(obj.Frame)
			if err != nil || !bytes.Equal(raw, tc.frame) {
				t.Errorf("frame %q (%v), want %x", obj.Frame, err, tc.frame)
			}
		})
	}
}

// BenchmarkValues: what --forward-format json costs the router per frame (real BIND frames).
func BenchmarkValues(b *testing.B) {
	batches, err := forwardtest.Batches("../../../reader/testdata/golden/resolver.fstrm", 1<<20)
	if err != nil || len(batches) != 1 {
		b.Fatalf("%d batches: %v", len(batches), err)
	}
	bt := batches[0]
	var e Encoder
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.Values(bt.Len(), bt.Payload)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bt.Len()), "ns/frame")
}
