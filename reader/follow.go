package reader

import (
	"bufio"
	"bytes"
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

// Defaults of the Follower's timing fields.
const (
	defaultPoll  = 200 * time.Millisecond
	defaultStale = 5 * time.Second
)

// headSize is how many leading bytes of a file identify its content: the START frame and
// the start of the first data frame, whose times differ from one file to the next.
const headSize = 512

// stopFrame is a Frame Streams STOP control frame, the last 12 bytes of a finished file.
var stopFrame = []byte{0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, controlStop}

// Follower follows dnstap files as they are written, like tail -F. Create it with
// NewFollower, then call Next for each file in turn and decode the reader it returns.
//
// A file is known by its device and inode together with its size and modification time
// when it was read to its end, so a new file that gets a deleted file's inode back is still
// read; a compressed copy (NAME.gz, NAME.zst) of a file read is recognised by its name and
// its first bytes and skipped, while one whose original was compressed before the follower
// got to it is read.
type Follower struct {
	// Poll is how often a file is checked for growth and rotation; 0 means 200ms.
	Poll time.Duration
	// Stale is how long a file in a directory may stay unchanged, without a STOP frame at
	// its end, before a newer file replaces it (its writer died); 0 means 5s.
	Stale time.Duration
	// Idle, when set, is called each time the follower has caught up and is about to wait
	// (a good moment to flush output).
	Idle func()
	// Notify, when set, is told once what the follower waits for when it finds nothing to
	// read at its start ("waiting for ..."), and each time a file is truncated or rewritten
	// in place (like tail's "file truncated").
	Notify func(msg string)

	path     string
	dir      bool
	cur      *os.File
	curName  string
	reopen   bool // the current file was rewritten in place: read it again from its start
	begun    bool // directory mode: the first listing has been taken
	notified bool
	read     bool                 // a file has been returned by Next
	done     map[fileID]fileState // files read to their end, and those there when following began
	keys     map[string]*keyState // directory mode: by name without .part and compression suffix
	notFS    map[fileID]fileState // files whose first bytes are not a Frame Stream
	headBuf  [headSize]byte
}

type fileID struct{ dev, ino uint64 }

// fileState is what tells a file from a later one on the same inode.
type fileState struct {
	size int64
	mod  time.Time
}

type keyState struct {
	old  bool   // present when following began: not to be read
	read bool   // a file of this name was read
	head []byte // its first bytes
}

// NewFollower follows path. A file is read from its start and then followed; when another
// file replaces it (or NAME.part is renamed to NAME) the old one is read to its end and the
// new one follows; when it is truncated or rewritten in place it is read again from its
// start. A directory, as dnstap-collector or fstrm_capture write it: the newest NAME.part
// file, or without one the newest Frame Streams file, is read from its start (or, when the
// directory holds none, the first to appear), and after it every new file in the directory,
// oldest first. A file in a directory is finished when its name goes away (NAME.part renamed
// to NAME), or when a newer file has appeared and it ends with a STOP frame or has not
// changed for Stale. A path that does not exist yet is waited for.
func NewFollower(path string) (*Follower, error) {
	st, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("follow: %w", err)
	}
	return &Follower{path: path, dir: err == nil && st.IsDir(), done: map[fileID]fileState{},
		keys: map[string]*keyState{}, notFS: map[fileID]fileState{}}, nil
}

func (f *Follower) poll() time.Duration {
	if f.Poll > 0 {
		return f.Poll
	}
	return defaultPoll
}

func (f *Follower) stale() time.Duration {
	if f.Stale > 0 {
		return f.Stale
	}
	return defaultStale
}

func idOf(st os.FileInfo) fileID {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(s.Dev), uint64(s.Ino)}
	}
	return fileID{}
}

func stateOf(st os.FileInfo) fileState { return fileState{st.Size(), st.ModTime()} }

// isDone reports whether the file with this identity and state was read to its end (or was
// there when following began).
func (f *Follower) isDone(id fileID, st os.FileInfo) bool {
	s, ok := f.done[id]
	return ok && s == stateOf(st)
}

// Next waits for the next file and returns a reader for it and its name. The reader returns
// the file's bytes as they are written and io.EOF once the file is finished (and read to its
// end). Next returns ctx.Err() when ctx is done. Close the follower at the end.
func (f *Follower) Next(ctx context.Context) (io.Reader, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if f.reopen && f.cur != nil {
		f.reopen = false
		if f.Notify != nil {
			f.Notify(fmt.Sprintf("%s: truncated or rewritten; reading it again from its start", f.curName))
		}
		if _, err := f.cur.Seek(0, io.SeekStart); err != nil {
			return nil, "", fmt.Errorf("follow %s: %w", f.curName, err)
		}
		return f.reader(ctx, f.cur, f.curName, false), f.curName, nil
	}
	f.Close()
	for {
		c, err := f.pick()
		if err != nil {
			return nil, "", err
		}
		if c != nil {
			fh, err := os.Open(c.path)
			if err == nil {
				if st, err := fh.Stat(); err == nil && idOf(st) == c.id {
					f.cur, f.curName, f.read = fh, c.path, true
					return f.reader(ctx, fh, c.path, c.compressed), c.path, nil
				}
				fh.Close() // replaced since the listing: look again
			}
		}
		if !f.read && !f.notified && f.Notify != nil {
			f.notified = true
			if f.dir {
				f.Notify(fmt.Sprintf("waiting for a Frame Streams file in %s", f.path))
			} else {
				f.Notify(fmt.Sprintf("waiting for %s to appear", f.path))
			}
		}
		if err := f.wait(ctx); err != nil {
			return nil, "", err
		}
	}
}

func (f *Follower) reader(ctx context.Context, fh *os.File, name string, complete bool) *followReader {
	return &followReader{f: f, ctx: ctx, fh: fh, name: name, complete: complete, changed: time.Now(), lastSize: -1}
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

// candidate is a file that may be read next.
type candidate struct {
	path       string
	key        string // name without .part and compression suffix
	id         fileID
	info       os.FileInfo
	part       bool // NAME.part: being written by dnstap-collector
	compressed bool // NAME.gz or NAME.zst: complete
}

// pick returns the file to read next, or nil when there is none yet.
func (f *Follower) pick() (*candidate, error) {
	if !f.dir {
		var next *candidate
		here := map[fileID]bool{}
		for _, p := range []string{f.path, f.path + PartSuffix} {
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			here[idOf(st)] = true
			if next == nil && !f.isDone(idOf(st), st) {
				next = &candidate{path: p, id: idOf(st), info: st}
			}
		}
		for id := range f.done {
			if !here[id] {
				delete(f.done, id)
			}
		}
		return next, nil
	}
	cands, all, err := f.scan(fileID{})
	if err != nil {
		return nil, err
	}
	if f.begun {
		if len(cands) == 0 {
			return nil, nil
		}
		return &cands[0], nil
	}
	// The first listing: start with the newest file being written (or, when there is none,
	// the newest Frame Streams file); every other file there is old and is never read.
	f.begun = true
	var start *candidate
	for _, part := range []bool{true, false} {
		for i := len(cands) - 1; i >= 0 && start == nil; i-- {
			if cands[i].part == part && !cands[i].compressed {
				start = &cands[i]
			}
		}
	}
	for i := range all {
		c := &all[i]
		if start != nil && c.id == start.id {
			continue
		}
		f.done[c.id] = stateOf(c.info)
		f.keys[c.key] = &keyState{old: true}
	}
	return start, nil
}

// scan lists the directory and returns the files that may be read next, oldest first,
// leaving out the file exclude; and every regular file of the listing.
func (f *Follower) scan(exclude fileID) (cands, all []candidate, err error) {
	entries, err := os.ReadDir(f.path)
	if err != nil {
		return nil, nil, fmt.Errorf("follow: %w", err)
	}
	ids := map[fileID]bool{}
	keys := map[string]bool{}
	plain := map[string]bool{} // keys with an uncompressed file in the listing
	var compressed []candidate
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		st, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		base, part := strings.CutSuffix(e.Name(), PartSuffix)
		key, ext := splitCompressed(base)
		c := candidate{path: filepath.Join(f.path, e.Name()), key: key, id: idOf(st), info: st,
			part: part && ext == "", compressed: ext != ""}
		ids[c.id], keys[key] = true, true
		all = append(all, c)
		switch {
		case ext != "" && part:
			// being compressed: the original is still there
		case ext != "":
			compressed = append(compressed, c)
		default:
			plain[key] = true
			if c.id != exclude && !f.isDone(c.id, st) && (part || f.frameStream(c)) {
				cands = append(cands, c)
			}
		}
	}
	// Forget what is gone, so that a name or an inode used again is a new file.
	for id := range f.done {
		if !ids[id] {
			delete(f.done, id)
		}
	}
	for id := range f.notFS {
		if !ids[id] {
			delete(f.notFS, id)
		}
	}
	for k := range f.keys {
		if !keys[k] {
			delete(f.keys, k)
		}
	}
	for _, c := range compressed {
		if c.id == exclude || f.isDone(c.id, c.info) || plain[c.key] || !readable(c.path) {
			continue
		}
		if k := f.keys[c.key]; k != nil && (k.old || k.read && f.sameHead(c.path, k.head)) {
			f.done[c.id] = stateOf(c.info) // a compressed copy of a file read, or an old one
			continue
		}
		cands = append(cands, c) // compressed before the follower read it
	}
	sort.SliceStable(cands, func(i, j int) bool {
		mi, mj := cands[i].info.ModTime(), cands[j].info.ModTime()
		if !mi.Equal(mj) {
			return mi.Before(mj)
		}
		return cands[i].path < cands[j].path
	})
	return cands, all, nil
}

// splitCompressed splits a compression suffix off a file name: "a.fstrm.zst" gives
// "a.fstrm", ".zst"; a name without one gives the name and "".
func splitCompressed(name string) (string, string) {
	for _, ext := range []string{".gz", ".zst", ".zstd", ".xz", ".bz2"} {
		if k, ok := strings.CutSuffix(name, ext); ok {
			return k, ext
		}
	}
	return name, ""
}

// readable reports whether a compressed file is in a format the decoder reads.
func readable(path string) bool {
	_, ext := splitCompressed(path)
	return ext == ".gz" || ext == ".zst" || ext == ".zstd"
}

// frameStream reports whether a file begins as a Frame Stream does (a control frame's
// escape); a file shorter than that is not judged yet.
func (f *Follower) frameStream(c candidate) bool {
	if s, ok := f.notFS[c.id]; ok && s == stateOf(c.info) {
		return false
	}
	fh, err := os.Open(c.path)
	if err != nil {
		return false
	}
	defer fh.Close()
	var b [4]byte
	if _, err := io.ReadFull(fh, b[:]); err != nil {
		return false
	}
	if b != [4]byte{} {
		f.notFS[c.id] = stateOf(c.info)
		return false
	}
	return true
}

// sameHead reports whether the (decompressed) content of the file at path begins with head.
func (f *Follower) sameHead(path string, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	r, c, err := decompress(bufio.NewReader(fh))
	if err != nil {
		return false
	}
	if c != nil {
		defer c.Close()
	}
	b := f.headBuf[:len(head)]
	_, err = io.ReadFull(r, b)
	return err == nil && bytes.Equal(b, head)
}

// finished records a file read to its end.
func (f *Follower) finished(r *followReader, st os.FileInfo) {
	f.done[idOf(st)] = stateOf(st)
	if f.dir {
		base := strings.TrimSuffix(filepath.Base(r.name), PartSuffix)
		key, _ := splitCompressed(base)
		k := &keyState{read: true}
		if !r.complete {
			k.head = r.head
		}
		f.keys[key] = k
	}
}

// followReader reads a file that may still grow.
type followReader struct {
	f        *Follower
	ctx      context.Context
	fh       *os.File
	name     string
	complete bool // a finished file (a compressed copy): its end is the end
	off      int64
	head     []byte // the file's first bytes, as read
	lastSize int64
	lastMod  time.Time
	changed  time.Time // when the file was last seen to change
	scanned  time.Time // when the directory was last listed for a newer file
	buf      [headSize]byte
}

func (r *followReader) Read(p []byte) (int, error) {
	for {
		if !r.complete {
			rw, err := r.rewritten()
			if err != nil {
				return 0, err
			}
			if rw {
				r.f.reopen = true
				return 0, io.EOF
			}
		}
		if n, err := r.read(p); n > 0 || err != nil {
			return n, err
		}
		done := r.complete
		var err error
		if !done {
			if done, err = r.over(); err != nil {
				return 0, err
			}
		}
		if done {
			// Written to completion before it was replaced: one last read finds any rest.
			if n, err := r.read(p); n > 0 || err != nil {
				return n, err
			}
			if st, err := r.fh.Stat(); err == nil {
				r.f.finished(r, st)
			}
			return 0, io.EOF
		}
		if err := r.f.wait(r.ctx); err != nil {
			return 0, err
		}
	}
}

// read reads what the file has now: n > 0, or an error other than io.EOF, or neither at
// the current end.
func (r *followReader) read(p []byte) (int, error) {
	n, err := r.fh.Read(p)
	if n > 0 {
		r.got(p[:n])
		return n, nil
	}
	if err != nil && err != io.EOF {
		return 0, fmt.Errorf("follow: %w", err)
	}
	return 0, nil
}

func (r *followReader) got(p []byte) {
	if len(r.head) < headSize {
		r.head = append(r.head, p[:min(len(p), headSize-len(r.head))]...)
	}
	r.off += int64(len(p))
}

// rewritten reports whether the file was truncated or rewritten in place since it was read
// (what fstrm_capture -s does with a fixed name): it is shorter than what was read, or its
// first bytes changed.
func (r *followReader) rewritten() (bool, error) {
	st, err := r.fh.Stat()
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	if st.Size() < r.off {
		return true, nil
	}
	if len(r.head) == 0 {
		return false, nil
	}
	b := r.buf[:len(r.head)]
	n, err := r.fh.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return false, fmt.Errorf("follow: %w", err)
	}
	return !bytes.Equal(b[:n], r.head), nil
}

// over reports whether the file, read to its current end, is finished: its name no longer
// leads to it (renamed or removed); in file mode, NAME appeared while NAME.part was
// followed; in a directory, a newer file exists and this one ends with a STOP frame or has
// not changed for Stale.
func (r *followReader) over() (bool, error) {
	st, err := r.fh.Stat()
	if err != nil {
		return false, fmt.Errorf("follow: %w", err)
	}
	me := idOf(st)
	if cur, err := os.Stat(r.name); err != nil || idOf(cur) != me {
		return true, nil
	}
	if !r.f.dir {
		if r.name != r.f.path {
			// Following NAME via NAME.part: NAME appearing means the rename happened.
			if cur, err := os.Stat(r.f.path); err == nil && idOf(cur) != me {
				return true, nil
			}
		}
		return false, nil
	}
	now := time.Now()
	if st.Size() != r.lastSize || !st.ModTime().Equal(r.lastMod) {
		r.lastSize, r.lastMod, r.changed = st.Size(), st.ModTime(), now
	}
	if !r.endsWithStop(st.Size()) && now.Sub(r.changed) < r.f.stale() {
		return false, nil
	}
	// Look for a newer file, at most once a second: a directory may hold many files.
	if now.Sub(r.scanned) < max(time.Second, r.f.poll()) {
		return false, nil
	}
	r.scanned = now
	cands, _, err := r.f.scan(me)
	if err != nil {
		return false, err
	}
	return len(cands) > 0, nil
}

func (r *followReader) endsWithStop(size int64) bool {
	if size < int64(len(stopFrame)) {
		return false
	}
	b := r.buf[:len(stopFrame)]
	n, _ := r.fh.ReadAt(b, size-int64(len(stopFrame)))
	return n == len(b) && bytes.Equal(b, stopFrame)
}
