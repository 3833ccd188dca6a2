//go:build mage

package main

import (
	"context"
	"os"

	"github.com/dnstapkit/dnstapkit/e2e/loadtest"
)

// Loadtest measures what query logging costs BIND: named in each logging mode under dnsperf,
// writing dist/loadtest/loadtest.{md,json,svg}. Knobs: LOAD_SECONDS (30), LOAD_ROUNDS (3),
// LOAD_MODES (1,2,3,4,5,6), LOAD_PIN (both|off|on), LOAD_CLIENTS, LOAD_THREADS, LOAD_OUTSTANDING,
// LOAD_QPS (0 = saturate), LOAD_LATENCIES, LOAD_NAMES, LOAD_FSTRM (tuned|default), NAMED, COLLECTOR.
func Loadtest(ctx context.Context) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	c, err := loadtest.ConfigFromEnv(root)
	if err != nil {
		return err
	}
	return loadtest.RunAndReport(ctx, c, os.Stdout)
}
