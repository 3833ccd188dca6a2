package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

const golden = "../../reader/testdata/golden/"

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// testTmp is a directory for the whole test binary (the collector built once).
var testTmp string

func TestMain(m *testing.M) {
	os.Setenv("TZ", "UTC")
	var err error
	if testTmp, err = os.MkdirTemp("", "dnstap-reader-test"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(testTmp)
	os.Exit(code)
}

func TestModesMatchGoldens(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{golden + "resolver.fstrm"}, golden + "resolver.fstrm.default.txt"},
		{[]string{"-x", golden + "resolver.fstrm"}, golden + "resolver.fstrm.x.txt"},
		{[]string{golden + "upstream.fstrm"}, golden + "upstream.fstrm.default.txt"},
		{[]string{"-p", golden + "resolver.fstrm"}, golden + "resolver.fstrm.p.txt"},
		{[]string{"-y", golden + "resolver.fstrm"}, golden + "resolver.fstrm.y.txt"},
		{[]string{"-y", golden + "upstream.fstrm"}, golden + "upstream.fstrm.y.txt"},
		{[]string{"-mpy", golden + "upstream.fstrm"}, golden + "upstream.fstrm.y.txt"}, // -y wins
		{[]string{"-px", golden + "upstream.fstrm"}, golden + "upstream.fstrm.x.txt"},  // -x wins over -p
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			want, err := os.ReadFile(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			if out != string(want) {
				t.Fatalf("output differs from %s", tt.want)
			}
		})
	}
}

func TestMultipleFilesAndStdin(t *testing.T) {
	one, _, _ := runCLI(t, golden+"resolver.fstrm")
	two, _, _ := runCLI(t, golden+"upstream.fstrm")
	both, errs, code := runCLI(t, golden+"resolver.fstrm", golden+"upstream.fstrm")
	if code != 0 || both != one+two {
		t.Fatalf("two files: exit %d, stderr %q, output is not the concatenation", code, errs)
	}
}

func TestFilters(t *testing.T) {
	all, _, _ := runCLI(t, golden+"resolver.fstrm")
	lines := strings.SplitAfter(all, "\n")
	keep := func(pred func(string) bool) string {
		var b strings.Builder
		for _, l := range lines {
			if l != "" && pred(l) {
				b.WriteString(l)
			}
		}
		return b.String()
	}
	field := func(l string, i int) string { return strings.Fields(l)[i] }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"type", []string{"--type", "CQ,RR"}, keep(func(l string) bool { return field(l, 2) == "CQ" || field(l, 2) == "RR" })},
		{"qname", []string{"--qname", "LOCAL.test."}, keep(func(l string) bool {
			q := strings.Split(field(l, 8), "/")[0]
			return q == "local.test" || strings.HasSuffix(q, ".local.test")
		})},
		{"qtype", []string{"--qtype", "aaaa,txt"}, keep(func(l string) bool {
			return strings.HasSuffix(l, "/AAAA\n") || strings.HasSuffix(l, "/TXT\n")
		})},
		{"client v6", []string{"--client", "::1/128"}, keep(func(l string) bool { return strings.HasPrefix(field(l, 3), "::1:") })},
		{"combined", []string{"--type", "CR", "--qtype", "TXT", "--client", "127.0.53.0/24"}, keep(func(l string) bool {
			return field(l, 2) == "CR" && strings.HasSuffix(l, "/TXT\n") && strings.HasPrefix(field(l, 3), "127.0.53.")
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				t.Fatal("filter test selects nothing from the golden")
			}
			out, errs, code := runCLI(t, append(tt.args, golden+"resolver.fstrm")...)
			if code != 0 || out != tt.want {
				t.Fatalf("exit %d, stderr %q\n got:\n%s\nwant:\n%s", code, errs, out, tt.want)
			}
		})
	}
}

func TestRcodeAndTimeFilters(t *testing.T) {
	out, _, code := runCLI(t, "--json", "--rcode", "NXDOMAIN,REFUSED,SERVFAIL", golden+"resolver.fstrm")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	got := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct{ Rcode string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad JSON %q: %v", l, err)
		}
		got[m.Rcode]++
	}
	for _, rc := range []string{"NXDOMAIN", "REFUSED", "SERVFAIL"} {
		if got[rc] == 0 {
			t.Errorf("no %s message selected (golden has them): %v", rc, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("other rcodes selected: %v", got)
	}
	// No message is newer than "now", so --since 1s (one second ago) selects nothing and
	// --until 1s everything.
	if out, _, _ := runCLI(t, "--since", "1s", golden+"resolver.fstrm"); out != "" {
		t.Errorf("--since 1s printed %d bytes", len(out))
	}
	all, _, _ := runCLI(t, golden+"resolver.fstrm")
	if out, _, _ := runCLI(t, "--until", "1s", golden+"resolver.fstrm"); out != all {
		t.Errorf("--until 1s lost messages")
	}
}

func TestJSON(t *testing.T) {
	out, errs, code := runCLI(t, "--json", golden+"resolver.fstrm")
	text, _, _ := runCLI(t, golden+"resolver.fstrm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	jl := strings.Split(strings.TrimSpace(out), "\n")
	tl := strings.Split(strings.TrimSpace(text), "\n")
	if len(jl) != len(tl) {
		t.Fatalf("%d JSON lines, %d text lines", len(jl), len(tl))
	}
	for i, l := range jl {
		var m struct {
			Type, QueryAddress, ResponseAddress, Qname, Qclass, Qtype, Transport string
			QueryPort, ResponsePort, MessageSize                                 int
			QueryTime, ResponseTime                                              *time.Time
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		var raw map[string]any
		json.Unmarshal([]byte(l), &raw)
		m.QueryAddress, _ = raw["query_address"].(string)
		m.ResponseAddress, _ = raw["response_address"].(string)
		qp, _ := raw["query_port"].(float64)
		rp, _ := raw["response_port"].(float64)
		size, _ := raw["message_size"].(float64)
		// Rebuild the text line's fields from the JSON and compare.
		f := strings.Fields(tl[i])
		arrow := "->"
		if !strings.HasSuffix(m.Type, "Q") {
			arrow = "<-"
		}
		want := strings.Join(f[2:], " ")
		qname := strings.TrimSuffix(m.Qname, ".")
		if qname == "" {
			qname = "."
		}
		got := strings.Join([]string{m.Type, m.QueryAddress + ":" + itoa(int(qp)), arrow,
			m.ResponseAddress + ":" + itoa(int(rp)), m.Transport, itoa(int(size)) + "b",
			qname + "/" + m.Qclass + "/" + m.Qtype}, " ")
		if got != want {
			t.Fatalf("line %d: JSON says %q, text says %q", i+1, got, want)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestBadInputs(t *testing.T) {
	data, err := os.ReadFile(golden + "resolver.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	complete, _, _ := runCLI(t, golden+"resolver.fstrm")
	cut := write("cut.fstrm", data[:len(data)-100])
	wrong := write("wrong.fstrm", []byte("\x00\x00\x00\x00\x00\x00\x00\x16\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x0aother:type"))
	garbage := write("garbage.fstrm", []byte("this is not a frame stream at all"))
	tests := []struct {
		name       string
		args       []string
		code       int
		stderr     string
		wantPrefix bool
	}{
		{"truncated", []string{cut}, exitTruncated, "cut.fstrm: frame ", true},
		{"wrong content type", []string{wrong}, exitError, `got "other:type"`, false},
		{"garbage", []string{garbage}, exitError, "not a Frame Streams file", false},
		{"missing", []string{filepath.Join(dir, "nope")}, exitError, "no such file", false},
		{"corrupt wins over truncated", []string{cut, garbage}, exitError, "garbage.fstrm", true},
		{"usage", []string{"--type", "XX", cut}, exitUsage, "invalid message type", false},
		{"json with -y", []string{"--json", "-y", cut}, exitUsage, "--json cannot", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errs, tt.code, tt.stderr)
			}
			if tt.wantPrefix && (out == "" || !strings.HasPrefix(complete, out)) {
				t.Fatalf("printed %d bytes, not a prefix of the complete output", len(out))
			}
		})
	}
}

// TestFollowRotation writes a file as dnstap-collector does (NAME.part, renamed to NAME when
// complete, then the next NAME.part) while dnstap-reader -f follows the directory.
func TestFollowRotation(t *testing.T) {
	data, err := os.ReadFile(golden + "upstream.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := runCLI(t, golden+"upstream.fstrm")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testenv.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-f", dir}, &out, &errb) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("waiting for %s; output so far:\n%s\nstderr: %s", what, out.String(), errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	half := len(data) / 2
	part1 := filepath.Join(dir, "dnstap-1.fstrm.part")
	f, err := os.Create(part1)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data[:half]) // ends mid-frame: the reader must wait, not fail
	waitFor("the first half", func() bool { return out.String() != "" })
	f.Write(data[half:])
	f.Close()
	if err := os.Rename(part1, filepath.Join(dir, "dnstap-1.fstrm")); err != nil {
		t.Fatal(err)
	}
	waitFor("the first file", func() bool { return out.String() == want })
	// The collector then compresses the closed file (NAME.gz.part, renamed NAME.gz): the
	// follower must not read it again. Other content, so that a re-read shows.
	other, err := os.ReadFile(golden + "resolver.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dnstap-1.fstrm.gz.part", "dnstap-1.fstrm.zst"} {
		if err := os.WriteFile(filepath.Join(dir, name), other, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	part2 := filepath.Join(dir, "dnstap-2.fstrm.part")
	if err := os.WriteFile(part2, data, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the second file", func() bool { return out.String() == want+want })
	cancel()
	if err := <-done; exitCode(err, &errb) != 0 {
		t.Fatalf("exit status %d, stderr %s", exitCode(err, &errb), errb.String())
	}
}

func TestStdinAndCompressed(t *testing.T) {
	data, err := os.ReadFile(golden + "resolver.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := runCLI(t, golden+"resolver.fstrm")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		prog string // compressor, or "" for none
	}{
		{"stdin dash", []string{"-"}, ""},
		{"stdin implicit", nil, ""},
		{"gzip stdin", nil, "gzip"},
		{"zstd stdin", nil, "zstd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := data
			if tc.prog != "" {
				bin := testenv.LookPath(t, tc.prog, tc.prog)
				cmd := exec.Command(bin, "-c")
				cmd.Stdin = bytes.NewReader(data)
				if in, err = cmd.Output(); err != nil {
					t.Fatal(err)
				}
			}
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(p, in, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			saved := os.Stdin
			os.Stdin = f
			defer func() { os.Stdin = saved }()
			out, errs, code := runCLI(t, tc.args...)
			if code != 0 || out != want {
				t.Fatalf("exit %d, stderr %q, %d bytes of output, want %d", code, errs, len(out), len(want))
			}
		})
	}
}

// TestFollowPlainFile follows a growing file that is then rotated away (renamed) and
// replaced by a new file under the same name, as logrotate or fstrm_capture with -s do.
func TestFollowPlainFile(t *testing.T) {
	data, err := os.ReadFile(golden + "upstream.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := runCLI(t, golden+"upstream.fstrm")
	dir := t.TempDir()
	path := filepath.Join(dir, "dnstap.fstrm")
	if err := os.WriteFile(path, data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testenv.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--follow", path}, &out, &errb) }()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("waiting for %s; output so far:\n%s\nstderr: %s", what, out.String(), errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("the first third", func() bool { return out.String() != "" })
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data[len(data)/3:])
	f.Close()
	wait("the whole file", func() bool { return out.String() == want })
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	wait("the new file", func() bool { return out.String() == want+want })
	cancel()
	if err := <-done; exitCode(err, &errb) != 0 {
		t.Fatalf("exit status %d, stderr %s", exitCode(err, &errb), errb.String())
	}
}
