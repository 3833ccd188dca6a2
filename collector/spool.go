package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Spool is told what the writers do with the output files, and asked before retention
// deletes one: collector/forward implements it to ship every frame the collector writes
// (the files are the spool). Calls come from the writer and archiver goroutines.
type Spool interface {
	// FileOpened is called when part (NAME.part) has been created, before any frame is
	// written to it. It may block briefly: the forwarder records the file durably.
	FileOpened(part string)
	// FileWritten is called after frames were written to part: it now holds size bytes,
	// ending with a complete frame, and frames more frames than before. It must not block.
	FileWritten(part string, size int64, frames int)
	// FileClosed is called when part is finished (STOP written, fsync'd) and renamed to
	// final; final is part when the file keeps its .part name after an error. No more
	// frames go to it.
	FileClosed(part, final string)
	// Unshipped reports whether path (a closed file, maybe compressed) holds frames not yet
	// shipped. Retention keeps such a file past KeepFiles, and past KeepBytes only until
	// every shipped file is gone.
	Unshipped(path string) bool
	// Evict is called before retention deletes path though it is unshipped, to keep the
	// output under KeepBytes: the spool counts and logs the frames lost.
	Evict(path string)
}

// ListSpool returns the files of the output template that exist now in the template's
// current directory: closed ones (compressed or not) and .part ones, not the temporary
// files of compression; oldest first (modification time, then name). The forwarder uses it
// when it starts with no record of what it shipped.
func ListSpool(cfg Config) ([]string, error) {
	if cfg.Output == "" || cfg.Output == "-" || hasIdentity(cfg.Output) {
		return nil, errors.New("spool: the output must be a file template without " + IdentityVar)
	}
	cfg = cfg.withDefaults()
	t, err := NewTemplate(cfg.Output, cfg.TimeNames)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	dir := t.Dir(cfg.Now())
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	type file struct {
		path string
		info os.FileInfo
	}
	var files []file
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".gz"+partSuffix) || strings.HasSuffix(name, ".zst"+partSuffix) {
			continue // compression in progress: the original is still there
		}
		if _, ok := t.Match(strings.TrimSuffix(name, partSuffix)); !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		files = append(files, file{filepath.Join(dir, name), info})
	}
	sort.Slice(files, func(i, j int) bool {
		ti, tj := files[i].info.ModTime(), files[j].info.ModTime()
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return files[i].path < files[j].path
	})
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out, nil
}

// unshipped asks the spool whether retention must keep path.
func (a *archiver) unshipped(p string) bool {
	return a.cfg.Spool != nil && a.cfg.Spool.Unshipped(p)
}
