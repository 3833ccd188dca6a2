//go:build mage

package main

import (
	"context"
	"os"
	"strconv"

	"github.com/dnstapkit/dnstapkit/internal/bench/statsbench"
)

// Stats times `dnstap-reader stats` against the seed's python3 script and
// `dnstap-read | sort | uniq -c` on real BIND frames repeated (messages/s, CPU, peak memory).
// Knobs: STATS_BENCH_MESSAGES (default 10000000), STATS_BENCH_PEER_MESSAGES (input size for
// the two slower programs; default the same).
func (Bench) Stats(ctx context.Context) error {
	_, err := statsbench.Run(ctx, statsbench.Options{Messages: statsEnvInt("STATS_BENCH_MESSAGES"),
		PeerMessages: statsEnvInt("STATS_BENCH_PEER_MESSAGES")})
	return err
}

func statsEnvInt(name string) int { n, _ := strconv.Atoi(os.Getenv(name)); return n }
