package reader

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	tap "github.com/dnstap/golang-dnstap"
	fs "github.com/farsightsec/golang-framestream"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"google.golang.org/protobuf/proto"
)

// toTap converts a decoded Message back to golang-dnstap's type, to compare with
// proto.Unmarshal.
func toTap(m *Message) *tap.Dnstap {
	t := &tap.Dnstap{Identity: m.Identity, Version: m.Version, Extra: m.Extra}
	dt := tap.Dnstap_Type(m.DnstapType)
	t.Type = &dt
	if !m.HasMessage {
		return t
	}
	mt := tap.Message_Type(m.Type)
	tm := &tap.Message{Type: &mt, QueryAddress: m.QueryAddress, ResponseAddress: m.ResponseAddress,
		QueryMessage: m.QueryMessage, ResponseMessage: m.ResponseMessage, QueryZone: m.QueryZone}
	if m.SocketFamily != 0 {
		f := tap.SocketFamily(m.SocketFamily)
		tm.SocketFamily = &f
	}
	if m.SocketProtocol != 0 {
		p := tap.SocketProtocol(m.SocketProtocol)
		tm.SocketProtocol = &p
	}
	if m.HasQueryPort {
		tm.QueryPort = proto.Uint32(m.QueryPort)
	}
	if m.HasResponsePort {
		tm.ResponsePort = proto.Uint32(m.ResponsePort)
	}
	if m.HasQueryTimeSec {
		tm.QueryTimeSec = proto.Uint64(m.QueryTimeSec)
	}
	if m.HasQueryTimeNsec {
		tm.QueryTimeNsec = proto.Uint32(m.QueryTimeNsec)
	}
	if m.HasResponseTimeSec {
		tm.ResponseTimeSec = proto.Uint64(m.ResponseTimeSec)
	}
	if m.HasResponseTimeNsec {
		tm.ResponseTimeNsec = proto.Uint32(m.ResponseTimeNsec)
	}
	t.Message = tm
	return t
}

// writeStream encodes frames with golang-framestream, as golang-dnstap writes files.
func writeStream(t testing.TB, frames ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := fs.NewWriter(&buf, &fs.WriterOptions{ContentTypes: [][]byte{tap.FSContentType}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func marshal(t testing.TB, m *tap.Dnstap) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleTap() []*tap.Dnstap {
	cq, cr, aq := tap.Message_CLIENT_QUERY, tap.Message_CLIENT_RESPONSE, tap.Message_AUTH_QUERY
	inet, inet6 := tap.SocketFamily_INET, tap.SocketFamily_INET6
	udp, tcp := tap.SocketProtocol_UDP, tap.SocketProtocol_TCP
	mt := tap.Dnstap_MESSAGE
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1}
	return []*tap.Dnstap{
		{Type: &mt, Identity: []byte("ns1"), Version: []byte("BIND 9.18"), Message: &tap.Message{
			Type: &cq, SocketFamily: &inet, SocketProtocol: &udp,
			QueryAddress: []byte{127, 0, 53, 1}, ResponseAddress: []byte{127, 0, 53, 2},
			QueryPort: proto.Uint32(40000), ResponsePort: proto.Uint32(53),
			QueryTimeSec: proto.Uint64(1764555521), QueryTimeNsec: proto.Uint32(123456789),
			QueryMessage: q}},
		{Type: &mt, Message: &tap.Message{Type: &cr, SocketFamily: &inet6, SocketProtocol: &tcp,
			QueryAddress: bytes.Repeat([]byte{0}, 15), ResponseAddress: make([]byte, 16),
			ResponseTimeSec: proto.Uint64(1), ResponseTimeNsec: proto.Uint32(0), ResponseMessage: q,
			QueryZone: []byte{0}}},
		{Type: &mt, Message: &tap.Message{Type: &aq}},
		{Type: &mt},
	}
}

func TestDecoderMatchesGolangDnstap(t *testing.T) {
	var frames [][]byte
	for _, m := range sampleTap() {
		frames = append(frames, marshal(t, m))
	}
	inputs := map[string][]byte{"synthetic": writeStream(t, frames...)}
	goldens, _ := filepath.Glob("testdata/golden/*.fstrm")
	for _, p := range goldens {
		inputs[p] = readFile(t, p)
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			want := framesOf(t, data)
			d := NewDecoder(bytes.NewReader(data), name)
			for i := 0; ; i++ {
				m, err := d.Next()
				if err == io.EOF {
					if i != len(want) {
						t.Fatalf("decoded %d messages, golang-framestream read %d frames", i, len(want))
					}
					return
				}
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				var ref tap.Dnstap
				if err := proto.Unmarshal(want[i], &ref); err != nil {
					t.Fatalf("frame %d: golang-dnstap: %v", i, err)
				}
				if got := toTap(m); !proto.Equal(got, &ref) {
					t.Fatalf("frame %d differs:\n got %v\nwant %v", i, got, &ref)
				}
			}
		})
	}
}

// framesOf reads every data frame with golang-framestream, the reference reader.
func framesOf(t testing.TB, data []byte) [][]byte {
	t.Helper()
	r, err := fs.NewReader(bytes.NewReader(data), &fs.ReaderOptions{ContentTypes: [][]byte{tap.FSContentType}})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	buf := make([]byte, 1<<20)
	for {
		n, err := r.ReadFrame(buf)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	t.Helper()
	e, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	return e.EncodeAll(b, nil)
}

// controlFrame builds an escape + control frame of the given type and fields.
func controlFrame(typ uint32, fields ...[]byte) []byte {
	var body []byte
	body = be32(body, typ)
	for _, f := range fields {
		body = be32(body, 1)
		body = be32(body, uint32(len(f)))
		body = append(body, f...)
	}
	out := be32(be32(nil, 0), uint32(len(body)))
	return append(out, body...)
}

func be32(b []byte, v uint32) []byte { return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v)) }

func dataFrame(p []byte) []byte { return append(be32(nil, uint32(len(p))), p...) }

func TestDecoderInputs(t *testing.T) {
	good := marshal(t, sampleTap()[0])
	stream := writeStream(t, good, good)
	noStop := stream[:len(stream)-12] // STOP is escape + length + type: 12 bytes
	start := controlFrame(controlStart, []byte(ContentType))
	tests := []struct {
		name    string
		in      []byte
		msgs    int
		wantErr error
		offset  int64
		index   int
		recover bool
	}{
		{name: "plain", in: stream, msgs: 2},
		{name: "gzip", in: gz(t, stream), msgs: 2},
		{name: "zstd", in: zst(t, stream), msgs: 2},
		{name: "concatenated", in: append(bytes.Clone(stream), stream...), msgs: 4},
		{name: "empty", in: nil, wantErr: ErrTruncated, index: -1},
		{name: "garbage", in: []byte("hello, world, this is not dnstap"), wantErr: ErrNotFrameStream, index: -1},
		{name: "wrong content type", in: append(controlFrame(controlStart, []byte("protobuf:other")), controlFrame(controlStop)...),
			wantErr: ErrNotDnstap, index: -1},
		{name: "no content type", in: controlFrame(controlStart), wantErr: ErrNotDnstap, index: -1},
		{name: "no stop", in: noStop, msgs: 2, wantErr: ErrTruncated, index: 2, offset: int64(len(noStop))},
		{name: "mid frame", in: noStop[:len(noStop)-5], msgs: 1, wantErr: ErrTruncated, index: 1,
			offset: int64(len(start) + 4 + len(good))},
		{name: "bad protobuf", in: append(append(bytes.Clone(start), dataFrame([]byte{0xff, 0xff})...), controlFrame(controlStop)...),
			wantErr: ErrBadProtobuf, index: 0, offset: int64(len(start)), recover: true},
		{name: "missing type", in: append(append(bytes.Clone(start), dataFrame([]byte{0x0a, 0x01, 'x'})...), controlFrame(controlStop)...),
			wantErr: ErrBadProtobuf, index: 0, offset: int64(len(start)), recover: true},
		// A length of 2 GiB in a short file is a corrupt length, not a file still being
		// written (exit 1, not 3).
		{name: "absurd length", in: append(append(bytes.Clone(start), be32(nil, 1<<31)...), bytes.Repeat([]byte{1}, 100)...),
			wantErr: ErrCorrupt, index: 0, offset: int64(len(start))},
		// A frame over the limit that is all there is skipped, and reading goes on.
		{name: "too large", in: append(append(append(bytes.Clone(start), dataFrame(make([]byte, DefaultMaxFrameSize+1))...),
			dataFrame(good)...), controlFrame(controlStop)...),
			msgs: 1, wantErr: ErrFrameTooLarge, index: 0, offset: int64(len(start)), recover: true},
		{name: "handshake frame", in: append(bytes.Clone(start), controlFrame(controlReady)...), wantErr: ErrBadControl,
			index: 0, offset: int64(len(start))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(bytes.NewReader(tt.in), "in.fstrm")
			defer d.Close()
			msgs := 0
			var gotErr error
			for {
				_, err := d.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if gotErr == nil {
						gotErr = err
					}
					if Recoverable(err) {
						continue
					}
					break
				}
				msgs++
			}
			if msgs != tt.msgs {
				t.Errorf("got %d messages, want %d", msgs, tt.msgs)
			}
			if tt.wantErr == nil {
				if gotErr != nil {
					t.Fatalf("unexpected error %v", gotErr)
				}
				return
			}
			if !errors.Is(gotErr, tt.wantErr) {
				t.Fatalf("error %v, want %v", gotErr, tt.wantErr)
			}
			var fe *FrameError
			if !errors.As(gotErr, &fe) {
				t.Fatalf("error %T is not a *FrameError", gotErr)
			}
			if fe.Path != "in.fstrm" || fe.Index != tt.index || fe.Offset != tt.offset {
				t.Errorf("FrameError{%q, %d, %d}, want {in.fstrm, %d, %d}", fe.Path, fe.Index, fe.Offset, tt.index, tt.offset)
			}
			if Recoverable(gotErr) != tt.recover {
				t.Errorf("Recoverable = %v, want %v", !tt.recover, tt.recover)
			}
		})
	}
}
