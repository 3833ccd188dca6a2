package collectortest

import (
	"fmt"
	"os"

	tap "github.com/dnstap/golang-dnstap"
	fs "github.com/farsightsec/golang-framestream"
	"google.golang.org/protobuf/proto"

	"github.com/dnstapkit/dnstapkit/internal/tapct"
	"github.com/dnstapkit/dnstapkit/reader/readertest"
)

// ContentType is dnstap's Frame Streams content type.
const ContentType = tapct.ContentType

// WriteCapture writes a Frame Streams file of n dnstap CLIENT_QUERY messages for
// q<i>.example.org from 192.0.2.<i%250>, as golang-dnstap encodes them, and returns the frames.
func WriteCapture(p string, n int) ([][]byte, error) {
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("write capture: %w", err)
	}
	defer f.Close()
	w, err := fs.NewWriter(f, &fs.WriterOptions{ContentTypes: [][]byte{[]byte(ContentType)}})
	if err != nil {
		return nil, fmt.Errorf("write capture: %w", err)
	}
	frames := make([][]byte, 0, n)
	for i := range n {
		m := &tap.Dnstap{
			Type:     tap.Dnstap_MESSAGE.Enum(),
			Identity: []byte("test"),
			Message: &tap.Message{
				Type:            tap.Message_CLIENT_QUERY.Enum(),
				SocketFamily:    tap.SocketFamily_INET.Enum(),
				SocketProtocol:  tap.SocketProtocol_UDP.Enum(),
				QueryAddress:    []byte{192, 0, 2, byte(i % 250)},
				ResponseAddress: []byte{192, 0, 2, 253},
				QueryPort:       proto.Uint32(uint32(1024 + i%60000)),
				ResponsePort:    proto.Uint32(53),
				QueryTimeSec:    proto.Uint64(uint64(1764547200 + i)),
				QueryTimeNsec:   proto.Uint32(0),
				QueryMessage:    readertest.Query(uint16(i), fmt.Sprintf("q%d.example.org", i)),
			},
		}
		b, err := proto.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("write capture: %w", err)
		}
		if _, err := w.WriteFrame(b); err != nil {
			return nil, fmt.Errorf("write capture: %w", err)
		}
		frames = append(frames, b)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("write capture: %w", err)
	}
	return frames, f.Close()
}
