package collector

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

func TestHandshake(t *testing.T) {
	accept := controlBytes(acceptFrame())
	tests := []struct {
		name       string
		in         []byte
		bidi       bool
		wantReply  []byte
		wantReason string
	}{
		{"bidirectional", cat(controlBytes(readyFrame(DefaultContentType)), controlBytes(startFrame())), true, accept, ""},
		{"ready with several types", cat(controlBytes(readyTypes("a", DefaultContentType)), controlBytes(startFrame())), true, accept, ""},
		{"unidirectional", controlBytes(startFrame()), false, nil, ""},
		{"empty input", nil, false, nil, "eof"},
		{"wrong type in ready", controlBytes(readyFrame("x")), true, nil, ReasonContentType},
		{"wrong type in start", controlBytes(startTypes("x")), false, nil, ReasonContentType},
		{"stop first", controlBytes(stopFrame()), false, nil, ReasonHandshake},
		{"ready then ready", cat(controlBytes(readyFrame(DefaultContentType)), controlBytes(readyFrame(DefaultContentType))), true, accept, ReasonHandshake},
		{"data frame first", []byte{0, 0, 0, 5, 1, 2, 3, 4, 5}, false, nil, ReasonProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var reply bytes.Buffer
			bidi, err := handshake(bufio.NewReader(bytes.NewReader(tc.in)), &reply, ctDnstap)
			var pe *protoError
			switch {
			case tc.wantReason == "eof":
				if err == nil {
					t.Fatal("want an error on empty input")
				}
			case tc.wantReason == "":
				if err != nil {
					t.Fatal(err)
				}
			case !errors.As(err, &pe) || pe.reason != tc.wantReason:
				t.Fatalf("err %v, want reason %s", err, tc.wantReason)
			}
			if err == nil && bidi != tc.bidi {
				t.Errorf("bidi = %v", bidi)
			}
			if !bytes.Equal(reply.Bytes(), tc.wantReply) {
				t.Errorf("reply % x, want % x", reply.Bytes(), tc.wantReply)
			}
		})
	}
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// runLoop feeds in to frameLoop and returns what was sent, concatenated.
func runLoop(in []byte, maxFrame int) ([]byte, int, bool, error) {
	var out []byte
	frames := 0
	put := func(b []byte, n int) { out = append(out, b...); frames += n }
	stop, err := frameLoop(bufio.NewReaderSize(bytes.NewReader(in), 16), maxFrame, put, nil)
	return out, frames, stop, err
}

// FuzzHandshake: any input ends in a result or an error, never a panic; on success the
// reply is exactly ACCEPT (bidirectional) or nothing.
func FuzzHandshake(f *testing.F) {
	f.Add(cat(controlBytes(readyFrame(DefaultContentType)), controlBytes(startFrame())))
	f.Add(controlBytes(startFrame()))
	f.Add(controlBytes(readyTypes("a", "b")))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, in []byte) {
		var reply bytes.Buffer
		bidi, err := handshake(bufio.NewReader(bytes.NewReader(in)), &reply, ctDnstap)
		if err != nil {
			return
		}
		want := []byte(nil)
		if bidi {
			want = controlBytes(acceptFrame())
		}
		if !bytes.Equal(reply.Bytes(), want) {
			t.Fatalf("reply % x after a successful handshake (bidi %v)", reply.Bytes(), bidi)
		}
	})
}

// FuzzFrameLoop: what frameLoop hands on is a prefix of the input made of whole frames, the
// frame count matches, and the loop ends (STOP, EOF or an error) without panicking.
func FuzzFrameLoop(f *testing.F) {
	var b bytes.Buffer
	writeFrame(&b, []byte("hello"))
	writeFrame(&b, bytes.Repeat([]byte{1}, 40))
	f.Add(cat(b.Bytes(), controlBytes(stopFrame())))
	f.Add(b.Bytes()[:7])
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, frames, _, _ := runLoop(in, 1000)
		if !bytes.HasPrefix(in, out) {
			t.Fatalf("output is not a prefix of the input")
		}
		got, err := parseFrames(out)
		if err != nil || got != frames {
			t.Fatalf("output holds %d whole frames (%v), loop counted %d", got, err, frames)
		}
	})
}

func parseFrames(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(b) < 4 {
			return n, errors.New("partial length")
		}
		l := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		if l == 0 || len(b) < 4+l {
			return n, errors.New("partial or control frame")
		}
		b = b[4+l:]
		n++
	}
	return n, nil
}

func TestFrameLoop(t *testing.T) {
	var frames bytes.Buffer
	writeFrame(&frames, []byte("one"))
	writeFrame(&frames, bytes.Repeat([]byte("x"), 100))
	tests := []struct {
		name       string
		in         []byte
		wantFrames int
		wantStop   bool
		wantReason string
	}{
		{"stop", cat(frames.Bytes(), controlBytes(stopFrame())), 2, true, ""},
		{"eof at boundary", frames.Bytes(), 2, false, ""},
		{"eof in length", cat(frames.Bytes(), []byte{0, 0}), 2, false, ReasonTruncated},
		{"eof in frame", cat(frames.Bytes(), []byte{0, 0, 0, 9, 1}), 2, false, ReasonTruncated},
		{"too large", cat(frames.Bytes(), []byte{0, 0, 4, 0}), 2, false, ReasonFrameSize},
		{"ready after start", cat(frames.Bytes(), controlBytes(readyFrame("x"))), 2, false, ReasonProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, n, stop, err := runLoop(tc.in, 1000)
			var pe *protoError
			if tc.wantReason == "" && err != nil || tc.wantReason != "" && (!errors.As(err, &pe) || pe.reason != tc.wantReason) {
				t.Fatalf("err %v, want reason %q", err, tc.wantReason)
			}
			if n != tc.wantFrames || stop != tc.wantStop || !bytes.Equal(out, frames.Bytes()) {
				t.Errorf("frames %d stop %v out %d bytes", n, stop, len(out))
			}
		})
	}
}
