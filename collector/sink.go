package collector

import "sync"

// sink is where connections put the frames they have read and where the writer takes them:
// a batch being filled and a queue of full batches. A connection puts what one read gave it
// (one lock, one copy); the writer takes full batches when woken and the partly filled one
// when its flush timer fires, so a file write covers many reads.
//
// The sink counts the bytes it holds from put until the writer releases their batch (written,
// or given up), including batches the writer has taken and is retrying: limit is a hard bound
// on them. When a put would exceed it, put waits: the connections stop reading
// (backpressure).
type sink struct {
	mu      sync.Mutex
	notFull sync.Cond
	cur     *batch
	ready   []*batch
	held    int64 // bytes put and not yet released
	limit   int64
	wake    chan struct{} // capacity 1: something to take
	free    []*batch
	maxFree int
	seq     uint64 // frames put so far: the sequence number of the last frame put
}

func newSink(limit int64) *sink {
	s := &sink{limit: limit, wake: make(chan struct{}, 1), maxFree: int(limit/batchSize) + 2}
	s.notFull.L = &s.mu
	s.cur = s.newBatch(0)
	return s
}

// newBatch returns an empty batch with room for need bytes; s.mu is held or s is new.
func (s *sink) newBatch(need int) *batch {
	if need <= batchSize && len(s.free) > 0 {
		b := s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
		return b
	}
	return &batch{buf: make([]byte, 0, max(need, batchSize))}
}

// signal wakes the writer; s.mu may be held.
func (s *sink) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// put copies frames (whole frames, as on the wire) into the sink, waiting while it is full.
// A put larger than the limit on its own waits until the sink is empty. It returns the
// sequence number of the last frame put (see syncReq).
func (s *sink) put(p []byte, frames int) uint64 {
	s.mu.Lock()
	for s.held > 0 && s.held+int64(len(p)) > s.limit {
		if len(s.cur.buf) > 0 { // let the writer have what is there
			s.ready = append(s.ready, s.cur)
			s.cur = s.newBatch(0)
			s.signal()
		}
		s.notFull.Wait() // the writer is behind or failing: stop reading
	}
	pushed := false
	if cap(s.cur.buf)-len(s.cur.buf) < len(p) {
		if len(s.cur.buf) > 0 {
			s.ready = append(s.ready, s.cur)
			pushed = true
		}
		s.cur = s.newBatch(len(p))
	}
	wasEmpty := len(s.cur.buf) == 0
	s.cur.buf = append(s.cur.buf, p...)
	s.cur.frames += frames
	s.cur.size += len(p)
	s.held += int64(len(p))
	s.seq += uint64(frames)
	s.cur.lastSeq = s.seq
	seq := s.seq
	if pushed || wasEmpty { // a full batch to write, or a flush timer to arm
		s.signal()
	}
	s.mu.Unlock()
	return seq
}

// take returns the full batches, and with all also the one being filled.
func (s *sink) take(all bool) []*batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.ready
	s.ready = nil
	if all && len(s.cur.buf) > 0 {
		out = append(out, s.cur)
		s.cur = s.newBatch(0)
	}
	return out
}

// pending reports whether the batch being filled holds frames.
func (s *sink) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cur.buf) > 0
}

// heldBytes returns the bytes put and not yet released.
func (s *sink) heldBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// release gives back a batch the writer is done with (written, or given up): its bytes no
// longer count against the limit, and its buffer is reused.
func (s *sink) release(b *batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held -= int64(b.size)
	s.notFull.Broadcast()
	if cap(b.buf) == batchSize && len(s.free) < s.maxFree {
		*b = batch{buf: b.buf[:0]}
		s.free = append(s.free, b)
	}
}
