package statsbench

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestRunSmall runs the whole benchmark on a few thousand messages: every program must
// agree on the message count (Run checks the outputs) and the table must list all three.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dnstap-reader")
	}
	testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	testenv.LookPath(t, "/usr/bin/time", "time")
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		testenv.Unavailable(t, "no /usr/bin/python3 (apt-get install python3)")
	}
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{Messages: 5000, Module: "../../..", Out: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	for _, r := range res {
		if r.Messages != 5000 || r.Seconds <= 0 || r.MaxRSSMiB <= 0 {
			t.Errorf("%+v: want 5000 messages, time and memory measured", r)
		}
	}
	if !strings.Contains(out.String(), "| dnstap-reader stats | 5000 |") {
		t.Errorf("table lacks our row:\n%s", out.String())
	}
}
