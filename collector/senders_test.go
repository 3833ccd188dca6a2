package collector

import (
	"bytes"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIncompleteReadsTimeOut: a sender that stalls after any part of a frame, even one that
// arrives after a frame boundary (when the collector had nothing buffered), is closed after
// FrameTimeout; the frames before are kept, and a good sender beside it is unaffected.
func TestIncompleteReadsTimeOut(t *testing.T) {
	tests := []struct {
		name, reason, log string
		stall             []byte
		close             bool // the sender closes after the stall bytes instead of stalling
	}{
		{"partial length prefix", ReasonTimeout, "timed out inside a frame length", []byte{0, 0}, false},
		{"lone escape", ReasonTimeout, "timed out inside a control frame", []byte{0, 0, 0, 0}, false},
		{"escape and part of a control length", ReasonTimeout, "timed out inside a control frame", []byte{0, 0, 0, 0, 0, 0}, false},
		{"length prefix only", ReasonTimeout, "timed out inside a data frame of 256 bytes", []byte{0, 0, 1, 0}, false},
		{"escape, then the sender closes", ReasonTruncated, "connection closed inside a control frame", []byte{0, 0, 0, 0}, true},
		{"control frame cut short, then the sender closes", ReasonTruncated, "connection closed inside a control frame", []byte{0, 0, 0, 0, 0, 0, 0, 8, 0, 0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock, ln := unixListener(t)
			dir := t.TempDir()
			r := start(t, Config{Output: filepath.Join(dir, "out.fstrm"), FrameTimeout: 500 * time.Millisecond}, ln)
			bad, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer bad.Close()
			var b bytes.Buffer
			b.Write(controlBytes(startFrame()))
			for i := range 10 {
				writeFrame(&b, payload(9, i))
			}
			if _, err := bad.Write(b.Bytes()); err != nil {
				t.Fatal(err)
			}
			// The collector has read every frame and holds nothing: the stall bytes come alone.
			waitFor(t, "the first frames", func() bool { return r.c.Stats().FramesRead == 10 })
			if _, err := bad.Write(tc.stall); err != nil {
				t.Fatal(err)
			}
			if tc.close {
				bad.Close()
			}
			if err := send("unix", sock, true, 1, 2000); err != nil {
				t.Fatalf("good sender: %v", err)
			}
			waitFor(t, "the stalled connection to be closed", func() bool { return r.c.Stats().Rejected[tc.reason] == 1 })
			if !tc.close {
				if _, err := bad.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("stalled connection: read %v, want EOF", err)
				}
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			checkFrames(t, allFrames(t, dir), map[int]int{9: 10, 1: 2000})
			st := r.c.Stats()
			for _, reason := range reasons {
				if want := map[bool]uint64{true: 1}[reason == tc.reason]; st.Rejected[reason] != want {
					t.Errorf("rejected %s = %d, want %d", reason, st.Rejected[reason], want)
				}
			}
			if logs := r.log.String(); !strings.Contains(logs, "reason="+tc.reason) || !strings.Contains(logs, tc.log) {
				t.Errorf("log lacks reason %s and %q:\n%s", tc.reason, tc.log, logs)
			}
		})
	}
}

// handshaken opens a connection that completes the (unidirectional) handshake and then sends
// nothing.
func handshaken(t *testing.T, network, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := nc.Write(controlBytes(startFrame())); err != nil {
		t.Fatal(err)
	}
	return nc
}

// TestIdleTCPPeersCannotLockOutUnix fills the TCP listener's connections with peers that
// handshake and then idle: named, on the unix socket, must still be served (each listener
// has its own cap), and the refusals are logged once, not once a connection.
func TestIdleTCPPeersCannotLockOutUnix(t *testing.T) {
	sock, uln := unixListener(t)
	tln, err := ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const maxConns = 4
	r := start(t, Config{Output: filepath.Join(dir, "out.fstrm"), MaxConns: maxConns}, uln, tln)
	for range maxConns {
		handshaken(t, "tcp", tln.Addr().String())
	}
	waitFor(t, "the idle peers", func() bool { return r.c.Stats().ConnsOpen == maxConns })
	refuse(t, "tcp", tln.Addr().String(), 1)
	capture := filepath.Join(t.TempDir(), "in.fstrm")
	want := makeCapture(t, capture, 1000)
	fstrmReplay(t, sock, capture) // with the TCP listener full
	waitFor(t, "the unix sender's frames", func() bool { return r.c.Stats().FramesWritten == 1000 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	files := finished(t, dir)
	if len(files) != 1 || len(readFile(t, files[0])) != len(want) {
		t.Fatalf("files %v", files)
	}
	checkWithPeers(t, files[0], len(want))
	if got := r.c.Stats().Rejected[ReasonMaxConns]; got != 1 {
		t.Errorf("rejected max_conns = %d, want 1", got)
	}
}

// refuse dials n connections that the collector must close at once (over the cap).
func refuse(t *testing.T, network, addr string, n int) {
	t.Helper()
	for range n {
		nc, err := net.Dial(network, addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("a connection over the cap: read %v, want EOF", err)
		}
		nc.Close()
	}
}

// TestTooManyConnectionsWarnedOnce: a flood of connections over the cap is counted one by
// one but warned about once (then at most once every 10 s, with the number refused).
func TestTooManyConnectionsWarnedOnce(t *testing.T) {
	sock, ln := unixListener(t)
	r := start(t, Config{Output: filepath.Join(t.TempDir(), "out.fstrm"), MaxConns: 1}, ln)
	handshaken(t, "unix", sock)
	waitFor(t, "the first connection", func() bool { return r.c.Stats().ConnsOpen == 1 })
	refuse(t, "unix", sock, 50)
	if got := r.c.Stats().Rejected[ReasonMaxConns]; got != 50 {
		t.Errorf("rejected max_conns = %d, want 50", got)
	}
	if n := strings.Count(r.log.String(), "too many connections"); n != 1 {
		t.Errorf("%d warnings for 50 refused connections, want 1 (rate-limited):\n%s", n, r.log)
	}
}

// TestIdleTimeout: a connection that sends nothing for IdleTimeout is closed (reason idle),
// after the handshake and between frames alike; the frames it sent are kept.
func TestIdleTimeout(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "out.fstrm"), IdleTimeout: 300 * time.Millisecond}, ln)
	quiet := handshaken(t, "unix", sock)
	talker := handshaken(t, "unix", sock)
	var b bytes.Buffer
	for i := range 5 {
		writeFrame(&b, payload(4, i))
	}
	if _, err := talker.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both idle connections closed", func() bool { return r.c.Stats().Rejected[ReasonIdle] == 2 })
	for _, nc := range []net.Conn{quiet, talker} {
		if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("idle connection: read %v, want EOF", err)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{4: 5})
	if !strings.Contains(r.log.String(), "reason=idle") {
		t.Errorf("idle close not logged:\n%s", r.log)
	}
}
