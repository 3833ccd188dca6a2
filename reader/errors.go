package reader

import (
	"errors"
	"fmt"
)

// Sentinel errors. Test for them with errors.Is; the decoder wraps them in a *FrameError that
// names the input, the frame and its byte offset.
var (
	// ErrNotFrameStream: the input does not begin with a Frame Streams START control frame.
	ErrNotFrameStream = errors.New("reader: not a Frame Streams file (no START control frame)")
	// ErrNotDnstap: the START frame names a content type other than protobuf:dnstap.Dnstap.
	ErrNotDnstap = errors.New("reader: content type is not protobuf:dnstap.Dnstap")
	// ErrTruncated: the input ends inside a frame, or at a frame boundary before the STOP
	// control frame (a file still being written, or one cut short). Every message before
	// that point has been returned.
	ErrTruncated = errors.New("reader: frame stream ends before STOP")
	// ErrBadControl: a control frame is malformed or unexpected.
	ErrBadControl = errors.New("reader: bad control frame")
	// ErrCorrupt: the stream cannot be read on: a data frame's length is over the limit and
	// past the end of the input.
	ErrCorrupt = errors.New("reader: corrupt frame stream")
	// ErrFrameTooLarge: a data frame is longer than the decoder's limit. The frame is
	// skipped; Next may be called again.
	ErrFrameTooLarge = errors.New("reader: data frame too large")
	// ErrBadProtobuf: a data frame is not a valid dnstap protobuf. The frame is skipped
	// (BIND's dnstap-read skips it silently); Next may be called again.
	ErrBadProtobuf = errors.New("reader: data frame is not a valid dnstap protobuf")
)

// FrameError is the error the Decoder returns for bad input. It says where: the input's name,
// the 0-based index of the data frame (-1 for the START control frame) and the byte offset of
// the frame's header in the (decompressed) stream.
type FrameError struct {
	Path   string
	Index  int   // 0-based data frame number; -1 before the first data frame
	Offset int64 // byte offset of the frame header, in the decompressed stream
	Err    error
}

func (e *FrameError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: offset %d: %v", e.Path, e.Offset, e.Err)
	}
	return fmt.Sprintf("%s: frame %d at offset %d: %v", e.Path, e.Index, e.Offset, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

// Recoverable reports whether the decoder skipped only the frame in error and can go on:
// true for ErrBadProtobuf and ErrFrameTooLarge.
func Recoverable(err error) bool {
	return errors.Is(err, ErrBadProtobuf) || errors.Is(err, ErrFrameTooLarge)
}
