//go:build mage

// Build, test and package dnstapkit.
//
// Knobs (environment): VERSION (default: git describe), GOARCH (default: the host's),
// FUZZTIME (per fuzz target in `test`, default 10s), CI (true: a missing Docker fails e2e).
//
// Every go command the targets run uses devtool.Toolchain (GOTOOLCHAIN), whatever Go runs
// mage itself: the binaries that ship are built, tested and scanned with it.
package main

import (
	"context"
	"os"
	"time"

	"github.com/magefile/mage/mg"

	"github.com/dnstapkit/dnstapkit/internal/devtool"
)

func init() {
	if err := devtool.PinToolchain(); err != nil {
		panic(err)
	}
}

// Aliases lets `go tool mage e2e` name the E2E target the way people type it (mage lists it
// as e2E), and `go tool mage repo` run repo:build.
var Aliases = map[string]any{"e2e": E2E, "repo": Repo.Build}

// Bench groups the benchmarks that time dnstapkit against the programs it replaces.
type Bench mg.Namespace

// Image groups the container base images (debootstrap or pull).
type Image mg.Namespace

// Bind groups the BIND-from-source targets.
type Bind mg.Namespace

// Build compiles dnstap-collector and dnstap-reader into dist/ with devtool.Toolchain (static,
// stripped, version from git).
// Uses VERSION and GOARCH.
func Build(ctx context.Context) error {
	return devtool.Build(ctx, distBuild())
}

// distBuild is what Build makes: the binaries that ship.
func distBuild() devtool.BuildOptions {
	return devtool.BuildOptions{GOARCH: os.Getenv("GOARCH"), OutDir: "dist"}
}

// Deps installs the Debian packages in .ci/apt-packages that are missing (root) and makes
// sure a Docker engine answers.
func Deps(ctx context.Context) error { return devtool.InstallDeps(ctx, ".ci/apt-packages") }

// Test runs everything: deps, go vet, unit tests, vulncheck, each fuzz target for FUZZTIME,
// and the e2e suite.
func Test(ctx context.Context) error {
	mg.CtxDeps(ctx, Deps)
	if err := devtool.Unit(ctx); err != nil {
		return err
	}
	if err := Vulncheck(ctx); err != nil {
		return err
	}
	if err := devtool.Fuzz(ctx, envDuration("FUZZTIME", 10*time.Second)); err != nil {
		return err
	}
	return devtool.E2E(ctx)
}

// Unit runs go vet and the unit tests only (no deps, fuzz or containers).
func Unit(ctx context.Context) error { return devtool.Unit(ctx) }

// Fuzz runs each native fuzz target for FUZZTIME (default 10s).
func Fuzz(ctx context.Context) error {
	return devtool.Fuzz(ctx, envDuration("FUZZTIME", 10*time.Second))
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}
