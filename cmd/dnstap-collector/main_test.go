package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/internal/bench"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

var metricsAddr = regexp.MustCompile(`msg=metrics addr=(\S+)`)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds dnstap-collector once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dcbin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dnstap-collector")
		buildErr = bench.Build(context.Background(), "../..", "dnstap-collector", binPath)
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countFrames reads every finished file in dir with golang-framestream and checks each with
// BIND's dnstap-read (one line a frame).
func countFrames(t *testing.T, dir string) (int, int) {
	t.Helper()
	read := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	total, files := 0, 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("unfinished file left: %s", e.Name())
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := fs.NewReader(f, &fs.ReaderOptions{ContentTypes: [][]byte{[]byte(collectortest.ContentType)}})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		n := 0
		buf := make([]byte, 1<<16)
		for {
			if _, err := r.ReadFrame(buf); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("%s: frame %d: %v", p, n, err)
				}
				break
			}
			n++
		}
		f.Close()
		out, err := exec.Command(read, p).CombinedOutput()
		if err != nil {
			t.Fatalf("dnstap-read %s: %v: %s", p, err, out[:min(len(out), 300)])
		}
		if lines := bytes.Count(out, []byte("\n")); lines != n {
			t.Errorf("%s: dnstap-read prints %d lines, framestream reads %d frames", p, lines, n)
		}
		total += n
		files++
	}
	return total, files
}

// TestSIGTERMWhileReplaying runs the binary with rotation every second, replays a capture with
// fstrm_replay again and again, sends SIGTERM in the middle, and counts: every frame of every
// replay that succeeded is in the output, across the rotations; sd_notify saw READY and STOPPING.
func TestSIGTERMWhileReplaying(t *testing.T) {
	bin := binary(t)
	replay := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	work, err := os.MkdirTemp("", "dct")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	in := filepath.Join(work, "in.fstrm")
	const perReplay = 100000
	if _, err := collectortest.WriteCapture(in, perReplay); err != nil {
		t.Fatal(err)
	}
	notifySock := filepath.Join(work, "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifySock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var notes testenv.SyncBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := nc.Read(buf)
			if err != nil {
				return
			}
			notes.Write(append(buf[:n:n], '\n'))
		}
	}()

	sock, outDir := filepath.Join(work, "s"), filepath.Join(work, "out")
	cmd := exec.Command(bin, "-u", sock, "-w", filepath.Join(outDir, "cap-%Y%m%d-%H%M%S.fstrm"), "--gmtime", "-s", "1", "--drain-timeout", "60s")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifySock)
	var logs testenv.SyncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitFor(t, "READY", func() bool { return strings.Contains(notes.String(), "READY=1") })

	ok, started := 0, time.Now()
	termSent := false
	for i := 0; ; i++ {
		rc := exec.Command(replay, "-t", collectortest.ContentType, "-u", sock, "-r", in)
		if i == 0 || time.Since(started) < 2500*time.Millisecond {
			if out, err := rc.CombinedOutput(); err != nil {
				t.Fatalf("fstrm_replay #%d before SIGTERM: %v: %s", i, err, out)
			}
			ok++
			continue
		}
		// Send SIGTERM while this replay streams; it must still be read to its end.
		if err := rc.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the replay to connect", func() bool { return strings.Count(logs.String(), "sender connected") == ok+1 })
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		termSent = true
		if err := rc.Wait(); err != nil {
			t.Fatalf("fstrm_replay during SIGTERM: %v", err)
		}
		ok++
		break
	}
	if !termSent {
		t.Fatal("no SIGTERM sent")
	}
	if err := <-exited; err != nil {
		t.Fatalf("dnstap-collector exit: %v\n%s", err, logs.String())
	}
	frames, files := countFrames(t, outDir)
	if frames != ok*perReplay {
		t.Errorf("%d frames in %d files, %d replays of %d sent", frames, files, ok, perReplay)
	}
	if files < 3 {
		t.Errorf("%d files after more than 2.5s with -s 1", files)
	}
	for _, want := range []string{"READY=1", "STOPPING=1", "STATUS=draining frames="} {
		if !strings.Contains(notes.String(), want) {
			t.Errorf("sd_notify lacks %q:\n%s", want, notes.String())
		}
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

// TestSocketActivation passes a listening socket the way systemd does (fd 3, LISTEN_FDS=1,
// LISTEN_PID of the process), checks that frames sent to it are written, that SIGHUP and
// SIGUSR1 rotate, and that /metrics answers.
func TestSocketActivation(t *testing.T) {
	bin := binary(t)
	replay := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	work, err := os.MkdirTemp("", "dca")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	in := filepath.Join(work, "in.fstrm")
	if _, err := collectortest.WriteCapture(in, 1000); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(work, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(work, "out")
	// LISTEN_PID must be the collector's pid: the shell exports its own and execs.
	cmd := exec.Command("sh", "-c", `export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" "$@"`, bin, "-w", filepath.Join(outDir, "a.fstrm"), "--metrics", "127.0.0.1:0")
	cmd.ExtraFiles = []*os.File{lf}
	var logs testenv.SyncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	waitFor(t, "listening", func() bool { return strings.Contains(logs.String(), "msg=listening") })
	if out, err := exec.Command(replay, "-t", collectortest.ContentType, "-u", sock, "-r", in).CombinedOutput(); err != nil {
		t.Fatalf("fstrm_replay: %v: %s", err, out)
	}
	waitFor(t, "the sender to stop", func() bool { return strings.Contains(logs.String(), "sender stopped") })
	waitFor(t, "the metrics address", func() bool { return metricsAddr.FindStringSubmatch(logs.String()) != nil })
	resp, err := http.Get("http://" + metricsAddr.FindStringSubmatch(logs.String())[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\ndnstap_collector_frames_read_total 1000\n") || !strings.Contains(string(body), "dnstap_collector_connections_total 1\n") {
		t.Errorf("/metrics:\n%s", body)
	}
	// SIGHUP and SIGUSR1 each close the current file; the next replay goes to a new one.
	for i, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the file to be closed", func() bool { return strings.Count(logs.String(), "output file closed") == i+1 })
		if out, err := exec.Command(replay, "-t", collectortest.ContentType, "-u", sock, "-r", in).CombinedOutput(); err != nil {
			t.Fatalf("fstrm_replay: %v: %s", err, out)
		}
	}
	waitFor(t, "the senders to stop", func() bool { return strings.Count(logs.String(), "sender stopped") == 3 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
	if frames, files := countFrames(t, outDir); frames != 3000 || files != 3 {
		t.Errorf("%d frames in %d files, sent 3 x 1000 with two rotations", frames, files)
	}

	// Asked for activation without sockets: a clear error and exit 1.
	var out testenv.SyncBuffer
	bad := exec.Command(bin, "--systemd-socket", "-w", filepath.Join(outDir, "b.fstrm"))
	bad.Stderr = &out
	err = bad.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailed || !strings.Contains(out.String(), "socket activation: no file descriptors passed") {
		t.Errorf("--systemd-socket without sockets: %v\n%s", err, out.String())
	}
}
