package collector

import (
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// archiver compresses closed files and applies retention, in one goroutine, off the hot path.
type archiver struct {
	cfg   Config
	log   *slog.Logger
	n     *counters
	namer *namer
	queue chan string
	done  chan struct{}
}

func newArchiver(cfg Config, log *slog.Logger, n *counters, nm *namer) *archiver {
	return &archiver{cfg: cfg, log: log, n: n, namer: nm, queue: make(chan string, 1024), done: make(chan struct{})}
}

func (a *archiver) enqueue(p string) {
	select {
	case a.queue <- p:
	default:
		a.log.Warn("compression and retention queue full; file left as is", "file", p)
	}
}

func (a *archiver) run() {
	defer close(a.done)
	a.reportLeftovers(filepath.Dir(a.namer.next(a.cfg.Now())))
	for p := range a.queue {
		if a.cfg.Compress != CompressNone {
			if err := a.compress(p); err != nil {
				a.log.Error("compress closed file; left uncompressed", "file", p, "error", err)
			}
		}
		a.retain(filepath.Dir(p))
	}
}

func (a *archiver) compress(p string) error {
	ext := compressExt[a.cfg.Compress]
	src, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer src.Close()
	tmp := p + ext + partSuffix
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	var zw io.WriteCloser
	if a.cfg.Compress == CompressGzip {
		zw = gzip.NewWriter(dst)
	} else if zw, err = zstd.NewWriter(dst, zstd.WithEncoderConcurrency(1)); err != nil {
		_ = dst.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("zstd: %w", err)
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
	if err != nil {
		_ = os.Remove(tmp) // incomplete; the original stays
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	final, err := publish(tmp, p+ext, a.namer)
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("remove original after compression to %s: %w", final, err)
	}
	a.n.filesCompressed.Add(1)
	return nil
}

// reportLeftovers logs .part files of the template that an earlier run left (a crash, a kill
// -9): they hold complete frames but no STOP. They are neither touched nor reused.
func (a *archiver) reportLeftovers(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // created when the first file is opened
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), partSuffix)
		if ok && e.Type().IsRegular() && a.namer.match.MatchString(name) {
			a.log.Warn("unfinished file from an earlier run (no STOP); left as is", "file", filepath.Join(dir, e.Name()))
		}
	}
}

// retain deletes the oldest closed files of the template in dir beyond KeepFiles or KeepBytes.
func (a *archiver) retain(dir string) {
	if a.cfg.KeepFiles == 0 && a.cfg.KeepBytes == 0 {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		a.log.Error("retention: list output directory", "dir", dir, "error", err)
		return
	}
	type file struct {
		path string
		info os.FileInfo
	}
	var files []file
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() || !a.namer.match.MatchString(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		files = append(files, file{filepath.Join(dir, e.Name()), info})
		total += info.Size()
	}
	sort.Slice(files, func(i, j int) bool {
		ti, tj := files[i].info.ModTime(), files[j].info.ModTime()
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return files[i].path < files[j].path
	})
	for len(files) > 0 && ((a.cfg.KeepFiles > 0 && len(files) > a.cfg.KeepFiles) || (a.cfg.KeepBytes > 0 && total > a.cfg.KeepBytes)) {
		f := files[0]
		files = files[1:]
		if err := os.Remove(f.path); err != nil {
			a.log.Error("retention: delete", "file", f.path, "error", err)
			continue
		}
		total -= f.info.Size()
		a.n.filesDeleted.Add(1)
		a.log.Info("retention: deleted", "file", f.path, "bytes", f.info.Size())
	}
}
