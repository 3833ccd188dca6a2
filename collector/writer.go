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

	f           *os.File
	part, final string
	opened      time.Time // when f was opened (its name is the template at that time)
	size        int64     // bytes in f up to the last complete frame

	failing string // last error logged, to log a failure once, not once a retry
	gaveUp  bool
	held    *batch // the batch counted in framesHeld
}

func controlBytes(cf fs.ControlFrame) []byte {
	var b bytesBuffer
	_ = cf.Encode(&b) // writes to memory cannot fail
	return b
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

func newWriter(cfg Config, log *slog.Logger, n *counters, t *Template, a *archiver) *writer {
	w := &writer{cfg: cfg, log: log, n: n, tmpl: t, archive: a,
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
func (w *writer) run(s *sink, connsDone, giveUp <-chan struct{}, rotate <-chan struct{}) {
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
				w.lose(b)
			}
			pending = pending[1:]
			s.recycle(b)
		}
		pending = nil
	}
	finishing := false
	for {
		if finishing && len(pending) == 0 {
			writeAll(s.take(true))
			if len(pending) == 0 {
				w.close()
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
		}
	}
}

func (w *writer) untilRotation() time.Duration {
	now := w.cfg.Now()
	return alignedNext(now, w.cfg.RotateEvery, w.cfg.TimeNames).Sub(now)
}

func (w *writer) unhold(b *batch) {
	if w.held == b {
		w.n.framesHeld.Add(-int64(b.frames))
		w.held = nil
	}
}

func (w *writer) lose(b *batch) {
	w.unhold(b)
	w.n.framesLost.Add(uint64(b.frames))
	w.log.Error("frames lost: output still failing at the drain deadline", "frames", b.frames, "error", w.failing)
}

// write writes b completely or reports false (after logging and counting the error).
func (w *writer) write(b *batch) bool {
	if err := w.ensureOpen(); err != nil {
		return w.fail(b, err)
	}
	if w.stream != nil {
		for len(b.buf) > 0 {
			n, err := w.stream.Write(b.buf)
			b.buf = b.buf[n:] // a stream cannot be rewound: keep only what is not written
			w.n.bytesWritten.Add(uint64(n))
			if err != nil {
				return w.fail(b, fmt.Errorf("write output stream: %w", err))
			}
		}
		w.ok(b)
		return true
	}
	for len(b.buf) > 0 {
		chunk, frames := w.fits(b)
		if _, err := w.f.Write(chunk); err != nil {
			// Cut off a partly written frame so the file stays a valid Frame Stream.
			if terr := w.f.Truncate(w.size); terr != nil {
				w.abandon(fmt.Errorf("cut %s back to %d bytes after a failed write: %w", w.part, w.size, terr))
			} else if _, serr := w.f.Seek(w.size, io.SeekStart); serr != nil {
				w.abandon(fmt.Errorf("seek %s: %w", w.part, serr))
			}
			return w.fail(b, fmt.Errorf("write %s: %w", w.part, err))
		}
		w.size += int64(len(chunk))
		w.n.bytesWritten.Add(uint64(len(chunk)))
		w.n.framesWritten.Add(uint64(frames))
		w.unhold(b)
		b.buf, b.frames = b.buf[len(chunk):], b.frames-frames
		if w.cfg.RotateBytes > 0 && w.size >= w.cfg.RotateBytes-int64(len(w.trailer)) {
			w.rotate("size")
		}
		if len(b.buf) > 0 {
			if err := w.ensureOpen(); err != nil {
				return w.fail(b, err)
			}
		}
	}
	w.ok(b)
	return true
}

// fits returns the leading frames of b that fit in the current file under RotateBytes (at
// least one frame), or all of b without a size limit.
func (w *writer) fits(b *batch) ([]byte, int) {
	if w.cfg.RotateBytes == 0 {
		return b.buf, b.frames
	}
	room := w.cfg.RotateBytes - int64(len(w.trailer)) - w.size
	off, frames := 0, 0
	for off < len(b.buf) {
		n := 4 + int(binary.BigEndian.Uint32(b.buf[off:]))
		if frames > 0 && int64(off+n) > room {
			break
		}
		off += n
		frames++
	}
	return b.buf[:off], frames
}

func (w *writer) ok(b *batch) {
	w.n.framesWritten.Add(uint64(b.frames))
	b.frames = 0
	w.unhold(b)
	if w.failing != "" {
		w.log.Info("output works again", "file", w.part)
		w.failing = ""
	}
}

func (w *writer) fail(b *batch, err error) bool {
	w.n.writeErrors.Add(1)
	if w.held != b && !w.gaveUp {
		w.n.framesHeld.Add(int64(b.frames))
		w.held = b
	}
	if msg := err.Error(); msg != w.failing {
		w.log.Error("output failed; holding frames and retrying (senders are paused)", "error", err, "frames_held", b.frames, "retry", w.cfg.RetryInterval)
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
}

func (w *writer) ensureOpen() error {
	if w.stream != nil {
		if !w.streamStarted {
			if _, err := w.stream.Write(w.header); err != nil {
				return fmt.Errorf("write START to output stream: %w", err)
			}
			w.streamStarted = true
		}
		return nil
	}
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
	w.f, w.part, w.final, w.opened, w.size = f, part, final, now, int64(len(w.header))
	w.log.Info("output file opened", "file", part)
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
func (w *writer) closeFile() {
	f, part := w.f, w.part
	w.f = nil
	if _, err := f.Write(w.trailer); err != nil {
		_ = f.Truncate(w.size) // best effort: keep the frames, lose only the STOP
		_ = f.Close()
		w.n.writeErrors.Add(1)
		w.log.Error("cannot finish output file; it keeps its .part name", "file", part, "error", err)
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
	if err != nil {
		w.n.writeErrors.Add(1)
		w.log.Error("rename finished output file; it keeps its .part name", "file", part, "error", err)
		return
	}
	w.n.filesClosed.Add(1)
	w.log.Info("output file closed", "file", final, "bytes", w.size+int64(len(w.trailer)))
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
		if w.streamStarted {
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
