package statsbench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dnstapkit/dnstapkit/internal/bench"
)

//go:embed seed.py
var seedScript []byte

// Options configure Run.
type Options struct {
	// Messages is the size of the generated input; default 10,000,000.
	Messages int
	// PeerMessages is the size of the input for the python and dnstap-read runs, which are
	// far slower; default Messages.
	PeerMessages int
	// Sources are the real captures whose frames are repeated; default the stats testdata.
	Sources []string
	// Dir holds the generated files and the built binary; removed afterwards. Default: a
	// new temporary directory.
	Dir string
	// Module is the root of the dnstapkit module (to build cmd/dnstap-reader); default ".".
	Module string
	// Out receives the progress and the table; default os.Stdout.
	Out io.Writer
}

// Result is one program's run.
type Result struct {
	Name       string  `json:"name"`
	Command    string  `json:"command"`
	Messages   int     `json:"messages"`
	Seconds    float64 `json:"seconds"`     // wall clock
	CPUSeconds float64 `json:"cpu_seconds"` // user + system, all processes
	MsgsPerSec float64 `json:"msgs_per_sec"`
	MaxRSSMiB  float64 `json:"max_rss_mib"` // the largest process's peak resident memory
}

// Run generates the inputs, builds dnstap-reader and times the three programs.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Messages <= 0 {
		o.Messages = 10_000_000
	}
	if o.PeerMessages <= 0 {
		o.PeerMessages = o.Messages
	}
	if o.Module == "" {
		o.Module = "."
	}
	if len(o.Sources) == 0 {
		o.Sources = []string{filepath.Join(o.Module, "reader/stats/testdata/mixed.fstrm")}
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "dnstapkit-bench-stats-")
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		o.Dir = d
	}
	defer os.RemoveAll(o.Dir)

	var frames [][]byte
	for _, s := range o.Sources {
		f, err := ReadFrames(s)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		frames = append(frames, f...)
	}
	bin := filepath.Join(o.Dir, "dnstap-reader")
	if err := bench.Build(ctx, o.Module, "dnstap-reader", bin); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	seed := filepath.Join(o.Dir, "seed.py")
	if err := os.WriteFile(seed, seedScript, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	gen := func(n int) (string, error) {
		p := filepath.Join(o.Dir, fmt.Sprintf("bench-%d.fstrm", n))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		fmt.Fprintf(o.Out, "generating %d messages from %d real frames into %s\n", n, len(frames), p)
		f, err := os.Create(p)
		if err != nil {
			return "", fmt.Errorf("bench: %w", err)
		}
		// One repetition of the captures spans about 32 s: shift each by that much.
		if err := Generate(f, frames, n, 32); err != nil {
			f.Close()
			return "", err
		}
		return p, f.Close()
	}
	big, err := gen(o.Messages)
	if err != nil {
		return nil, err
	}
	small, err := gen(o.PeerMessages)
	if err != nil {
		return nil, err
	}
	runs := []struct {
		name, cmd string
		n         int
		check     func(out string) error
	}{
		{"dnstap-reader stats", fmt.Sprintf("%s stats --json --no-progress %s", bin, big), o.Messages,
			func(out string) error { return checkJSON(out, o.Messages) }},
		{"python3 seed script", fmt.Sprintf("/usr/bin/python3 %s %s", seed, small), o.PeerMessages,
			func(out string) error { return checkPrefix(out, strconv.Itoa(o.PeerMessages)+" messages") }},
		{"dnstap-read | sort | uniq -c", fmt.Sprintf(`dnstap-read %s | awk '$3 == "CQ" {print $NF}' | sort | uniq -c | sort -rn`, small),
			o.PeerMessages, func(out string) error { return checkPrefix(strings.TrimSpace(out), "") }},
	}
	var results []Result
	for _, r := range runs {
		fmt.Fprintf(o.Out, "running %s on %d messages\n", r.name, r.n)
		res, out, err := measure(ctx, r.cmd)
		if err != nil {
			return results, fmt.Errorf("bench: %s: %w", r.name, err)
		}
		if err := r.check(out); err != nil {
			return results, fmt.Errorf("bench: %s: %w", r.name, err)
		}
		res.Name, res.Command, res.Messages = r.name, r.cmd, r.n
		res.MsgsPerSec = float64(r.n) / res.Seconds
		results = append(results, res)
	}
	WriteTable(o.Out, results)
	js, _ := json.MarshalIndent(results, "", "  ")
	fmt.Fprintf(o.Out, "\n%s\n", js)
	return results, nil
}

// measure runs cmd in bash (pipefail) once (bench.Measure) and returns its wall and CPU
// time, peak memory and output.
func measure(ctx context.Context, cmd string) (Result, string, error) {
	var out bytes.Buffer
	m, err := bench.Measure(ctx, []string{"bash", "-o", "pipefail", "-c", cmd}, nil, &out)
	if err != nil {
		return Result{}, "", err
	}
	return Result{Seconds: m.Wall.Seconds(), CPUSeconds: m.CPU.Seconds(), MaxRSSMiB: float64(m.MaxRSS) / (1 << 20)}, out.String(), nil
}

func checkJSON(out string, n int) error {
	var r struct {
		Messages int `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if r.Messages != n {
		return fmt.Errorf("report counts %d messages, want %d", r.Messages, n)
	}
	return nil
}

func checkPrefix(out, prefix string) error {
	if out == "" || !strings.HasPrefix(out, prefix) {
		return fmt.Errorf("unexpected output %.80q, want it to start with %q", out, prefix)
	}
	return nil
}

// WriteTable writes results as a Markdown table.
func WriteTable(w io.Writer, results []Result) {
	fmt.Fprintf(w, "\n| program | messages | wall s | CPU s | messages/s | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %d | %.2f | %.2f | %.0f | %.1f |\n", strings.ReplaceAll(r.Name, "|", `\|`), r.Messages, r.Seconds, r.CPUSeconds, r.MsgsPerSec, r.MaxRSSMiB)
	}
}
