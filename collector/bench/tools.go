package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// GolangDnstap is the module of golang-dnstap's command, installed for the comparison.
const GolangDnstap = "github.com/dnstap/golang-dnstap/dnstap@latest"

// Tools builds dnstap-collector from the module in dir (the repository root) and installs
// golang-dnstap's dnstap, both into bin.
func Tools(ctx context.Context, dir, bin string) (collectorBin, dnstapBin string, err error) {
	collectorBin = filepath.Join(bin, "dnstap-collector")
	build := exec.CommandContext(ctx, "go", "build", "-o", collectorBin, "./cmd/dnstap-collector")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build dnstap-collector: %w: %s", err, out)
	}
	inst := exec.CommandContext(ctx, "go", "install", GolangDnstap)
	inst.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := inst.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go install %s: %w: %s", GolangDnstap, err, out)
	}
	return collectorBin, filepath.Join(bin, "dnstap"), nil
}

// Main is the whole benchmark as `go tool mage bench:collector` runs it: tools, capture,
// rounds and the report on w. frames and rounds of 0 take the defaults.
func Main(ctx context.Context, w io.Writer, frames, rounds int) error {
	work, err := os.MkdirTemp("", "dcbench")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(work)
	col, dt, err := Tools(ctx, ".", work)
	if err != nil {
		return err
	}
	_, err = Run(ctx, Options{Frames: frames, Rounds: rounds, Collector: col, Dnstap: dt, Work: work, Out: w})
	return err
}
