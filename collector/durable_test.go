package collector

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncSpy replaces fsyncFile for a test: it records the size of each file when it is
// fsync'd, and fails when err is set.
type syncSpy struct {
	mu    sync.Mutex
	sizes map[string]int64
	err   error
}

func spyOnFsync(t *testing.T, err error) *syncSpy {
	s := &syncSpy{sizes: map[string]int64{}, err: err}
	orig := fsyncFile
	fsyncFile = func(f *os.File) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.err != nil {
			return s.err
		}
		if fi, err := f.Stat(); err == nil {
			s.sizes[f.Name()] = fi.Size()
		}
		return f.Sync()
	}
	t.Cleanup(func() { fsyncFile = orig })
	return s
}

// TestFinishAfterFsync: a bidirectional sender's Close returns (FINISH received) only once
// its frames are in the file and the file was fsync'd with them, while the file is still
// open (no rotation, no shutdown).
func TestFinishAfterFsync(t *testing.T) {
	spy := spyOnFsync(t, nil)
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm")}, ln)
	const n = 5000
	if err := send("unix", sock, true, 1, n); err != nil {
		t.Fatalf("sender: %v", err)
	}
	// FINISH came: the frames are in the .part (not closed yet) and it was fsync'd with them.
	part := filepath.Join(dir, "cap.fstrm.part")
	raw, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := parseFile(append(raw, controlBytes(stopFrame())...))
	if err != nil {
		t.Fatalf("%s: %v", part, err)
	}
	if len(frames) != n {
		t.Errorf("%d frames in %s when FINISH arrived, sent %d", len(frames), part, n)
	}
	spy.mu.Lock()
	synced := spy.sizes[part]
	spy.mu.Unlock()
	if synced != int64(len(raw)) {
		t.Errorf("%s was fsync'd at %d bytes before FINISH; it holds %d", part, synced, len(raw))
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{1: n})
}

// TestFinishWithheldWhenFsyncFails: when the fsync fails, the sender gets no FINISH (its
// connection is closed after STOP) and the collector says why; the frames stay written.
func TestFinishWithheldWhenFsyncFails(t *testing.T) {
	spyOnFsync(t, errors.New("injected EIO"))
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm")}, ln)
	err := send("unix", sock, true, 1, 100)
	if err == nil {
		t.Fatal("the sender got FINISH though the fsync failed")
	}
	waitFor(t, "the log line", func() bool { return strings.Contains(r.log.String(), "FINISH withheld") })
	if !strings.Contains(r.log.String(), "injected EIO") {
		t.Errorf("the log does not say why:\n%s", r.log)
	}
	if st := r.c.Stats(); st.WriteErrors == 0 || st.FramesWritten != 100 {
		t.Errorf("stats %v", st)
	}
}

// TestUnidirectionalSendersUnchanged: a sender without the bidirectional handshake gets no
// FINISH and needs none; its frames are written as before.
func TestUnidirectionalSendersUnchanged(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm")}, ln)
	if err := send("unix", sock, false, 4, 300); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{4: 300})
}
