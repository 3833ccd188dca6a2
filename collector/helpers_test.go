package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

var ctDnstap = []byte(DefaultContentType)

// testLog collects the collector's log lines so tests can assert on them.
type testLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *testLog) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *testLog) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type running struct {
	c    *Collector
	log  *testLog
	stop func() error // cancels and waits for Serve
}

// start runs a Collector with cfg on lns until the test ends or stop is called.
func start(t testing.TB, cfg Config, lns ...net.Listener) *running {
	t.Helper()
	tl := &testLog{}
	c, err := New(cfg, slog.New(slog.NewTextHandler(tl, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, lns...) }()
	var once sync.Once
	var serr error
	r := &running{c: c, log: tl, stop: func() error {
		once.Do(func() { cancel(); serr = <-done })
		return serr
	}}
	t.Cleanup(func() { _ = r.stop() })
	return r
}

// unixListener listens on a socket in a short temporary directory.
func unixListener(t testing.TB) (string, net.Listener) {
	t.Helper()
	dir, err := os.MkdirTemp("", "dc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "s")
	ln, err := ListenUnix(p, SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p, ln
}

func payload(sender, i int) []byte {
	return fmt.Appendf(nil, "sender %d frame %08d %s", sender, i, strings.Repeat("x", i%200))
}

// send writes n frames with golang-framestream's Writer (bidirectional or not) and closes
// (STOP, and FINISH awaited when bidirectional). It returns the first error.
func send(network, addr string, bidi bool, sender, n int) error {
	nc, err := net.Dial(network, addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	w, err := fs.NewWriter(nc, &fs.WriterOptions{ContentTypes: [][]byte{ctDnstap}, Bidirectional: bidi, Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	for i := range n {
		if _, err := w.WriteFrame(payload(sender, i)); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return w.Close()
}

// readFile returns the data frames of a Frame Streams file, failing on anything malformed
// (a missing START or STOP included).
func readFile(t *testing.T, p string) [][]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := parseFile(raw)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	r, err := fs.NewReader(strings.NewReader(string(raw)), &fs.ReaderOptions{ContentTypes: [][]byte{ctDnstap}})
	if err != nil {
		t.Fatalf("%s: framestream reader: %v", p, err)
	}
	buf := make([]byte, 1<<20)
	for i := 0; ; i++ {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			if i != len(frames) {
				t.Fatalf("%s: framestream reads %d frames, parseFile %d", p, i, len(frames))
			}
			break
		}
		if err != nil {
			t.Fatalf("%s: framestream frame %d: %v", p, i, err)
		}
		if string(buf[:n]) != string(frames[i]) {
			t.Fatalf("%s: frame %d differs between readers", p, i)
		}
	}
	return frames
}

// parseFile checks START(ct) frames* STOP exactly, with nothing after STOP.
func parseFile(raw []byte) ([][]byte, error) {
	want := controlBytes(fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: [][]byte{ctDnstap}})
	if !strings.HasPrefix(string(raw), string(want)) {
		return nil, errors.New("no START with the dnstap content type")
	}
	raw = raw[len(want):]
	var frames [][]byte
	for {
		if len(raw) < 4 {
			return nil, errors.New("truncated: no STOP")
		}
		n := int(uint32(raw[0])<<24 | uint32(raw[1])<<16 | uint32(raw[2])<<8 | uint32(raw[3]))
		if n == 0 {
			if string(raw) != string(controlBytes(fs.ControlFrame{ControlType: fs.CONTROL_STOP})) {
				return nil, fmt.Errorf("bad trailer % x", raw)
			}
			return frames, nil
		}
		if len(raw) < 4+n {
			return nil, errors.New("truncated frame")
		}
		frames = append(frames, raw[4:4+n])
		raw = raw[4+n:]
	}
}

// finished lists the finished output files in dir (no .part), oldest name first.
func finished(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), partSuffix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// countBySender counts frames per sender and fails on duplicates or gaps.
func checkFrames(t *testing.T, frames [][]byte, want map[int]int) {
	t.Helper()
	got := map[int]map[int]bool{}
	for _, f := range frames {
		var s, i int
		if _, err := fmt.Sscanf(string(f), "sender %d frame %d", &s, &i); err != nil {
			t.Fatalf("unexpected frame %q", f)
		}
		if string(f) != string(payload(s, i)) {
			t.Fatalf("frame corrupted: %q", f)
		}
		if got[s] == nil {
			got[s] = map[int]bool{}
		}
		if got[s][i] {
			t.Fatalf("frame %d of sender %d written twice", i, s)
		}
		got[s][i] = true
	}
	for s, n := range want {
		if len(got[s]) != n {
			t.Errorf("sender %d: %d frames in the output, sent %d", s, len(got[s]), n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("frames from %d senders, want %d", len(got), len(want))
	}
}

// allFrames reads every finished file in dir.
func allFrames(t *testing.T, dir string) [][]byte {
	t.Helper()
	var all [][]byte
	for _, p := range finished(t, dir) {
		all = append(all, readFile(t, p)...)
	}
	return all
}

// waitFor polls cond (no timing assertion: the deadline only bounds a hung test).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readAll(p string) ([]byte, error) { return os.ReadFile(p) }

// fstrmReplay sends capture to the unix socket sock with Debian's fstrm_replay.
func fstrmReplay(t *testing.T, sock, capture string) {
	t.Helper()
	replay := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	if out, err := exec.Command(replay, "-t", DefaultContentType, "-u", sock, "-r", capture).CombinedOutput(); err != nil {
		t.Fatalf("fstrm_replay -u %s -r %s: %v\n%s", sock, capture, err, out)
	}
}
