package collector

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

func makeCapture(t *testing.T, p string, n int) [][]byte {
	t.Helper()
	frames, err := collectortest.WriteCapture(p, n)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// checkWithPeers runs BIND's dnstap-read and fstrm_dump on p: both must accept it, and
// dnstap-read must print one line per frame.
func checkWithPeers(t *testing.T, p string, frames int) string {
	t.Helper()
	read := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	dump := testenv.LookPath(t, "fstrm_dump", "fstrm-bin")
	out, err := exec.Command(read, p).CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-read %s: %v\n%s", p, err, out)
	}
	if got := bytes.Count(out, []byte("\n")); got != frames {
		t.Errorf("dnstap-read %s: %d lines, want %d", p, got, frames)
	}
	dout, err := exec.Command(dump, p).CombinedOutput()
	if err != nil || !bytes.Contains(dout, []byte("FSTRM_CONTROL_STOP")) {
		t.Errorf("fstrm_dump %s: %v\n%s", p, err, dout[max(0, len(dout)-300):])
	}
	return string(out)
}

// TestFstrmReplayTwoSenders replays a capture with Debian's fstrm_replay, twice at once, into
// the collector; every frame must come out, and BIND's tools must accept the file.
func TestFstrmReplayTwoSenders(t *testing.T) {
	replay := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	work := t.TempDir()
	in := filepath.Join(work, "in.fstrm")
	const n = 50000
	want := makeCapture(t, in, n)
	sock, ln := unixListener(t)
	outDir := filepath.Join(work, "out")
	r := start(t, Config{Output: filepath.Join(outDir, "cap.fstrm")}, ln)
	var wg sync.WaitGroup
	outs := make([][]byte, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = exec.Command(replay, "-t", DefaultContentType, "-u", sock, "-r", in).CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("fstrm_replay: %v\n%s", errs[i], outs[i])
		}
	}
	waitFor(t, "both senders to finish", func() bool { return r.c.Stats().ConnsOpen == 0 && r.c.Stats().ConnsTotal == 2 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	files := finished(t, outDir)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	got := readFile(t, files[0])
	count := map[string]int{}
	for _, f := range want {
		count[string(f)] += 2
	}
	for _, f := range got {
		count[string(f)]--
	}
	for _, c := range count {
		if c != 0 {
			t.Fatalf("output differs from twice the input: %d frames out, %d in", len(got), 2*n)
		}
	}
	if !strings.Contains(r.log.String(), "bidirectional=true") {
		t.Errorf("fstrm_replay on a unix socket should use the bidirectional handshake:\n%s", r.log)
	}
	text := checkWithPeers(t, files[0], 2*n)
	if !strings.Contains(text, "CQ 192.0.2.7:1031 -> 192.0.2.253:53 UDP 32b q7.example.org/IN/A") {
		t.Errorf("dnstap-read output lacks query 7:\n%s", text[:min(len(text), 500)])
	}
}

// namedSetup finds named and dig (skipping with -short) and makes a short work directory
// (unix socket paths are limited) with the path of the dnstap socket in it.
func namedSetup(t *testing.T) (named, dig, work, sock string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs named")
	}
	named = testenv.LookPath(t, "named", "bind9")
	dig = testenv.LookPath(t, "dig", "bind9-dnsutils")
	work, err := os.MkdirTemp("", "dcn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	return named, dig, work, filepath.Join(work, "dnstap.sock")
}

// TestNamedRestartCollector runs a real named that logs to the collector, restarts the
// collector while named runs, and checks that queries before and after are captured.
func TestNamedRestartCollector(t *testing.T) {
	named, dig, work, sock := namedSetup(t)
	outDir := filepath.Join(work, "out")
	cfg := Config{Output: filepath.Join(outDir, "named-%Y%m%d.fstrm"), TimeNames: NamesUTC}

	ln, err := ListenUnix(sock, SocketOptions{Mode: 0o660})
	if err != nil {
		t.Fatal(err)
	}
	r1 := start(t, cfg, ln)
	n, err := collectortest.Start(named, work, collectortest.LoopbackIP("127.0.55.1"), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	query := func(names ...string) {
		t.Helper()
		for _, q := range names {
			if err := n.Query(ctx, dig, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	query("before1.example.org", "before2.example.org")
	// named sends about a second later; a client query and response each (and auth ones).
	waitFor(t, "named's frames", func() bool { return r1.c.Stats().FramesWritten >= 4 })
	if err := r1.stop(); err != nil {
		t.Fatal(err)
	}

	ln2, err := ListenUnix(sock, SocketOptions{Mode: 0o660})
	if err != nil {
		t.Fatal(err)
	}
	r2 := start(t, cfg, ln2)
	// libfstrm notices the old connection is gone only when it writes to it, then reopens it
	// after fstrm-set-reopen-interval: probe until frames arrive again.
	probes := 0
	waitFor(t, "named to reconnect", func() bool {
		if r2.c.Stats().FramesWritten > 0 {
			return true
		}
		probes++
		query(fmt.Sprintf("probe%d.example.org", probes))
		time.Sleep(300 * time.Millisecond)
		return false
	})
	written := r2.c.Stats().FramesWritten
	query("after1.example.org", "after2.example.org")
	waitFor(t, "named's frames after the restart", func() bool { return r2.c.Stats().FramesWritten >= written+4 })
	if err := r2.stop(); err != nil {
		t.Fatal(err)
	}

	files := finished(t, outDir)
	if len(files) != 2 || !strings.HasSuffix(files[0], ".1.fstrm") {
		t.Fatalf("want two files, the second with a .1 suffix: %v", files)
	}
	files[0], files[1] = files[1], files[0] // first run, then the restarted one
	for i, names := range [][]string{{"before1", "before2"}, {"after1", "after2"}} {
		frames := readFile(t, files[i])
		text := checkWithPeers(t, files[i], len(frames))
		for _, q := range names {
			// named 9.18 with dnstap { client; auth; } logs an authoritative answer as AQ and CR.
			for _, typ := range []string{"AQ", "CR"} {
				found := false
				for _, line := range strings.Split(text, "\n") {
					found = found || strings.Contains(line, " "+typ+" ") && strings.HasSuffix(line, " "+q+".example.org/IN/A")
				}
				if !found {
					t.Errorf("%s: no %s for %s:\n%s", files[i], typ, q, text)
				}
			}
		}
		for _, f := range frames {
			var m tap.Dnstap
			if err := proto.Unmarshal(f, &m); err != nil || m.GetMessage() == nil {
				t.Errorf("%s: frame is not a dnstap message: %v", files[i], err)
			}
		}
	}
}

// TestNamedIdleTimeout runs a real named against a collector with a short idle timeout: the
// collector closes named's quiet connection, named connects again when it next has something
// to send (fstrm-set-reopen-interval 1), and the queries after that are captured. What named
// sends on the closed connection before it notices is lost on named's side (it counts it in
// its dnstap drop counter); the test logs which queries that was.
func TestNamedIdleTimeout(t *testing.T) {
	named, dig, work, sock := namedSetup(t)
	outDir := filepath.Join(work, "out")
	ln, err := ListenUnix(sock, SocketOptions{Mode: 0o660})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, Config{Output: filepath.Join(outDir, "named.fstrm"), IdleTimeout: 3 * time.Second}, ln)
	n, err := collectortest.Start(named, work, collectortest.LoopbackIP("127.0.55.1"), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	probes := 0
	probe := func() {
		t.Helper()
		probes++
		if err := n.Query(ctx, dig, fmt.Sprintf("probe%d.example.org", probes)); err != nil {
			t.Fatal(err)
		}
	}
	// named may connect before it answers, and the idle timeout may close that connection
	// first: probe until frames arrive, then until named has been closed for idleness and
	// has come back.
	waitFor(t, "named's frames", func() bool {
		probe()
		time.Sleep(300 * time.Millisecond)
		return r.c.Stats().FramesWritten > 0
	})
	idle := r.c.Stats().Rejected[ReasonIdle]
	waitFor(t, "named's quiet connection to be closed", func() bool { return r.c.Stats().Rejected[ReasonIdle] > idle })
	conns := r.c.Stats().ConnsTotal
	waitFor(t, "named to reconnect", func() bool {
		probe()
		time.Sleep(300 * time.Millisecond)
		return r.c.Stats().ConnsTotal > conns && r.c.Stats().FramesWritten > 0
	})
	written := r.c.Stats().FramesWritten
	if err := n.Query(ctx, dig, "later.example.org"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the frames of a query after the reconnect", func() bool { return r.c.Stats().FramesWritten >= written+2 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	files := finished(t, outDir)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	text := checkWithPeers(t, files[0], len(readFile(t, files[0])))
	if !strings.Contains(text, " later.example.org/IN/A") {
		t.Errorf("no frame for the query after named reconnected:\n%s", text)
	}
	var lost []string
	for i := 1; i <= probes; i++ {
		if q := fmt.Sprintf("probe%d.example.org", i); !strings.Contains(text, " "+q+"/IN/A") {
			lost = append(lost, q)
		}
	}
	t.Logf("%d probes; not captured (sent by named while its connection was closed): %v", probes, lost)
}
