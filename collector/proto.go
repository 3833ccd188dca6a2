package collector

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	fs "github.com/farsightsec/golang-framestream"
)

// protoError is a reason to close a connection, with the reason label for metrics.
type protoError struct {
	reason string
	err    error
}

func (e *protoError) Error() string { return e.err.Error() }
func (e *protoError) Unwrap() error { return e.err }

func perr(reason, format string, args ...any) error {
	return &protoError{reason: reason, err: fmt.Errorf(format, args...)}
}

// readControl reads one control frame (escape, length, body); the caller has not consumed the
// escape. A connection that ends (or stalls) inside it gets ReasonTruncated (or
// ReasonTimeout); nothing at all read is the plain error (io.EOF, a timeout).
func readControl(br *bufio.Reader) (fs.ControlFrame, error) {
	var cf fs.ControlFrame
	hdr, err := br.Peek(4)
	if err != nil {
		if len(hdr) > 0 {
			return cf, truncated(err, "inside a frame length")
		}
		return cf, err
	}
	if n := binary.BigEndian.Uint32(hdr); n != 0 {
		return cf, perr(ReasonProtocol, "expected a control frame, got a data frame of %d bytes", n)
	}
	if _, err := br.Discard(4); err != nil {
		return cf, err
	}
	if err := cf.Decode(br); err != nil {
		if errors.Is(err, fs.ErrDecode) {
			return cf, perr(ReasonProtocol, "malformed control frame")
		}
		return cf, truncated(err, "inside a control frame")
	}
	return cf, nil
}

func hasType(cf fs.ControlFrame, ct []byte) bool {
	for _, t := range cf.ContentTypes {
		if bytes.Equal(t, ct) {
			return true
		}
	}
	return false
}

func ctypes(cf fs.ControlFrame) string {
	var b []byte
	for i, t := range cf.ContentTypes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, t...)
	}
	return fmt.Sprintf("%q", b)
}

// handshake runs the receiver side of Frame Streams: READY -> ACCEPT -> START (bidirectional,
// reported true) or a lone START (unidirectional). Only ct is accepted.
func handshake(br *bufio.Reader, w io.Writer, ct []byte) (bool, error) {
	cf, err := readControl(br)
	if err != nil {
		return false, err
	}
	bidi := false
	switch cf.ControlType {
	case fs.CONTROL_READY:
		bidi = true
		if !hasType(cf, ct) {
			return true, perr(ReasonContentType, "sender offers content types %s, want %q", ctypes(cf), ct)
		}
		accept := fs.ControlFrame{ControlType: fs.CONTROL_ACCEPT, ContentTypes: [][]byte{ct}}
		if err := accept.Encode(w); err != nil {
			return true, fmt.Errorf("send ACCEPT: %w", err)
		}
		if cf, err = readControl(br); err != nil {
			return true, err
		}
		if cf.ControlType != fs.CONTROL_START {
			return true, perr(ReasonHandshake, "expected START after ACCEPT, got control type %d", cf.ControlType)
		}
	case fs.CONTROL_START:
	default:
		return false, perr(ReasonHandshake, "expected READY or START, got control type %d", cf.ControlType)
	}
	if len(cf.ContentTypes) > 0 && !hasType(cf, ct) {
		return bidi, perr(ReasonContentType, "START has content type %s, want %q", ctypes(cf), ct)
	}
	return bidi, nil
}

// batch carries complete data frames, exactly as they appear on the wire and in the file
// (4-byte big-endian length, then the payload), from a connection to the writer.
type batch struct {
	buf     []byte
	frames  int    // frames in buf[off:]
	size    int    // bytes counted against the sink's limit
	off     int    // bytes of buf written: a frame boundary
	partial int    // bytes of the frame at off already written (to a stream)
	lastSeq uint64 // sink sequence number of its last frame (see syncReq)
}

// loopState is where frameLoop is, for the connection's reader to choose its read deadline:
// mid is true from the first byte of a frame the loop has consumed to its last (a frame whose
// bytes are only buffered shows as bufio.Reader.Buffered() > 0 instead), and done counts the
// frames (data and control) finished.
type loopState struct {
	mid  bool
	done uint64
}

// frameLoop hands the data frames read from br to put, until STOP (nil error, stop true), EOF
// at a frame boundary (nil error, stop false) or an error. Frames are never decoded: each call
// of put gets every complete frame that one read brought, as a slice of br's buffer (valid
// only during the call), exactly as on the wire and in the file (4-byte big-endian length,
// payload). put may block: that is the backpressure. A frame cut off by an error is not
// handed on. st (may be nil) is kept up to date for the reader under br.
func frameLoop(br *bufio.Reader, maxFrame int, put func(frames []byte, n int), st *loopState) (stop bool, err error) {
	if st == nil {
		st = &loopState{}
	}
	var big []byte
	for {
		st.mid = false
		hdr, err := br.Peek(4)
		if err != nil {
			if errors.Is(err, io.EOF) && len(hdr) == 0 {
				return false, nil
			}
			if len(hdr) > 0 {
				return false, truncated(err, "inside a frame length")
			}
			return false, err
		}
		n := int(binary.BigEndian.Uint32(hdr))
		if n == 0 {
			st.mid = true
			cf, err := readControl(br)
			if err != nil {
				return false, err
			}
			st.done++
			if cf.ControlType == fs.CONTROL_STOP {
				return true, nil
			}
			return false, perr(ReasonProtocol, "unexpected control frame type %d after START", cf.ControlType)
		}
		if n > maxFrame {
			return false, perr(ReasonFrameSize, "data frame of %d bytes, more than the cap of %d", n, maxFrame)
		}
		if 4+n > br.Size() { // larger than the read buffer: assemble it apart
			if cap(big) < 4+n {
				big = make([]byte, 4+n)
			}
			st.mid = true
			if _, err := io.ReadFull(br, big[:4+n]); err != nil {
				return false, truncated(err, fmt.Sprintf("inside a data frame of %d bytes", n))
			}
			put(big[:4+n], 1)
			st.done++
			continue
		}
		// Every complete frame already buffered, starting with this one.
		buf, _ := br.Peek(br.Buffered())
		off, frames := 0, 0
		for off+4 <= len(buf) {
			l := int(binary.BigEndian.Uint32(buf[off:]))
			if l == 0 || l > maxFrame || off+4+l > len(buf) {
				break
			}
			off += 4 + l
			frames++
		}
		if frames == 0 { // the first frame is not all here yet: wait for the rest of it
			if _, err := br.Peek(4 + n); err != nil {
				return false, truncated(err, fmt.Sprintf("inside a data frame of %d bytes", n))
			}
			continue
		}
		put(buf[:off], frames)
		if _, err := br.Discard(off); err != nil {
			return false, err // cannot happen: off bytes are buffered
		}
		st.done += uint64(frames)
	}
}

func truncated(err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return perr(ReasonTruncated, "connection closed %s", where)
	}
	if isTimeout(err) {
		return perr(ReasonTimeout, "timed out %s", where)
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// reasonOf returns the reason label of a protoError in err's chain, or "".
func reasonOf(err error) string {
	var pe *protoError
	if errors.As(err, &pe) {
		return pe.reason
	}
	return ""
}
