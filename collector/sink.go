package collector

import "sync"

// sink is where connections put the frames they have read and where the writer takes them:
// a batch being filled and a bounded queue of full batches. A connection puts what one read
// gave it (one lock, one copy); the writer takes full batches when woken and the partly filled
// one when its flush timer fires, so a file write covers many reads. When the queue is full,
// put waits: the connections stop reading (backpressure).
type sink struct {
	mu       sync.Mutex
	notFull  sync.Cond
	cur      *batch
	ready    []*batch
	maxReady int
	wake     chan struct{} // capacity 1: something to take
	free     []*batch
}

func newSink(maxReady int) *sink {
	s := &sink{maxReady: maxReady, wake: make(chan struct{}, 1)}
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

// put copies frames (whole frames, as on the wire) into the sink, waiting while it is full.
func (s *sink) put(p []byte, frames int) {
	s.mu.Lock()
	pushed := false
	for cap(s.cur.buf)-len(s.cur.buf) < len(p) {
		switch {
		case len(s.cur.buf) == 0:
			s.cur = s.newBatch(len(p))
		case len(s.ready) >= s.maxReady:
			s.notFull.Wait() // the writer is behind or failing: stop reading
		default:
			s.ready = append(s.ready, s.cur)
			s.cur = s.newBatch(len(p))
			pushed = true
		}
	}
	wasEmpty := len(s.cur.buf) == 0
	s.cur.buf = append(s.cur.buf, p...)
	s.cur.frames += frames
	s.mu.Unlock()
	if pushed || wasEmpty { // a full batch to write, or a flush timer to arm
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
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
	if len(out) > 0 {
		s.notFull.Broadcast()
	}
	return out
}

// pending reports whether the batch being filled holds frames.
func (s *sink) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cur.buf) > 0
}

// recycle gives a written batch back.
func (s *sink) recycle(b *batch) {
	if cap(b.buf) != batchSize {
		return
	}
	b.buf, b.frames = b.buf[:0], 0
	s.mu.Lock()
	if len(s.free) < s.maxReady+2 {
		s.free = append(s.free, b)
	}
	s.mu.Unlock()
}
