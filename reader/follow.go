package reader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// PartSuffix marks a file that dnstap-collector is still writing; it renames NAME.part to
// NAME when the file is complete.
const PartSuffix = ".part"

// Follower follows a growing dnstap file across rotation, like tail -F. Create it with
// NewFollower, then call Next for each file in turn and decode the reader it returns.
type Follower struct {
	// Poll is how often a file is checked for growth and rotation; 0 means 200ms.
	Poll time.Duration
	// Idle, when set, is called each time the follower has caught up and is about to wait
	// (a good moment to flush output).
	Idle func()

	path  string
	dir   bool
	seen  map[fileID]bool
	cur   *os.File
	since time.Time // mtime of the last file finished (directory mode)
}

type fileID struct{ dev, ino uint64 }

// NewFollower follows path: a file, which is read from its start and then followed; when
// another file replaces it (or NAME.part is renamed to NAME), the old one is read to its end
// and the new one follows. Or a directory, as dnstap-collector writes it: the newest
// NAME.part file (or, when none exists yet, the next one to appear) is read from its start,
// and after it is renamed, the next file the collector opens.
func NewFollower(path string) (*Follower, error) {
	st, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("follow %s: %w", path, err)
	}
	return &Follower{path: path, dir: err == nil && st.IsDir(), seen: map[fileID]bool{}}, nil
}

func (f *Follower) poll() time.Duration {
	if f.Poll > 0 {
		return f.Poll
	}
	return 200 * time.Millisecond
}

func idOf(st os.FileInfo) fileID {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(s.Dev), uint64(s.Ino)}
	}
	return fileID{}
}

// Next waits for the next file and returns a reader for it and its name. The reader returns
// the file's bytes as they are written and io.EOF once the file has been rotated away (and
// read to its end). Next returns ctx.Err() when ctx is done. Close the follower at the end.
func (f *Follower) Next(ctx context.Context) (io.Reader, string, error) {
	if f.cur != nil {
		f.cur.Close()
		f.cur = nil
	}
	for {
		name, err := f.pick()
		if err != nil {
			return nil, "", err
		}
		if name != "" {
			fh, err := os.Open(name)
			if err == nil {
				st, serr := fh.Stat()
				if serr == nil && !f.seen[idOf(st)] {
					f.seen[idOf(st)] = true
					f.cur = fh
					return &followReader{f: f, ctx: ctx, fh: fh, name: name}, name, nil
				}
				fh.Close()
			}
		}
		if err := f.wait(ctx); err != nil {
			return nil, "", err
		}
	}
}

// Close closes the current file.
func (f *Follower) Close() error {
	if f.cur != nil {
		err := f.cur.Close()
		f.cur = nil
		return err
	}
	return nil
}

func (f *Follower) wait(ctx context.Context) error {
	if f.Idle != nil {
		f.Idle()
	}
	t := time.NewTimer(f.poll())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pick returns the file to read next, or "" when there is none yet.
func (f *Follower) pick() (string, error) {
	if !f.dir {
		for _, p := range []string{f.path, f.path + PartSuffix} {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && !f.seen[idOf(st)] {
				return p, nil
			}
		}
		return "", nil
	}
	entries, err := os.ReadDir(f.path)
	if err != nil {
		return "", fmt.Errorf("follow %s: %w", f.path, err)
	}
	type cand struct {
		name string
		mod  time.Time
		part bool
	}
	var cands []cand
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		st, err := e.Info()
		if err != nil || f.seen[idOf(st)] {
			continue
		}
		part := strings.HasSuffix(e.Name(), PartSuffix)
		if compressedName(strings.TrimSuffix(e.Name(), PartSuffix)) {
			continue // a closed file being compressed, or compressed: already read as written
		}
		// Before the first file: only the file being written. Later: any file that is new
		// since the last one finished (it may have been renamed before we looked).
		if f.since.IsZero() && !part {
			continue
		}
		if !f.since.IsZero() && st.ModTime().Before(f.since) {
			continue
		}
		cands = append(cands, cand{filepath.Join(f.path, e.Name()), st.ModTime(), part})
	}
	if len(cands) == 0 {
		return "", nil
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].mod.Equal(cands[j].mod) {
			return cands[i].mod.Before(cands[j].mod)
		}
		return cands[i].name < cands[j].name
	})
	if f.since.IsZero() {
		return cands[len(cands)-1].name, nil // the newest file being written
	}
	return cands[0].name, nil
}

// followReader reads a file that may still grow.
type followReader struct {
	f    *Follower
	ctx  context.Context
	fh   *os.File
	name string
}

func (r *followReader) Read(p []byte) (int, error) {
	for {
		n, err := r.fh.Read(p)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		done, derr := r.rotated()
		if derr != nil {
			return 0, derr
		}
		if done {
			// Written to completion before the rename: one last read finds any rest.
			n, err := r.fh.Read(p)
			if n > 0 {
				return n, nil
			}
			if err != nil && err != io.EOF {
				return 0, err
			}
			if st, err := r.fh.Stat(); err == nil {
				r.f.since = st.ModTime()
			}
			return 0, io.EOF
		}
		if err := r.f.wait(r.ctx); err != nil {
			return 0, err
		}
	}
}

// rotated reports whether the file is finished: its name no longer leads to it (renamed or
// removed), or, in file mode, another file has appeared under the followed path.
func (r *followReader) rotated() (bool, error) {
	st, err := r.fh.Stat()
	if err != nil {
		return false, err
	}
	me := idOf(st)
	if cur, err := os.Stat(r.name); err != nil || idOf(cur) != me {
		return true, nil
	}
	if !r.f.dir && r.name != r.f.path {
		// Following NAME via NAME.part: NAME appearing means the rename happened.
		if cur, err := os.Stat(r.f.path); err == nil && idOf(cur) != me {
			return true, nil
		}
	}
	return false, nil
}

// compressedName reports whether a file name has the extension of a compressed file, which
// dnstap-collector writes (NAME.gz.part, then NAME.gz) from a file it has closed.
func compressedName(name string) bool {
	for _, ext := range []string{".gz", ".zst", ".zstd", ".xz", ".bz2"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
