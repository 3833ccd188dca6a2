package devtool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

	err := fuzzOnce(ctx, fuzzTarget{"fz", dir, "FuzzFinds"}, "60s")
	if err == nil || errors.Is(err, errNoCrasher) || !strings.Contains(err.Error(), "crasher "+filepath.Join(dir, "testdata", "fuzz", "FuzzFinds")) {
		t.Errorf("FuzzFinds: %v; want the crasher's path", err)
	}

	if err := fuzzOnce(ctx, fuzzTarget{"fz", dir, "FuzzSeedFails"}, "1000x"); !errors.Is(err, errNoCrasher) {
		t.Errorf("FuzzSeedFails: %v; want errNoCrasher", err)
	}
}
