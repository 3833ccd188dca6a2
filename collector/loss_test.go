package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOutputDirectoryRemoved removes the output directory while a file in it is open: the
// frames written to that file are counted lost and logged, Serve reports the loss, and the
// next frames go to a new file in the directory made again.
func TestOutputDirectoryRemoved(t *testing.T) {
	sock, ln := unixListener(t)
	dir := filepath.Join(t.TempDir(), "out")
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm")}, ln)
	if err := send("unix", sock, true, 1, 500); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first frames written", func() bool { return r.c.Stats().FramesWritten == 500 })
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := send("unix", sock, true, 2, 300); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the next frames written", func() bool { return r.c.Stats().FramesWritten == 800 })
	err := r.stop()
	if err == nil || !strings.Contains(err.Error(), "500 frames read were lost") {
		t.Errorf("Serve: %v, want the loss of 500 frames reported", err)
	}
	if st := r.c.Stats(); st.FramesLost != 500 || st.FilesClosed != 1 {
		t.Errorf("stats %v, want 500 lost and one file closed", st)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{2: 300})
	if logs := r.log.String(); !strings.Contains(logs, "output file removed while being written") || !strings.Contains(logs, "frames_lost=500") {
		t.Errorf("loss not logged:\n%s", logs)
	}
}

// TestFullDiskRotationPublishesNoEmptyFile rotates every second on a full disk: a file that
// got no frame (its writes failed) is removed at rotation, not published with START and STOP
// only; once space is free every frame is written.
func TestFullDiskRotationPublishesNoEmptyFile(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for rotations")
	}
	dir := t.TempDir()
	mount(t, "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir)
	ballast := filepath.Join(dir, "ballast")
	// Room for a file's START (so it is created), not for a batch of frames.
	if err := os.WriteFile(ballast, make([]byte, 1000<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(dir, "cap-%Y%m%d-%H%M%S.fstrm"), TimeNames: NamesUTC, RotateEvery: time.Second, RetryInterval: 50 * time.Millisecond}, ln)
	const n = 4000
	errc := make(chan error, 1)
	go func() { errc <- send("unix", sock, true, 1, n) }()
	waitFor(t, "rotations while the disk is full", func() bool { st := r.c.Stats(); return st.Rotations >= 3 && st.WriteErrors > 3 })
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	for _, f := range finished(t, dir) {
		if len(readFile(t, f)) == 0 {
			t.Errorf("%s: published with no frame", f)
		}
	}
	checkFrames(t, allFrames(t, dir), map[int]int{1: n})
}

// TestHeldFramesAndBufferBound: while the output fails, frames_held counts every frame read
// and not written, and the memory held never exceeds --buffer (plus the one read a connection
// is putting in).
func TestHeldFramesAndBufferBound(t *testing.T) {
	dir := t.TempDir()
	mount(t, "-t", "tmpfs", "-o", "size=256k", "tmpfs", dir)
	if err := os.WriteFile(filepath.Join(dir, "ballast"), make([]byte, 256<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	sock, ln := unixListener(t)
	const buffer, readBuf = 1 << 20, 64 << 10
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm"), BufferBytes: buffer, ReadBufferSize: readBuf, MaxFrameSize: 64 << 10,
		RetryInterval: 20 * time.Millisecond, DrainTimeout: 100 * time.Millisecond}, ln)
	go func() { _ = send("unix", sock, true, 1, 40000) }() // about 5 MB: more than the buffer
	waitFor(t, "the buffer to fill", func() bool { st := r.c.Stats(); return st.BytesRead > buffer*3/4 })
	last, still := uint64(0), 0
	waitFor(t, "reading to stop (backpressure)", func() bool {
		st := r.c.Stats()
		if st.FramesRead == last {
			still++
		} else {
			last, still = st.FramesRead, 0
		}
		return still >= 50
	})
	st := r.c.Stats()
	if st.FramesWritten != 0 || st.FramesHeld != int64(st.FramesRead) {
		t.Errorf("frames_held %d, want every frame read and not written: %d", st.FramesHeld, st.FramesRead-st.FramesWritten)
	}
	if held := st.BytesRead - st.BytesWritten; held > buffer+readBuf {
		t.Errorf("%d bytes held, more than --buffer %d (and one read of %d)", held, buffer, readBuf)
	}
}
