//go:build mage

package main

import (
	"context"
	"os"
	"strconv"

	"github.com/dnstapkit/dnstapkit/internal/bench/collectorbench"
)

// Collector replays >= 1,000,000 real dnstap frames (from named under dnsperf) with fstrm_replay
// and a fast Go sender into dnstap-collector, fstrm_capture and golang-dnstap's dnstap, and
// prints frames/s, MB/s, CPU, peak RSS, ratios and frames lost. Uses BENCH_FRAMES, BENCH_ROUNDS.
func (Bench) Collector(ctx context.Context) error {
	frames, _ := strconv.Atoi(os.Getenv("BENCH_FRAMES"))
	rounds, _ := strconv.Atoi(os.Getenv("BENCH_ROUNDS"))
	return collectorbench.Main(ctx, os.Stdout, frames, rounds)
}
