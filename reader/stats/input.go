package stats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
)

// Progress counts what Feed has read, for a progress line; safe to read from another
// goroutine.
type Progress struct {
	Messages atomic.Uint64
	Bytes    atomic.Int64 // decoder offset in the current input
	Input    atomic.Value // string: the input being read
}

// Batches carry records from the decoding goroutine to the accounting one. A batch holds
// up to batchRecords records whose bytes live in its own arena, so the decoder's buffers can
// be reused at once; batchCount batches circulate, so memory stays at a few MiB.
const (
	batchRecords = 4096
	batchArena   = 1 << 20 // bytes: DNS messages and addresses of one batch
	batchCount   = 4
)

type batch struct {
	recs  []Record
	arena []byte
}

// add copies r into b; it reports false, copying nothing, when b is full.
func (b *batch) add(r *Record) bool {
	need := len(r.QueryAddr) + len(r.ResponseAddr) + len(r.Wire)
	if len(b.recs) == cap(b.recs) || (len(b.arena)+need > cap(b.arena) && len(b.recs) > 0) {
		return false
	}
	if need > cap(b.arena) { // a message larger than an arena: give this batch its own
		b.arena = make([]byte, 0, need)
	}
	c := *r
	c.QueryAddr = b.copy(r.QueryAddr)
	c.ResponseAddr = b.copy(r.ResponseAddr)
	c.Wire = b.copy(r.Wire)
	b.recs = append(b.recs, c)
	return true
}

// copy appends p to the arena and returns the copy (nil stays nil). The arena never grows,
// so earlier copies stay valid.
func (b *batch) copy(p []byte) []byte {
	if p == nil {
		return nil
	}
	n := len(b.arena)
	b.arena = append(b.arena, p...)
	return b.arena[n:len(b.arena):len(b.arena)]
}

// maxSkipErrors is how many errors of skipped frames Skips keeps.
const maxSkipErrors = 10

// Skips tells about the frames Feed skipped (the decoder's Recoverable errors: undecodable
// protobuf, a frame over the size limit).
type Skips struct {
	Count  int
	Errors []error // the first ten, each a *reader.FrameError that says where
}

func (s *Skips) add(err error) {
	s.Count++
	if len(s.Errors) < maxSkipErrors {
		s.Errors = append(s.Errors, err)
	}
}

type feedResult struct {
	skips Skips
	err   error
}

// Feed reads every message of d, keeps those that f matches (f may be nil) and passes them
// to add, in order. Decoding runs in its own goroutine, one batch ahead of add, so the two
// halves of the work use two cores. It returns nil at the end of the input; the decoder's
// error otherwise, once every message before it has been added; ctx's error when ctx ends
// first. Frames the decoder skips (Recoverable errors) are reported in Skips and reading
// goes on. p may be nil. add runs in the caller's goroutine.
func Feed(ctx context.Context, d *reader.Decoder, f *reader.Filter, add func(*Record), p *Progress) (Skips, error) {
	if p != nil {
		p.Input.Store(d.Name())
	}
	full := make(chan *batch, batchCount)
	free := make(chan *batch, batchCount)
	for range batchCount {
		free <- &batch{recs: make([]Record, 0, batchRecords), arena: make([]byte, 0, batchArena)}
	}
	done := make(chan feedResult, 1)
	go func() {
		done <- decode(ctx, d, f, full, free, p)
		close(full) // full has room for every batch: decode never blocks on it
	}()
	for b := range full {
		for i := range b.recs {
			add(&b.recs[i])
		}
		b.recs, b.arena = b.recs[:0], b.arena[:0]
		if cap(b.arena) > batchArena {
			b.arena = make([]byte, 0, batchArena)
		}
		free <- b
	}
	res := <-done
	return res.skips, res.err
}

// decode fills batches from d until the end of the input or an error.
func decode(ctx context.Context, d *reader.Decoder, f *reader.Filter, full chan<- *batch, free <-chan *batch, p *Progress) feedResult {
	var res feedResult
	var rec Record
	var b *batch
	take := func() bool {
		if ctx.Err() != nil {
			return false
		}
		select {
		case b = <-free:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !take() {
		return feedResult{err: ctx.Err()}
	}
	var n, shown uint64
	progress := func() {
		if p != nil {
			p.Messages.Add(n - shown)
			p.Bytes.Store(d.Offset())
			shown = n
		}
	}
	for {
		m, err := d.Next()
		if err != nil {
			if reader.Recoverable(err) {
				res.skips.add(err)
				continue
			}
			if !errors.Is(err, io.EOF) {
				res.err = err
			}
			break
		}
		n++
		if !m.HasMessage || (f != nil && !f.Match(m)) {
			continue
		}
		FromMessage(&rec, m)
		if b.add(&rec) {
			continue
		}
		full <- b
		progress()
		if !take() {
			return feedResult{skips: res.skips, err: ctx.Err()}
		}
		b.add(&rec)
	}
	full <- b
	progress()
	return res
}

// ProgressLine formats one progress line: messages read, rate since start, the input.
func ProgressLine(p *Progress, elapsed time.Duration) string {
	n := p.Messages.Load()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	in, _ := p.Input.Load().(string)
	return fmt.Sprintf("%d messages, %.0f/s, %s at %d MiB", n, rate, in, p.Bytes.Load()>>20)
}
