package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// The acknowledgement contract (docs/fleet.md): a bidirectional sender that ends its
// connection with STOP gets FINISH only once every frame it sent on that connection is
// written to the output file and fsync'd, with the file's directory entry fsync'd too. A
// forwarder uses FINISH as the acknowledgement of the frames of the connection; a sender
// that gets no FINISH (the output failed, the collector stopped) must send them again.

// finishTimeout bounds how long a connection that sent STOP waits for its frames to become
// durable before it is closed without FINISH (the sender then sends them again).
const finishTimeout = time.Minute

// errNotDurable is the reply to a sync request that the writer could not honour.
var errNotDurable = errors.New("frames not durable")

// syncReq asks the writer to make every frame up to seq (sink sequence) durable.
type syncReq struct {
	seq  uint64
	done chan error // capacity 1
}

// durability is the writer's bookkeeping for sync requests.
type durability struct {
	written  uint64              // sink sequence of the last frame written to the output
	durable  uint64              // sink sequence of the last frame fsync'd
	waiting  []*syncReq          // requests not answered yet
	dirDirty map[string]struct{} // directories with entries (new files, renames) not fsync'd
	lostUpTo uint64              // frames up to this sequence may have been lost: no FINISH
}

// markDir records that dir has a new or renamed entry to fsync before the next reply.
func (d *durability) markDir(p string) {
	if d.dirDirty == nil {
		d.dirDirty = map[string]struct{}{}
	}
	d.dirDirty[filepath.Dir(p)] = struct{}{}
}

// serveSyncs answers the waiting requests when nothing is held (every frame taken so far is
// written): it fsyncs the open file and the directories with new entries, then replies. A
// failed fsync is answered with an error (no FINISH: the sender retries). With failed
// writes pending it does nothing; run calls it again once they are written.
func (w *writer) serveSyncs(failing bool) {
	d := &w.dur
	if len(d.waiting) == 0 || failing {
		return
	}
	var err error
	if w.f != nil && d.durable < d.written {
		if serr := fsyncFile(w.f); serr != nil {
			err = fmt.Errorf("fsync %s: %w", w.part, serr)
		}
	}
	for dir := range d.dirDirty {
		if serr := syncDir(dir); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		w.n.writeErrors.Add(1)
		w.log.Error("fsync for a sender's STOP failed; FINISH withheld (the sender sends again)", "error", err)
	} else {
		d.dirDirty = nil
		d.durable = d.written
	}
	keep := d.waiting[:0]
	for _, r := range d.waiting {
		switch {
		case err != nil:
			r.done <- fmt.Errorf("%w: %w", errNotDurable, err)
		case r.seq <= d.lostUpTo:
			r.done <- fmt.Errorf("%w: frames were lost (see the log)", errNotDurable)
		case r.seq <= d.durable:
			r.done <- nil
		default: // not taken from the sink yet (cannot happen: run takes everything first)
			keep = append(keep, r)
		}
	}
	d.waiting = keep
}

// failSyncs answers every waiting request with err (the writer is giving up or exiting).
func (w *writer) failSyncs(err error) {
	for _, r := range w.dur.waiting {
		r.done <- fmt.Errorf("%w: %w", errNotDurable, err)
	}
	w.dur.waiting = nil
}

// fsyncFile is f.Sync, a seam for tests that make it fail.
var fsyncFile = (*os.File).Sync

// syncDir fsyncs a directory, making the creation and renaming of its entries durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s to fsync it: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// waitDurable asks out's writer to make the frames up to seq durable and waits for the
// answer (bounded by finishTimeout, or until the writer exits).
func (o *output) waitDurable(seq uint64) error {
	r := &syncReq{seq: seq, done: make(chan error, 1)}
	timer := time.NewTimer(finishTimeout)
	defer timer.Stop()
	select {
	case o.syncs <- r:
	case <-o.done:
		return fmt.Errorf("%w: the writer has stopped", errNotDurable)
	case <-timer.C:
		return fmt.Errorf("%w: the writer did not take the request within %v", errNotDurable, finishTimeout)
	}
	select {
	case err := <-r.done:
		return err
	case <-o.done:
		select {
		case err := <-r.done:
			return err
		default:
			return fmt.Errorf("%w: the writer has stopped", errNotDurable)
		}
	case <-timer.C:
		return fmt.Errorf("%w: not written and fsync'd within %v (the output fails?)", errNotDurable, finishTimeout)
	}
}
