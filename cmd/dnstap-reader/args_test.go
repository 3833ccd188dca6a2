package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/reader/readertest"
)

// TestArgs: flags where users type them, and what the command says when they are wrong.
func TestArgs(t *testing.T) {
	resolver := golden + "resolver.fstrm"
	all, _, _ := runCLI(t, resolver)
	cqcr, _, _ := runCLI(t, "--type", "CQ,CR", resolver)
	local, _, _ := runCLI(t, "--qname", "local.test", resolver)
	var below strings.Builder
	for _, l := range strings.SplitAfter(local, "\n") {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(f[len(f)-1], "local.test/") {
			below.WriteString(l)
		}
	}
	if below.Len() == 0 || below.Len() == len(local) {
		t.Fatal("the golden needs names at and below local.test")
	}
	dir := t.TempDir()
	dash := filepath.Join(dir, "-dash.fstrm")
	if err := os.WriteFile(dash, readGolden(t, "resolver.fstrm"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, when not empty
		prefix string // stdout starts with
		stderr string // contained in stderr ("" requires it empty)
		noErr  string // not contained in stderr
	}{
		{"flag after the file", []string{resolver, "--type", "CQ,CR"}, 0, cqcr, "", "", ""},
		{"flags on both sides", []string{"--type", "CQ", resolver, "--type=CR"}, 0, cqcr, "", "", ""},
		{"repeated filter adds", []string{"--type", "CQ", "--type", "CR", resolver}, 0, cqcr, "", "", ""},
		{"-- ends the flags", []string{"--type", "CQ,CR", "--", dash}, 0, cqcr, "", "", ""},
		{"combined short flags after the file", []string{resolver, "-mpx"}, 0, "", "", "", ""},
		{"*. means below", []string{"--qname", "*.local.test", resolver}, 0, below.String(), "", "", ""},
		{"a wildcard elsewhere is refused", []string{"--qname", "lo*.test", resolver}, exitUsage, "", "", "--qname: invalid qname \"lo*.test\": a wildcard must be the whole first label", ""},
		{"empty list", []string{"--type", "", resolver}, exitUsage, "", "", "flag -type: empty list", ""},
		{"empty item", []string{"--rcode", "NXDOMAIN,", resolver}, exitUsage, "", "", "flag -rcode: empty item", ""},
		{"bad value names the flag", []string{"--qtype", "NOPE", resolver}, exitUsage, "", "", "--qtype: invalid qtype \"NOPE\"", ""},
		{"empty time", []string{"--since", "", resolver}, exitUsage, "", "", "flag -since: empty time", ""},
		{"help on stdout", []string{"--help"}, 0, "", "usage: dnstap-reader [flags] [file ...]", "", ""},
		{"-h after a file", []string{resolver, "-h"}, 0, "", "usage: dnstap-reader [flags] [file ...]", "", ""},
		{"stats help on stdout", []string{"stats", "--help"}, 0, "", "usage: dnstap-reader stats", "", ""},
		{"unknown flag", []string{"--nope", resolver}, exitUsage, "", "", "flag provided but not defined: -nope\ndnstap-reader: run 'dnstap-reader --help' for the flags\n", "usage:"},
		{"misspelt subcommand", []string{"stat", resolver}, exitUsage, "", "", `unknown subcommand "stat", did you mean stats?`, ""},
		{"missing file said once", []string{filepath.Join(dir, "nope.fstrm")}, exitError, "", "",
			"dnstap-reader: open " + filepath.Join(dir, "nope.fstrm") + ": no such file or directory\n", "open " + filepath.Join(dir, "nope.fstrm") + ": open"},
		{"stats flag after the file", []string{"stats", statsData + "normal.fstrm", "--json"}, 0, "", "{\n", "", ""},
		{"stats html on stdout", []string{"stats", "--html", "-", statsData + "normal.fstrm"}, 0, "", "<!DOCTYPE html>", "", ""},
		{"stats html on stdout with json", []string{"stats", "--html", "-", "--json", statsData + "normal.fstrm"}, exitUsage, "", "", "invalid --html -", ""},
		{"stats names the flag given", []string{"stats", "--txt-ratio", "2", statsData + "normal.fstrm"}, exitUsage, "", "", "invalid --txt-ratio 2: must be above 0 and at most 1", "nx-ratio"},
		{"stats names only that flag", []string{"stats", "--min-client-queries", "0", statsData + "normal.fstrm"}, exitUsage, "", "", "invalid --min-client-queries 0: must be at least 1", "max-subdomains"},
		{"stats burst", []string{"stats", "--burst-min-qps", "0", statsData + "normal.fstrm"}, exitUsage, "", "", "invalid --burst-min-qps 0", "burst-factor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "-- ends the flags" {
				t.Chdir(dir) // "-dash.fstrm" must be taken as a file, not flags
				tt.args[len(tt.args)-1] = filepath.Base(dash)
			}
			out, errs, code := runCLI(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errs)
			}
			if tt.stdout != "" && out != tt.stdout {
				t.Errorf("stdout differs (%d bytes, want %d)", len(out), len(tt.stdout))
			}
			if tt.prefix != "" && !strings.HasPrefix(out, tt.prefix) {
				t.Errorf("stdout %.60q, want it to start with %q", out, tt.prefix)
			}
			if tt.stderr == "" && errs != "" {
				t.Errorf("stderr %q, want none", errs)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q, want %q", errs, tt.stderr)
			}
			if tt.noErr != "" && strings.Contains(errs, tt.noErr) {
				t.Errorf("stderr %q has %q", errs, tt.noErr)
			}
		})
	}
	if out, _, _ := runCLI(t, resolver, "-mpx"); out == all || out == "" {
		t.Error("-mpx after the file printed the default mode")
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(golden + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStdinTerminal: with no file and standard input a terminal, the usage is printed at
// once instead of waiting for input that will not come.
func TestStdinTerminal(t *testing.T) {
	saved := stdinTerminal
	stdinTerminal = func() bool { return true }
	defer func() { stdinTerminal = saved }()
	for _, args := range [][]string{nil, {"-"}, {"--type", "CQ"}, {"stats"}, {"-f"}} {
		done := make(chan struct{})
		var out, errs string
		var code int
		go func() {
			defer close(done)
			out, errs, code = runCLI(t, args...)
		}()
		select {
		case <-done:
		case <-time.After(time.Minute): // only bounds a hang
			t.Fatalf("%v: still waiting on the terminal", args)
		}
		if code != exitUsage || out != "" || !strings.Contains(errs, "usage: dnstap-reader") || !strings.Contains(errs, "standard input is a terminal") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
}

// TestVersion: the version comes from the build info when -ldflags set none.
func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261205142948-23b5804c4caf+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "23b5804c4cafb932258a4bfb59726ccb504c5ed2"},
			{Key: "vcs.time", Value: "2026-12-05T14:29:48Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		bi           *debug.BuildInfo
		ldv, ldc     string
		want         string
		wantContains string
	}{
		{bi, "", "", "v0.0.0-20261205142948-23b5804c4caf+dirty (revision 23b5804c4cafb932258a4bfb59726ccb504c5ed2, 2026-12-05T14:29:48Z, modified, go1.26.8)", ""},
		{bi, "1.2.0", "abc1234", "1.2.0 (revision abc1234, go1.26.8)", ""},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", "", "(devel) (revision unknown, go1.26.8)", ""},
		{nil, "", "", "(devel) (revision unknown, go1.26.8)", ""},
	} {
		if got := versionFrom(tc.bi, tc.ldv, tc.ldc, "go1.26.8"); got != tc.want {
			t.Errorf("versionFrom(%v, %q, %q) = %q, want %q", tc.bi != nil, tc.ldv, tc.ldc, got, tc.want)
		}
	}
	out, errs, code := runCLI(t, "--version")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "dnstap-reader ") || strings.Contains(out, "unknown (unknown)") {
		t.Errorf("--version: exit %d, %q, %q", code, out, errs)
	}
}

// TestCorruptLength: a frame length of 2 GiB in a short file is a corrupt file (exit 1),
// not one still being written (exit 3).
func TestCorruptLength(t *testing.T) {
	data := readGolden(t, "upstream.fstrm")
	start := 4 + 4 + int(binary.BigEndian.Uint32(data[4:])) // escape, length, START
	bad := append([]byte(nil), data[:start]...)
	bad = binary.BigEndian.AppendUint32(bad, 1<<31)
	bad = append(bad, data[start+4:]...)
	p := filepath.Join(t.TempDir(), "bad.fstrm")
	if err := os.WriteFile(p, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{p}, {"stats", p}} {
		_, errs, code := runCLI(t, args...)
		if code != exitError || !strings.Contains(errs, "bad.fstrm: frame 0 at offset 42: reader: corrupt frame stream: data frame length 2147483648") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and the corrupt length", args, code, errs)
		}
	}
}

// TestFollowStdin: -f - prints each message as it arrives on a pipe, before the input ends.
func TestFollowStdin(t *testing.T) {
	names := readertest.Names("s", 20)
	capture, err := readertest.Capture(names, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdin
	os.Stdin = pr
	defer func() { os.Stdin = saved; pr.Close() }()
	var out, errb testenv.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"-f", "-"}, &out, &errb) }()
	half := len(capture) / 2
	if _, err := pw.Write(capture[:half]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), names[0]+"/IN/A") {
		if time.Now().After(deadline) {
			t.Fatalf("nothing printed before the input ended: %q %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	pw.Write(capture[half:])
	pw.Close()
	if err := <-done; exitCode(err, &bytes.Buffer{}) != 0 {
		t.Fatalf("exit %v, stderr %q", err, errb.String())
	}
	for _, n := range names {
		if strings.Count(out.String(), " "+n+"/IN/A\n") != 1 {
			t.Errorf("%s printed %d times", n, strings.Count(out.String(), " "+n+"/IN/A\n"))
		}
	}
}

// TestFollowSaysWhatItWaitsFor: -f on a path that does not exist yet says so, once.
func TestFollowSaysWhatItWaitsFor(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "later.fstrm"), dir} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb testenv.SyncBuffer
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"-f", path}, &out, &errb) }()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(errb.String(), "waiting for") {
			if time.Now().After(deadline) {
				t.Fatalf("-f %s: nothing said", path)
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // more polls: still said once
		cancel()
		if err := <-done; exitCode(err, &bytes.Buffer{}) != 0 {
			t.Errorf("exit %v", err)
		}
		want := "dnstap-reader: waiting for " + path + " to appear\n"
		if path == dir {
			want = "dnstap-reader: waiting for a Frame Streams file in " + dir + "\n"
		}
		if errb.String() != want {
			t.Errorf("-f %s: stderr %q, want %q", path, errb.String(), want)
		}
	}
}

// TestUsageInDocs: the usage that README.md and docs/reader.md show is what --help prints.
func TestUsageInDocs(t *testing.T) {
	var want bytes.Buffer
	printUsage(&want)
	for _, doc := range []string{"../../README.md", "../../docs/reader.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		i := strings.Index(s, "```\nusage: dnstap-reader [flags] [file ...]\n")
		if i < 0 {
			t.Fatalf("%s shows no usage", doc)
		}
		s = s[i+4:]
		if got := s[:strings.Index(s, "```")]; got != want.String() {
			t.Errorf("%s shows another usage than --help prints:\n%s", doc, got)
		}
	}
}
