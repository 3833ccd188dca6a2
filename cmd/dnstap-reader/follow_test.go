package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/bench"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/reader/readertest"
)

// collectorBinary builds cmd/dnstap-collector once for the tests of this package.
var collectorBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(testTmp, "dnstap-collector")
	return bin, bench.Build(context.Background(), "../..", "dnstap-collector", bin)
})

// batches writes n capture files of per messages each, with names that say their batch,
// and returns their paths and every name.
func batches(t *testing.T, dir string, n, per int) ([]string, []string) {
	t.Helper()
	var paths, all []string
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for b := range n {
		names := readertest.Names(fmt.Sprintf("b%d-m", b), per)
		data, err := readertest.Capture(names, t0.Add(time.Duration(b)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("batch%d.fstrm", b))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		all = append(all, names...)
	}
	return paths, all
}

// waitSocket waits for a receiver's socket to appear; the deadline only bounds a hang.
func waitSocket(t *testing.T, sock string, log *testenv.SyncBuffer) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no socket %s after a minute:\n%s", sock, log.String())
		}
	}
}

// replay sends a capture file to a unix socket with Debian's fstrm_replay.
func replay(t *testing.T, bin, sock, file string) {
	t.Helper()
	if out, err := exec.Command(bin, "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-r", file).CombinedOutput(); err != nil {
		t.Fatalf("fstrm_replay %s: %v\n%s", file, err, out)
	}
}

// followRun runs dnstap-reader -f path in the background.
type followRun struct {
	out, errb testenv.SyncBuffer
	cancel    context.CancelFunc
	done      chan error
}

func startFollowCLI(t *testing.T, path string) *followRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &followRun{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, []string{"-f", path}, &r.out, &r.errb) }()
	t.Cleanup(cancel)
	return r
}

// counts returns how often each qname was printed.
func (r *followRun) counts() map[string]int {
	c := map[string]int{}
	for _, l := range strings.Split(r.out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			c[strings.TrimSuffix(f[len(f)-1], "/IN/A")]++
		}
	}
	return c
}

func (r *followRun) waitAll(t *testing.T, names []string, how string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // only bounds a hang
	for {
		c := r.counts()
		missing := 0
		for _, n := range names {
			if c[n] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d messages never printed; stderr:\n%s", how, missing, len(names), r.errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop lets the follower poll the finished directory a while (so that a file read twice
// would show), stops it and returns its exit status.
func (r *followRun) stop(t *testing.T) int {
	t.Helper()
	time.Sleep(2 * time.Second) // ten polls: not an assertion on time, a chance to misbehave
	r.cancel()
	return exitCode(<-r.done, &r.errb)
}

// TestFollowCollector runs the real dnstap-collector rotating every second (-s 1) with
// compression and retention, feeds it with fstrm_replay, and follows its directory: every
// message sent must be printed exactly once.
func TestFollowCollector(t *testing.T) {
	replayBin := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	if testing.Short() {
		t.Skip("runs dnstap-collector for seconds")
	}
	collector, err := collectorBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range [][]string{
		{"--compress", "gzip"},
		{"--compress", "zstd"},
		{"--keep-files", "2"},
		{"--keep-files", "1", "--compress", "zstd"},
	} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			work := t.TempDir()
			files, names := batches(t, work, 16, 100)
			dir := filepath.Join(work, "out")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			r := startFollowCLI(t, dir)
			sock := filepath.Join(work, "dnstap.sock")
			var log testenv.SyncBuffer
			cmd := exec.Command(collector, append([]string{"-u", sock, "-w", filepath.Join(dir, "cap.fstrm"), "-s", "1"}, mode...)...)
			cmd.Stdout, cmd.Stderr = &log, &log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitSocket(t, sock, &log)
			// A batch every 250 ms over 4 s: the collector rotates about four times.
			for _, f := range files {
				replay(t, replayBin, sock, f)
				time.Sleep(250 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("collector: %v\n%s", err, log.String())
			}
			if n := strings.Count(log.String(), "output file opened"); n < 3 {
				t.Fatalf("the collector opened %d files; the test needs rotations:\n%s", n, log.String())
			}
			r.waitAll(t, names, "collector "+strings.Join(mode, " "))
			code := r.stop(t)
			for n, c := range r.counts() {
				if c != 1 {
					t.Errorf("%s printed %d times", n, c)
				}
			}
			if got := len(r.counts()); got != len(names) {
				t.Errorf("%d names printed, %d sent", got, len(names))
			}
			if errs := r.errb.String(); code != 0 || errs != "dnstap-reader: waiting for a Frame Streams file in "+dir+"\n" {
				t.Errorf("exit %d, stderr:\n%s", code, errs)
			}
		})
	}
}

// TestFollowFstrmCapture follows what Debian's fstrm_capture writes with -s and one fixed
// name: each split truncates the file and writes the next one in its place. fstrm_capture
// itself destroys the end of each file it truncates (its last buffered frames and STOP are
// written and overwritten at once), so what is required is that following goes on through
// every rewrite (some messages of each batch; every message of the file left at the end, as
// BIND's dnstap-read prints it), with no message twice, no other name, and no error but the
// notes and warnings about files rewritten before their end.
func TestFollowFstrmCapture(t *testing.T) {
	capBin := testenv.LookPath(t, "fstrm_capture", "fstrm-bin")
	replayBin := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	dnstapRead := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	if testing.Short() {
		t.Skip("runs fstrm_capture for seconds")
	}
	for _, followDir := range []bool{false, true} {
		t.Run(fmt.Sprintf("directory=%v", followDir), func(t *testing.T) {
			work := t.TempDir()
			const n, per = 4, 300
			files, names := batches(t, work, n, per)
			dir := filepath.Join(work, "out")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "dnstap.fstrm")
			sock := filepath.Join(work, "dnstap.sock")
			var log testenv.SyncBuffer
			cmd := exec.Command(capBin, "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-w", path, "-s", "1", "--gmtime")
			cmd.Stdout, cmd.Stderr = &log, &log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			waitSocket(t, sock, &log)
			follow := path
			if followDir {
				follow = dir
			}
			r := startFollowCLI(t, follow)
			for _, f := range files {
				replay(t, replayBin, sock, f)
				time.Sleep(1500 * time.Millisecond) // the next batch lands in the next file
			}
			cmd.Process.Signal(syscall.SIGTERM) // the last file gets its STOP and stays
			cmd.Wait()
			if got := strings.Count(log.String(), "opened output file"); got < n {
				t.Fatalf("fstrm_capture opened %d files, want %d:\n%s", got, n, log.String())
			}
			last, err := exec.Command(dnstapRead, path).CombinedOutput()
			if err != nil {
				t.Fatalf("dnstap-read %s: %v\n%s", path, err, last)
			}
			var lastNames []string
			for _, l := range strings.Split(strings.TrimSpace(string(last)), "\n") {
				f := strings.Fields(l)
				lastNames = append(lastNames, strings.TrimSuffix(f[len(f)-1], "/IN/A"))
			}
			if len(lastNames) < per/2 {
				t.Fatalf("the last file holds %d messages:\n%s", len(lastNames), last)
			}
			r.waitAll(t, lastNames, "the file left at the end")
			code := r.stop(t)
			c := r.counts()
			sent := map[string]bool{}
			for _, name := range names {
				sent[name] = true
			}
			for name, k := range c {
				if !sent[name] || k != 1 {
					t.Errorf("%s printed %d times (sent: %v)", name, k, sent[name])
				}
			}
			for b := range n {
				if c[names[b*per]] == 0 && c[names[b*per+per-1]] == 0 && c[names[b*per+per/2]] == 0 {
					t.Errorf("nothing of batch %d printed: following stopped at a rewrite", b)
				}
			}
			for _, l := range strings.Split(strings.TrimSpace(r.errb.String()), "\n") {
				if l != "" && !strings.Contains(l, "truncated or rewritten") && !strings.Contains(l, "warning: ") && !strings.Contains(l, "waiting for") {
					t.Errorf("stderr: %s", l)
				}
			}
			if code != 0 && code != exitTruncated {
				t.Errorf("exit %d", code)
			}
		})
	}
}
