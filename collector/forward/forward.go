package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Config of a Forwarder. Zero fields take their defaults.
type Config struct {
	// Destination receives the batches (required).
	Destination Destination
	// Name names the destination in logs, metrics and the state file (a URL, no secrets).
	Name string
	// State is the path of the durable cursor (required; DefaultStatePath gives one).
	State string
	// List returns the spool files that exist, oldest first (collector.ListSpool). With no
	// state yet, they are all shipped; with a state, those changed after it was saved and
	// unknown to it (written while forwarding was off) are added.
	List func() ([]string, error)
	// BatchFrames and BatchBytes bound a batch: default 10,000 frames and 8 MiB.
	BatchFrames int
	BatchBytes  int
	// BatchDelay is the longest a frame waits for its batch to fill before the batch is
	// sent anyway (default 1s).
	BatchDelay time.Duration
	// MaxFrameSize: a longer frame length in a spool file means the rest of the file is
	// corrupt (default 64 MiB, the collector's largest).
	MaxFrameSize int
	// BackoffMin and BackoffMax bound the wait after a failed send, doubled at each failure
	// and jittered (a random value between half and all of it): default 250ms and 30s.
	BackoffMin, BackoffMax time.Duration
	// StopGrace is how long a send in progress may go on when Run's context ends (default 5s).
	StopGrace time.Duration
	// Now is the clock (a test seam). Default time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.BatchFrames == 0 {
		c.BatchFrames = 10000
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = 8 << 20
	}
	if c.BatchDelay == 0 {
		c.BatchDelay = time.Second
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = 64 << 20
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = 250 * time.Millisecond
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = 30 * time.Second
	}
	if c.StopGrace == 0 {
		c.StopGrace = 5 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// readBuf is the read buffer of the spool file being read.
const readBuf = 1 << 20

// spoolFile is one file of the spool not yet shipped to its end.
type spoolFile struct {
	key   string
	id    string    // unique across name reuse, kept in the state: Frame.FileID
	mtime time.Time // for files found at start: the time of their last write

	readDone bool // under mu: every frame is in a batch (or the file is gone)

	// Under nmu: what the writer reports while it writes the file.
	opened bool // by the writer in this run (FileOpened)
	empty  bool // removed by the writer with no frame in it
	live   bool
	size   int64  // bytes written, ending with a whole frame
	marks  []mark // when the bytes were written (lag in seconds)
}

// mark: the bytes of the file up to end were written at about at (a run of writes within a
// second shares the time of its first).
type mark struct {
	end int64
	at  time.Time
}

// Forwarder ships the collector's spool: it follows the files the collector writes (it is
// the collector's Spool), reads their frames in order into batches, hands each batch to the
// Destination, and moves its durable cursor only when the destination acknowledges it.
type Forwarder struct {
	cfg Config
	log *slog.Logger

	saveMu  sync.Mutex // serialises saves of the cursor; taken before mu
	saveErr string     // the last save error logged (under saveMu)

	mu      sync.Mutex // the files, the reader, the cursor
	todo    []*spoolFile
	byKey   map[string]*spoolFile
	ackOff  int64 // acknowledged offset in todo[0]
	rd      *fileReader
	rdFile  *spoolFile
	limit   int64 // of rdFile, see liveLimit
	clean   bool  // the loaded state was saved at a clean stop
	startup []*spoolFile

	nmu       sync.Mutex // live files, written by the collector's writer
	liveParts map[string]*spoolFile
	lastWrite time.Time
	notify    chan struct{} // capacity 1: something new in the spool

	n counters
}

// New loads the cursor (or, on the first start, takes every spool file from cfg.List) and
// returns a Forwarder to pass to the collector as its Spool before it starts, and to Run.
func New(cfg Config, log *slog.Logger) (*Forwarder, error) {
	cfg.defaults()
	if cfg.Destination == nil {
		return nil, errors.New("forward: no destination")
	}
	if cfg.State == "" {
		return nil, errors.New("forward: no state file")
	}
	if cfg.BatchFrames < 1 || cfg.BatchBytes < 1 || cfg.BatchDelay < 0 || cfg.BackoffMin <= 0 || cfg.BackoffMax < cfg.BackoffMin {
		return nil, fmt.Errorf("forward: batch %d frames, %d bytes, delay %v, backoff %v..%v: must be positive (backoff max >= min)",
			cfg.BatchFrames, cfg.BatchBytes, cfg.BatchDelay, cfg.BackoffMin, cfg.BackoffMax)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Forwarder{cfg: cfg, log: log.With("forward", cfg.Name), byKey: map[string]*spoolFile{},
		liveParts: map[string]*spoolFile{}, notify: make(chan struct{}, 1)}
	st, err := loadState(cfg.State)
	if err != nil {
		// Never refuse to run over it: move it aside and ship everything in the spool again
		// (duplicates rather than loss), loudly.
		aside := fmt.Sprintf("%s.bad-%d", cfg.State, cfg.Now().Unix())
		f.log.Error("unreadable forward state moved aside; shipping every spool file again (the destination gets duplicates)", "error", err, "moved_to", aside)
		if rerr := os.Rename(cfg.State, aside); rerr != nil {
			return nil, fmt.Errorf("forward: %w; and moving it aside: %w", err, rerr)
		}
		st = nil
	}
	var listed []string
	if cfg.List != nil {
		if listed, err = cfg.List(); err != nil {
			return nil, fmt.Errorf("forward: list the spool: %w", err)
		}
	}
	if st == nil {
		f.clean = true
		for _, p := range listed {
			f.add(keyOf(p), fileTime(p), "")
		}
		f.log.Info("no forward state: shipping the spool files found", "files", len(f.todo), "state", cfg.State)
	} else {
		f.clean = st.Clean
		for _, sf := range st.Files {
			f.add(sf.Path, fileTime(sf.Path), sf.ID)
		}
		f.ackOff = st.Offset
		for _, p := range listed {
			k := keyOf(p)
			if t := fileTime(p); f.byKey[k] == nil && t.After(st.Saved) {
				f.log.Warn("spool file written while forwarding was off: shipping it", "file", p)
				f.add(k, t, "")
			}
		}
		f.log.Info("forward state loaded", "files", len(f.todo), "offset", f.ackOff, "clean_stop", st.Clean, "state", cfg.State)
	}
	f.startup = slices.Clone(f.todo)
	if err := f.save(false); err != nil {
		return nil, err
	}
	return f, nil
}

// add appends a spool file to the files to ship; mu is held or f is new. id "" makes one
// from the key and mtime.
func (f *Forwarder) add(key string, mtime time.Time, id string) *spoolFile {
	if old := f.byKey[key]; old != nil {
		return old
	}
	if id == "" {
		id = key + "@" + strconv.FormatInt(mtime.UnixNano(), 36)
	}
	sf := &spoolFile{key: key, mtime: mtime, id: id}
	f.todo = append(f.todo, sf)
	f.byKey[key] = sf
	return sf
}

// fileTime returns the modification time of the variant of a spool file that exists.
func fileTime(p string) time.Time {
	for _, v := range append([]string{""}, variants...) {
		if fi, err := os.Stat(keyOf(p) + v); err == nil {
			return fi.ModTime()
		}
	}
	return time.Time{}
}

// save writes the cursor durably (mu must not be held: the reader goes on meanwhile). A
// failure is logged once (and the next save tries again): the cursor in memory goes on, a
// restart then repeats more frames.
func (f *Forwarder) save(clean bool) error {
	f.saveMu.Lock()
	defer f.saveMu.Unlock()
	f.mu.Lock()
	st := state{Offset: f.ackOff, Clean: clean, Saved: f.cfg.Now(), Destination: f.cfg.Name, Files: make([]stateFile, 0, len(f.todo))}
	for _, sf := range f.todo {
		st.Files = append(st.Files, stateFile{Path: sf.key, ID: sf.id})
	}
	f.mu.Unlock()
	if len(st.Files) == 0 {
		st.Offset = 0
	}
	err := st.save(f.cfg.State)
	switch {
	case err != nil && err.Error() != f.saveErr:
		f.log.Error("cannot save the forward state; a restart will send more frames again", "error", err)
		f.saveErr = err.Error()
	case err == nil && f.saveErr != "":
		f.log.Info("forward state saved again")
		f.saveErr = ""
	}
	return err
}

func (f *Forwarder) wake() {
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

// FileOpened records a new spool file durably before the collector writes to it.
func (f *Forwarder) FileOpened(part string) {
	now := f.cfg.Now()
	f.mu.Lock()
	key := keyOf(part)
	if old := f.byKey[key]; old != nil {
		// The name was freed behind the forwarder's back (deleted by hand) and is reused.
		f.log.Warn("spool file name reused while not shipped: the earlier file is gone", "file", part)
		f.removeLocked(old)
	}
	sf := f.add(key, now, "")
	f.nmu.Lock()
	sf.live, sf.opened = true, true
	f.liveParts[part] = sf
	f.nmu.Unlock()
	f.mu.Unlock()
	_ = f.save(false) // logged; the file is known in memory and shipped either way
	f.wake()
}

// FileWritten notes that the collector wrote frames to part (it must not block).
func (f *Forwarder) FileWritten(part string, size int64, frames int) {
	now := f.cfg.Now()
	f.nmu.Lock()
	if sf := f.liveParts[part]; sf != nil {
		sf.size = size
		if n := len(sf.marks); n > 0 && now.Sub(sf.marks[n-1].at) < time.Second {
			sf.marks[n-1].end = size
		} else {
			sf.marks = append(sf.marks, mark{end: size, at: now})
		}
	}
	f.lastWrite = now
	f.nmu.Unlock()
	f.n.written.Add(uint64(frames))
	f.wake()
}

// FileClosed notes that the collector finished part: the reader reads it to its end.
// final "" says the writer removed it, empty.
func (f *Forwarder) FileClosed(part, final string) {
	f.nmu.Lock()
	if sf := f.liveParts[part]; sf != nil {
		sf.live, sf.empty = false, final == ""
		delete(f.liveParts, part)
	}
	f.nmu.Unlock()
	f.wake()
}

// Unshipped reports whether path holds frames the destination has not acknowledged.
func (f *Forwarder) Unshipped(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byKey[keyOf(path)] != nil
}

// Evict is told that retention deletes path though it is not shipped: it counts the frames
// that will never be shipped (those not yet read into a batch: a batch already read is sent
// from memory), logs them with the file name, and forgets the file.
func (f *Forwarder) Evict(path string) {
	f.mu.Lock()
	sf := f.byKey[keyOf(path)]
	if sf == nil {
		f.mu.Unlock()
		return
	}
	from := int64(-1) // -1: every frame is in a batch already
	switch {
	case sf.readDone:
	case sf == f.rdFile:
		from = f.rd.off
	case sf == f.todo[0]:
		from = f.ackOff
	default:
		from = 0
	}
	f.removeLocked(sf) // the reader leaves it; retention deletes it once Evict returns
	f.mu.Unlock()
	var frames int64
	var err error
	if from >= 0 {
		frames, err = countFrames(path, from, f.cfg.MaxFrameSize)
	}
	f.n.evictedFrames.Add(uint64(frames))
	f.n.evictedFiles.Add(1)
	if err != nil {
		f.log.Error("retention deletes a file not yet shipped; its frames are lost, and could not all be counted", "file", path, "frames_lost", frames, "error", err)
	} else {
		f.log.Error("retention deletes a file not yet shipped (--keep-size): its frames are lost", "file", path, "frames_lost", frames)
	}
	_ = f.save(false)
	f.wake()
}

// removeLocked forgets sf (mu held), resetting the cursor when sf was first.
func (f *Forwarder) removeLocked(sf *spoolFile) {
	i := slices.Index(f.todo, sf)
	if i < 0 {
		return
	}
	f.todo = slices.Delete(f.todo, i, i+1)
	if f.byKey[sf.key] == sf {
		delete(f.byKey, sf.key)
	}
	if i == 0 {
		f.ackOff = 0
	}
	sf.readDone = true
	if f.rdFile == sf {
		f.rd.close()
		f.rd, f.rdFile = nil, nil
	}
}

// Run ships batches until ctx ends, then lets a send in progress finish (StopGrace), saves
// the cursor and returns. It returns an error only when the forwarder cannot go on.
func (f *Forwarder) Run(ctx context.Context) error {
	go f.countBacklog(ctx)
	batches := make(chan *Batch, 1)
	free := make(chan *Batch, 3)
	for range cap(free) {
		free <- &Batch{}
	}
	go func() {
		defer close(batches)
		f.produce(ctx, free, batches)
	}()
	inflight := f.sendAll(ctx, batches, free)
	for range batches { // the producer has stopped once batches is closed
	}
	f.mu.Lock()
	if f.rd != nil {
		f.rd.close()
		f.rd, f.rdFile = nil, nil
	}
	f.mu.Unlock()
	if err := f.save(!inflight); err != nil {
		return err
	}
	f.log.Info("forwarder stopped", "status", f.Status())
	return nil
}

// produce reads batches from the spool and hands them to the sender, in order.
func (f *Forwarder) produce(ctx context.Context, free <-chan *Batch, out chan<- *Batch) {
	var seq uint64
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var b *Batch
		select {
		case b = <-free:
		case <-ctx.Done():
			return
		}
		b.reset()
		var deadline time.Time
		for {
			full, stalled := f.fill(b)
			if full || (deadline != (time.Time{}) && !f.cfg.Now().Before(deadline)) {
				break
			}
			if len(b.Frames) == 0 && len(b.completed) > 0 && !stalled {
				break // files finished with no frame after them: move the cursor on
			}
			if len(b.Frames) > 0 && deadline == (time.Time{}) {
				deadline = f.cfg.Now().Add(f.cfg.BatchDelay)
			}
			wait := time.Duration(-1)
			if deadline != (time.Time{}) {
				wait = deadline.Sub(f.cfg.Now())
			}
			if stalled && (wait < 0 || wait > time.Second) {
				wait = time.Second // a spool file could not be opened: try again
			}
			if wait >= 0 {
				timer.Reset(wait)
			}
			select {
			case <-f.notify:
			case <-timer.C:
			case <-ctx.Done():
				return
			}
			timer.Stop()
		}
		seq++
		b.Seq = seq
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
	}
}

// fill adds frames to b from the spool until b is full (full true) or nothing more is
// there now. stalled: a spool file could not be opened (logged; retried).
func (f *Forwarder) fill(b *Batch) (full, stalled bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if len(b.Frames) >= f.cfg.BatchFrames || len(b.Wire) >= f.cfg.BatchBytes {
			return true, false
		}
		if f.rd == nil {
			sf := f.nextToRead()
			if sf == nil {
				return false, false
			}
			off := int64(0)
			if sf == f.todo[0] {
				off = f.ackOff
			}
			f.nmu.Lock()
			empty := sf.empty
			f.nmu.Unlock()
			if empty { // removed by the writer, no frame in it: nothing to read
				sf.readDone = true
				b.completed = append(b.completed, sf)
				b.endFile, b.endOffset = sf, 0
				continue
			}
			r, err := openSpoolFile(sf.key, off, readBuf)
			if errors.Is(err, errVanished) {
				f.log.Error("spool file gone before it was shipped (deleted by hand?); its frames are lost", "file", sf.key)
				sf.readDone = true
				b.completed = append(b.completed, sf)
				b.endFile, b.endOffset = sf, 0
				continue
			}
			if err != nil {
				f.log.Error("cannot open a spool file; retrying", "file", sf.key, "error", err)
				return false, true
			}
			f.rd, f.rdFile = r, sf
			f.limit, _ = f.readLimit(sf)
		}
		sf := f.rdFile
		frame, off, err := f.rd.next(f.limit, f.cfg.MaxFrameSize)
		switch {
		case err == nil:
			start := len(b.Wire) + 4
			b.Wire = append(b.Wire, frame...)
			b.Frames = append(b.Frames, Frame{Start: start, End: len(b.Wire), File: sf.key, FileID: sf.id, Offset: off})
			b.endFile, b.endOffset = sf, off+int64(len(frame))
			continue
		case errors.Is(err, errNeedMore):
			// At what the writer had reported: has it written more, or closed the file?
			limit, closed := f.readLimit(sf)
			if limit != f.limit {
				f.limit = limit
				continue
			}
			if !closed {
				return false, false
			}
			// Every frame the writer wrote to it is read; after them come STOP, or, when a
			// write failed and the file was given up, bytes the writer wrote again elsewhere.
		case errors.Is(err, errPartial):
			f.log.Warn("spool file ends inside a frame (a crash cut it); shipped up to its last whole frame", "file", f.rd.path, "offset", off)
		case !errors.Is(err, errFileEnd):
			f.log.Error("spool file unreadable from here on; the rest of it is skipped", "file", f.rd.path, "offset", off, "error", err)
		}
		sf.readDone = true
		b.completed = append(b.completed, sf)
		b.endFile, b.endOffset = sf, f.rd.off
		f.rd.close()
		f.rd, f.rdFile = nil, nil
	}
}

// readLimit returns how much of sf may be read: for a file the writer opened in this run,
// the size it reported (closed: the writer has closed it, the size is final); for a file
// from before, -1: all of it.
func (f *Forwarder) readLimit(sf *spoolFile) (limit int64, closed bool) {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	if !sf.opened {
		return -1, false
	}
	return sf.size, !sf.live
}

// nextToRead returns the first file not read to its end; mu is held.
func (f *Forwarder) nextToRead() *spoolFile {
	for _, sf := range f.todo {
		if !sf.readDone {
			return sf
		}
	}
	return nil
}

// sendAll sends each batch until it is acknowledged, then moves the cursor. It returns when
// batches is closed, or when ctx ends (after StopGrace for a send in progress), reporting
// whether a send may have reached the far side without being acknowledged.
func (f *Forwarder) sendAll(ctx context.Context, batches <-chan *Batch, free chan<- *Batch) bool {
	// Sends get StopGrace more than ctx.
	sendCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(f.cfg.StopGrace, cancel)
		<-sendCtx.Done()
		t.Stop()
	})
	defer stop()
	var backoff time.Duration
	failures, failingSince, lastErr := 0, time.Time{}, ""
	for b := range batches {
		if ctx.Err() != nil {
			return false // never sent
		}
		maybe := false
		for len(b.Frames) > 0 {
			b.Attempt++
			err := f.cfg.Destination.Send(sendCtx, b)
			if err == nil {
				break
			}
			f.n.connected.Store(0)
			f.n.retried.Add(1)
			if !IsNotDelivered(err) {
				maybe = true
			}
			if failures == 0 {
				failingSince = f.cfg.Now()
			}
			failures++
			f.n.failures.Store(int64(failures))
			backoff = min(max(2*backoff, f.cfg.BackoffMin), f.cfg.BackoffMax)
			wait := backoff/2 + rand.N(backoff/2+1)
			if msg := err.Error(); msg != lastErr {
				f.log.Warn("send failed; retrying the same batch", "error", err, "batch", b.Seq, "frames", len(b.Frames), "attempt", b.Attempt, "retry_in", wait.Round(time.Millisecond))
				lastErr = msg
			}
			if ctx.Err() != nil {
				return maybe
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return maybe
			}
		}
		if failures > 0 {
			f.log.Info("destination acknowledges again", "failed_attempts", failures, "down_for", f.cfg.Now().Sub(failingSince).Round(time.Millisecond))
			failures, backoff, lastErr = 0, 0, ""
			f.n.failures.Store(0)
		}
		if len(b.Frames) > 0 {
			f.n.connected.Store(1)
		}
		f.ack(b, maybe)
		free <- b
	}
	return false
}

// ack moves the cursor past b and saves it.
func (f *Forwarder) ack(b *Batch, maybeDup bool) {
	defer f.save(false) //nolint:errcheck // logged by save
	f.mu.Lock()
	defer f.mu.Unlock()
	n := uint64(len(b.Frames))
	f.n.shipped.Add(n)
	f.n.shippedBytes.Add(uint64(len(b.Wire)))
	if n > 0 {
		f.n.batches.Add(1)
		f.n.lastAck.Store(f.cfg.Now().UnixNano())
	}
	if maybeDup || (!f.clean && n > 0) {
		f.n.duplicates.Add(n)
	}
	if n > 0 {
		f.clean = true // only the first batch after an unclean stop may repeat frames
	}
	var first *spoolFile
	if len(f.todo) > 0 {
		first = f.todo[0]
	}
	for _, sf := range b.completed {
		f.removeLocked(sf) // nothing when evicted meanwhile
	}
	switch {
	case len(f.todo) == 0:
		f.ackOff = 0
	case f.todo[0] == b.endFile:
		f.ackOff = b.endOffset
	case f.todo[0] != first:
		f.ackOff = 0
	}
	if len(f.todo) > 0 {
		f.nmu.Lock()
		sf := f.todo[0]
		i := 0
		for i < len(sf.marks) && sf.marks[i].end <= f.ackOff {
			i++
		}
		sf.marks = sf.marks[i:]
		f.nmu.Unlock()
	}
}

// countBacklog counts the frames of the files found at start that are not acknowledged,
// for the lag in frames (a read of the backlog, once).
func (f *Forwarder) countBacklog(ctx context.Context) {
	f.mu.Lock()
	files, off := f.startup, f.ackOff
	f.mu.Unlock()
	var total int64
	for i, sf := range files {
		if ctx.Err() != nil {
			return
		}
		from := int64(0)
		if i == 0 {
			from = off
		}
		r, err := openSpoolFile(sf.key, from, readBuf)
		if err != nil {
			continue // gone (evicted, shipped and deleted): nothing to count
		}
		for {
			_, _, err := r.next(-1, f.cfg.MaxFrameSize)
			if err != nil {
				break
			}
			total++
		}
		r.close()
	}
	f.n.backlog.Store(total)
	f.n.backlogCounted.Store(true)
}
