package collector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	fs "github.com/farsightsec/golang-framestream"
)

// writer owns the output: one goroutine, one file open at a time.
type writer struct {
	cfg     Config
	log     *slog.Logger
	n       *counters
	tmpl    *Template
	archive *archiver
	header  []byte // START with the content type
	trailer []byte // STOP

	stream        io.Writer
	streamStarted bool
	// dead is set when the output stream is gone for good (its reader closed the pipe):
	// every frame not yet written is lost, and fatal is told once.
	dead  error
	fatal chan<- error

	f           *os.File
	part, final string
	opened      time.Time // when f was opened (its name is the template at that time)
	size        int64     // bytes in f up to the last complete frame
	fileFrames  uint64    // data frames in f

	failing string // last error logged, to log a failure once, not once a retry
	gaveUp  bool

	dur durability // sync requests of senders waiting for FINISH
}

func controlBytes(cf fs.ControlFrame) []byte {
	var b bytesBuffer
	_ = cf.Encode(&b) // writes to memory cannot fail
	return b
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

func newWriter(cfg Config, log *slog.Logger, n *counters, t *Template, a *archiver, fatal chan<- error) *writer {
	w := &writer{cfg: cfg, log: log, n: n, tmpl: t, archive: a, fatal: fatal,
		header:  controlBytes(fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: [][]byte{[]byte(cfg.ContentType)}}),
		trailer: controlBytes(fs.ControlFrame{ControlType: fs.CONTROL_STOP}),
	}
	if cfg.Output == "-" {
		w.stream = cfg.Stream
	}
	return w
}

// run writes what the connections put in s until connsDone is closed and s is empty, then
// closes the output. Full batches are written when s wakes the writer, the partly filled one
// FlushInterval after its first frame. Batches that cannot be written are held and retried
// every RetryInterval; meanwhile nothing more is taken from s, which fills, and the
// connections block (backpressure). Once giveUp is closed, batches that fail are counted as
// lost instead of held, so a shutdown cannot hang on a dead disk.
func (w *writer) run(o *output, connsDone, giveUp <-chan struct{}) {
	s, rotate, syncs := o.sink, o.rotate, o.syncs
	var tick <-chan time.Time
	var rot *time.Timer
	if w.cfg.RotateEvery > 0 && w.stream == nil {
		rot = time.NewTimer(w.untilRotation())
		defer rot.Stop()
		tick = rot.C
	}
	flush := time.NewTimer(time.Hour)
	flush.Stop()
	defer flush.Stop()
	flushArmed := false
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	var pending []*batch
	writeAll := func(bs []*batch) {
		pending = append(pending, bs...)
		for len(pending) > 0 {
			b := pending[0]
			if !w.write(b) {
				if !w.gaveUp {
					retry.Reset(w.cfg.RetryInterval)
					return
				}
				w.lose(b, "the output still failed at the drain deadline: "+w.failing)
			}
			w.dur.written = b.lastSeq
			pending = pending[1:]
			s.release(b)
		}
		pending = nil
		w.serveSyncs(false)
	}
	finishing := false
	for {
		if finishing && len(pending) == 0 {
			writeAll(s.take(true))
			if len(pending) == 0 {
				w.close()
				w.serveSyncs(false)
				w.failSyncs(errors.New("the collector is stopping"))
				return
			}
		}
		if len(pending) > 0 { // the output fails: retry, take nothing new
			select {
			case <-retry.C:
				writeAll(nil)
			case <-rotate:
				w.rotate("signal")
			case <-tick:
				w.rotate("timer")
				rot.Reset(w.untilRotation())
			case <-giveUp:
				giveUp = nil
				w.gaveUp = true
				writeAll(nil)
			case <-connsDone:
				connsDone, finishing = nil, true
			case r := <-syncs: // answered once the held frames are written
				w.dur.waiting = append(w.dur.waiting, r)
			}
			continue
		}
		select {
		case <-s.wake:
			writeAll(s.take(false))
			if !flushArmed && s.pending() {
				flush.Reset(w.cfg.FlushInterval)
				flushArmed = true
			}
		case <-flush.C:
			flushArmed = false
			writeAll(s.take(true))
		case <-rotate:
			writeAll(s.take(true)) // frames read before the signal go to the old file
			w.rotate("signal")
		case <-tick:
			writeAll(s.take(true))
			w.rotate("timer")
			rot.Reset(w.untilRotation())
		case <-giveUp:
			giveUp = nil
			w.gaveUp = true
		case <-connsDone:
			connsDone, finishing = nil, true
		case r := <-syncs:
			w.dur.waiting = append(w.dur.waiting, r)
			writeAll(s.take(true)) // everything put so far, the requester's frames included
		}
	}
}

func (w *writer) untilRotation() time.Duration {
	now := w.cfg.Now()
	return alignedNext(now, w.cfg.RotateEvery, w.cfg.TimeNames).Sub(now)
}

// written counts frames that reached the output.
func (w *writer) written(frames int, bytes int) {
	w.n.framesWritten.Add(uint64(frames))
	w.n.framesHeld.Add(-int64(frames))
	w.n.bytesWritten.Add(uint64(bytes))
}

// lose gives up the frames of b that are not written, counting and logging them.
func (w *writer) lose(b *batch, why string) {
	if b.frames == 0 {
		return
	}
	w.n.framesLost.Add(uint64(b.frames))
	w.n.framesHeld.Add(-int64(b.frames))
	w.dur.lostUpTo = max(w.dur.lostUpTo, b.lastSeq) // no FINISH for them
	w.log.Error("frames lost", "frames", b.frames, "why", why)
	b.frames = 0
}

// write writes b completely and reports true, or reports false (after logging and counting
// the error) for the caller to retry. A batch the output can never take (the stream is gone)
// is counted as lost and reported true.
func (w *writer) write(b *batch) bool {
	if w.dead != nil {
		w.lose(b, "the output stream is closed: "+w.dead.Error())
		return true
	}
	if w.stream != nil {
		return w.writeStream(b)
	}
	if w.f != nil {
		w.checkVanished() // before writing more frames into a file that is gone
	}
	for b.off < len(b.buf) {
		if err := w.ensureOpen(); err != nil {
			return w.fail(err)
		}
		chunk, frames := w.fits(b)
		if _, err := w.f.Write(chunk); err != nil {
			// Cut off a partly written frame so the file stays a valid Frame Stream.
			if terr := w.f.Truncate(w.size); terr != nil {
				w.abandon(fmt.Errorf("cut %s back to %d bytes after a failed write: %w", w.part, w.size, terr))
			} else if _, serr := w.f.Seek(w.size, io.SeekStart); serr != nil {
				w.abandon(fmt.Errorf("seek %s: %w", w.part, serr))
			}
			return w.fail(fmt.Errorf("write %s: %w", w.part, err))
		}
		w.size += int64(len(chunk))
		w.fileFrames += uint64(frames)
		w.written(frames, len(chunk))
		if w.cfg.Spool != nil {
			w.cfg.Spool.FileWritten(w.part, w.size, frames)
		}
		b.off += len(chunk)
		b.frames -= frames
		if w.cfg.RotateBytes > 0 && w.size >= w.cfg.RotateBytes-int64(len(w.trailer)) {
			w.rotate("size")
		}
	}
	w.ok()
	return true
}

// writeStream writes b to the output stream. A stream cannot be rewound: what was written
// stays written, and a retry goes on from there.
func (w *writer) writeStream(b *batch) bool {
	if !w.streamStarted {
		if _, err := w.stream.Write(w.header); err != nil {
			return w.streamFailed(b, fmt.Errorf("write START to output stream: %w", err))
		}
		w.streamStarted = true
	}
	for b.off < len(b.buf) {
		start := b.off + b.partial
		n, err := w.stream.Write(b.buf[start:])
		w.n.bytesWritten.Add(uint64(n))
		end, frames := start+n, 0
		if end == len(b.buf) {
			b.off, frames = end, b.frames
		}
		for b.off < end { // the frames now written completely
			next := b.off + 4 + int(binary.BigEndian.Uint32(b.buf[b.off:]))
			if next > end {
				break
			}
			b.off = next
			frames++
		}
		b.partial = end - b.off
		b.frames -= frames
		w.written(frames, 0)
		if err != nil {
			return w.streamFailed(b, fmt.Errorf("write output stream: %w", err))
		}
	}
	w.ok()
	return true
}

// streamFailed handles a failed write to the output stream: a reader that went away (EPIPE)
// is for good, anything else is retried.
func (w *writer) streamFailed(b *batch, err error) bool {
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, os.ErrClosed) {
		return w.fail(err)
	}
	w.n.writeErrors.Add(1)
	w.dead = err
	w.log.Error("output stream closed by its reader; stopping: frames not yet written are lost", "error", err)
	select {
	case w.fatal <- err:
	default:
	}
	w.lose(b, "the output stream is closed: "+err.Error())
	return true
}

// fits returns the leading frames of b that fit in the current file under RotateBytes (at
// least one frame), or all of b without a size limit.
func (w *writer) fits(b *batch) ([]byte, int) {
	buf := b.buf[b.off:]
	if w.cfg.RotateBytes == 0 {
		return buf, b.frames
	}
	room := w.cfg.RotateBytes - int64(len(w.trailer)) - w.size
	off, frames := 0, 0
	for off < len(buf) {
		n := 4 + int(binary.BigEndian.Uint32(buf[off:]))
		if frames > 0 && int64(off+n) > room {
			break
		}
		off += n
		frames++
	}
	return buf[:off], frames
}

func (w *writer) ok() {
	if w.failing != "" {
		w.log.Info("output works again", "file", w.part)
		w.failing = ""
	}
}

func (w *writer) fail(err error) bool {
	w.n.writeErrors.Add(1)
	if msg := err.Error(); msg != w.failing {
		w.log.Error("output failed; holding frames and retrying (senders are paused)", "error", err, "frames_held", w.n.framesHeld.Load(), "retry", w.cfg.RetryInterval)
		w.failing = msg
	}
	return false
}

// abandon closes a file that can no longer be made valid; it keeps its .part name.
func (w *writer) abandon(err error) {
	w.n.writeErrors.Add(1)
	w.log.Error("abandoning output file; it keeps its .part name", "file", w.part, "error", err)
	_ = w.f.Close() // already failed; the error above is what matters
	w.f = nil
	w.spoolClosed(w.part, w.part)
}

// spoolClosed tells the spool that part is finished, as final ("" when it held no frame and
// was removed; part when it keeps its .part name).
func (w *writer) spoolClosed(part, final string) {
	if w.cfg.Spool != nil {
		w.cfg.Spool.FileClosed(part, final)
	}
}

// vanished says why the open file is no longer at its path ("" when it is): deleted (a link
// count of 0, as when its directory is removed), or its path gone or naming another file.
func (w *writer) vanished() string {
	fi, err := w.f.Stat()
	if err != nil {
		return "" // cannot tell; a write or close reports it
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink == 0 {
		return "the file was deleted (its link count is 0; was its directory removed?)"
	}
	pi, err := os.Lstat(w.part)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "its path no longer exists"
	case err != nil:
		return ""
	case !os.SameFile(fi, pi):
		return "its path names another file now"
	}
	return ""
}

// checkVanished closes the open file if it is no longer at its path: its frames are in no
// file the collector can finish, so they are counted and logged as lost. The next frames go
// to a new file (its directory created again).
func (w *writer) checkVanished() bool {
	why := w.vanished()
	if why == "" {
		return false
	}
	w.fileVanished(why)
	return true
}

func (w *writer) fileVanished(why string) {
	w.n.writeErrors.Add(1)
	w.n.framesLost.Add(w.fileFrames)
	w.dur.lostUpTo = max(w.dur.lostUpTo, w.dur.written) // no FINISH for the frames it held
	w.log.Error("output file removed while being written: its frames are lost; the next frames go to a new file",
		"file", w.part, "why", why, "frames_lost", w.fileFrames)
	if w.f != nil {
		_ = w.f.Close() // the file is gone; nothing to save
		w.f = nil
	}
	w.spoolClosed(w.part, w.part) // gone: the spool reads what it still can, and says so
}

func (w *writer) ensureOpen() error {
	if w.f != nil {
		return nil
	}
	now := w.cfg.Now()
	final := w.tmpl.next(now)
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	part := final + partSuffix
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("create output file: %w", err)
	}
	if _, err := f.Write(w.header); err != nil {
		_ = f.Close()       // the write error is the one to report
		_ = os.Remove(part) // holds no frame
		return fmt.Errorf("write START to %s: %w", part, err)
	}
	w.f, w.part, w.final, w.opened, w.size, w.fileFrames = f, part, final, now, int64(len(w.header)), 0
	w.dur.markDir(part)
	w.log.Info("output file opened", "file", part)
	if w.cfg.Spool != nil {
		w.cfg.Spool.FileOpened(part)
	}
	return nil
}

func (w *writer) rotate(why string) {
	if w.f == nil {
		return
	}
	w.n.rotations.Add(1)
	w.log.Debug("rotating", "why", why, "file", w.final)
	w.closeFile()
}

// closeFile writes STOP, syncs, closes and renames NAME.part to NAME, never replacing a file.
// A file that holds no frame (every write to it failed) is removed instead: no empty file is
// published.
func (w *writer) closeFile() {
	if w.checkVanished() {
		return
	}
	f, part := w.f, w.part
	w.f = nil
	if w.fileFrames == 0 {
		_ = f.Close() // nothing in it to keep
		if err := os.Remove(part); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.log.Error("remove empty output file", "file", part, "error", err)
		}
		w.log.Debug("output file removed: no frame was written to it", "file", part)
		w.spoolClosed(part, "")
		return
	}
	if _, err := f.Write(w.trailer); err != nil {
		_ = f.Truncate(w.size) // best effort: keep the frames, lose only the STOP
		_ = f.Close()
		w.n.writeErrors.Add(1)
		w.log.Error("cannot finish output file (no STOP); it keeps its .part name", "file", part, "frames", w.fileFrames, "error", err)
		w.spoolClosed(part, part)
		return
	}
	if err := f.Sync(); err != nil {
		w.n.writeErrors.Add(1)
		w.log.Error("fsync output file", "file", part, "error", err)
	}
	if err := f.Close(); err != nil {
		w.n.writeErrors.Add(1)
		w.log.Error("close output file", "file", part, "error", err)
	}
	rename := func() (string, error) { return publish(part, w.final, func() string { return w.tmpl.next(w.opened) }) }
	var final string
	var err error
	if w.archive != nil {
		final, err = w.archive.add(rename)
	} else {
		final, err = rename()
	}
	if errors.Is(err, os.ErrNotExist) && !exists(part) {
		w.fileVanished("its path no longer exists")
		return
	}
	if err != nil {
		w.n.writeErrors.Add(1)
		w.log.Error("rename finished output file; it keeps its .part name", "file", part, "error", err)
		w.spoolClosed(part, part)
		return
	}
	w.dur.markDir(final)
	w.spoolClosed(part, final)
	w.n.filesClosed.Add(1)
	w.log.Info("output file closed", "file", final, "frames", w.fileFrames, "bytes", w.size+int64(len(w.trailer)))
}

// publish gives part its final name without replacing an existing file (link, then unlink);
// if the name was taken meanwhile, next gives another.
func publish(part, final string, next func() string) (string, error) {
	for range 100 {
		err := publishAs(part, final)
		if !errors.Is(err, os.ErrExist) {
			if err != nil {
				return "", err
			}
			return final, nil
		}
		final = next()
	}
	return "", fmt.Errorf("no free name for %s", final)
}

// publishAs renames part to final unless final exists (then an error wrapping os.ErrExist).
func publishAs(part, final string) error {
	err := os.Link(part, final)
	if err == nil {
		return os.Remove(part)
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EXDEV) {
		// No hard links on this file system: rename, after checking the name is free.
		if exists(final) {
			return fmt.Errorf("rename %s: %s: %w", part, final, os.ErrExist)
		}
		return os.Rename(part, final)
	}
	return fmt.Errorf("rename %s: %w", part, err)
}

func (w *writer) close() {
	if w.stream != nil {
		if w.streamStarted && w.dead == nil {
			if _, err := w.stream.Write(w.trailer); err != nil {
				w.n.writeErrors.Add(1)
				w.log.Error("write STOP to output stream", "error", err)
			}
		}
		return
	}
	if w.f != nil {
		w.closeFile()
	}
}
