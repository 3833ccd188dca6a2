package collector

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// archiver compresses closed files and applies retention, in one goroutine, off the hot path.
type archiver struct {
	cfg   Config
	log   *slog.Logger
	n     *counters
	tmpl  *Template
	queue chan string
	done  chan struct{}

	mu      sync.Mutex
	pending map[string]bool // closed files queued and not yet compressed and retained
}

func newArchiver(cfg Config, log *slog.Logger, n *counters, t *Template) *archiver {
	return &archiver{cfg: cfg, log: log, n: n, tmpl: t, queue: make(chan string, 1024), done: make(chan struct{}), pending: map[string]bool{}}
}

// add publishes a file the writer has closed (publish renames NAME.part to NAME and returns
// NAME) and queues it for compression and retention. The two happen under the lock retention
// lists the directory under, so retention never sees a closed file that is not queued yet: a
// queued file is neither counted nor deleted before its turn. add never blocks on the queue.
func (a *archiver) add(publish func() (string, error)) (string, error) {
	a.mu.Lock()
	p, err := publish()
	if err == nil {
		a.pending[p] = true
	}
	a.mu.Unlock()
	if err == nil {
		a.enqueue(p)
	}
	return p, err
}

// enqueue queues p, which must be pending already.
func (a *archiver) enqueue(p string) {
	select {
	case a.queue <- p:
	default:
		a.settle(p)
		a.log.Warn("compression and retention queue full; file left as is", "file", p)
	}
}

func (a *archiver) settle(p string) {
	a.mu.Lock()
	delete(a.pending, p)
	a.mu.Unlock()
}

// run works through the queue until it is closed.
func (a *archiver) run() {
	defer close(a.done)
	for p := range a.queue {
		newest := p
		if a.cfg.Compress != CompressNone {
			if out, err := a.compress(p); err != nil {
				a.n.writeErrors.Add(1)
				a.log.Error("compress closed file; left uncompressed", "file", p, "error", err)
			} else {
				newest = out
			}
		}
		a.settle(p)
		a.retain(newest)
	}
}

// compress writes p compressed to p.gz.part (or .zst.part), fsyncs it, gives it p's
// modification time, renames it to p.gz without replacing anything, and removes p.
func (a *archiver) compress(p string) (string, error) {
	ext := compressExt[a.cfg.Compress]
	src, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("open: %w", err)
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return "", fmt.Errorf("stat: %w", err)
	}
	tmp := p + ext + partSuffix
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	var zw io.WriteCloser
	if a.cfg.Compress == CompressGzip {
		zw = gzip.NewWriter(dst)
	} else if zw, err = zstd.NewWriter(dst, zstd.WithEncoderConcurrency(1)); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return "", fmt.Errorf("zstd: %w", err)
	}
	_, err = io.Copy(zw, src)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Retention orders files by modification time: a compressed file keeps the time its
		// frames were closed, not the time it was compressed.
		err = os.Chtimes(tmp, info.ModTime(), info.ModTime())
	}
	if err != nil {
		_ = os.Remove(tmp) // incomplete; the original stays
		return "", fmt.Errorf("write %s: %w", tmp, err)
	}
	final := p + ext
	if err := publishAs(tmp, final); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	if err := os.Remove(p); err != nil {
		return final, fmt.Errorf("remove original after compression to %s: %w", final, err)
	}
	a.n.filesCompressed.Add(1)
	return final, nil
}

// recover looks, at startup, at what an earlier run left in dir (a crash, a kill -9) and tells
// the two kinds of leftover apart:
//   - NAME.part, a capture cut short: complete frames but no STOP. Reported and left as is
//     (its name is never reused).
//   - NAME.gz.part or NAME.zst.part, a compression cut short: NAME, the uncompressed file, is
//     still there. The partial file is deleted and NAME compressed again (or, with compression
//     off, left uncompressed). If the compressed file was already in place (the crash came
//     between its rename and the removal of NAME), NAME is removed instead.
//
// It runs before the writer starts, and queues the files to compress again.
func (a *archiver) recover(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // created when the first file is opened
	}
	for _, e := range entries {
		name, isPart := strings.CutSuffix(e.Name(), partSuffix)
		comp, ours := a.tmpl.Match(name)
		if !ours || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch {
		case isPart && comp == CompressNone:
			a.log.Warn("unfinished capture from an earlier run (complete frames, no STOP); left as is", "file", p)
		case isPart:
			a.recoverCompression(filepath.Join(dir, name), comp)
		case comp != CompressNone:
			// NAME.gz in place and NAME still there: the crash came after the rename.
			orig := strings.TrimSuffix(filepath.Join(dir, name), compressExt[comp])
			if fi, err := os.Lstat(orig); err == nil && fi.Mode().IsRegular() && !exists(filepath.Join(dir, name)+partSuffix) {
				a.removeCompressedOriginal(orig, filepath.Join(dir, name))
			}
		}
	}
}

// recoverCompression handles NAME.gz.part (compressed is NAME.gz) left by an earlier run.
func (a *archiver) recoverCompression(compressed, comp string) {
	part := compressed + partSuffix
	orig := strings.TrimSuffix(compressed, compressExt[comp])
	pi, err := os.Lstat(part)
	if err != nil {
		return
	}
	if ci, err := os.Lstat(compressed); err == nil && os.SameFile(pi, ci) {
		// Renamed (linked) already, the link to the partial name not yet removed.
		if err := os.Remove(part); err != nil {
			a.log.Error("remove leftover of a finished compression", "file", part, "error", err)
		}
		if exists(orig) {
			a.removeCompressedOriginal(orig, compressed)
		}
		return
	}
	if !exists(orig) {
		a.log.Warn("partial compressed file from an earlier run, without its original; left as is", "file", part)
		return
	}
	if err := os.Remove(part); err != nil {
		a.log.Error("remove interrupted compression", "file", part, "error", err)
		return
	}
	if a.cfg.Compress == CompressNone {
		a.log.Warn("interrupted compression from an earlier run discarded; the original stays uncompressed (compression is off)", "file", orig, "discarded", part)
		return
	}
	a.log.Warn("interrupted compression from an earlier run discarded; compressing the original again", "file", orig, "discarded", part)
	_, _ = a.add(func() (string, error) { return orig, nil })
}

func (a *archiver) removeCompressedOriginal(orig, compressed string) {
	if err := os.Remove(orig); err != nil {
		a.log.Error("remove original of a file compressed by an earlier run", "file", orig, "compressed", compressed, "error", err)
		return
	}
	a.log.Warn("earlier run stopped after compressing a file and before removing the original; original removed", "file", orig, "compressed", compressed)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// retain deletes the oldest closed files of the template in newest's directory beyond
// KeepFiles and KeepBytes; never newest itself (the file just closed or compressed), no file
// closed after it (those are still queued), and nothing that is not a closed file of the
// template.
func (a *archiver) retain(newest string) {
	if a.cfg.KeepFiles == 0 && a.cfg.KeepBytes == 0 {
		return
	}
	dir := filepath.Dir(newest)
	a.mu.Lock()
	all, err := a.tmpl.ClosedFiles(dir)
	files := all[:0]
	for _, f := range all {
		if !a.pending[f.Path] {
			files = append(files, f)
		}
	}
	a.mu.Unlock()
	if err != nil {
		a.log.Error("retention: list output directory", "dir", dir, "error", err)
		return
	}
	plan := planRetentionShipped(files, newest, a.cfg.KeepFiles, a.cfg.KeepBytes, a.unshipped)
	for _, f := range plan.evict {
		a.cfg.Spool.Evict(f.Path) // counts and logs the frames lost, before they are
	}
	for _, f := range append(plan.remove, plan.evict...) {
		if err := os.Remove(f.Path); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				a.log.Error("retention: delete", "file", f.Path, "error", err)
			}
			continue
		}
		a.n.filesDeleted.Add(1)
		a.log.Info("retention: deleted", "file", f.Path, "bytes", f.Size)
	}
	if plan.overBy > 0 {
		a.log.Warn("retention: the newest closed file alone exceeds the size limit; it is kept (retention never deletes the newest file)",
			"file", newest, "keep_bytes", a.cfg.KeepBytes, "over_by", plan.overBy)
	}
}
