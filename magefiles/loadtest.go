//go:build mage

package main

import (
	"context"
	"os"

	"github.com/dnstapkit/dnstapkit/e2e/loadtest"
)

// Loadtest measures what query logging costs BIND: named in each logging mode under dnsperf,
// at saturation and then at offered loads (percent of mode 1's saturation, dnsperf -Q),
// writing dist/loadtest/loadtest.{md,json,svg}. Knobs: LOAD_SECONDS (30), LOAD_ROUNDS (3),
// LOAD_MODES (1,2,3,4,5,6), LOAD_PIN (both|off|on), LOAD_OFFERED (25,50,80|none), LOAD_SEARCH
// (3 steps of the zero-drop search; 0 = none), LOAD_BIND (9.14|9.18|9.20: the toolkit's
// bind9-dnstap in a container instead of the host's named; DISTRO), LOAD_PERF (count named's
// threads with perf stat), LOAD_CLIENTS, LOAD_THREADS,
// LOAD_OUTSTANDING, LOAD_QPS (0 = saturate), LOAD_LATENCIES, LOAD_NAMES, LOAD_FSTRM
// (tuned|default), NAMED, COLLECTOR.
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
