package collector

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/klauspost/compress/zstd"
)

func TestTwoSendersAtOnce(t *testing.T) {
	sock, uln := unixListener(t)
	tln, err := ListenTCP("127.0.55.1:0")
	if err != nil {
		tln, err = ListenTCP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "out.fstrm")}, uln, tln)
	const n = 20000
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- send("unix", sock, true, 1, n) }()
	go func() { defer wg.Done(); errs <- send("tcp", tln.Addr().String(), false, 2, n) }()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("sender: %v", err)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{1: n, 2: n})
	st := r.c.Stats()
	if st.FramesRead != 2*n || st.FramesWritten != 2*n || st.ConnsTotal != 2 || st.FilesClosed != 1 {
		t.Errorf("stats %v", st)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s not removed on stop: %v", sock, err)
	}
}

// TestDrainOnStop stops the collector while a sender streams; the sender then finishes, and
// every frame it sent must be in the file (the collector keeps reading until STOP).
func TestDrainOnStop(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "out.fstrm"), DrainQuiet: 2 * time.Second, DrainTimeout: 20 * time.Second}, ln)
	const n = 200000
	errc := make(chan error, 1)
	go func() { errc <- send("unix", sock, true, 7, n) }()
	waitFor(t, "frames to flow", func() bool { return r.c.Stats().FramesRead > 1000 })
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	if err := <-errc; err != nil {
		t.Fatalf("sender: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{7: n})
}

func TestSenderDiesMidFrame(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "out.fstrm")}, ln)
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(controlBytes(startFrame()))
	for i := range 3 {
		writeFrame(&b, payload(3, i))
	}
	b.Write([]byte{0, 0, 1, 0, 'h', 'a', 'l', 'f'}) // a 256-byte frame cut after 4 bytes
	if _, err := nc.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	waitFor(t, "the connection to end", func() bool { return r.c.Stats().Rejected[ReasonTruncated] == 1 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{3: 3})
	if !strings.Contains(r.log.String(), "connection closed inside a data frame of 256 bytes") {
		t.Errorf("log does not name the reason:\n%s", r.log)
	}
}

// TestBadInputClosesOnlyThatConnection sends bad input on several connections while a good
// sender streams; each bad one is closed with a logged reason, the good frames all arrive.
func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	huge := make([]byte, 8)
	binary.BigEndian.PutUint32(huge[4:], 1<<30)
	tests := []struct {
		name, reason, log string
		input             []byte
	}{
		{"garbage", ReasonProtocol, "expected a control frame", []byte("GET / HTTP/1.1\r\n\r\n")},
		{"wrong content type", ReasonContentType, `offers content types`, controlBytes(readyFrame("protobuf:other.Thing"))},
		{"oversized frame", ReasonFrameSize, "more than the cap", append(controlBytes(startFrame()), huge[4:]...)},
		{"stall mid-handshake", ReasonTimeout, "timed out inside a control frame", []byte{0, 0, 0, 0, 0, 0}},
		{"stall mid-frame", ReasonTimeout, "timed out inside a data frame of 256 bytes", append(controlBytes(startFrame()), 0, 0, 1, 0, 'a')},
		{"stall mid-length", ReasonTimeout, "timed out inside a frame length", append(controlBytes(startFrame()), 0, 0)},
		{"bad control length", ReasonProtocol, "malformed control frame", []byte{0, 0, 0, 0, 0xff, 0xff, 0, 0}},
		{"control type after START", ReasonProtocol, "unexpected control frame type 4", append(controlBytes(startFrame()), controlBytes(readyFrame(DefaultContentType))...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock, ln := unixListener(t)
			dir := t.TempDir()
			r := start(t, Config{Output: filepath.Join(dir, "out.fstrm"), HandshakeTimeout: time.Second, FrameTimeout: time.Second}, ln)
			errc := make(chan error, 1)
			go func() { errc <- send("unix", sock, true, 1, 5000) }()
			bad, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			if _, err := bad.Write(tc.input); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the bad connection to be closed", func() bool { return r.c.Stats().Rejected[tc.reason] == 1 })
			if _, err := bad.Read(make([]byte, 64)); err == nil {
				// an ACCEPT may come first for a READY; then the close
				if _, err := bad.Read(make([]byte, 64)); err == nil {
					t.Error("bad connection still open")
				}
			}
			if err := <-errc; err != nil {
				t.Fatalf("good sender: %v", err)
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			checkFrames(t, allFrames(t, dir), map[int]int{1: 5000})
			logs := r.log.String()
			if !strings.Contains(logs, "reason="+tc.reason) || !strings.Contains(logs, tc.log) || !strings.Contains(logs, `peer="unix:`) {
				t.Errorf("log lacks reason %q / %q / peer:\n%s", tc.reason, tc.log, logs)
			}
		})
	}
}

func TestMaxConns(t *testing.T) {
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(t.TempDir(), "o"), MaxConns: 1}, ln)
	first, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	waitFor(t, "first connection", func() bool { return r.c.Stats().ConnsOpen == 1 })
	second, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("second connection: read %v, want EOF", err)
	}
	if got := r.c.Stats().Rejected[ReasonMaxConns]; got != 1 {
		t.Errorf("rejected max_conns = %d", got)
	}
}

func TestRotationEverySecondUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 3.5s")
	}
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "dnstap-%Y%m%d-%H%M%S.fstrm"), TimeNames: NamesUTC, RotateEvery: time.Second}, ln)
	stopSending := time.Now().Add(3500 * time.Millisecond)
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(controlBytes(startFrame()))
	sent := 0
	for time.Now().Before(stopSending) {
		for range 50 {
			writeFrame(&b, payload(5, sent))
			sent++
		}
		if _, err := nc.Write(b.Bytes()); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		time.Sleep(2 * time.Millisecond)
	}
	b.Write(controlBytes(stopFrame()))
	if _, err := nc.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	waitFor(t, "all frames read", func() bool { return r.c.Stats().FramesRead == uint64(sent) })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	files := finished(t, dir)
	if len(files) < 3 {
		t.Fatalf("%d files after 3.5s with -s 1: %v", len(files), files)
	}
	for _, f := range files {
		if len(readFile(t, f)) == 0 {
			t.Errorf("%s: no frames under load", f)
		}
	}
	checkFrames(t, allFrames(t, dir), map[int]int{5: sent})
	if st := r.c.Stats(); st.Rotations < 2 {
		t.Errorf("rotations = %d", st.Rotations)
	}
}

func TestRotateOnRequestNeverOverwrites(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "cap.fstrm")
	if err := os.WriteFile(out, []byte("an earlier capture"), 0o644); err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(dir, "cap.7.fstrm.part")
	if err := os.WriteFile(crashed, []byte("left by a crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, Config{Output: out}, ln)
	for s := 1; s <= 3; s++ {
		if err := send("unix", sock, true, s, 100); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "frames written", func() bool { return r.c.Stats().FramesWritten == uint64(100*s) })
		r.c.Rotate()
		waitFor(t, "rotation", func() bool { return r.c.Stats().FilesClosed == uint64(s) })
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "an earlier capture" {
		t.Fatalf("earlier capture overwritten: %q", b)
	}
	if b, _ := os.ReadFile(crashed); string(b) != "left by a crash" || !strings.Contains(r.log.String(), "unfinished capture from an earlier run") {
		t.Errorf("leftover .part file touched or not reported: %q", b)
	}
	for s := 1; s <= 3; s++ {
		p := filepath.Join(dir, "cap."+string(rune('0'+s))+".fstrm")
		checkFrames(t, readFile(t, p), map[int]int{s: 100})
	}
}

func TestSizeRotationRetentionCompression(t *testing.T) {
	for _, comp := range []string{CompressNone, CompressGzip, CompressZstd} {
		t.Run("compress="+comp, func(t *testing.T) {
			sock, ln := unixListener(t)
			dir := t.TempDir()
			keep := filepath.Join(dir, "unrelated.fstrm")
			if err := os.WriteFile(keep, []byte("not ours"), 0o644); err != nil {
				t.Fatal(err)
			}
			r := start(t, Config{Output: filepath.Join(dir, "d-%s.fstrm"), TimeNames: NamesUTC, RotateBytes: 20000, KeepFiles: 3, Compress: comp}, ln)
			if err := send("unix", sock, true, 1, 2000); err != nil {
				t.Fatal(err)
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			st := r.c.Stats()
			if st.FilesClosed < 5 || st.FilesDeleted != st.FilesClosed-3 {
				t.Errorf("closed %d, deleted %d, want all but 3 deleted", st.FilesClosed, st.FilesDeleted)
			}
			files := finished(t, dir)
			if len(files) != 4 || files[3] != keep {
				t.Fatalf("files left: %v", files)
			}
			for _, f := range files[:3] {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				switch comp {
				case CompressGzip:
					zr, err := gzip.NewReader(bytes.NewReader(raw))
					if err != nil {
						t.Fatalf("%s: %v", f, err)
					}
					raw, err = io.ReadAll(zr)
					if err != nil || !strings.HasSuffix(f, ".gz") {
						t.Fatalf("%s: %v", f, err)
					}
				case CompressZstd:
					zr, err := zstd.NewReader(bytes.NewReader(raw))
					if err != nil {
						t.Fatal(err)
					}
					raw, err = io.ReadAll(zr)
					zr.Close()
					if err != nil || !strings.HasSuffix(f, ".zst") {
						t.Fatalf("%s: %v", f, err)
					}
				}
				frames, err := parseFile(raw)
				if err != nil || len(frames) == 0 {
					t.Errorf("%s: %d frames, %v", f, len(frames), err)
				}
				if int64(len(raw)) > 20000+400 {
					t.Errorf("%s: %d bytes, rotation at 20000", f, len(raw))
				}
			}
		})
	}
}

func TestStdout(t *testing.T) {
	sock, ln := unixListener(t)
	var out testenv.SyncBuffer
	r := start(t, Config{Output: "-", Stream: &out}, ln)
	if err := send("unix", sock, false, 4, 300); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	frames, err := parseFile(out.Bytes())
	if err != nil {
		t.Fatalf("%v: % x", err, out.Bytes()[:min(64, len(out.Bytes()))])
	}
	checkFrames(t, frames, map[int]int{4: 300})
}

func TestMetrics(t *testing.T) {
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(t.TempDir(), "o")}, ln)
	if err := send("unix", sock, true, 1, 42); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "frames written", func() bool { return r.c.Stats().FramesWritten == 42 })
	var b bytes.Buffer
	if err := r.c.Stats().WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE dnstap_collector_frames_read_total counter\ndnstap_collector_frames_read_total 42\n",
		"dnstap_collector_frames_written_total 42\n",
		"dnstap_collector_connections_total 1\n",
		`dnstap_collector_connections_rejected_total{reason="frame_too_large"} 0` + "\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

// TestDrainKeepsReadingActiveSender: after the stop, a sender that keeps sending (never silent
// for DrainQuiet) is read for longer than DrainQuiet, up to its STOP. (Regression: the drain
// deadline was set once and expired in the middle of a busy stream.)
func TestDrainKeepsReadingActiveSender(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "out.fstrm"), DrainQuiet: time.Second, DrainTimeout: 30 * time.Second}, ln)
	nc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var b bytes.Buffer
	b.Write(controlBytes(startFrame()))
	sent := 0
	flush := func() {
		t.Helper()
		if _, err := nc.Write(b.Bytes()); err != nil {
			t.Fatalf("after %d frames: %v", sent, err)
		}
		b.Reset()
	}
	for range 50 {
		writeFrame(&b, payload(6, sent))
		sent++
	}
	flush()
	waitFor(t, "the first frames", func() bool { return r.c.Stats().FramesRead > 0 })
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	// Every write ends inside a frame length, so the read buffer is never empty between reads.
	tail := []byte(nil)
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
		b.Write(tail)
		for range 50 {
			writeFrame(&b, payload(6, sent))
			sent++
		}
		var next bytes.Buffer
		writeFrame(&next, payload(6, sent))
		sent++
		b.Write(next.Bytes()[:2])
		tail = next.Bytes()[2:]
		flush()
		time.Sleep(20 * time.Millisecond)
	}
	b.Write(tail)
	b.Write(controlBytes(stopFrame()))
	flush()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{6: sent})
}
