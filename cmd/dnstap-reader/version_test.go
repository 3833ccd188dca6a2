package main

import (
	"bytes"
	"context"
	"runtime"
	"testing"
)

func TestVersionNamesGo(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, &errb); err != nil {
		t.Fatalf("--version: %v, %s", err, errb.Bytes())
	}
	// go test stamps no VCS information into the test binary.
	if want := "dnstap-reader (devel) (revision unknown, " + runtime.Version() + ")\n"; out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}
