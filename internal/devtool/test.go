package devtool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Unit checks gofmt, runs go vet, staticcheck and every unit test of the module (not the e2e suite, which needs the
// e2e build tag).
func Unit(ctx context.Context) error {
	defer phase("unit tests")()
	out, err := exec.CommandContext(ctx, "gofmt", "-l", ".").Output()
	if err != nil {
		return fmt.Errorf("gofmt: %w", err)
	}
	if files := strings.TrimSpace(string(out)); files != "" {
		return fmt.Errorf("gofmt: not formatted (run gofmt -w):\n%s", files)
	}
	if err := runGo(ctx, nil, "vet", "./..."); err != nil {
		return fmt.Errorf("go vet: %w", err)
	}
	// staticcheck (go.mod tool) fails on any finding; -tags=e2e so the suite is checked too
	if err := runGo(ctx, nil, "tool", "staticcheck", "-tags=e2e", "./..."); err != nil {
		return fmt.Errorf("staticcheck: %w", err)
	}
	if err := runGo(ctx, nil, "test", "-count=1", "-timeout=20m", "./..."); err != nil {
		return fmt.Errorf("unit tests: %w", err)
	}
	return nil
}

// Fuzz runs every native fuzz target (func FuzzXxx) of the module for d each, one at a time,
// starting from its seed corpus and testdata/fuzz. A crasher is written to testdata/fuzz by
// go test and fails the run.
//
// The runs use Toolchain, whose fuzz coordinator no longer fails a target at its -fuzztime
// deadline with a bare "context deadline exceeded" (golang/go#75804, fixed in Go 1.27): a
// failure without a crasher is a real failure (a failing seed, a fuzz function that
// does not compile) and is reported as such.
func Fuzz(ctx context.Context, d time.Duration) error {
	defer phase("fuzz")()
	targets, err := fuzzTargets(ctx)
	if err != nil {
		return err
	}
	for _, t := range targets {
		fmt.Printf("fuzz: %s %s for %s\n", t.pkg, t.name, d)
		if err := fuzzOnce(ctx, t, d.String()); err != nil {
			return fmt.Errorf("fuzz %s %s: %w", t.pkg, t.name, err)
		}
	}
	return nil
}

// errNoCrasher marks a fuzz run that failed without writing a failing input.
var errNoCrasher = errors.New("failed without writing a crasher to testdata/fuzz")

// fuzzOnce runs one target with the -fuzztime budget (a duration, or a count "Nx"), its
// output going to stdout. A failure that wrote a new file under testdata/fuzz/<target> (a
// crasher) names that file; one that wrote none wraps errNoCrasher.
func fuzzOnce(ctx context.Context, t fuzzTarget, budget string) error {
	corpus := filepath.Join(t.dir, "testdata", "fuzz", t.name)
	before := dirNames(corpus)
	cmd := goCmd(ctx, "test", "-run=^$", "-fuzz=^"+t.name+"$", "-fuzztime="+budget, t.pkg)
	cmd.Dir = t.dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		for name := range dirNames(corpus) {
			if !before[name] {
				return fmt.Errorf("crasher %s: %w", filepath.Join(corpus, name), err)
			}
		}
		return fmt.Errorf("%w: %w", errNoCrasher, err)
	}
	return nil
}

// dirNames returns the names in dir (none when it does not exist).
func dirNames(dir string) map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names[e.Name()] = true
	}
	return names
}

type fuzzTarget struct{ pkg, dir, name string }

func fuzzTargets(ctx context.Context) ([]fuzzTarget, error) {
	out, err := goCmd(ctx, "list", "-f", "{{.ImportPath}} {{.Dir}}", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var targets []fuzzTarget
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		pkg, dir, _ := strings.Cut(sc.Text(), " ")
		list, err := goCmd(ctx, "test", "-list=^Fuzz", pkg).Output()
		if err != nil {
			return nil, fmt.Errorf("go test -list %s: %w", pkg, err)
		}
		for _, l := range strings.Split(string(list), "\n") {
			if strings.HasPrefix(l, "Fuzz") {
				targets = append(targets, fuzzTarget{pkg, dir, strings.TrimSpace(l)})
			}
		}
	}
	return targets, nil
}

// E2E runs the container suite in e2e/ (build tag e2e). Outside CI the suite itself skips
// when no Docker engine answers; with CI=true it fails instead.
func E2E(ctx context.Context) error {
	defer phase("e2e")()
	env := []string{"TESTCONTAINERS_RYUK_DISABLED=true", "TESTCONTAINERS_HOST_OVERRIDE=localhost"}
	if err := runGo(ctx, env, "test", "-tags=e2e", "-count=1", "-timeout=75m", "-v", "./e2e"); err != nil {
		return fmt.Errorf("e2e: %w", err)
	}
	return nil
}

// phase prints the start of a phase and returns a func that prints its duration.
func phase(name string) func() {
	start := time.Now()
	fmt.Printf("== %s\n", name)
	return func() { fmt.Printf("== %s took %s\n", name, time.Since(start).Round(time.Second)) }
}
