//go:build mage

package main

import (
	"context"
	"os"
	"strconv"

	"github.com/dnstapkit/dnstapkit/internal/bench/readerbench"
)

// Reader times dnstap-reader against dnstap-read, dnstap-ldns and golang-dnstap (default, -y,
// -p, -x, JSON) on real BIND frames repeated to BENCH_MESSAGES (default 1000000) messages.
func (Bench) Reader(ctx context.Context) error {
	n, _ := strconv.Atoi(os.Getenv("BENCH_MESSAGES"))
	return readerbench.Run(ctx, readerbench.Options{Messages: n, Source: "reader/testdata/golden/resolver.fstrm", Module: "."})
}
