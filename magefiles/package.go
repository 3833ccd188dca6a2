//go:build mage

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/internal/devtool"
	"github.com/dnstapkit/dnstapkit/internal/release"
	"github.com/dnstapkit/dnstapkit/packaging"
)

// Package builds every .deb into dist/: dnstap-collector and dnstap-reader (static
// binaries), and bind9-dnstap, BIND built from source in a container (as bind:build:
// BIND_VERSION, default 9.18, for DISTRO, default debian:bookworm; BIND_SOURCES,
// BIND_TARBALL). SKIP_BIND=1 leaves BIND out. Uses VERSION, GOARCH and SOURCE_DATE_EPOCH
// (default: the commit time of HEAD). Prints one line per step, then the packages.
func Package(ctx context.Context) error {
	steps := []release.Step{
		{Name: "binaries (dist/dnstap-collector, dist/dnstap-reader)", Run: func(ctx context.Context) ([]string, error) {
			return nil, devtool.Build(ctx, distBuild())
		}},
		{Name: "dnstap-collector and dnstap-reader .debs", Run: func(ctx context.Context) ([]string, error) {
			return packaging.BuildAll(ctx, packaging.Options{Root: ".", BinDir: "dist", OutDir: "dist",
				Version: devtool.Version(), GOARCH: os.Getenv("GOARCH")})
		}},
	}
	if v := os.Getenv("SKIP_BIND"); v != "1" && v != "true" {
		o := bindOptions()
		o.Progress = nil // the step is one line; a failed compile names its full log
		steps = append(steps, release.Step{Name: fmt.Sprintf("bind9-dnstap: BIND %s for %s, compiled in a container (minutes when not cached)",
			imageEnv("BIND_VERSION", "9.18"), imageEnv("DISTRO", "debian:bookworm")), Run: func(ctx context.Context) ([]string, error) {
			res, err := bind.Build(ctx, o)
			if err != nil {
				return nil, err
			}
			return []string{res.Deb}, nil
		}})
	}
	_, err := release.Run(ctx, os.Stdout, steps)
	return err
}
