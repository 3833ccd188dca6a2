package collector

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mount runs mount(8) and removes the mount when the test ends; it skips the test when this
// machine cannot mount (not root, or no capability in a container).
func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot mount here (%v: %s); this test needs root", err, out)
	}
	target := args[len(args)-1]
	t.Cleanup(func() {
		if out, err := exec.Command("umount", target).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", target, err, out)
		}
	})
}

// TestFullDisk fills a small tmpfs while a sender streams: the collector logs and counts the
// write errors, holds the frames, pauses the sender, and writes everything once space is free.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	mount(t, "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir)
	ballast := filepath.Join(dir, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 900<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm"), RetryInterval: 50 * time.Millisecond}, ln)
	const n = 4000 // about 600 KB: does not fit next to the ballast
	errc := make(chan error, 1)
	go func() { errc <- send("unix", sock, true, 1, n) }()
	waitFor(t, "a write error", func() bool { st := r.c.Stats(); return st.WriteErrors > 0 && st.FramesHeld > 0 })
	if !strings.Contains(r.log.String(), "no space left on device") {
		t.Errorf("log does not say why:\n%s", r.log)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{1: n})
	if st := r.c.Stats(); st.FramesHeld != 0 || st.FramesLost != 0 || st.FramesWritten != n {
		t.Errorf("stats %v", st)
	}
	if !strings.Contains(r.log.String(), "output works again") {
		t.Errorf("no recovery logged")
	}
}

// TestReadOnlyDirectory starts with a read-only output directory, then makes it writable.
func TestReadOnlyDirectory(t *testing.T) {
	dir := t.TempDir()
	mount(t, "--bind", dir, dir)
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("remount read-only: %v: %s", err, out)
	}
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm"), RetryInterval: 50 * time.Millisecond}, ln)
	errc := make(chan error, 1)
	go func() { errc <- send("unix", sock, true, 2, 1000) }()
	waitFor(t, "write errors", func() bool { return r.c.Stats().WriteErrors >= 2 })
	if !strings.Contains(r.log.String(), "read-only file system") {
		t.Errorf("log does not say why:\n%s", r.log)
	}
	if out, err := exec.Command("mount", "-o", "remount,bind,rw", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v: %s", err, out)
	}
	if err := <-errc; err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{2: 1000})
}

// TestOutputNeverRecovers: at shutdown, frames that still cannot be written are counted as
// lost, logged, and Serve reports the loss.
func TestOutputNeverRecovers(t *testing.T) {
	dir := t.TempDir()
	mount(t, "--bind", dir, dir)
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("remount read-only: %v: %s", err, out)
	}
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm"), RetryInterval: 50 * time.Millisecond, DrainTimeout: 500 * time.Millisecond}, ln)
	errc := make(chan error, 1)
	go func() { errc <- send("unix", sock, true, 3, 10) }()
	waitFor(t, "held frames", func() bool { return r.c.Stats().FramesHeld == 10 })
	err := r.stop()
	if err == nil || !strings.Contains(err.Error(), "10 frames read were lost") {
		t.Fatalf("Serve: %v", err)
	}
	// The sender sent STOP: it must not get FINISH for frames that were never written.
	if err := <-errc; err == nil {
		t.Error("the sender got FINISH for frames the collector lost")
	}
	if st := r.c.Stats(); st.FramesLost != 10 || st.FramesHeld != 0 {
		t.Errorf("stats %v", st)
	}
}
