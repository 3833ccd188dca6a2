package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

var _ collector.Spool = (*Forwarder)(nil)

// fakeDest records what it is sent and fails as told. fail(b) decides each attempt: nil
// accepts, errDeliveredThenFail records the frames and fails (the far side has them, the
// ack was lost), anything else fails before any frame arrives.
type fakeDest struct {
	mu    sync.Mutex
	got   []string // payloads, in the order received (duplicates included)
	sends int
	fail  func(b *Batch) error
	ids   map[string]string // FileID and Offset -> payload: a deduplicating destination's key
	clash int               // keys seen with two different payloads
}

var errDeliveredThenFail = errors.New("frames delivered, FINISH lost")

func newFakeDest() *fakeDest { return &fakeDest{ids: map[string]string{}} }

func (d *fakeDest) Send(ctx context.Context, b *Batch) error {
	d.mu.Lock()
	d.sends++
	fail := d.fail
	d.mu.Unlock()
	var err error
	if fail != nil {
		err = fail(b)
	}
	if err != nil && !errors.Is(err, errDeliveredThenFail) {
		return NotDelivered(err)
	}
	d.mu.Lock()
	for i, fr := range b.Frames {
		p := string(b.Payload(i))
		d.got = append(d.got, p)
		key := fmt.Sprintf("%s/%d", fr.FileID, fr.Offset)
		if old, ok := d.ids[key]; ok && old != p {
			d.clash++
		}
		d.ids[key] = p
	}
	d.mu.Unlock()
	return err
}

func (d *fakeDest) Close() error { return nil }

func (d *fakeDest) received() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

func (d *fakeDest) setFail(f func(b *Batch) error) {
	d.mu.Lock()
	d.fail = f
	d.mu.Unlock()
}

// router is a collector writing a spool that a forwarder ships.
type router struct {
	t     *testing.T
	dir   string
	sock  string
	cfg   collector.Config
	c     *collector.Collector
	fw    *Forwarder
	log   *testenv.SyncBuffer
	stopC func() error
	stopF func() error
}

func testConfig(dest Destination, state string, ccfg collector.Config) Config {
	return Config{Destination: dest, Name: "test", State: state,
		List:        func() ([]string, error) { return collector.ListSpool(ccfg) },
		BatchFrames: 100, BatchDelay: 20 * time.Millisecond, BackoffMin: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond,
		StopGrace: 200 * time.Millisecond}
}

// startRouter starts a forwarder (with fcfg changed by tweak) and a collector on dir.
func startRouter(t *testing.T, dir string, dest Destination, ccfg collector.Config, tweak func(*Config)) *router {
	t.Helper()
	r := &router{t: t, dir: dir, log: &testenv.SyncBuffer{}}
	log := slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if ccfg.Output == "" {
		ccfg.Output = filepath.Join(dir, "cap.fstrm")
	}
	fcfg := testConfig(dest, filepath.Join(dir, ".state"), ccfg)
	if tweak != nil {
		tweak(&fcfg)
	}
	fw, err := New(fcfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ccfg.Spool = fw
	c, err := collector.New(ccfg, log)
	if err != nil {
		t.Fatal(err)
	}
	sdir, err := os.MkdirTemp("", "fw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sdir) })
	r.sock = filepath.Join(sdir, "s")
	ln, err := collector.ListenUnix(r.sock, collector.SocketOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.c, r.fw, r.cfg = c, fw, ccfg
	cctx, ccancel := context.WithCancel(context.Background())
	fctx, fcancel := context.WithCancel(context.Background())
	cdone, fdone := make(chan error, 1), make(chan error, 1)
	go func() { cdone <- c.Serve(cctx, ln) }()
	go func() { fdone <- fw.Run(fctx) }()
	var once1, once2 sync.Once
	var e1, e2 error
	r.stopC = func() error { once1.Do(func() { ccancel(); e1 = <-cdone }); return e1 }
	r.stopF = func() error { once2.Do(func() { fcancel(); e2 = <-fdone }); return e2 }
	t.Cleanup(func() { _ = r.stopC(); _ = r.stopF() })
	return r
}

// send sends frames tag-0 .. tag-(n-1) to the router's collector.
func (r *router) send(tag string, n int) []string {
	r.t.Helper()
	nc, err := net.Dial("unix", r.sock)
	if err != nil {
		r.t.Fatal(err)
	}
	defer nc.Close()
	w, err := fs.NewWriter(nc, &fs.WriterOptions{ContentTypes: [][]byte{[]byte(collector.DefaultContentType)}, Bidirectional: true, Timeout: 10 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("%s-%06d %s", tag, i, strings.Repeat("p", i%50))
		if _, err := w.WriteFrame([]byte(out[i])); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		r.t.Fatal(err)
	}
	return out
}

// waitFor polls cond; the deadline only bounds a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkDelivered: every sent frame arrived, in order (ignoring repeats of earlier frames),
// and it returns the number of repeats.
func checkDelivered(t *testing.T, sent, got []string) (dups int) {
	t.Helper()
	seen := map[string]bool{}
	var firsts []string
	for _, g := range got {
		if seen[g] {
			dups++
			continue
		}
		seen[g] = true
		firsts = append(firsts, g)
	}
	if len(firsts) != len(sent) {
		t.Fatalf("%d distinct frames delivered, %d sent", len(firsts), len(sent))
	}
	for i := range sent {
		if firsts[i] != sent[i] {
			t.Fatalf("frame %d delivered as %q, sent %q", i, firsts[i], sent[i])
		}
	}
	return dups
}

// TestShipsEverythingInOrder: frames written to the live .part, across rotations and
// compression, reach the destination once each, in order; the spool is then fully shipped.
func TestShipsEverythingInOrder(t *testing.T) {
	for _, compress := range []string{collector.CompressNone, collector.CompressZstd, collector.CompressGzip} {
		t.Run("compress="+compress, func(t *testing.T) {
			dest := newFakeDest()
			r := startRouter(t, t.TempDir(), dest, collector.Config{Compress: compress}, nil)
			var sent []string
			for i := range 5 {
				sent = append(sent, r.send(fmt.Sprint("c", i), 777)...)
				if i%2 == 0 {
					r.c.Rotate()
				}
			}
			waitFor(t, "every frame", func() bool { return len(dest.received()) >= len(sent) })
			if dups := checkDelivered(t, sent, dest.received()); dups != 0 {
				t.Errorf("%d duplicates without any failure", dups)
			}
			st := r.fw.Stats()
			if st.FramesShipped != uint64(len(sent)) || st.DuplicatesPossible != 0 || st.EvictedFrames != 0 {
				t.Errorf("stats %+v", st)
			}
			waitFor(t, "lag 0", func() bool { return r.fw.Stats().LagFrames == 0 })
		})
	}
}

// TestRetriesUntilAcknowledged: the destination refuses for a while, then loses the
// acknowledgement of one batch after receiving it: every frame arrives, the repeated batch
// is the only duplicate, and it is counted.
func TestRetriesUntilAcknowledged(t *testing.T) {
	dest := newFakeDest()
	var attempts int
	var mu sync.Mutex
	dest.setFail(func(b *Batch) error {
		mu.Lock()
		defer mu.Unlock()
		attempts++
		switch {
		case attempts <= 5:
			return errors.New("connection refused")
		case attempts == 8:
			return errDeliveredThenFail
		}
		return nil
	})
	r := startRouter(t, t.TempDir(), dest, collector.Config{}, nil)
	sent := r.send("r", 2000)
	waitFor(t, "every frame", func() bool { return len(checkUnique(dest.received())) >= len(sent) })
	dups := checkDelivered(t, sent, dest.received())
	st := r.fw.Stats()
	if dups == 0 || st.DuplicatesPossible != uint64(dups) {
		t.Errorf("%d duplicates delivered, %d counted as possible", dups, st.DuplicatesPossible)
	}
	if st.BatchesRetried != 6 {
		t.Errorf("%d retries counted, want 6", st.BatchesRetried)
	}
	if !strings.Contains(r.log.String(), "connection refused") || !strings.Contains(r.log.String(), "acknowledges again") {
		t.Errorf("failures and recovery not logged:\n%s", r.log)
	}
}

func checkUnique(got []string) map[string]bool {
	m := map[string]bool{}
	for _, g := range got {
		m[g] = true
	}
	return m
}

// TestResumeAfterStop: the forwarder stops (the destination down) and starts again from its
// state: nothing is lost, nothing sent twice, including frames written while it was down.
func TestResumeAfterStop(t *testing.T) {
	dir := t.TempDir()
	dest := newFakeDest()
	r := startRouter(t, dir, dest, collector.Config{}, nil)
	sent := r.send("a", 1500)
	waitFor(t, "the first frames", func() bool { return len(dest.received()) == len(sent) })
	dest.setFail(func(*Batch) error { return errors.New("down") })
	sent = append(sent, r.send("b", 1500)...)
	waitFor(t, "a failed send", func() bool { return r.fw.Stats().BatchesRetried > 0 })
	if err := r.stopF(); err != nil {
		t.Fatal(err)
	}
	if err := r.stopC(); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(filepath.Join(dir, ".state"))
	if err != nil || st == nil || !st.Clean || len(st.Files) != 1 {
		t.Fatalf("state after a clean stop: %+v, %v", st, err)
	}
	dest.setFail(nil)
	r2 := startRouter(t, dir, dest, collector.Config{}, nil)
	sent = append(sent, r2.send("c", 100)...)
	waitFor(t, "every frame", func() bool { return len(dest.received()) >= len(sent) })
	if dups := checkDelivered(t, sent, dest.received()); dups != 0 {
		t.Errorf("%d duplicates after a clean stop", dups)
	}
	if s := r2.fw.Stats(); s.DuplicatesPossible != 0 {
		t.Errorf("duplicates counted after a clean stop: %+v", s)
	}
}

// TestUncleanStop: the destination receives a batch and never answers; the forwarder is
// stopped and gives up the send after StopGrace: its state says unclean, and after the
// restart the batch is sent again and counted as a possible duplicate.
func TestUncleanStop(t *testing.T) {
	dir := t.TempDir()
	dest := newFakeDest()
	block := make(chan struct{})
	dest.setFail(func(b *Batch) error {
		if strings.HasPrefix(string(b.Payload(0)), "x-") {
			<-block
			return errDeliveredThenFail
		}
		return nil
	})
	r := startRouter(t, dir, dest, collector.Config{}, nil)
	sent := r.send("w", 300)
	waitFor(t, "the first frames", func() bool { return len(dest.received()) == 300 })
	sent = append(sent, r.send("x", 50)...)
	waitFor(t, "the hanging send", func() bool { dest.mu.Lock(); defer dest.mu.Unlock(); return dest.sends >= 4 })
	go func() { time.Sleep(500 * time.Millisecond); close(block) }() // past StopGrace
	if err := r.stopF(); err != nil {
		t.Fatal(err)
	}
	_ = r.stopC()
	if st, err := loadState(filepath.Join(dir, ".state")); err != nil || st.Clean {
		t.Fatalf("state after a send given up: %+v, %v", st, err)
	}
	dest.setFail(nil)
	r2 := startRouter(t, dir, dest, collector.Config{}, nil)
	waitFor(t, "the batch sent again", func() bool { return r2.fw.Stats().FramesShipped >= 50 })
	dups := checkDelivered(t, sent, dest.received())
	if s := r2.fw.Stats(); dups != 50 || s.DuplicatesPossible != 50 {
		t.Errorf("%d duplicates, %d counted; want the 50 frames of the batch in flight", dups, s.DuplicatesPossible)
	}
	// The repeated frames carry the same FileID and Offset after the restart: a
	// deduplicating destination would drop them.
	dest.mu.Lock()
	if len(dest.ids) != len(sent) || dest.clash != 0 {
		t.Errorf("%d distinct (FileID, Offset) for %d frames, %d clashes", len(dest.ids), len(sent), dest.clash)
	}
	dest.mu.Unlock()
}

// TestEvictionCounted: with the destination down, --keep-size deletes unshipped files: the
// frames evicted are counted exactly (sent = delivered + evicted), the log names each file,
// and the rest arrives once the destination is back.
func TestEvictionCounted(t *testing.T) {
	dir := t.TempDir()
	dest := newFakeDest()
	dest.setFail(func(*Batch) error { return errors.New("down") })
	r := startRouter(t, dir, dest, collector.Config{KeepBytes: 60 << 10}, nil)
	var sent []string
	for i := range 12 {
		sent = append(sent, r.send(fmt.Sprint("e", i), 500)...) // about 30 KiB a file
		r.c.Rotate()
		waitFor(t, "the rotation", func() bool { return r.c.Stats().FilesClosed == uint64(i+1) })
	}
	waitFor(t, "evictions", func() bool { return r.fw.Stats().EvictedFiles >= 9 })
	dest.setFail(nil)
	st := r.fw.Stats()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st = r.fw.Stats()
		if st.LagFrames == 0 && st.LagComplete && uint64(len(dest.received()))+st.EvictedFrames >= uint64(len(sent)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for the rest: sent %d, delivered %d, stats %+v\n%s", len(sent), len(dest.received()), st, r.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := checkUnique(dest.received())
	missing := 0
	for _, s := range sent {
		if !got[s] {
			missing++
		}
	}
	if uint64(missing) != st.EvictedFrames || missing == 0 {
		t.Errorf("%d frames missing at the destination, %d counted as evicted", missing, st.EvictedFrames)
	}
	dest.mu.Lock()
	if dest.clash != 0 || len(dest.ids) != len(got) {
		t.Errorf("names reused after eviction: %d (FileID, Offset) keys for %d frames, %d clashes", len(dest.ids), len(got), dest.clash)
	}
	dest.mu.Unlock()
	if n := strings.Count(r.log.String(), "retention deletes a file not yet shipped"); uint64(n) != st.EvictedFiles {
		t.Errorf("%d eviction log lines, %d files evicted", n, st.EvictedFiles)
	}
	t.Logf("sent %d, delivered %d, evicted %d frames in %d files", len(sent), len(got), st.EvictedFrames, st.EvictedFiles)
}

// TestCrashLeftovers: files left by an earlier crash (a .part with a frame cut off, a file
// with no state) are shipped on the first start: their whole frames, once.
func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	dest := newFakeDest()
	// A first collector writes two files; no forwarder.
	c1dest := newFakeDest()
	c1dest.setFail(func(*Batch) error { return errors.New("down") })
	r := startRouter(t, dir, c1dest, collector.Config{}, nil)
	sent := r.send("old", 400)
	r.c.Rotate()
	waitFor(t, "the rotation", func() bool { return r.c.Stats().FilesClosed == 1 })
	sent = append(sent, r.send("part", 300)...)
	_ = r.stopF()
	// Simulate a crash of the collector: keep its .part as it is, with half a frame after.
	part := filepath.Join(dir, "cap.1.fstrm.part")
	waitFor(t, "the .part", func() bool { _, err := os.Stat(part); return err == nil })
	raw, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	_ = r.stopC()
	if err := os.WriteFile(part, append(raw, 0, 0, 0, 50, 'h', 'a', 'l', 'f'), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "cap.1.fstrm")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".state")); err != nil {
		t.Fatal(err)
	}
	r2 := startRouter(t, dir, dest, collector.Config{}, nil)
	sent = append(sent, r2.send("new", 200)...)
	waitFor(t, "every frame", func() bool { return len(dest.received()) >= len(sent) })
	if dups := checkDelivered(t, sent, dest.received()); dups != 0 {
		t.Errorf("%d duplicates", dups)
	}
	if !strings.Contains(r2.log.String(), "ends inside a frame") {
		t.Errorf("the cut frame is not reported:\n%s", r2.log)
	}
}

// TestBadStateMovedAside: an unreadable state is moved aside, logged, and the spool shipped
// again from its start (duplicates, never a loss).
func TestBadStateMovedAside(t *testing.T) {
	dir := t.TempDir()
	dest := newFakeDest()
	r := startRouter(t, dir, dest, collector.Config{}, nil)
	sent := r.send("s", 100)
	waitFor(t, "the frames", func() bool { return len(dest.received()) == 100 })
	_ = r.stopF()
	_ = r.stopC()
	if err := os.WriteFile(filepath.Join(dir, ".state"), []byte("{not json"), 0o640); err != nil {
		t.Fatal(err)
	}
	dest2 := newFakeDest()
	r2 := startRouter(t, dir, dest2, collector.Config{}, nil)
	waitFor(t, "the frames again", func() bool { return len(dest2.received()) >= 100 })
	checkDelivered(t, sent, dest2.received())
	if !strings.Contains(r2.log.String(), "unreadable forward state moved aside") {
		t.Errorf("not logged:\n%s", r2.log)
	}
	m, _ := filepath.Glob(filepath.Join(dir, ".state.bad-*"))
	if len(m) != 1 {
		t.Errorf("bad state not kept aside: %v", m)
	}
}

// TestStateSaveAtomic: save replaces the file whole; a leftover temporary file is harmless.
func TestStateSaveAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "st")
	if err := os.WriteFile(p+".tmp", []byte("garbage"), 0o640); err != nil {
		t.Fatal(err)
	}
	st := &state{Files: []stateFile{{"/a", "/a@1"}, {"/b", "/b@2"}}, Offset: 42, Destination: "x"}
	if err := st.save(p); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(p)
	if err != nil || got.Offset != 42 || fmt.Sprint(got.Files) != "[{/a /a@1} {/b /b@2}]" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := os.Stat(p + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	for _, bad := range []string{`{"version":2}`, `{"version":1,"offset":-1}`, `{"version":1,"offset":5,"files":[]}`, `{"version":1,"files":[{"path":"/a"}]}`} {
		if err := os.WriteFile(p, []byte(bad), 0o640); err != nil {
			t.Fatal(err)
		}
		if _, err := loadState(p); err == nil {
			t.Errorf("loadState accepted %s", bad)
		}
	}
}

func TestDefaultStatePath(t *testing.T) {
	for in, want := range map[string]string{
		"/var/log/dnstap/dnstap-%Y%m%d.fstrm": "/var/log/dnstap/.dnstap-forward.state",
		"/var/log/dnstap/%Y/%m/%d.fstrm":      "/var/log/dnstap/.dnstap-forward.state",
		"/var/log/dnstap/capture.fstrm":       "/var/log/dnstap/.dnstap-forward.state",
		"capture.fstrm":                       ".dnstap-forward.state",
	} {
		if got := DefaultStatePath(in); got != want {
			t.Errorf("DefaultStatePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLagAndStatus: with the destination down, the lag counts every frame written and spans
// the time between the oldest and the newest write; once the destination is back it falls
// to 0. The STATUS line says so.
func TestLagAndStatus(t *testing.T) {
	dest := newFakeDest()
	dest.setFail(func(*Batch) error { return errors.New("down") })
	r := startRouter(t, t.TempDir(), dest, collector.Config{}, nil)
	r.send("l", 300)
	time.Sleep(1500 * time.Millisecond) // the lag in seconds is at least this; nothing is timed
	r.send("m", 200)
	var st Stats
	waitFor(t, "the lag", func() bool { st = r.fw.Stats(); return st.LagFrames == 500 && st.LagComplete })
	if st.LagSeconds < 1.5 || st.Connected {
		t.Errorf("stats with the destination down: %+v", st)
	}
	if s := r.fw.Status(); !strings.HasPrefix(s, "forward=down lag=500 frames/") {
		t.Errorf("status %q", s)
	}
	dest.setFail(nil)
	waitFor(t, "no lag", func() bool { st = r.fw.Stats(); return st.LagFrames == 0 && st.LagSeconds == 0 })
	if s := r.fw.Status(); !strings.HasPrefix(s, "forward=up lag=0 frames/0.0s shipped=500 ") {
		t.Errorf("status %q", s)
	}
	var b strings.Builder
	if err := st.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dnstap_forward_frames_total{destination=\"test\"} 500\n", "dnstap_forward_connected{destination=\"test\"} 1\n", "dnstap_forward_evicted_frames_total{destination=\"test\"} 0\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

// TestEmptyFileRemoved: a file the writer opened and removed with no frame in it (every
// write to it failed) leaves the state without a word about lost frames.
func TestEmptyFileRemoved(t *testing.T) {
	dir := t.TempDir()
	log := &testenv.SyncBuffer{}
	fw, err := New(Config{Destination: newFakeDest(), Name: "test", State: filepath.Join(dir, ".state")}, slog.New(slog.NewTextHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(dir, "cap.fstrm.part")
	if err := os.WriteFile(part, spoolBytes(0, false), 0o640); err != nil {
		t.Fatal(err)
	}
	fw.FileOpened(part)
	if err := os.Remove(part); err != nil {
		t.Fatal(err)
	}
	fw.FileClosed(part, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()
	waitFor(t, "the file forgotten", func() bool { return fw.Stats().FilesPending == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "level=ERROR") || strings.Contains(log.String(), "level=WARN") {
		t.Errorf("an empty file removed is not an error:\n%s", log)
	}
}
