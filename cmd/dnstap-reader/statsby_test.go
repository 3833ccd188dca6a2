package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const goldenDir = "../../reader/testdata/golden/"

// TestStatsByIdentity: each identity's report is the report of its messages alone (here each
// golden capture has one identity), and the total is the report of them all.
func TestStatsByIdentity(t *testing.T) {
	files := []string{goldenDir + "resolver.fstrm", goldenDir + "upstream.fstrm", statsData + "mixed.fstrm"}
	out, errOut, code := runCLI(t, append([]string{"stats", "--by", "identity", "--json"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got byIdentityJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"resolver.golden": files[0], "upstream.golden": files[1], "resolver": files[2]}
	if len(got.ByIdentity) != len(want) {
		t.Fatalf("%d identities, want %d: %+v", len(got.ByIdentity), len(want), got.ByIdentity)
	}
	var sum uint64
	for _, ir := range got.ByIdentity {
		alone := statsJSON(t, want[ir.Identity])
		if ir.Report.Messages != alone.Messages || len(ir.Report.Signals) != len(alone.Signals) || ir.Report.Rate.PeakQPS != alone.Rate.PeakQPS {
			t.Errorf("%s: %d messages, %d signals, peak %v; stats of %s alone: %d, %d, %v", ir.Identity,
				ir.Report.Messages, len(ir.Report.Signals), ir.Report.Rate.PeakQPS, want[ir.Identity], alone.Messages, len(alone.Signals), alone.Rate.PeakQPS)
		}
		sum += ir.Report.Messages
	}
	all := statsJSON(t, files...)
	if got.Total.Messages != sum || got.Total.Messages != all.Messages || len(got.Total.Signals) != len(all.Signals) {
		t.Errorf("total %d messages, %d signals; the identities sum to %d; stats of all: %d, %d",
			got.Total.Messages, len(got.Total.Signals), sum, all.Messages, len(all.Signals))
	}

	text, _, code := runCLI(t, append([]string{"stats", "--by", "identity"}, files...)...)
	if code != 0 || !strings.HasPrefix(text, "By identity: 3\n") || !strings.Contains(text, "fleet total") || !strings.Contains(text, "\nFleet total:\nmessages  1502\n") {
		t.Errorf("text output (exit %d):\n%s", code, text)
	}
}

func TestStatsByBadFlag(t *testing.T) {
	for _, args := range [][]string{{"--by", "router"}, {"--by", "identity", "--html", "x.html"}} {
		if _, errOut, code := runCLI(t, append([]string{"stats"}, args...)...); code != exitUsage || !strings.Contains(errOut, "--by") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
