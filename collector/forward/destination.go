package forward

import (
	"context"
	"errors"
)

// Destination is where the forwarder ships batches: a Frame Streams receiver (package
// collector/forward/fstrm), and later Kafka or NATS JetStream. Implementations are small:
// Send one batch, durably, or fail.
type Destination interface {
	// Send delivers every frame of b, in order, and returns nil only once the far side has
	// acknowledged all of them durably (FINISH from a dnstap-collector, which sends it after
	// fsync; a Kafka produce with acks=all; a JetStream publish ack). Any error makes the
	// forwarder send the same batch again after a backoff, so the far side may then get some
	// frames twice: wrap the error with NotDelivered when no frame of b can have reached it
	// (it could not connect, the handshake failed), so that no duplicate is counted. Send is
	// called from one goroutine, one batch at a time, in order; when ctx ends it must return.
	// b and its memory are valid only during the call.
	Send(ctx context.Context, b *Batch) error
	// Close releases the destination's connections and clients.
	Close() error
}

// Batch is a run of consecutive data frames of the spool, in the order they were written.
type Batch struct {
	// Wire holds the frames exactly as in the spool files: each a 4-byte big-endian length,
	// then the payload. A Frame Streams destination writes it as it is.
	Wire []byte
	// Frames describes each frame of Wire, in order.
	Frames []Frame
	// Seq numbers the batches of this process from 1; Attempt counts the sends of this batch,
	// from 1.
	Seq     uint64
	Attempt int

	// What the batch moves the cursor to once acknowledged (see state). Files, not names:
	// retention may free a name and the collector reuse it while the batch is in flight.
	endFile   *spoolFile   // the spool file of the last frame read
	endOffset int64        // the offset just after it there
	completed []*spoolFile // spool files read to their end (STOP or, for a file not being written, EOF)
}

// Frame locates one frame, in Batch.Wire and in the spool. FileID and Offset identify the
// frame across restarts and retries: a destination that deduplicates (JetStream's
// Nats-Msg-Id, say) keys on them.
type Frame struct {
	// Start and End delimit the payload in Wire (its length prefix is the 4 bytes before
	// Start).
	Start, End int
	// File is the spool file the frame was read from, as its path without the .part, .gz or
	// .zst suffix. A name can come back after retention deleted its file (a -w without
	// strftime): FileID is the path and the file's creation, unique, and the same after a
	// restart. Offset is the byte offset of the frame's length prefix in the uncompressed file.
	File   string
	FileID string
	Offset int64
}

// Payload returns the payload of frame i (the dnstap protobuf message for dnstap).
func (b *Batch) Payload(i int) []byte { f := b.Frames[i]; return b.Wire[f.Start:f.End] }

// Len returns the number of frames in b.
func (b *Batch) Len() int { return len(b.Frames) }

func (b *Batch) reset() {
	b.Wire, b.Frames = b.Wire[:0], b.Frames[:0]
	b.Seq, b.Attempt = 0, 0
	b.endFile, b.endOffset, b.completed = nil, 0, b.completed[:0]
}

// notDelivered marks a Send error after which the far side cannot hold any frame of the batch.
type notDelivered struct{ err error }

func (e notDelivered) Error() string { return e.err.Error() }
func (e notDelivered) Unwrap() error { return e.err }

// NotDelivered wraps err, the error of a Send in which no frame can have reached the far
// side (dial, TLS or Frame Streams handshake failed). nil stays nil.
func NotDelivered(err error) error {
	if err == nil {
		return nil
	}
	return notDelivered{err}
}

// IsNotDelivered reports whether err (or an error it wraps) came through NotDelivered.
func IsNotDelivered(err error) bool {
	var nd notDelivered
	return errors.As(err, &nd)
}
