package collectorbench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/bench"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestRunSmall runs the whole benchmark small: a capture recorded from named under dnsperf,
// replayed into dnstap-collector and fstrm_capture by fstrm_replay and the Go sender. Neither
// may lose a frame, and the report names every pair.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs named, dnsperf and the receivers")
	}
	for _, p := range [][2]string{{"fstrm_replay", "fstrm-bin"}, {"fstrm_capture", "fstrm-bin"}, {"named", "bind9"}, {"dnsperf", "dnsperf"}} {
		testenv.LookPath(t, p[0], p[1])
	}
	work := t.TempDir()
	bin := filepath.Join(work, "dnstap-collector")
	if err := bench.Build(context.Background(), "../../..", "dnstap-collector", bin); err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	results, err := Run(context.Background(), Options{Frames: 50000, Rounds: 1, Collector: bin, Work: work, Record: time.Second, Out: &report})
	if err != nil {
		t.Fatalf("%v\n%s", err, report.String())
	}
	if len(results) != 4 {
		t.Fatalf("%d results, want 2 receivers x 2 senders:\n%s", len(results), report.String())
	}
	for _, r := range results {
		if r.Frames < 50000 || r.Lost != 0 {
			t.Errorf("%s <- %s: %d frames, %d lost", r.Receiver, r.Sender, r.Frames, r.Lost)
		}
		if r.CPU <= 0 || r.MaxRSS <= 0 {
			t.Errorf("%s: no rusage: %+v", r.Receiver, r)
		}
	}
	t.Log("\n" + report.String())
	for _, want := range []string{"dnstap-collector", "fstrm_capture", "go-fast", "1.00x"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
}

func TestCountFramesToleratesMissingStop(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.fstrm")
	raw := []byte{0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 3, 'a'}
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	n, size, err := countFrames(p)
	if err != nil || n != 1 || size != 6 {
		t.Fatalf("countFrames = %d, %d, %v; want 1 frame of 6 bytes", n, size, err)
	}
}
