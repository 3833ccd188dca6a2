//go:build mage

package main

import (
	"context"

	"github.com/dnstapkit/dnstapkit/internal/devtool"
)

// E2E runs the container suite in e2e/: the toolkit's .debs and BIND (bind:build) are made
// by the tests themselves, then named, the collector and the reader run in containers.
// Knobs: BIND_VERSION (9.18) and DISTRO (debian:bookworm) pick the built BIND; E2E_FLAVORS
// (bind9-dnstap,debian-bind9) and E2E_FAULTS_FLAVOR (debian-bind9). Without Docker the suite
// skips, or fails with CI=true. See docs/e2e.md.
func E2E(ctx context.Context) error { return devtool.E2E(ctx) }
