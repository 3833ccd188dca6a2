package loadtest

import (
	"errors"
	"fmt"
	"io"
	"os"

	tap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"
)

// Frames counts the dnstap frames of a Frame Streams file by message type (AQ, CR, ...).
type Frames struct {
	Total  int64            `json:"total"`
	ByType map[string]int64 `json:"by_type"`
}

// CountFrames reads a Frame Streams file of dnstap frames (as fstrm_capture or dnstap-collector
// write it) and counts its frames by message type.
func CountFrames(path string) (Frames, error) {
	f, err := os.Open(path)
	if err != nil {
		return Frames{}, fmt.Errorf("count frames: %w", err)
	}
	defer f.Close()
	r, err := tap.NewReader(f, nil)
	if err != nil {
		return Frames{}, fmt.Errorf("count frames in %s: %w", path, err)
	}
	fr := Frames{ByType: map[string]int64{}}
	buf := make([]byte, 256*1024)
	var msg tap.Dnstap
	for {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			return fr, nil
		}
		if err != nil {
			return fr, fmt.Errorf("count frames in %s: frame %d: %w", path, fr.Total, err)
		}
		if err := proto.Unmarshal(buf[:n], &msg); err != nil {
			return fr, fmt.Errorf("count frames in %s: frame %d: %w", path, fr.Total, err)
		}
		fr.Total++
		fr.ByType[typeMnemonic(msg.GetMessage().GetType())]++
	}
}

// typeMnemonic gives dnstap-read's two-letter name of a message type.
func typeMnemonic(t tap.Message_Type) string {
	switch t {
	case tap.Message_AUTH_QUERY:
		return "AQ"
	case tap.Message_AUTH_RESPONSE:
		return "AR"
	case tap.Message_RESOLVER_QUERY:
		return "RQ"
	case tap.Message_RESOLVER_RESPONSE:
		return "RR"
	case tap.Message_CLIENT_QUERY:
		return "CQ"
	case tap.Message_CLIENT_RESPONSE:
		return "CR"
	case tap.Message_FORWARDER_QUERY:
		return "FQ"
	case tap.Message_FORWARDER_RESPONSE:
		return "FR"
	case tap.Message_STUB_QUERY:
		return "SQ"
	case tap.Message_STUB_RESPONSE:
		return "SR"
	case tap.Message_TOOL_QUERY:
		return "TQ"
	case tap.Message_TOOL_RESPONSE:
		return "TR"
	}
	return t.String()
}
