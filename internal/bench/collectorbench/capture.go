package collectorbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/collectortest"
)

// prepareCapture returns the path of a capture of at least o.Frames frames and its frame count.
// Without o.Capture it records real frames from a private named under dnsperf load (through the
// collector library) and repeats them until there are enough.
func prepareCapture(ctx context.Context, o Options) (string, int, error) {
	src := o.Capture
	if src == "" {
		var err error
		if src, err = recordNamed(ctx, o); err != nil {
			return "", 0, err
		}
	}
	frames, err := loadFrames(src)
	if err != nil {
		return "", 0, err
	}
	n, _, err := countFrames(src)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("capture %s: %d frames: %v", src, n, err)
	}
	if n >= o.Frames {
		return src, n, nil
	}
	out := filepath.Join(o.Work, "replay.fstrm")
	f, err := os.Create(out)
	if err != nil {
		return "", 0, fmt.Errorf("capture: %w", err)
	}
	defer f.Close()
	ct := [][]byte{[]byte(collectortest.ContentType)}
	startCF := fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: ct}
	if err := startCF.Encode(f); err != nil {
		return "", 0, fmt.Errorf("capture: %w", err)
	}
	total := 0
	for total < o.Frames {
		if _, err := f.Write(frames); err != nil {
			return "", 0, fmt.Errorf("capture: %w", err)
		}
		total += n
	}
	stopCF := fs.ControlFrame{ControlType: fs.CONTROL_STOP}
	if err := stopCF.Encode(f); err != nil {
		return "", 0, fmt.Errorf("capture: %w", err)
	}
	return out, total, f.Close()
}

// recordNamed runs named with dnstap to a collector and dnsperf against named for a few seconds.
func recordNamed(ctx context.Context, o Options) (string, error) {
	named, err := lookPath("named")
	if err != nil {
		return "", err
	}
	dnsperf, err := lookPath("dnsperf")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(o.Work, "named")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	sock := filepath.Join(dir, "dnstap.sock")
	ln, err := collector.ListenUnix(sock, collector.SocketOptions{})
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "named.fstrm")
	c, err := collector.New(collector.Config{Output: out}, nil)
	if err != nil {
		return "", err
	}
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Serve(cctx, ln) }()
	defer func() { stop(); <-done }()

	n, err := collectortest.Start(named, dir, collectortest.LoopbackIP("127.0.55.1"), sock)
	if err != nil {
		return "", err
	}
	defer n.Stop()
	var q strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&q, "host%d.%s A\n", i, collectortest.Zone)
	}
	qfile := filepath.Join(dir, "queries")
	if err := os.WriteFile(qfile, []byte(q.String()), 0o644); err != nil {
		return "", err
	}
	host, port, _ := strings.Cut(n.Addr, ":")
	perf, err := exec.CommandContext(ctx, dnsperf, "-s", host, "-p", port, "-d", qfile, "-l", fmt.Sprint(max(1, int(o.Record.Seconds()))), "-c", "4", "-q", "500").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("dnsperf: %w: %s", err, perf)
	}
	// named sends its batches about a second later: wait until the count stops moving.
	last := uint64(0)
	for {
		time.Sleep(1500 * time.Millisecond)
		cur := c.Stats().FramesWritten
		if cur == last && cur > 0 {
			break
		}
		last = cur
	}
	stop()
	if err := <-done; err != nil {
		return "", err
	}
	done <- nil // for the deferred receive
	return out, nil
}
