package main

import (
	"os"
	"strings"
	"testing"
)

// TestFormatFlag checks --format: each version's goldens (recorded from that version's own
// dnstap-read), with the parallel renderer the CLI uses, and the refusal of an unknown one.
func TestFormatFlag(t *testing.T) {
	tests := []struct {
		args []string
		want string // golden file, or "exit 2: <part of stderr>"
	}{
		{[]string{"--format", "9.14", "-y", golden + "resolver.fstrm"}, golden + "resolver.fstrm.9.14.y.txt"},
		{[]string{"--format", "9.14", "-p", golden + "resolver.fstrm"}, golden + "resolver.fstrm.9.14.p.txt"},
		{[]string{"--format=9.14.12", "-y", golden + "upstream.fstrm"}, golden + "upstream.fstrm.9.14.y.txt"},
		{[]string{"--format", "9.20", "-y", golden + "resolver.fstrm"}, golden + "resolver.fstrm.9.20.y.txt"},
		{[]string{"--format", "9.18", "-y", golden + "resolver.fstrm"}, golden + "resolver.fstrm.y.txt"},
		{[]string{"--format", "9.13", golden + "resolver.fstrm"}, `exit 2: --format: unknown dnstap-read format "9.13": known are 9.14, 9.18, 9.20`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, tt.args...)
			if msg, ok := strings.CutPrefix(tt.want, "exit 2: "); ok {
				if code != 2 || !strings.Contains(errs, msg) {
					t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, errs, msg)
				}
				return
			}
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
