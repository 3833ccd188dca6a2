package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/reader/stats"
)

const statsData = "../../reader/stats/testdata/"

func statsJSON(t *testing.T, args ...string) *stats.Report {
	t.Helper()
	out, errOut, code := runCLI(t, append([]string{"stats", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("stats %v: exit %d: %s", args, code, errOut)
	}
	var r stats.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stats %v: %v", args, err)
	}
	return &r
}

func TestStatsText(t *testing.T) {
	out, errOut, code := runCLI(t, "stats", statsData+"mixed.fstrm")
	want, err := os.ReadFile(statsData + "mixed.stats")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(want) {
		t.Errorf("stats mixed.fstrm: exit %d, stderr %q; output differs from %s:\n%s", code, errOut, statsData+"mixed.stats", out)
	}
}

func TestStatsFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		messages uint64
		signals  int
	}{
		{"all", []string{statsData + "mixed.fstrm"}, 1364, 6},
		{"two files", []string{statsData + "normal.fstrm", statsData + "normal.fstrm"}, 296, 0},
		{"type filter", []string{"--type", "CQ,CR", statsData + "mixed.fstrm"}, 700, 6},
		{"client filter", []string{"--client", "127.0.57.11/32", statsData + "mixed.fstrm"}, 40, 0},
		{"qname filter", []string{"--qname", "tunnel-c2.net", "--type", "CQ", statsData + "mixed.fstrm"}, 250, 4},
		{"higher thresholds", []string{"--max-subdomains", "1000", "--min-suspicious", "1000", statsData + "mixed.fstrm"}, 1364, 2},
		{"baseline", []string{"--baseline", statsData + "normal.fstrm", statsData + "mixed.fstrm"}, 1364, 16},
		// Upstream, the resolver itself (127.0.57.1) carries the tunnel traffic it forwarded.
		{"upstream", []string{"--upstream", statsData + "mixed.fstrm"}, 1364, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := statsJSON(t, tc.args...)
			if r.Messages != tc.messages || len(r.Signals) != tc.signals {
				t.Errorf("stats %v: %d messages, %d signals %+v; want %d, %d", tc.args, r.Messages, len(r.Signals), r.Signals, tc.messages, tc.signals)
			}
		})
	}
}

func TestStatsHTML(t *testing.T) {
	page := filepath.Join(t.TempDir(), "stats.html")
	out, errOut, code := runCLI(t, "stats", "--html", page, "--json", statsData+"mixed.fstrm")
	if code != 0 || !strings.HasPrefix(out, "{") {
		t.Fatalf("exit %d, stderr %q, stdout %.40q", code, errOut, out)
	}
	b, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(b), "tunnel-c2.net.") {
		t.Errorf("html page: %v, has tunnel-c2.net.: %v", err, strings.Contains(string(b), "tunnel-c2.net."))
	}
}

func TestStatsErrors(t *testing.T) {
	file, err := os.ReadFile(statsData + "normal.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.fstrm")
	if err := os.WriteFile(truncated, file[:len(file)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"bad top", []string{"--top", "0", statsData + "normal.fstrm"}, exitUsage, "invalid --top 0"},
		{"bad ratio", []string{"--nx-ratio", "2", statsData + "normal.fstrm"}, exitUsage, "--nx-ratio 2"},
		{"bad label", []string{"--long-label", "64", statsData + "normal.fstrm"}, exitUsage, "between 1 and 63"},
		{"bad type", []string{"--type", "XX", statsData + "normal.fstrm"}, exitUsage, "XX"},
		{"unknown flag", []string{"--nope"}, exitUsage, "not defined: -nope"},
		{"missing file", []string{"/nonexistent.fstrm"}, exitError, "/nonexistent.fstrm"},
		{"missing baseline", []string{"--baseline", "/nonexistent.fstrm", statsData + "normal.fstrm"}, exitError, "baseline"},
		{"truncated", []string{truncated}, exitTruncated, "truncated.fstrm"},
		{"not dnstap", []string{"stats_test.go"}, exitError, "stats_test.go"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(t, append([]string{"stats"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stats %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.stderr)
			}
		})
	}
	// A truncated input still gets its report.
	out, _, _ := runCLI(t, "stats", truncated)
	if !strings.Contains(out, "messages ") {
		t.Errorf("no report for a truncated input:\n%s", out)
	}
}

// TestStatsBadInputs: bad input in stats behaves as in the reader: a corrupt frame is named
// with its file and offset (exit 1); a missing or non-dnstap file among others is named and
// the report of the others is still printed, with exit 1.
func TestStatsBadInputs(t *testing.T) {
	normal := statsData + "normal.fstrm"
	data, err := os.ReadFile(normal)
	if err != nil {
		t.Fatal(err)
	}
	// Replace the first data frame's payload by bytes that are no protobuf.
	start := 8 + int(binary.BigEndian.Uint32(data[4:]))
	n := int(binary.BigEndian.Uint32(data[start:]))
	bad := append([]byte(nil), data...)
	for i := start + 4; i < start+4+n; i++ {
		bad[i] = 0xff
	}
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.fstrm")
	if err := os.WriteFile(corrupt, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.fstrm")
	whole := statsJSON(t, normal).Messages
	tests := []struct {
		name     string
		args     []string
		stderr   []string
		messages uint64 // in the report; 0: no report
	}{
		{"corrupt frame", []string{corrupt}, []string{"corrupt.fstrm: frame 0 at offset 42: reader: data frame is not a valid dnstap protobuf"}, whole - 1},
		{"missing among others", []string{normal, missing, normal}, []string{"open " + missing + ": no such file or directory"}, 2 * whole},
		{"not dnstap among others", []string{"stats_test.go", normal}, []string{"stats_test.go: offset 0: reader: not a Frame Streams file"}, whole},
		{"only a missing file", []string{missing}, []string{"open " + missing}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append([]string{"stats", "--json"}, tc.args...)...)
			if code != exitError {
				t.Errorf("exit %d, want 1", code)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr %q, want %q", errOut, s)
				}
			}
			if tc.messages == 0 {
				if out != "" {
					t.Errorf("a report of nothing: %.80q", out)
				}
				return
			}
			var r stats.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil || r.Messages != tc.messages {
				t.Errorf("report: %v, %d messages, want %d", err, r.Messages, tc.messages)
			}
		})
	}
}
