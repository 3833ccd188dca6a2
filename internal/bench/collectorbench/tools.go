package collectorbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dnstapkit/dnstapkit/internal/bench"
)

// Tools builds dnstap-collector from the module in dir (the repository root) and installs
// golang-dnstap's dnstap (the pinned bench.Peers one), both into bin.
func Tools(ctx context.Context, dir, bin string) (collectorBin, dnstapBin string, err error) {
	collectorBin = filepath.Join(bin, "dnstap-collector")
	if err := bench.Build(ctx, dir, "dnstap-collector", collectorBin); err != nil {
		return "", "", err
	}
	if dnstapBin, err = bench.Install(ctx, "golang-dnstap", bin); err != nil {
		return "", "", err
	}
	return collectorBin, dnstapBin, nil
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
