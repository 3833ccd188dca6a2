package forward

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

type counters struct {
	written        atomic.Uint64 // frames the collector wrote since the start
	backlog        atomic.Int64  // unacknowledged frames in the spool at the start
	backlogCounted atomic.Bool
	shipped        atomic.Uint64 // frames acknowledged
	shippedBytes   atomic.Uint64
	batches        atomic.Uint64 // batches acknowledged
	retried        atomic.Uint64 // failed sends (each followed by a retry)
	duplicates     atomic.Uint64 // frames acknowledged that the far side may have had already
	evictedFrames  atomic.Uint64
	evictedFiles   atomic.Uint64
	connected      atomic.Int32 // the last send succeeded
	failures       atomic.Int64 // failed sends in a row
	lastAck        atomic.Int64 // unix nanoseconds
}

// Stats is a snapshot of a Forwarder.
type Stats struct {
	Destination    string
	FramesShipped  uint64 // acknowledged by the destination
	BytesShipped   uint64 // wire bytes of those frames (length prefixes included)
	Batches        uint64 // acknowledged batches
	BatchesRetried uint64 // failed sends, each followed by a retry of the same batch
	// DuplicatesPossible counts frames acknowledged in a batch that was sent before and may
	// have reached the far side then (a failure after the frames went out, or the first
	// batch after an unclean stop): the most the far side can hold twice.
	DuplicatesPossible uint64
	EvictedFrames      uint64 // deleted by --keep-size before they were shipped: lost
	EvictedFiles       uint64
	// LagFrames is the number of frames written to the spool and not yet acknowledged;
	// LagComplete is false while the backlog found at the start is still being counted
	// (LagFrames then covers the frames written since the start only).
	LagFrames   int64
	LagComplete bool
	// LagSeconds is how long before the newest frame written the oldest frame not yet
	// acknowledged was written (by the time of the writes of this run; by the file's time
	// for files from before the start).
	LagSeconds          float64
	Connected           bool  // the last send was acknowledged
	ConsecutiveFailures int64 // failed sends since the last acknowledgement
	LastAck             time.Time
	FilesPending        int // spool files not yet shipped to their end
}

// Stats returns the current figures.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statsLocked()
}

func (f *Forwarder) statsLocked() Stats {
	s := Stats{Destination: f.cfg.Name,
		FramesShipped: f.n.shipped.Load(), BytesShipped: f.n.shippedBytes.Load(),
		Batches: f.n.batches.Load(), BatchesRetried: f.n.retried.Load(),
		DuplicatesPossible: f.n.duplicates.Load(),
		EvictedFrames:      f.n.evictedFrames.Load(), EvictedFiles: f.n.evictedFiles.Load(),
		LagComplete:         f.n.backlogCounted.Load(),
		Connected:           f.n.connected.Load() == 1,
		ConsecutiveFailures: f.n.failures.Load(),
		FilesPending:        len(f.todo),
	}
	if t := f.n.lastAck.Load(); t != 0 {
		s.LastAck = time.Unix(0, t)
	}
	s.LagFrames = max(0, int64(f.n.written.Load())+f.n.backlog.Load()-int64(s.FramesShipped)-int64(s.EvictedFrames))
	if s.LagFrames > 0 || len(f.todo) > 0 {
		s.LagSeconds = f.lagSecondsLocked()
	}
	return s
}

// lagSecondsLocked: the newest write minus the write time of the oldest unacknowledged
// byte; mu is held.
func (f *Forwarder) lagSecondsLocked() float64 {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	newest := f.lastWrite
	for i, sf := range f.todo {
		from := int64(0)
		if i == 0 {
			from = f.ackOff
		}
		var oldest time.Time
		for _, m := range sf.marks {
			if m.end > from {
				oldest = m.at
				break
			}
		}
		if oldest.IsZero() && !sf.live && len(sf.marks) == 0 {
			oldest = sf.mtime // a file from before this start
		}
		if oldest.IsZero() {
			continue // nothing unacknowledged written to it yet
		}
		if newest.IsZero() || newest.Before(oldest) {
			newest = f.cfg.Now()
		}
		return max(0, newest.Sub(oldest).Seconds())
	}
	return 0
}

// Status is the one-line summary for sd_notify STATUS and the logs.
func (f *Forwarder) Status() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statusLocked()
}

func (f *Forwarder) statusLocked() string {
	s := f.statsLocked()
	state := "up"
	if !s.Connected {
		state = "down"
		if s.FramesShipped == 0 && s.ConsecutiveFailures == 0 {
			state = "idle"
		}
	}
	lag := fmt.Sprint(s.LagFrames)
	if !s.LagComplete {
		lag += "+"
	}
	return fmt.Sprintf("forward=%s lag=%s frames/%.1fs shipped=%d retried=%d dup_possible=%d evicted=%d files_pending=%d",
		state, lag, s.LagSeconds, s.FramesShipped, s.BatchesRetried, s.DuplicatesPossible, s.EvictedFrames, s.FilesPending)
}

// WritePrometheus writes the figures in the Prometheus text format (0.0.4), each metric
// named dnstap_forward_* with a destination label.
func (s Stats) WritePrometheus(w io.Writer) error {
	b2f := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	var lastAck float64
	if !s.LastAck.IsZero() {
		lastAck = float64(s.LastAck.UnixNano()) / 1e9
	}
	ms := []struct {
		name, typ, help string
		v               any
	}{
		{"frames_total", "counter", "Frames acknowledged by the destination.", s.FramesShipped},
		{"bytes_total", "counter", "Bytes of the frames acknowledged (length prefixes included).", s.BytesShipped},
		{"batches_total", "counter", "Batches acknowledged.", s.Batches},
		{"batches_retried_total", "counter", "Failed sends of a batch, each followed by a retry.", s.BatchesRetried},
		{"duplicate_frames_possible_total", "counter", "Frames acknowledged in a batch the destination may have received before (after a failure or an unclean stop).", s.DuplicatesPossible},
		{"evicted_frames_total", "counter", "Frames deleted by --keep-size before they were shipped (lost).", s.EvictedFrames},
		{"evicted_files_total", "counter", "Spool files deleted by --keep-size before they were shipped.", s.EvictedFiles},
		{"lag_frames", "gauge", "Frames written to the spool and not yet acknowledged.", s.LagFrames},
		{"lag_complete", "gauge", "1 once the backlog found at the start is counted in lag_frames.", b2f(s.LagComplete)},
		{"lag_seconds", "gauge", "Seconds between the newest frame written and the oldest not yet acknowledged.", s.LagSeconds},
		{"connected", "gauge", "1 when the last send was acknowledged.", b2f(s.Connected)},
		{"consecutive_failures", "gauge", "Failed sends since the last acknowledgement.", s.ConsecutiveFailures},
		{"last_ack_timestamp_seconds", "gauge", "Unix time of the last acknowledgement.", lastAck},
		{"files_pending", "gauge", "Spool files not yet shipped to their end.", s.FilesPending},
	}
	for _, m := range ms {
		if _, err := fmt.Fprintf(w, "# HELP dnstap_forward_%[1]s %[2]s\n# TYPE dnstap_forward_%[1]s %[3]s\ndnstap_forward_%[1]s{destination=%[5]q} %[4]v\n",
			m.name, m.help, m.typ, m.v, s.Destination); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}
