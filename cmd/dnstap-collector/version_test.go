package main

import (
	"bytes"
	"runtime"
	"testing"
)

func TestVersionNamesGo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, env(nil), &out, &errOut); code != exitOK {
		t.Fatalf("--version: exit %d, %s", code, errOut.Bytes())
	}
	if want := "dnstap-collector dev (commit dev, " + runtime.Version() + ")\n"; out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}
