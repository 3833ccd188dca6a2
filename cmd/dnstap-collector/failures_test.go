package main

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// proc is the collector binary running as a process.
type proc struct {
	cmd    *exec.Cmd
	logs   *testenv.SyncBuffer
	exited chan error
}

func startProc(t *testing.T, stdout io.Writer, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t), args...), logs: &testenv.SyncBuffer{}, exited: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = stdout, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // no-op once it has exited
	})
	return p
}

// wait returns the exit code of the process (-1 when a signal ended it).
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatalf("the collector did not exit:\n%s", p.logs)
	}
	return 0
}

func replay(t *testing.T, sock, capture string) error {
	t.Helper()
	bin := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	out, err := exec.Command(bin, "-t", collectortest.ContentType, "-u", sock, "-r", capture).CombinedOutput()
	if err != nil {
		return errors.New(err.Error() + ": " + string(out))
	}
	return nil
}

func workDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dcf") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func gone(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind: %v", p, err)
	}
}

// TestMetricsPortBusy: when the metrics address is taken the collector exits 1, and the unix
// socket it had made is removed.
func TestMetricsPortBusy(t *testing.T) {
	work := workDir(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	sock := filepath.Join(work, "s")
	p := startProc(t, io.Discard, "-u", sock, "-w", filepath.Join(work, "o.fstrm"), "--metrics", busy.Addr().String())
	if code := p.wait(t); code != exitFailed || !strings.Contains(p.logs.String(), "address already in use") {
		t.Errorf("exit %d, want %d with the reason:\n%s", code, exitFailed, p.logs)
	}
	gone(t, sock)
}

// TestStdoutReaderGoes runs `dnstap-collector -w - | head -c 100000` with fstrm_replay
// sending: when head exits, the collector gets EPIPE (not a SIGPIPE death), logs it, counts
// the frames it loses, removes its socket and exits 1.
func TestStdoutReaderGoes(t *testing.T) {
	work := workDir(t)
	capture := filepath.Join(work, "in.fstrm")
	if _, err := collectortest.WriteCapture(capture, 100000); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(work, "s")
	head := exec.Command("head", "-c", "100000")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	head.Stdin, head.Stdout = pr, io.Discard
	if err := head.Start(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	p := startProc(t, pw, "-u", sock, "-w", "-")
	pw.Close()
	waitFor(t, "listening", func() bool { return strings.Contains(p.logs.String(), "msg=listening") })
	_ = replay(t, sock, capture) // fails when the collector goes away: that is the point
	if err := head.Wait(); err != nil {
		t.Fatalf("head: %v", err)
	}
	code := p.wait(t)
	logs := p.logs.String()
	if code != exitFailed {
		t.Errorf("exit %d, want %d (a signal gives -1):\n%s", code, exitFailed, logs)
	}
	for _, want := range []string{"output stream closed by its reader", "broken pipe", `msg="frames lost"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "lost=0 ") {
		t.Errorf("the final count shows no loss:\n%s", logs)
	}
	gone(t, sock)
}

// TestOutputDirectoryRemovedWhileRunning: fstrm_replay sends, the output directory is
// removed, fstrm_replay sends again, SIGTERM: the first frames are counted lost and logged,
// the exit code is 1, and the second replay is in a new file that dnstap-read reads.
func TestOutputDirectoryRemovedWhileRunning(t *testing.T) {
	work := workDir(t)
	capture := filepath.Join(work, "in.fstrm")
	if _, err := collectortest.WriteCapture(capture, 1000); err != nil {
		t.Fatal(err)
	}
	sock, out := filepath.Join(work, "s"), filepath.Join(work, "out")
	p := startProc(t, io.Discard, "-u", sock, "-w", filepath.Join(out, "cap.fstrm"))
	waitFor(t, "listening", func() bool { return strings.Contains(p.logs.String(), "msg=listening") })
	if err := replay(t, sock, capture); err != nil {
		t.Fatal(err)
	}
	in, err := os.Stat(capture)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the frames in the file", func() bool { // all of the capture but its STOP (12 bytes)
		fi, err := os.Stat(filepath.Join(out, "cap.fstrm.part"))
		return err == nil && fi.Size() == in.Size()-12
	})
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	if err := replay(t, sock, capture); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second replay", func() bool { return strings.Count(p.logs.String(), "sender stopped") == 2 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t)
	logs := p.logs.String()
	if code != exitFailed || !strings.Contains(logs, "output file removed while being written") || !strings.Contains(logs, "frames_lost=1000") {
		t.Errorf("exit %d, want %d and the loss of 1000 frames logged:\n%s", code, exitFailed, logs)
	}
	if frames, files := countFrames(t, out); frames != 1000 || files != 1 {
		t.Errorf("%d frames in %d files, want the second replay's 1000 in one", frames, files)
	}
}

// TestKill9DuringCompression kills the collector with SIGKILL while it compresses a closed
// file, then starts it again: the interrupted compression is discarded and done again from
// the original, which is then removed; the warning names it as such, not as a capture cut
// short.
func TestKill9DuringCompression(t *testing.T) {
	work := workDir(t)
	capture := filepath.Join(work, "in.fstrm")
	const n = 300000 // about 38 MB: gzip takes a while
	if _, err := collectortest.WriteCapture(capture, n); err != nil {
		t.Fatal(err)
	}
	sock, out := filepath.Join(work, "s"), filepath.Join(work, "out")
	args := []string{"-u", sock, "-w", filepath.Join(out, "cap.fstrm"), "--compress", "gzip"}
	p := startProc(t, io.Discard, args...)
	waitFor(t, "listening", func() bool { return strings.Contains(p.logs.String(), "msg=listening") })
	if err := replay(t, sock, capture); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replay", func() bool { return strings.Contains(p.logs.String(), "sender stopped") })
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	orig, partial := filepath.Join(out, "cap.fstrm"), filepath.Join(out, "cap.fstrm.gz.part")
	waitFor(t, "the compression to start", func() bool {
		fi, err := os.Stat(partial)
		return err == nil && fi.Size() > 0
	})
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	if _, err := os.Stat(partial); err != nil {
		t.Fatalf("no interrupted compression to recover (the kill came too late): %v", err)
	}

	p = startProc(t, io.Discard, args...)
	waitFor(t, "the compression done again", func() bool { return exists(orig+".gz") && !exists(orig) })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit %d:\n%s", code, p.logs)
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "interrupted compression from an earlier run discarded; compressing the original again") || strings.Contains(logs, "unfinished capture") {
		t.Errorf("the leftover is not reported as an interrupted compression:\n%s", logs)
	}
	gone(t, partial)
	gone(t, orig)
	f, err := os.Open(orig + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := os.Create(filepath.Join(work, "plain", "cap.fstrm"))
	if errors.Is(err, os.ErrNotExist) {
		_ = os.Mkdir(filepath.Join(work, "plain"), 0o755)
		plain, err = os.Create(filepath.Join(work, "plain", "cap.fstrm"))
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(plain, zr); err != nil {
		t.Fatalf("%s.gz: %v", orig, err)
	}
	plain.Close()
	if frames, _ := countFrames(t, filepath.Join(work, "plain")); frames != n {
		t.Errorf("%d frames in the compressed file, sent %d", frames, n)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestOutputNotWritableAtStart: an output directory the collector cannot write (a read-only
// mount, as systemd's ProtectSystem=strict makes everything outside ReadWritePaths=) fails the
// start with exit 1 and an error that names the directory and, under systemd, the unit
// setting to change; nothing is left listening.
func TestOutputNotWritableAtStart(t *testing.T) {
	work := workDir(t)
	ro := filepath.Join(work, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", ro, ro).CombinedOutput(); err != nil {
		t.Skipf("cannot mount here (%v: %s); this test needs root", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", ro).Run() })
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", ro).CombinedOutput(); err != nil {
		t.Skipf("remount read-only: %v: %s", err, out)
	}
	for _, dir := range []string{ro, filepath.Join(ro, "dnstap")} {
		sock := filepath.Join(work, "s")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // bounds a collector that does not fail
		defer cancel()
		p := exec.CommandContext(ctx, binary(t), "-u", sock, "-w", filepath.Join(dir, "%Y%m%d.fstrm"), "--gmtime")
		p.Env = append(os.Environ(), "INVOCATION_ID=0123456789abcdef")
		logs, err := p.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitFailed {
			t.Errorf("%s: %v, want exit %d", dir, err, exitFailed)
		}
		for _, want := range []string{dir, "read-only file system", "ReadWritePaths="} {
			if !strings.Contains(string(logs), want) {
				t.Errorf("%s: log lacks %q:\n%s", dir, want, logs)
			}
		}
		gone(t, sock)
	}
}
