// Package readertest builds dnstap captures of known content for tests: Frame Streams files
// of client queries, one per name, as golang-dnstap writes them, which dnstap-reader, BIND's
// dnstap-read and fstrm_replay all accept.
package readertest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	fs "github.com/farsightsec/golang-framestream"
	"google.golang.org/protobuf/proto"
)

// Query returns a DNS query for name/A in wire format (RD set), as a stub resolver sends it;
// collectortest's captures use it too.
func Query(id uint16, name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0) // RD, QDCOUNT 1
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, 0, 1, 0, 1)
}

// Frames returns one dnstap CLIENT_QUERY message per name, from 192.0.2.1 to 192.0.2.53,
// the i-th stamped t0 plus i milliseconds.
func Frames(names []string, t0 time.Time) ([][]byte, error) {
	out := make([][]byte, 0, len(names))
	for i, name := range names {
		t := t0.Add(time.Duration(i) * time.Millisecond)
		m := &tap.Dnstap{
			Type:     tap.Dnstap_MESSAGE.Enum(),
			Identity: []byte("readertest"),
			Message: &tap.Message{
				Type:            tap.Message_CLIENT_QUERY.Enum(),
				SocketFamily:    tap.SocketFamily_INET.Enum(),
				SocketProtocol:  tap.SocketProtocol_UDP.Enum(),
				QueryAddress:    []byte{192, 0, 2, 1},
				ResponseAddress: []byte{192, 0, 2, 53},
				QueryPort:       proto.Uint32(uint32(1024 + i%60000)),
				ResponsePort:    proto.Uint32(53),
				QueryTimeSec:    proto.Uint64(uint64(t.Unix())),
				QueryTimeNsec:   proto.Uint32(uint32(t.Nanosecond())),
				QueryMessage:    Query(uint16(i), name),
			},
		}
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("readertest: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// Capture returns a complete Frame Streams file (START, the frames of Frames, STOP).
func Capture(names []string, t0 time.Time) ([]byte, error) {
	frames, err := Frames(names, t0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := fs.NewWriter(&buf, &fs.WriterOptions{ContentTypes: [][]byte{tap.FSContentType}})
	if err != nil {
		return nil, fmt.Errorf("readertest: %w", err)
	}
	for _, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			return nil, fmt.Errorf("readertest: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("readertest: %w", err)
	}
	return buf.Bytes(), nil
}

// Names returns n names: prefix0.example.test, prefix1.example.test, ...
func Names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d.example.test", prefix, i)
	}
	return out
}
