package reader

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// ContentType is the Frame Streams content type of dnstap data.
const ContentType = tapct.ContentType

// DefaultMaxFrameSize is the largest data frame the decoder accepts: libfstrm's default
// (1 MiB). A dnstap frame holds at most two 65535-byte DNS messages plus a few hundred bytes.
const DefaultMaxFrameSize = 1 << 20

const (
	controlAccept = 1
	controlStart  = 2
	controlStop   = 3
	controlReady  = 4
	controlFinish = 5

	controlFieldContentType = 1

	maxControlSize = 512 // libfstrm's FSTRM_CONTROL_FRAME_LENGTH_MAX
	readBufferSize = 256 << 10
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Decoder reads dnstap messages from one Frame Streams input. It is not safe for concurrent use.
type Decoder struct {
	// MaxFrameSize limits a data frame's length in bytes; 0 means DefaultMaxFrameSize.
	MaxFrameSize int

	name    string
	src     io.Reader
	closers []io.Closer
	br      *bufio.Reader

	off     int64 // bytes consumed from the decompressed stream
	index   int   // data frames seen
	state   int
	ctype   []byte
	buf     []byte
	msg     Message
	err     error // sticky
	sniffed bool
	hdr     [4]byte
	cbuf    [maxControlSize]byte
}

const (
	stateStart   = iota // expecting START
	stateData           // inside START ... STOP
	stateStopped        // after STOP: EOF, or another START (concatenated streams)
)

// NewDecoder returns a Decoder that reads r, which may be gzip- or zstd-compressed (recognised
// by its first bytes). name is used in errors (a path, or "-" for stdin).
func NewDecoder(r io.Reader, name string) *Decoder {
	return &Decoder{name: name, src: r}
}

// Open opens the file at path ("-" is standard input) and returns a Decoder for it. Close it.
func Open(path string) (*Decoder, error) {
	if path == "-" {
		return NewDecoder(os.Stdin, "-"), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // an *fs.PathError: "open PATH: reason"
	}
	d := NewDecoder(f, path)
	d.closers = append(d.closers, f)
	return d, nil
}

// Name returns the name the decoder reports in errors.
func (d *Decoder) Name() string { return d.name }

// ContentType returns the content type of the START frame, once Next has read it.
func (d *Decoder) ContentType() []byte { return d.ctype }

// Offset returns the number of (decompressed) bytes consumed so far: after a complete frame,
// the offset of the next frame.
func (d *Decoder) Offset() int64 { return d.off }

// Frames returns the number of data frames read so far.
func (d *Decoder) Frames() int { return d.index }

// Close closes what Open opened and any decompressor. It does not close a reader passed to
// NewDecoder.
func (d *Decoder) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	d.closers = nil
	return errors.Join(errs...)
}

func (d *Decoder) sniff() error {
	d.sniffed = true
	br := bufio.NewReaderSize(d.src, readBufferSize)
	r, c, err := decompress(br)
	if err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	if c == nil {
		d.br = br
		return nil
	}
	d.closers = append(d.closers, c)
	d.br = bufio.NewReaderSize(r, readBufferSize)
	return nil
}

// decompress returns br itself, or a gzip or zstd reader over it when its first bytes are
// that format's magic number, with the decompressor's closer (nil for br itself).
func decompress(br *bufio.Reader) (io.Reader, io.Closer, error) {
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, zr, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return zr, closerFunc(func() error { zr.Close(); return nil }), nil
	}
	return br, nil, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func (d *Decoder) frameErr(index int, off int64, err error) *FrameError {
	return &FrameError{Path: d.name, Index: index, Offset: off, Err: err}
}

// Next returns the next dnstap message, or io.EOF after the STOP frame at the end of the
// input. The message and every slice in it are valid only until the next call to Next.
//
// Errors are *FrameError values wrapping a sentinel (ErrTruncated, ErrNotDnstap, ...). After
// an error for which Recoverable is true only that frame was skipped and Next may be called
// again; any other error is returned again by every later call.
func (d *Decoder) Next() (*Message, error) {
	buf, index, start, err := d.nextFrame()
	if err != nil {
		return nil, err
	}
	if err := d.msg.unmarshal(buf); err != nil {
		return nil, d.frameErr(index, start, fmt.Errorf("%w: %w", ErrBadProtobuf, err))
	}
	return &d.msg, nil
}

// nextFrame returns the next data frame's payload (valid until the next read), its index
// and offset, skipping control frames. Errors are sticky as Next documents.
func (d *Decoder) nextFrame() ([]byte, int, int64, error) {
	if d.err != nil {
		return nil, 0, 0, d.err
	}
	if !d.sniffed {
		if err := d.sniff(); err != nil {
			d.err = err
			return nil, 0, 0, err
		}
	}
	for {
		index, start := d.index, d.off
		buf, err := d.next()
		if err == nil && buf == nil {
			continue // a control frame was consumed
		}
		if err != nil && !Recoverable(err) {
			d.err = err
		}
		return buf, index, start, err
	}
}

// next reads one frame and returns a data frame's payload, or (nil, nil) after a control
// frame.
func (d *Decoder) next() ([]byte, error) {
	start := d.off
	hdr, err := d.br.Peek(4)
	if len(hdr) < 4 {
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, d.eofErr(start, err)
	}
	n := binary.BigEndian.Uint32(hdr)
	d.br.Discard(4)
	d.off += 4
	if n == 0 {
		return nil, d.control(start)
	}
	if d.state != stateData {
		if d.state == stateStart && d.index == 0 {
			return nil, d.frameErr(-1, start, ErrNotFrameStream)
		}
		return nil, d.frameErr(d.index, start, fmt.Errorf("%w: data frame after STOP", ErrBadControl))
	}
	index := d.index
	d.index++
	limit := d.MaxFrameSize
	if limit <= 0 {
		limit = DefaultMaxFrameSize
	}
	if int64(n) > int64(limit) {
		k, err := d.br.Discard(int(n))
		d.off += int64(k)
		if err != nil {
			// Not a large frame cut short: a length no writer would produce that also runs
			// past the end is a corrupt length.
			return nil, d.frameErr(index, start, fmt.Errorf("%w: data frame length %d is over the limit of %d and runs past the end of the input (%d bytes present)", ErrCorrupt, n, limit, k))
		}
		return nil, d.frameErr(index, start, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit))
	}
	// Frames that fit the read buffer are decoded in place (the slices stay valid until the
	// next read, that is the next call to Next); larger ones are copied to d.buf.
	buf, err := d.br.Peek(int(n))
	if err == nil {
		d.br.Discard(int(n))
		d.off += int64(n)
	} else {
		if err != bufio.ErrBufferFull {
			k := len(buf)
			d.br.Discard(k)
			d.off += int64(k)
			return nil, d.frameErr(index, start, fmt.Errorf("%w: ends inside a %d-byte data frame (%d bytes present)", ErrTruncated, n, k))
		}
		if cap(d.buf) < int(n) {
			d.buf = make([]byte, n)
		}
		buf = d.buf[:n]
		k, err := io.ReadFull(d.br, buf)
		d.off += int64(k)
		if err != nil {
			return nil, d.frameErr(index, start, fmt.Errorf("%w: ends inside a %d-byte data frame (%d bytes present)", ErrTruncated, n, k))
		}
	}
	return buf, nil
}

func (d *Decoder) eofErr(start int64, err error) error {
	if err == io.EOF {
		switch d.state {
		case stateStopped:
			return io.EOF
		case stateStart:
			if d.index == 0 && start == 0 {
				return d.frameErr(-1, start, fmt.Errorf("%w: empty input", ErrTruncated))
			}
		}
		return d.frameErr(d.index, start, fmt.Errorf("%w: no STOP control frame after %d data frames", ErrTruncated, d.index))
	}
	if err == io.ErrUnexpectedEOF {
		return d.frameErr(d.index, start, fmt.Errorf("%w: ends inside a frame header", ErrTruncated))
	}
	return d.frameErr(d.index, start, fmt.Errorf("read: %w", err))
}

// control reads a control frame whose escape has been consumed; start is its offset.
func (d *Decoder) control(start int64) error {
	index := -1
	if d.state != stateStart {
		index = d.index
	}
	if _, err := io.ReadFull(d.br, d.hdr[:]); err != nil {
		return d.frameErr(index, start, fmt.Errorf("%w: ends inside a control frame header", ErrTruncated))
	}
	d.off += 4
	n := binary.BigEndian.Uint32(d.hdr[:])
	if n < 4 || n > maxControlSize {
		if d.state == stateStart && d.index == 0 && start == 0 {
			return d.frameErr(index, start, fmt.Errorf("%w: control frame length %d", ErrNotFrameStream, n))
		}
		return d.frameErr(index, start, fmt.Errorf("%w: length %d, must be between 4 and %d", ErrBadControl, n, maxControlSize))
	}
	c := d.cbuf[:n]
	k, err := io.ReadFull(d.br, c)
	d.off += int64(k)
	if err != nil {
		return d.frameErr(index, start, fmt.Errorf("%w: ends inside a %d-byte control frame", ErrTruncated, n))
	}
	typ := binary.BigEndian.Uint32(c)
	switch typ {
	case controlStart:
		if d.state == stateData {
			return d.frameErr(index, start, fmt.Errorf("%w: START inside a stream", ErrBadControl))
		}
		ct, err := parseContentType(c[4:])
		if err != nil {
			return d.frameErr(index, start, err)
		}
		if string(ct) != ContentType {
			if ct == nil {
				return d.frameErr(index, start, fmt.Errorf("%w: START names no content type", ErrNotDnstap))
			}
			return d.frameErr(index, start, fmt.Errorf("%w: got %q", ErrNotDnstap, ct))
		}
		d.ctype = append(d.ctype[:0], ct...)
		d.state = stateData
		return nil
	case controlStop:
		if d.state != stateData {
			return d.frameErr(index, start, fmt.Errorf("%w: STOP without START", ErrBadControl))
		}
		d.state = stateStopped
		return nil
	case controlAccept, controlReady, controlFinish:
		return d.frameErr(index, start, fmt.Errorf("%w: handshake frame (type %d) in a file", ErrBadControl, typ))
	default:
		if d.state == stateStart && start == 0 {
			return d.frameErr(index, start, fmt.Errorf("%w: control type %d", ErrNotFrameStream, typ))
		}
		return d.frameErr(index, start, fmt.Errorf("%w: unknown control type %d", ErrBadControl, typ))
	}
}

// parseContentType returns the first content-type field of a control frame's fields, or nil.
// This is what BIND checks.
func parseContentType(b []byte) ([]byte, error) {
	var first []byte
	for len(b) > 0 {
		if len(b) < 8 {
			return nil, fmt.Errorf("%w: %d stray bytes after the fields", ErrBadControl, len(b))
		}
		ft := binary.BigEndian.Uint32(b)
		fl := binary.BigEndian.Uint32(b[4:])
		b = b[8:]
		if uint64(fl) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: field length %d exceeds the frame", ErrBadControl, fl)
		}
		if ft == controlFieldContentType && first == nil {
			first = b[:fl:fl]
		}
		b = b[fl:]
	}
	return first, nil
}
