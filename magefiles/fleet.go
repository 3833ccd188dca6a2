//go:build mage

package main

import (
	"context"
	"os"
	"strconv"
	"strings"

	fwbench "github.com/dnstapkit/dnstapkit/collector/forward/bench"
	"github.com/dnstapkit/dnstapkit/internal/certs"
)

// Certs makes a test CA, a server certificate for the central collector and a client
// certificate per router (CN = its name), in PEM, for trying the fleet out (docs/fleet.md);
// not for production. Knobs: CERTS_DIR (default dist/certs), CENTRAL (the central collector's
// DNS names and addresses, comma-separated; default central), ROUTERS (default
// router1,router2,router3).
func Certs(ctx context.Context) error {
	return certs.Main(os.Stdout, envOr("CERTS_DIR", "dist/certs"), list(os.Getenv("CENTRAL")), list(os.Getenv("ROUTERS")))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// Forward ships a spool of real BIND frames (reader/testdata/golden repeated) from a
// dnstap-collector with --forward fstrm+tls:// to a central one on loopback, and prints
// frames/s and CPU per frame against the collector's ingest rate, with the goals (1,000,000
// frames/s under 1 µs CPU a frame; an hour at 50,000 frames/s caught up in 3 minutes).
// Then it ships a spool into NATS JetStream (Debian's nats-server, file storage) and into
// kfake (franz-go's Kafka fake, in-process) with --forward nats:// and kafka://, goal
// 500,000 frames/s. Knobs: BENCH_FORWARD_FRAMES (default 5000000), BENCH_FORWARD_BATCH
// (frames a batch; default the collector's, 10000), BENCH_FORWARD_ENGINE_FRAMES (default
// 1000000).
func (Bench) Forward(ctx context.Context) error {
	frames, _ := strconv.Atoi(os.Getenv("BENCH_FORWARD_FRAMES"))
	batch, _ := strconv.Atoi(os.Getenv("BENCH_FORWARD_BATCH"))
	if err := fwbench.Main(ctx, os.Stdout, frames, batch); err != nil {
		return err
	}
	// Then into NATS JetStream (Debian's nats-server) and kfake (a Kafka fake).
	engineFrames, _ := strconv.Atoi(os.Getenv("BENCH_FORWARD_ENGINE_FRAMES"))
	return fwbench.MainEngines(ctx, os.Stdout, engineFrames, batch)
}
