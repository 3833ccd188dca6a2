package main

import (
	"bytes"
	"context"
	"runtime"
	"testing"
)

func TestVersionNamesGo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := exitCode(runEnv(context.Background(), []string{"--version"}, env(nil), &out, &errOut), &errOut); code != exitOK {
		t.Fatalf("--version: exit %d, %s", code, errOut.Bytes())
	}
	if want := "dnstap-collector dev (commit dev, " + runtime.Version() + ")\n"; out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}
