package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestMeasure runs real programs: the output reaches stdout, a failure carries the program's
// standard error, and the peak memory is the program's (a shell holding 40 MB in a variable).
func TestMeasure(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	m, err := Measure(ctx, []string{"sh", "-c", `echo "$GREETING"`}, []string{"GREETING=hello"}, &out)
	if err != nil || out.String() != "hello\n" || m.Wall <= 0 {
		t.Fatalf("Measure: %+v, %v, output %q", m, err, out.String())
	}
	if _, err := Measure(ctx, []string{"sh", "-c", "echo boom >&2; exit 3"}, nil, &out); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing program: %v, want its stderr", err)
	}
	m, err = Measure(ctx, []string{"sh", "-c", `x=$(head -c 40000000 /dev/zero | tr '\0' a); echo ${#x}`}, nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	if m.MaxRSS < 40e6 || m.MaxRSS > 1<<30 || m.CPU <= 0 {
		t.Errorf("40 MB shell variable: max RSS %d bytes, CPU %v", m.MaxRSS, m.CPU)
	}
}

func TestInstallUnpinned(t *testing.T) {
	if _, err := Install(context.Background(), "no-such-tool", t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a pinned peer tool") {
		t.Errorf("Install of an unpinned tool: %v", err)
	}
}
