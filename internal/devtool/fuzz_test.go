package devtool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDeadlineRace(t *testing.T) {
	failed := errors.New("exit status 1")
	noCrasher := errors.Join(errNoCrasher, failed)
	tests := []struct {
		name   string
		output string // a file under testdata/fuzzout, or the text itself
		err    error
		race   bool
		execs  int
	}{
		{"race, as CI printed it", "deadline-race.txt", noCrasher, true, 96645},
		{"a crasher is never the race", "crasher.txt", failed, false, 0},
		{"no crasher, but not the race (a failing seed)", "crasher.txt", noCrasher, false, 0},
		{"the race before any progress line", "--- FAIL: FuzzX (2.01s)\n    context deadline exceeded\nFAIL\n", noCrasher, true, minRaceExecs},
		{"the race after few execs", "fuzz: elapsed: 3s, execs: 12 (4/sec), new interesting: 0 (total: 3)\n--- FAIL: FuzzX (3.01s)\n    context deadline exceeded\n", noCrasher, true, minRaceExecs},
		{"a passing run", "deadline-race.txt", nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := []byte(tt.output)
			if strings.HasSuffix(tt.output, ".txt") {
				var err error
				if out, err = os.ReadFile(filepath.Join("testdata", "fuzzout", tt.output)); err != nil {
					t.Fatal(err)
				}
			}
			execs, race := deadlineRace(out, tt.err)
			if race != tt.race || execs != tt.execs {
				t.Errorf("deadlineRace = %d, %v; want %d, %v", execs, race, tt.execs, tt.race)
			}
		})
	}
}

// TestFuzzOnce runs the real go test -fuzz on a module of its own: a target whose crasher the
// fuzzer finds, and one whose committed seed fails (no crasher written).
func TestFuzzOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles two fuzz binaries")
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module fz\n\ngo 1.26\n")
	write("fz_test.go", `package fz

import "testing"

func FuzzFinds(f *testing.F) {
	f.Add([]byte("a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1 && b[0] == 'x' {
			t.Fatal("found")
		}
	})
}

func FuzzSeedFails(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if string(b) == "bad" {
			t.Fatal("seed")
		}
	})
}
`)
	write("testdata/fuzz/FuzzSeedFails/seed", "go test fuzz v1\n[]byte(\"bad\")\n")
	ctx := context.Background()

	_, err := fuzzOnce(ctx, fuzzTarget{"fz", dir, "FuzzFinds"}, "60s")
	if err == nil || errors.Is(err, errNoCrasher) || !strings.Contains(err.Error(), "crasher "+filepath.Join(dir, "testdata", "fuzz", "FuzzFinds")) {
		t.Errorf("FuzzFinds: %v; want the crasher's path", err)
	}

	out, err := fuzzOnce(ctx, fuzzTarget{"fz", dir, "FuzzSeedFails"}, "1000x")
	if !errors.Is(err, errNoCrasher) {
		t.Errorf("FuzzSeedFails: %v; want errNoCrasher", err)
	}
	if _, race := deadlineRace(out, err); race {
		t.Errorf("FuzzSeedFails: a failing seed taken for the deadline race:\n%s", out)
	}
}
