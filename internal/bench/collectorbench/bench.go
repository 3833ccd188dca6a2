// Package collectorbench measures dnstap-collector against fstrm_capture and golang-dnstap's
// `dnstap -u -w`: each receiver takes the same capture from fstrm_replay (and from a fast Go
// sender), and the report gives frames/s, MB/s, CPU time and peak memory of the receiver
// (rusage of the child process), the ratios to fstrm_capture, and the frames lost (counted in
// the output files). `go tool mage bench:collector` runs it.
package collectorbench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
)

// Options of a run. Zero fields take their defaults.
type Options struct {
	Frames    int           // frames in the capture replayed (default 1,000,000)
	Rounds    int           // rounds per receiver and sender (default 3)
	Collector string        // path of the dnstap-collector binary (required)
	Dnstap    string        // path of golang-dnstap's dnstap binary ("" skips it)
	Capture   string        // an existing capture to replay; "" makes one with named and dnsperf
	Record    time.Duration // how long dnsperf loads named when recording (default 8s)
	Work      string        // scratch directory (default: a new temp dir, removed at the end)
	Out       io.Writer     // the report (required)
}

// Receiver is one program under test.
type Receiver struct {
	Name string
	Args func(sock, out string) []string // argv, program first
	Stop syscall.Signal
}

// Result of one round.
type Result struct {
	Receiver, Sender string
	Frames, Lost     int
	Bytes            int64
	Wall             time.Duration // from the sender's start to its end (FINISH for the Go sender)
	CPU              time.Duration // user+system of the receiver
	MaxRSS           int64         // bytes
}

// FramesPerSec is the sender-side throughput.
func (r Result) FramesPerSec() float64 { return float64(r.Frames) / r.Wall.Seconds() }

// CPUPerFrame is the receiver's CPU time per frame written.
func (r Result) CPUPerFrame() time.Duration {
	if r.Frames == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Frames)
}

// Run makes (or takes) the capture and runs every receiver with every sender, Rounds times.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Frames == 0 {
		o.Frames = 1_000_000
	}
	if o.Record == 0 {
		o.Record = 8 * time.Second
	}
	if o.Rounds == 0 {
		o.Rounds = 3
	}
	if o.Work == "" {
		dir, err := os.MkdirTemp("", "dcbench")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		o.Work = dir
	}
	capture, sent, err := prepareCapture(ctx, o)
	if err != nil {
		return nil, err
	}
	frames, err := loadFrames(capture)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Out, "capture: %s, %d frames, %.1f MB\n", capture, sent, float64(fileSize(capture))/1e6)
	replay, err := lookPath("fstrm_replay")
	if err != nil {
		return nil, err
	}
	receivers, err := Receivers(o.Collector, o.Dnstap)
	if err != nil {
		return nil, err
	}
	senders := []struct {
		name string
		run  func(sock string) error
	}{
		{"fstrm_replay", func(sock string) error {
			out, err := exec.CommandContext(ctx, replay, "-t", collectortest.ContentType, "-u", sock, "-r", capture).CombinedOutput()
			if err != nil {
				return fmt.Errorf("fstrm_replay: %w: %s", err, out)
			}
			return nil
		}},
		{"go-fast", func(sock string) error { return FastSend(sock, frames) }},
	}
	var results []Result
	for round := 1; round <= o.Rounds; round++ {
		for _, s := range senders {
			for _, rc := range receivers {
				res, err := runOne(ctx, o.Work, rc, s.name, s.run)
				if err != nil {
					return results, fmt.Errorf("round %d, %s <- %s: %w", round, rc.Name, s.name, err)
				}
				res.Lost = sent - res.Frames
				results = append(results, res)
				fmt.Fprintf(o.Out, "round %d: %-16s <- %-12s %9d frames in %v, lost %d\n", round, res.Receiver, res.Sender, res.Frames, res.Wall.Round(time.Millisecond), res.Lost)
			}
		}
	}
	Report(o.Out, results)
	return results, nil
}

// Receivers returns the programs under test: dnstap-collector, fstrm_capture and, when
// dnstapBin is not empty, golang-dnstap's dnstap.
func Receivers(collectorBin, dnstapBin string) ([]Receiver, error) {
	capture, err := lookPath("fstrm_capture")
	if err != nil {
		return nil, err
	}
	rs := []Receiver{
		{"dnstap-collector", func(sock, out string) []string {
			return []string{collectorBin, "-t", collectortest.ContentType, "-u", sock, "-w", out}
		}, syscall.SIGTERM},
		{"fstrm_capture", func(sock, out string) []string {
			return []string{capture, "-t", collectortest.ContentType, "-u", sock, "-w", out}
		}, syscall.SIGTERM},
	}
	if dnstapBin != "" {
		rs = append(rs, Receiver{"golang-dnstap", func(sock, out string) []string {
			return []string{dnstapBin, "-u", sock, "-w", out}
		}, syscall.SIGINT})
	}
	return rs, nil
}

func runOne(ctx context.Context, work string, rc Receiver, sender string, send func(string) error) (Result, error) {
	dir, err := os.MkdirTemp(work, "r")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	sock, out := filepath.Join(dir, "s"), filepath.Join(dir, "out.fstrm")
	argv := rc.Args(sock, out)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	defer func() { _ = cmd.Process.Kill() }() // after Wait this is a no-op
	if err := waitSocket(sock, 10*time.Second); err != nil {
		return Result{}, fmt.Errorf("%s: %w: %s", rc.Name, err, stderr.String())
	}
	start := time.Now()
	if err := send(sock); err != nil {
		return Result{}, err
	}
	wall := time.Since(start)
	time.Sleep(200 * time.Millisecond) // let a receiver that answers no FINISH read the rest
	hwm := peakRSS(cmd.Process.Pid)
	if err := cmd.Process.Signal(rc.Stop); err != nil {
		return Result{}, err
	}
	_ = cmd.Wait() // golang-dnstap exits non-zero on SIGINT; the output is what counts
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	n, size, err := countFrames(out)
	if err != nil {
		return Result{}, fmt.Errorf("%s output: %w", rc.Name, err)
	}
	res := Result{Receiver: rc.Name, Sender: sender, Frames: n, Bytes: size, Wall: wall}
	if ru != nil {
		res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	res.MaxRSS = hwm
	return res, nil
}

// waitSocket waits until a process listens on the unix socket p (per /proc/net/unix, where a
// listening socket has the __SO_ACCEPTCON flag 00010000), without connecting to it.
// peakRSS reads VmHWM, the peak resident set of a live process. (The rusage of a child counts
// the memory of the parent it was forked from before exec, so it is not used for memory.)
func peakRSS(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb * 1024
		}
	}
	return 0
}

func waitSocket(p string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if raw, err := os.ReadFile("/proc/net/unix"); err == nil {
			for _, line := range strings.Split(string(raw), "\n") {
				f := strings.Fields(line)
				if len(f) == 8 && f[7] == p && f[3] == "00010000" {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return errors.New("nothing listens on the socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// countFrames counts the data frames of a Frame Streams file (tolerating a missing STOP, which
// is how golang-dnstap leaves its file on SIGINT) and their bytes.
func countFrames(p string) (int, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var hdr [4]byte
	n, size := 0, int64(0)
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return n, size, nil // EOF, or a cut-off length: what is complete is counted
		}
		l := int64(binary.BigEndian.Uint32(hdr[:]))
		if l == 0 { // control frame
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return n, size, nil
			}
			if _, err := br.Discard(int(binary.BigEndian.Uint32(hdr[:]))); err != nil {
				return n, size, nil
			}
			continue
		}
		if d, err := br.Discard(int(l)); err != nil || int64(d) != l {
			return n, size, nil
		}
		n++
		size += 4 + l
	}
}

// FastSend writes frames to a unix socket as fast as it takes them: the bidirectional
// handshake, the frames in large writes, STOP, and it returns when FINISH arrives (so the
// receiver has read everything).
func FastSend(sock string, frames []byte) error {
	nc, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer nc.Close()
	ct := [][]byte{[]byte(collectortest.ContentType)}
	ready := fs.ControlFrame{ControlType: fs.CONTROL_READY, ContentTypes: ct}
	if err := ready.Encode(nc); err != nil {
		return fmt.Errorf("send READY: %w", err)
	}
	br := bufio.NewReader(nc)
	var accept fs.ControlFrame
	if err := readControl(br, &accept); err != nil || accept.ControlType != fs.CONTROL_ACCEPT {
		return fmt.Errorf("want ACCEPT: %v (type %d)", err, accept.ControlType)
	}
	start := fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: ct}
	if err := start.Encode(nc); err != nil {
		return fmt.Errorf("send START: %w", err)
	}
	for off := 0; off < len(frames); off += 1 << 20 {
		if _, err := nc.Write(frames[off:min(off+1<<20, len(frames))]); err != nil {
			return fmt.Errorf("send frames: %w", err)
		}
	}
	stop := fs.ControlFrame{ControlType: fs.CONTROL_STOP}
	if err := stop.Encode(nc); err != nil {
		return fmt.Errorf("send STOP: %w", err)
	}
	var finish fs.ControlFrame
	_ = nc.SetReadDeadline(time.Now().Add(time.Minute))
	if err := readControl(br, &finish); err != nil || finish.ControlType != fs.CONTROL_FINISH {
		return fmt.Errorf("want FINISH: %v", err)
	}
	return nil
}

func readControl(br *bufio.Reader, cf *fs.ControlFrame) error {
	var esc [4]byte
	if _, err := io.ReadFull(br, esc[:]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(esc[:]) != 0 {
		return errors.New("data frame where a control frame belongs")
	}
	return cf.Decode(br)
}

// loadFrames returns the data frames of a capture, concatenated with their length prefixes.
func loadFrames(p string) ([]byte, error) {
	raw, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read capture: %w", err)
	}
	var out []byte
	for len(raw) >= 4 {
		l := int(binary.BigEndian.Uint32(raw))
		if l == 0 {
			if len(raw) < 8 {
				break
			}
			cl := int(binary.BigEndian.Uint32(raw[4:]))
			raw = raw[min(len(raw), 8+cl):]
			continue
		}
		if len(raw) < 4+l {
			return nil, errors.New("read capture: truncated frame")
		}
		out = append(out, raw[:4+l]...)
		raw = raw[4+l:]
	}
	return out, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return filepath.Join(dir, name), nil
		}
	}
	return "", fmt.Errorf("bench: %s not found (Debian: fstrm-bin, bind9, dnsperf)", name)
}

// Report prints the mean of each receiver and sender over the rounds, with ratios to
// fstrm_capture.
func Report(w io.Writer, results []Result) {
	type key struct{ rc, s string }
	type agg struct {
		frames, lost, n int
		bytes           int64
		wall, cpu       time.Duration
		rss             int64
	}
	aggs := map[key]*agg{}
	var order []key
	for _, r := range results {
		k := key{r.Receiver, r.Sender}
		a := aggs[k]
		if a == nil {
			a = &agg{}
			aggs[k] = a
			order = append(order, k)
		}
		a.frames += r.Frames
		a.lost += r.Lost
		a.bytes += r.Bytes
		a.wall += r.Wall
		a.cpu += r.CPU
		a.rss = max(a.rss, r.MaxRSS)
		a.n++
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "receiver\tsender\trounds\tframes/s\tMB/s\tCPU s\tCPU/frame\tpeak RSS MiB\tframes/s vs fstrm_capture\tCPU/frame vs fstrm_capture\tframes lost\t")
	for _, k := range order {
		a := aggs[k]
		fps := float64(a.frames) / a.wall.Seconds()
		cpf := float64(a.cpu) / float64(max(a.frames, 1))
		line := fmt.Sprintf("%s\t%s\t%d\t%.0f\t%.1f\t%.2f\t%.0f ns\t%.1f", k.rc, k.s, a.n, fps, float64(a.bytes)/1e6/a.wall.Seconds(), a.cpu.Seconds()/float64(a.n), cpf, float64(a.rss)/(1<<20))
		if b := aggs[key{"fstrm_capture", k.s}]; b != nil {
			bfps := float64(b.frames) / b.wall.Seconds()
			bcpf := float64(b.cpu) / float64(max(b.frames, 1))
			line += fmt.Sprintf("\t%.2fx\t%.2fx", fps/bfps, cpf/bcpf)
		} else {
			line += "\t-\t-"
		}
		fmt.Fprintf(tw, "%s\t%d\t\n", line, a.lost)
	}
	_ = tw.Flush()
}
