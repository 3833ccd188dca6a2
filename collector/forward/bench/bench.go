// Package bench measures the forwarder (`go tool mage bench:forward`): how fast a
// dnstap-collector with --forward fstrm+tls:// ships a spool of real BIND frames to a
// central dnstap-collector over mutual TLS on loopback, and at what CPU per frame, against
// how fast a dnstap-collector takes frames in (its ingest rate, from a fast sender on a
// unix socket). Both collectors are the real binary, each a process of its own; CPU is the
// user+system time of each process (/proc/PID/stat).
package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/internal/bench"
	cbench "github.com/dnstapkit/dnstapkit/internal/bench/collectorbench"
	"github.com/dnstapkit/dnstapkit/internal/certs"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// Options of a run. Zero fields take their defaults.
type Options struct {
	Frames      int      // frames in the spool shipped (default 5,000,000)
	FilesOf     int      // frames per spool file (default 500,000)
	BatchFrames int      // --forward-batch-frames (default the collector's: 10,000)
	Collector   string   // the dnstap-collector binary (required)
	Golden      []string // capture files whose frames are repeated (default reader/testdata/golden/*.fstrm)
	Work        string   // scratch directory (default a new temporary one, removed)
	Out         io.Writer
}

// Result of a run.
type Result struct {
	Frames          int
	Bytes           int64
	ShipWall        time.Duration // from the router's start to nothing left to ship
	RouterCPU       time.Duration // the forwarding collector (reading the spool, TLS, sending)
	CentralCPU      time.Duration // the receiving collector (TLS, writing, fsync per batch)
	IngestWall      time.Duration // a collector taking the same frames from a fast sender
	IngestCPU       time.Duration
	CentralReceived int // frames in the central files, counted
}

func perSec(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
func perFrame(d time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return d / time.Duration(n)
}

// Run builds the spool, runs the central and the forwarding collector until everything is
// shipped, then the ingest reference, and writes the report.
func Run(ctx context.Context, o Options) (Result, error) {
	var res Result
	if o.Frames == 0 {
		o.Frames = 5_000_000
	}
	if o.FilesOf == 0 {
		o.FilesOf = 500_000
	}
	if len(o.Golden) == 0 {
		o.Golden, _ = filepath.Glob("reader/testdata/golden/*.fstrm")
	}
	if o.Work == "" {
		dir, err := os.MkdirTemp("", "fwbench")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		o.Work = dir
	}
	frames, err := goldenFrames(o.Golden)
	if err != nil {
		return res, err
	}
	routerDir := filepath.Join(o.Work, "router")
	n, size, err := writeSpool(routerDir, frames, o.Frames, o.FilesOf)
	if err != nil {
		return res, err
	}
	res.Frames, res.Bytes = n, size
	fmt.Fprintf(o.Out, "spool: %d real BIND frames (%d distinct, repeated) in %d files, %.1f MB\n", n, countFrames(frames), (n+o.FilesOf-1)/o.FilesOf, float64(size)/1e6)

	pki, err := certs.Generate(certs.Options{Dir: filepath.Join(o.Work, "pki"), Central: []string{"central", "127.0.0.1"}, Routers: []string{"router1"}})
	if err != nil {
		return res, err
	}
	port, err := freePort()
	if err != nil {
		return res, err
	}
	centralDir := filepath.Join(o.Work, "central")
	central, err := start(ctx, o.Collector, "-a", "127.0.0.1", "-p", port, "--tls-cert", pki.CentralCert, "--tls-key", pki.CentralKey,
		"--tls-client-ca", pki.CA, "-w", filepath.Join(centralDir, "%{identity}", "c.fstrm"), "-u", filepath.Join(o.Work, "central.sock"))
	if err != nil {
		return res, err
	}
	defer central.kill()
	args := []string{"-u", filepath.Join(o.Work, "router.sock"), "-w", filepath.Join(routerDir, "cap.fstrm"), "--metrics", "127.0.0.1:0",
		"--forward", "fstrm+tls://127.0.0.1:" + port, "--forward-ca", pki.CA, "--forward-cert", pki.Routers["router1"][0],
		"--forward-key", pki.Routers["router1"][1], "--forward-server-name", "central"}
	if o.BatchFrames > 0 {
		args = append(args, "--forward-batch-frames", strconv.Itoa(o.BatchFrames))
	}
	t0 := time.Now()
	router, err := start(ctx, o.Collector, args...)
	if err != nil {
		return res, err
	}
	defer router.kill()
	for {
		m, err := router.metrics()
		if err != nil {
			return res, err
		}
		if m["dnstap_forward_frames_total"] >= float64(n) {
			break
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.ShipWall = time.Since(t0)
	if res.RouterCPU, err = cpu(router.cmd.Process.Pid); err != nil {
		return res, err
	}
	if res.CentralCPU, err = cpu(central.cmd.Process.Pid); err != nil {
		return res, err
	}
	router.term()
	central.term()
	if res.CentralReceived, err = countDir(centralDir); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Out, "shipped: %d frames in %v; the centre wrote %d\n", n, res.ShipWall.Round(time.Millisecond), res.CentralReceived)

	// The reference: a collector taking the same frames in from a fast sender.
	sock := filepath.Join(o.Work, "ingest.sock")
	ingest, err := start(ctx, o.Collector, "-u", sock, "-w", filepath.Join(o.Work, "ingest", "i.fstrm"))
	if err != nil {
		return res, err
	}
	defer ingest.kill()
	all := repeat(frames, n)
	cpu0, _ := cpu(ingest.cmd.Process.Pid)
	t1 := time.Now()
	if err := cbench.FastSend(sock, all); err != nil {
		return res, fmt.Errorf("ingest: %w", err)
	}
	res.IngestWall = time.Since(t1)
	cpu1, err := cpu(ingest.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	res.IngestCPU = cpu1 - cpu0
	ingest.term()
	Report(o.Out, res)
	return res, nil
}

// Report prints the figures and the goals.
func Report(w io.Writer, r Result) {
	ship, in := perSec(r.Frames, r.ShipWall), perSec(r.Frames, r.IngestWall)
	fmt.Fprintf(w, "\n%-44s %12s %14s\n", "", "frames/s", "CPU/frame")
	fmt.Fprintf(w, "%-44s %12.0f %14v\n", "forwarder (router process), TLS on loopback", ship, perFrame(r.RouterCPU, r.Frames))
	fmt.Fprintf(w, "%-44s %12s %14v\n", "  central collector receiving it", "", perFrame(r.CentralCPU, r.Frames))
	fmt.Fprintf(w, "%-44s %12.0f %14v\n", "collector ingest (fast sender, unix socket)", in, perFrame(r.IngestCPU, r.Frames))
	fmt.Fprintf(w, "forwarder / ingest: %.2fx frames/s\n", ship/in)
	hour := 50_000 * 3600
	catch := time.Duration(float64(hour) / ship * float64(time.Second))
	fmt.Fprintf(w, "goal 1,000,000 frames/s at < 1 µs CPU/frame: %s (%.0f frames/s, %v)\n", verdict(ship >= 1e6 && perFrame(r.RouterCPU, r.Frames) < time.Microsecond), ship, perFrame(r.RouterCPU, r.Frames))
	fmt.Fprintf(w, "goal a one-hour backlog at 50,000 frames/s (%d frames) in < 3 min: %s (%v at this rate)\n", hour, verdict(catch < 3*time.Minute), catch.Round(time.Second))
	if r.CentralReceived < r.Frames {
		fmt.Fprintf(w, "WARNING: the centre holds %d frames, %d were shipped\n", r.CentralReceived, r.Frames)
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// goldenFrames returns the data frames of the captures, each with its length prefix.
func goldenFrames(paths []string) ([]byte, error) {
	var out []byte
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		for len(raw) >= 4 {
			l := int(binary.BigEndian.Uint32(raw))
			if l == 0 {
				if len(raw) < 8 {
					break
				}
				raw = raw[min(len(raw), 8+int(binary.BigEndian.Uint32(raw[4:]))):]
				continue
			}
			if len(raw) < 4+l {
				return nil, fmt.Errorf("bench: %s: truncated frame", p)
			}
			out = append(out, raw[:4+l]...)
			raw = raw[4+l:]
		}
	}
	if len(out) == 0 {
		return nil, errors.New("bench: no frames in the golden captures (run from the repository root)")
	}
	return out, nil
}

func countFrames(wire []byte) int {
	n := 0
	for len(wire) >= 4 {
		wire = wire[4+int(binary.BigEndian.Uint32(wire)):]
		n++
	}
	return n
}

// repeat returns frames repeated until it holds n frames.
func repeat(frames []byte, n int) []byte {
	var out []byte
	for i := 0; i < n; {
		w := frames
		for len(w) >= 4 && i < n {
			l := 4 + int(binary.BigEndian.Uint32(w))
			out = append(out, w[:l]...)
			w = w[l:]
			i++
		}
	}
	return out
}

// writeSpool writes n frames as closed collector files cap.fstrm, cap.1.fstrm, ... of
// perFile frames, oldest first.
func writeSpool(dir string, frames []byte, n, perFile int) (int, int64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, 0, err
	}
	var start, stop bytes.Buffer
	cf := fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: [][]byte{[]byte(tapct.ContentType)}}
	_ = cf.Encode(&start) // to memory: cannot fail
	cf = fs.ControlFrame{ControlType: fs.CONTROL_STOP}
	_ = cf.Encode(&stop)
	var total int64
	base := time.Now().Add(-time.Hour)
	written := 0
	for i := 0; written < n; i++ {
		name := "cap.fstrm"
		if i > 0 {
			name = fmt.Sprintf("cap.%d.fstrm", i)
		}
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return 0, 0, err
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		_, _ = bw.Write(start.Bytes())
		k := min(perFile, n-written)
		body := repeat(frames, k)
		_, _ = bw.Write(body)
		_, _ = bw.Write(stop.Bytes())
		if err := bw.Flush(); err != nil {
			f.Close()
			return 0, 0, err
		}
		if err := f.Close(); err != nil {
			return 0, 0, err
		}
		if err := os.Chtimes(p, time.Time{}, base.Add(time.Duration(i)*time.Second)); err != nil {
			return 0, 0, err
		}
		written += k
		total += int64(len(body))
	}
	return written, total, nil
}

// countDir counts the data frames in every file under dir.
func countDir(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		br := bufio.NewReaderSize(f, 1<<20)
		var hdr [4]byte
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return nil
			}
			l := int64(binary.BigEndian.Uint32(hdr[:]))
			if l == 0 {
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return nil
				}
				l = int64(binary.BigEndian.Uint32(hdr[:]))
			} else {
				n++
			}
			if _, err := br.Discard(int(l)); err != nil {
				return nil
			}
		}
	})
	return n, err
}

type proc struct {
	cmd  *exec.Cmd
	logs *syncBuf
	done chan error
}

func start(ctx context.Context, bin string, args ...string) (*proc, error) {
	p := &proc{cmd: exec.CommandContext(ctx, bin, args...), logs: &syncBuf{}, done: make(chan error, 1)}
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.done <- p.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.logs.String(), "msg=listening") {
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("%s exited: %v\n%s", bin, err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("%s did not start:\n%s", bin, p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p, nil
}

func (p *proc) term() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
	}
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
}

var metricsAddr = regexp.MustCompile(`msg=metrics addr=(\S+)`)

func (p *proc) metrics() (map[string]float64, error) {
	m := metricsAddr.FindStringSubmatch(p.logs.String())
	for i := 0; m == nil && i < 500; i++ { // logged just after "listening"
		time.Sleep(10 * time.Millisecond)
		m = metricsAddr.FindStringSubmatch(p.logs.String())
	}
	if m == nil {
		return nil, errors.New("no metrics address logged")
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return collectortest.ParseMetrics(string(body)), nil
}

// cpu returns the user+system time of a live process.
func cpu(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

type syncBuf struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// Main is the benchmark as `go tool mage bench:forward` runs it from the repository root:
// build dnstap-collector, run, report on w. Zero frames or batch take the defaults.
func Main(ctx context.Context, w io.Writer, frames, batch int) error {
	work, cleanup, bin, err := buildCollector(ctx)
	if err != nil {
		return err
	}
	defer cleanup()
	_, err = Run(ctx, Options{Frames: frames, BatchFrames: batch, Collector: bin, Work: work, Out: w})
	return err
}

// buildCollector builds dnstap-collector into a new scratch directory.
func buildCollector(ctx context.Context) (work string, cleanup func(), bin string, err error) {
	work, err = os.MkdirTemp("", "fwbench")
	if err != nil {
		return "", nil, "", fmt.Errorf("bench: %w", err)
	}
	cleanup = func() { os.RemoveAll(work) }
	bin = filepath.Join(work, "dnstap-collector")
	if err := bench.Build(ctx, ".", "dnstap-collector", bin); err != nil {
		cleanup()
		return "", nil, "", err
	}
	return work, cleanup, bin, nil
}
