//go:build e2e

package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"

	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// faultBatch is the number of queries of each batch the fault tests send.
const faultBatch = 200

// TestFaults injects the faults a site meets into a running chain and counts the frames each
// loses: rotation during traffic (SIGHUP and time-based), the collector restarted under a
// running named, named restarted under a running collector, and the capture disk filled.
// They run on E2E_FAULTS_FLAVOR (default debian-bind9): named's own dnstap counters, which
// the accounting needs, come from its statistics channel, and the bind9-dnstap build has
// none (built without libxml2 and json-c).
func TestFaults(t *testing.T) {
	testenv.Docker(t)
	flavor := chainEnv("E2E_FAULTS_FLAVOR", flavorDebian)
	t.Run("rotation SIGHUP", func(t *testing.T) { testRotationSIGHUP(t, flavor) })
	t.Run("rotation time", func(t *testing.T) { testRotationTime(t, flavor) })
	t.Run("collector restart", func(t *testing.T) { testCollectorRestart(t, flavor) })
	t.Run("named restart", func(t *testing.T) { testNamedRestart(t, flavor) })
	t.Run("disk full", func(t *testing.T) { testDiskFull(t, flavor) })
}

// faultStart runs a container and starts the upstream, the collector (with args), then named.
func faultStart(t *testing.T, flavor string, collectorArgs []string, opts ...testcontainers.ContainerCustomizer) *chain.Container {
	t.Helper()
	ctr := chainRun(t, flavor, opts...)
	ctx := context.Background()
	defer chainPhase(t, "start collector, then named")()
	if err := ctr.StartUpstream(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.StartCollector(ctx, collectorArgs...); err != nil {
		t.Fatal(err)
	}
	if err := ctr.StartNamed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "sender connected", 1, 30*time.Second); err != nil {
		t.Fatalf("named did not connect to the collector: %v", err)
	}
	return ctr
}

// send sends n UDP queries for distinct names (tag makes them distinct across batches) from
// the test, checks every answer and returns the messages named must log for them.
func send(t *testing.T, ctr *chain.Container, tag string, n int) []tapKey {
	t.Helper()
	rs := queryHost(burst(ctr.Server(), tag, n), 8)
	for _, r := range rs {
		if r.Err != "" || r.Rcode != dns.RcodeSuccess || r.Answers != 1 {
			t.Fatalf("%s: rcode %s, %d answers, error %q", r.Query, dns.RcodeToString[r.Rcode], r.Answers, r.Err)
		}
	}
	return expectAll(t, rs, "") // no forwarded queries: no resolver messages
}

// mustCapture polls until want is captured, and fails the test if it is not within a minute.
func mustCapture(t *testing.T, ctr *chain.Container, want []tapKey) {
	t.Helper()
	defer chainPhase(t, "wait for the frames")()
	if missing := waitCaptured(t, ctr, want, time.Minute); len(missing) > 0 {
		t.Fatalf("%d of %d messages not captured after a minute:%s", len(missing), len(want), listKeys(missing))
	}
}

// finish reads named's counters, stops named and the collector, and decodes every capture
// file strictly (each must be complete, START ... STOP, and none left as .part). The
// collector must not report a frame it read and could not write.
func finish(t *testing.T, ctr *chain.Container) (c capture, files map[string][]byte, success, dropped uint64) {
	t.Helper()
	ctx := context.Background()
	if ctr.Flavor.Stats {
		var err error
		if success, dropped, err = ctr.DnstapStats(ctx); err != nil {
			t.Fatalf("named's dnstap counters: %v", err)
		}
		t.Logf("named's dnstap counters: %d written to its queue, %d dropped", success, dropped)
	} else {
		t.Logf("%s has no statistics channel: named's drops read as 0, so every message must arrive", ctr.Flavor.Name)
	}
	files = stopAndReadCapture(ctx, t, ctr)
	if n, err := ctr.Count(ctx, chain.CollectorLog, "frames lost|stopped with loss"); err != nil || n > 0 {
		t.Errorf("the collector reports frames it read and lost (%d lines, %v)", n, err)
	}
	c, err := decodeCapture(files, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capture: %d files, %d messages (+%d root priming, left out)", c.files, len(c.msgs), c.priming)
	return c, files, success, dropped
}

// assertExact requires the capture to hold want and nothing else, but for the messages named
// itself dropped (and counted); it returns the number of lost frames.
func assertExact(t *testing.T, c capture, want []tapKey, dropped uint64) int {
	t.Helper()
	missing, unexpected := diff(want, c.msgs)
	if len(unexpected) > 0 {
		t.Errorf("%d messages in the capture that no query explains:%s", len(unexpected), listKeys(unexpected))
	}
	if uint64(len(missing)) != dropped {
		t.Errorf("%d messages missing, named dropped %d:%s", len(missing), dropped, listKeys(missing))
	}
	t.Logf("lost frames: %d (named dropped %d)", len(missing), dropped)
	return len(missing)
}

// rotateDuringTraffic sends batches, half a second apart so that the traffic lasts a few
// seconds, in the background while rotate runs, and returns the messages wanted for them.
func rotateDuringTraffic(t *testing.T, ctr *chain.Container, batches int, rotate func()) []tapKey {
	t.Helper()
	var wg sync.WaitGroup
	res := make([][]tapKey, batches)
	errs := make([]string, batches)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range batches {
			if i > 0 {
				time.Sleep(500 * time.Millisecond) // pacing only; nothing is timed
			}
			rs := queryHost(burst(ctr.Server(), "r"+string(rune('a'+i)), faultBatch), 4)
			for _, r := range rs {
				if r.Err != "" || r.Rcode != dns.RcodeSuccess {
					errs[i] = r.Query.String() + ": " + dns.RcodeToString[r.Rcode] + " " + r.Err
				}
				ks, err := expect(r, "")
				if err != nil {
					errs[i] = err.Error()
				}
				res[i] = append(res[i], ks...)
			}
		}
	}()
	rotate()
	wg.Wait()
	var want []tapKey
	for i := range batches {
		if errs[i] != "" {
			t.Fatal(errs[i])
		}
		want = append(want, res[i]...)
	}
	return want
}

func testRotationSIGHUP(t *testing.T, flavor string) {
	ctx := context.Background()
	ctr := faultStart(t, flavor, []string{"-w", chain.CaptureDir + "/capture.fstrm"})
	const hups = 4
	done := chainPhase(t, "traffic with SIGHUPs")
	want := rotateDuringTraffic(t, ctr, 6, func() {
		for range hups {
			time.Sleep(600 * time.Millisecond) // spreads the rotations over the traffic; nothing is timed
			if err := ctr.SignalCollector(ctx, "HUP"); err != nil {
				t.Error(err)
			}
		}
	})
	done()
	mustCapture(t, ctr, want)
	c, files, _, dropped := finish(t, ctr)
	if n, _ := ctr.Count(ctx, chain.CollectorLog, "rotation requested"); n != hups {
		t.Errorf("the collector logged %d rotation requests, want %d", n, hups)
	}
	if c.files < 2 {
		t.Errorf("%d capture files after %d SIGHUPs during traffic, want at least 2", c.files, hups)
	}
	assertExact(t, c, want, dropped)
	t.Run("each file reads like dnstap-read", func(t *testing.T) { compareReaders(t, ctr, files) })
}

func testRotationTime(t *testing.T, flavor string) {
	ctr := faultStart(t, flavor, []string{"-w", chain.CaptureDir + "/cap-%Y%m%dT%H%M%S.fstrm", "--gmtime", "-s", "1"})
	done := chainPhase(t, "traffic over several seconds")
	want := rotateDuringTraffic(t, ctr, 6, func() {})
	done()
	mustCapture(t, ctr, want)
	c, files, _, dropped := finish(t, ctr)
	if c.files < 3 {
		t.Errorf("%d capture files with -s 1 over three seconds of traffic, want at least 3", c.files)
	}
	for name := range files {
		if !strings.Contains(name, "/cap-") || strings.Contains(name, "%") {
			t.Errorf("capture file %s is not named from the -w template", name)
		}
	}
	assertExact(t, c, want, dropped)
	t.Run("each file reads like dnstap-read", func(t *testing.T) { compareReaders(t, ctr, files) })
}

func testCollectorRestart(t *testing.T, flavor string) {
	ctx := context.Background()
	ctr := faultStart(t, flavor, []string{"-w", chain.CaptureDir + "/capture.fstrm"})
	before := send(t, ctr, "before", faultBatch)
	mustCapture(t, ctr, before)

	done := chainPhase(t, "collector down")
	if err := ctr.StopCollector(ctx); err != nil {
		t.Fatal(err)
	}
	during := send(t, ctr, "during", faultBatch)
	done()
	done = chainPhase(t, "collector up, named reconnects")
	if err := ctr.StartCollector(ctx, "-w", chain.CaptureDir+"/capture.fstrm"); err != nil {
		t.Fatal(err)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "sender connected", 2, 30*time.Second); err != nil {
		t.Fatalf("named did not reconnect to the restarted collector: %v", err)
	}
	done()
	after := send(t, ctr, "after", faultBatch)
	mustCapture(t, ctr, append(append([]tapKey(nil), before...), after...))

	c, _, success, dropped := finish(t, ctr)
	all := append(append(append([]tapKey(nil), before...), during...), after...)
	missing, unexpected := diff(all, c.msgs)
	if len(unexpected) > 0 {
		t.Errorf("%d messages in the capture that no query explains:%s", len(unexpected), listKeys(unexpected))
	}
	// Every lost message was sent while no collector listened.
	if mw, _ := diff(append(append([]tapKey(nil), before...), after...), c.msgs); len(mw) > 0 {
		t.Errorf("%d messages lost from before or after the restart:%s", len(mw), listKeys(mw))
	}
	// named's counters account for the gap: what it queued is what was captured plus what its
	// Frame Streams thread threw away with no socket to write to; what it dropped is missing too.
	captured := uint64(len(c.msgs) + c.priming)
	lost := uint64(len(missing))
	if !ctr.Flavor.Stats {
		t.Logf("lost frames: %d of the %d sent while the collector was down (%s has no counters to account for them)",
			lost, len(during), ctr.Flavor.Name)
		return
	}
	if success+dropped != captured+lost {
		t.Errorf("named queued %d and dropped %d messages; the capture holds %d and %d are missing: %d unaccounted",
			success, dropped, captured, lost, int64(success+dropped)-int64(captured+lost))
	}
	t.Logf("lost frames: %d of the %d sent while the collector was down (named queued %d, dropped %d, capture %d)",
		lost, len(during), success, dropped, captured)
}

func testNamedRestart(t *testing.T, flavor string) {
	ctx := context.Background()
	ctr := faultStart(t, flavor, []string{"-w", chain.CaptureDir + "/capture.fstrm"})
	before := send(t, ctr, "before", faultBatch)
	mustCapture(t, ctr, before)

	done := chainPhase(t, "restart named")
	if err := ctr.StopNamed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "sender (stopped|closed)", 1, 30*time.Second); err != nil {
		t.Errorf("the collector logged no end of named's connection: %v", err)
	}
	if !ctr.Running(ctx, "collector") {
		t.Fatal("the collector exited when named stopped")
	}
	if err := ctr.StartNamed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "sender connected", 2, 30*time.Second); err != nil {
		t.Fatalf("the collector logged no new connection from the restarted named: %v", err)
	}
	done()
	after := send(t, ctr, "after", faultBatch)
	want := append(append([]tapKey(nil), before...), after...)
	mustCapture(t, ctr, want)

	c, _, success, dropped := finish(t, ctr)
	assertExact(t, c, want, dropped)
	// The counters are the new named's: it queued exactly the messages of the second batch.
	if ctr.Flavor.Stats && success != uint64(len(after)) {
		t.Errorf("the restarted named queued %d dnstap messages, want %d (the batch after the restart)", success, len(after))
	}
}

func testDiskFull(t *testing.T, flavor string) {
	ctx := context.Background()
	ctr := faultStart(t, flavor, []string{"-w", chain.CaptureDir + "/capture.fstrm", "--retry-interval", "500ms"},
		testcontainers.WithTmpfs(map[string]string{chain.CaptureDir: "size=2m"}))
	before := send(t, ctr, "before", faultBatch)
	mustCapture(t, ctr, before)

	done := chainPhase(t, "disk full")
	if out, err := ctr.Sh(ctx, "dd if=/dev/zero of="+chain.CaptureDir+"/filler bs=64k 2>&1; df -k "+chain.CaptureDir); !strings.Contains(out, "No space left") {
		t.Fatalf("could not fill the capture tmpfs: %v\n%s", err, out)
	}
	during := send(t, ctr, "during", faultBatch)
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "output failed", 1, 30*time.Second); err != nil {
		t.Fatalf("the collector did not report the full disk: %v", err)
	}
	if !ctr.Running(ctx, "collector") {
		t.Fatal("the collector exited on a full disk")
	}
	if out, err := ctr.Sh(ctx, "rm "+chain.CaptureDir+"/filler"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "output works again", 1, 30*time.Second); err != nil {
		t.Fatalf("the collector did not resume when space was freed: %v", err)
	}
	done()
	after := send(t, ctr, "after", faultBatch)
	want := append(append(append([]tapKey(nil), before...), during...), after...)
	mustCapture(t, ctr, want)

	c, _, _, dropped := finish(t, ctr)
	// The collector held what it had read while the disk was full, and named waited: nothing
	// is lost but what named itself dropped and counted.
	assertExact(t, c, want, dropped)
}
