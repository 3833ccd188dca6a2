package readerbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	"github.com/dnstapkit/dnstapkit/internal/bench"
	fs "github.com/farsightsec/golang-framestream"
)

// Options configures Run.
type Options struct {
	Messages int    // messages in the capture; 0 means 1,000,000
	Source   string // a Frame Streams file whose frames are repeated
	Module   string // the module root (to build cmd/dnstap-reader)
	Dir      string // work directory; "" means a temporary one, removed at the end
	Out      io.Writer
}

// Result is one timed run.
type Result struct {
	Tool, Mode string
	Wall, CPU  time.Duration
	MaxRSS     int64 // bytes
	Messages   int
	Err        error
}

// Rate returns messages per second of wall time.
func (r Result) Rate() float64 { return float64(r.Messages) / r.Wall.Seconds() }

// Run builds the capture and the programs, times every case once and prints the table.
func Run(ctx context.Context, opt Options) error {
	if opt.Messages <= 0 {
		opt.Messages = 1_000_000
	}
	if opt.Out == nil {
		opt.Out = os.Stdout
	}
	dir := opt.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-reader-")
		if err != nil {
			return fmt.Errorf("bench reader: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	capture := filepath.Join(dir, "capture.fstrm")
	n, err := MakeCapture(capture, opt.Source, opt.Messages)
	if err != nil {
		return err
	}
	st, _ := os.Stat(capture)
	fmt.Fprintf(opt.Out, "capture: %d messages (frames of %s repeated), %.1f MiB\n", n, opt.Source, float64(st.Size())/(1<<20))

	reader := filepath.Join(dir, "dnstap-reader")
	if err := bench.Build(ctx, opt.Module, "dnstap-reader", reader); err != nil {
		return err
	}
	golang, err := bench.Install(ctx, "golang-dnstap", dir)
	if err != nil {
		fmt.Fprintf(opt.Out, "golang-dnstap not timed: %v\n", err)
		golang = ""
	}
	dnstapRead, _ := exec.LookPath("dnstap-read")
	ldns, _ := exec.LookPath("dnstap-ldns")

	type tcase struct {
		tool, mode, bin string
		args            []string
		baseline        bool
	}
	var cases []tcase
	add := func(tool, mode, bin string, baseline bool, args ...string) {
		if bin != "" {
			cases = append(cases, tcase{tool, mode, bin, append(args, capture), baseline})
		} else {
			fmt.Fprintf(opt.Out, "%s not installed: %s %s not timed\n", tool, tool, mode)
		}
	}
	add("dnstap-read", "default", dnstapRead, true)
	add("dnstap-reader", "default", reader, false)
	add("dnstap-ldns", "default", ldns, false, "-q", "-r")
	add("golang-dnstap", "default", golang, false, "-q", "-r")
	add("dnstap-read", "-y", dnstapRead, true, "-y")
	add("dnstap-reader", "-y", reader, false, "-y")
	add("dnstap-ldns", "-y", ldns, false, "-y", "-r")
	add("golang-dnstap", "-y", golang, false, "-y", "-r")
	add("dnstap-read", "-p", dnstapRead, true, "-p")
	add("dnstap-reader", "-p", reader, false, "-p")
	add("dnstap-read", "-x", dnstapRead, true, "-x")
	add("dnstap-reader", "-x", reader, false, "-x")
	add("golang-dnstap", "json", golang, true, "-j", "-r")
	add("dnstap-reader", "json", reader, false, "--json")

	w := tabwriter.NewWriter(opt.Out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "mode\ttool\tmsgs/s\twall s\tCPU s\tmsgs/CPU-s\tmax RSS MiB\tvs baseline (msgs/s)\t")
	base := map[string]float64{}
	for _, c := range cases {
		r := Time(ctx, c.tool, c.mode, c.bin, c.args, n)
		if r.Err != nil {
			fmt.Fprintf(w, "%s\t%s\terror: %v\t\t\t\t\t\n", c.mode, c.tool, r.Err)
			continue
		}
		ratio := ""
		if c.baseline {
			base[c.mode] = r.Rate()
			ratio = "1.00x (baseline)"
		} else if b := base[c.mode]; b > 0 {
			ratio = fmt.Sprintf("%.2fx", r.Rate()/b)
		}
		fmt.Fprintf(w, "%s\t%s\t%.0f\t%.2f\t%.2f\t%.0f\t%.1f\t%s\t\n", c.mode, c.tool, r.Rate(), r.Wall.Seconds(),
			r.CPU.Seconds(), float64(r.Messages)/r.CPU.Seconds(), float64(r.MaxRSS)/(1<<20), ratio)
	}
	return w.Flush()
}

// Time runs bin args once with its output to /dev/null (TZ=UTC) and measures wall time,
// user+system CPU time and peak memory (bench.Measure).
func Time(ctx context.Context, tool, mode, bin string, args []string, msgs int) Result {
	r := Result{Tool: tool, Mode: mode, Messages: msgs}
	m, err := bench.Measure(ctx, append([]string{bin}, args...), []string{"TZ=UTC"}, io.Discard)
	r.Wall, r.CPU, r.MaxRSS = m.Wall, m.CPU, m.MaxRSS
	if err != nil {
		r.Err = fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	return r
}

// MakeCapture writes a Frame Streams file of at least n messages: the data frames of src,
// repeated. It returns the number of frames written.
func MakeCapture(path, src string, n int) (int, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("make capture: %w", err)
	}
	defer in.Close()
	r, err := fs.NewReader(in, &fs.ReaderOptions{ContentTypes: [][]byte{tap.FSContentType}})
	if err != nil {
		return 0, fmt.Errorf("make capture: read %s: %w", src, err)
	}
	var frames [][]byte
	for {
		buf := make([]byte, 1<<16)
		k, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("make capture: read %s: %w", src, err)
		}
		frames = append(frames, buf[:k])
	}
	if len(frames) == 0 {
		return 0, fmt.Errorf("make capture: %s has no data frames", src)
	}
	out, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("make capture: %w", err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	w, err := fs.NewWriter(bw, &fs.WriterOptions{ContentTypes: [][]byte{tap.FSContentType}})
	if err != nil {
		out.Close()
		return 0, fmt.Errorf("make capture: %w", err)
	}
	written := 0
	for written < n {
		for _, f := range frames {
			if _, err := w.WriteFrame(f); err != nil {
				out.Close()
				return 0, fmt.Errorf("make capture: write %s: %w", path, err)
			}
			written++
		}
	}
	if err := w.Close(); err != nil {
		out.Close()
		return 0, fmt.Errorf("make capture: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return 0, fmt.Errorf("make capture: write %s: %w", path, err)
	}
	return written, out.Close()
}
