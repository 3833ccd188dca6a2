// Package jsonvalue turns a dnstap frame into the value a Kafka record or NATS message carries
// under dnstap-collector --forward-format json: the JSON object dnstap-reader --json prints for
// it (without the newline), for pipelines that want JSON rather than protobuf.
//
// A frame the reader prints no object for (it does not decode, or it holds no message) still
// becomes one value, {"frame_error":"...","frame":"<base64 of the frame>"}, so that every frame
// of the spool is one record and none is dropped without a word.
package jsonvalue

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
	"github.com/dnstapkit/dnstapkit/reader"
)

// ContentType is the Content-Type header of such a value.
const ContentType = engine.ContentTypeJSON

// ContentTypeOf is the Content-Type of a destination's messages: JSON's when json is set,
// else ct (default the dnstap protobuf's).
func ContentTypeOf(ct string, json bool) string {
	switch {
	case json:
		return ContentType
	case ct == "":
		return tapct.ContentType
	}
	return ct
}

// Encoder makes values; it reuses its memory and is not safe for concurrent use.
type Encoder struct {
	m    reader.Message
	buf  []byte
	ends []int
	vals [][]byte
}

// Append appends the JSON value of frame to dst.
func (e *Encoder) Append(dst, frame []byte) []byte {
	if err := e.m.Unmarshal(frame); err != nil {
		return appendFrameError(dst, "dnstap protobuf: "+err.Error(), frame)
	}
	if !e.m.HasMessage {
		return appendFrameError(dst, "dnstap frame without a message (type "+strconv.FormatUint(uint64(e.m.DnstapType), 10)+")", frame)
	}
	dst = reader.AppendJSON(dst, &e.m)
	return dst[:len(dst)-1] // the value is one object; NDJSON's newline is the reader's
}

func appendFrameError(dst []byte, why string, frame []byte) []byte {
	dst = append(dst, `{"frame_error":`...)
	q, _ := json.Marshal(why) // a string always marshals
	dst = append(dst, q...)
	dst = append(dst, `,"frame":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, frame)
	return append(dst, `"}`...)
}

// Values returns the JSON value of each of n frames (frame(i) gives the i-th). The values
// share memory the Encoder reuses: they are valid until the next call.
func (e *Encoder) Values(n int, frame func(i int) []byte) [][]byte {
	e.buf = e.buf[:0]
	e.ends = e.ends[:0]
	for i := range n {
		e.buf = e.Append(e.buf, frame(i))
		e.ends = append(e.ends, len(e.buf))
	}
	e.vals = e.vals[:0]
	start := 0
	for _, end := range e.ends {
		e.vals = append(e.vals, e.buf[start:end:end])
		start = end
	}
	return e.vals
}
