package stats

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/reader"
)

var update = flag.Bool("update", false, "rewrite golden files")

// load adds every message of the capture files to s (or to b when b is not nil).
func load(t testing.TB, add func(*Record), paths ...string) {
	t.Helper()
	var rec Record
	for _, p := range paths {
		d, err := reader.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for {
			m, err := d.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			FromMessage(&rec, m)
			add(&rec)
		}
		d.Close()
	}
}

func report(t testing.TB, cfg Config, paths ...string) *Report {
	t.Helper()
	s := New(cfg)
	load(t, s.Add, paths...)
	return s.Report()
}

func baseline(t testing.TB, paths ...string) *Baseline {
	t.Helper()
	b := NewBaseline(false, false)
	load(t, b.Add, paths...)
	return b
}

const (
	normal = "testdata/normal.fstrm"
	mixed  = "testdata/mixed.fstrm"
	// An authoritative server (BIND 9.18, dnstap { auth; client; }) answering 490 distinct
	// names of its zone lab.test; then the same with a tunnel inside that zone.
	auth       = "testdata/auth.fstrm"
	authTunnel = "testdata/auth-tunnel.fstrm"
)

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		baseline string
	}{
		{"normal", normal, ""},
		{"mixed", mixed, ""},
		{"mixed-baseline", mixed, normal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			if tc.baseline != "" {
				cfg.Baseline = baseline(t, tc.baseline)
			}
			r := report(t, cfg, tc.input)
			var txt, js bytes.Buffer
			if err := WriteText(&txt, r); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.name+".stats"), txt.Bytes())
			golden(t, filepath.Join("testdata", tc.name+".stats.json"), js.Bytes())
		})
	}
}

func counts(c []Count) map[string]uint64 {
	m := map[string]uint64{}
	for _, x := range c {
		m[x.Key] = x.Count
	}
	return m
}

func tops(c []Top) map[string]uint64 {
	m := map[string]uint64{}
	for _, x := range c {
		m[x.Key] = x.Count
	}
	return m
}

// TestKnownContent checks counts against what scripts/stats-capture.sh sent: 20 queries
// from each of three clients (13 A, 4 AAAA, 2 MX, 1 TXT; one NXDOMAIN; every tenth over
// TCP), then 40 DGA-like NXDOMAIN queries from 127.0.57.21 and 250 TXT queries with unique
// names under t.tunnel-c2.net from 127.0.57.22.
func TestKnownContent(t *testing.T) {
	n := report(t, Config{Exact: true}, normal)
	m := report(t, Config{Exact: true}, mixed)
	check := func(what string, got, want uint64) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	check("normal CQ", counts(n.ByType)["CQ"], 60)
	check("normal CR", counts(n.ByType)["CR"], 60)
	check("normal CQ over TCP+UDP", counts(n.QTypes)["A"]+counts(n.QTypes)["AAAA"]+counts(n.QTypes)["MX"]+counts(n.QTypes)["TXT"], 60)
	check("normal A", counts(n.QTypes)["A"], 39)
	check("normal AAAA", counts(n.QTypes)["AAAA"], 12)
	check("normal MX", counts(n.QTypes)["MX"], 6)
	check("normal TXT", counts(n.QTypes)["TXT"], 3)
	check("normal NXDOMAIN", counts(n.RCodes)["NXDOMAIN"], 3)
	check("normal NOERROR", counts(n.RCodes)["NOERROR"], 57)
	check("normal TCP (CQ+CR+RQ/RR over TCP)", counts(n.ByTransport)["TCP"], 12)
	for _, c := range []string{"127.0.57.11", "127.0.57.12", "127.0.57.13"} {
		check("normal queries from "+c, tops(n.Clients.ByQueries)[c], 20)
		check("normal NXDOMAIN to "+c, tops(n.Clients.ByNXDOMAIN)[c], 1)
	}
	check("normal www.example.org.", tops(n.Names.ByQueries)["www.example.org."], 18)
	check("normal example.org. domain", tops(n.Domains.ByQueries)["example.org."], 36)
	check("normal example.co.uk. domain", tops(n.Domains.ByQueries)["example.co.uk."], 6)
	check("normal wwww.example.org. NXDOMAIN", tops(n.Names.ByNXDOMAIN)["wwww.example.org."], 3)

	check("mixed CQ", counts(m.ByType)["CQ"], 60+40+250)
	check("mixed TXT", counts(m.QTypes)["TXT"], 3+250)
	check("mixed NXDOMAIN", counts(m.RCodes)["NXDOMAIN"], 3+40)
	check("mixed queries from 127.0.57.21", tops(m.Clients.ByQueries)["127.0.57.21"], 40)
	check("mixed NXDOMAIN to 127.0.57.21", tops(m.Clients.ByNXDOMAIN)["127.0.57.21"], 40)
	check("mixed queries from 127.0.57.22", tops(m.Clients.ByQueries)["127.0.57.22"], 250)
	check("mixed tunnel-c2.net. queries", tops(m.Domains.ByQueries)["tunnel-c2.net."], 250)
	for _, l := range m.Latency {
		if l.Pair == "CQ->CR" {
			check("mixed CQ->CR matched", l.Matched, 350)
		}
	}
	for _, p := range m.Pairing {
		if p.Type == "CQ" {
			check("mixed CQ unpaired", p.Unpaired, 0)
		}
	}
}

type flag2 struct{ kind, subject string }

func signalSet(r *Report) []flag2 {
	var out []flag2
	for _, s := range r.Signals {
		out = append(out, flag2{s.Kind, s.Subject})
	}
	return out
}

// TestSignals: the tunnelling and DGA traffic is flagged, with the right subjects; normal
// traffic raises nothing: a resolver's clients, alone or against themselves as baseline, and
// an authoritative server answering hundreds of distinct names of its own zone (a zone's
// size is not a tunnel). Every other capture of the repository raises nothing either.
func TestSignals(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		baseline string
		exact    bool
		want     []flag2
	}{
		{"normal", normal, "", false, nil},
		{"normal exact", normal, "", true, nil},
		{"normal against itself", normal, normal, false, nil},
		{"mixed", mixed, "", false, []flag2{
			{SignalSuspiciousDomain, "tunnel-c2.net."},
			{SignalSuspiciousClient, "127.0.57.22"},
			{SignalSuspiciousClient, "127.0.57.21"},
			{SignalManySubdomains, "tunnel-c2.net."},
			{SignalNXRatio, "127.0.57.21"},
			{SignalTXTNullAny, "127.0.57.22"},
		}},
		{"authoritative", auth, "", false, nil},
		{"authoritative exact", auth, "", true, nil},
		// Every name is under lab.test., so the domain is the zone's; the tunnel still shows
		// in its labels and its client.
		{"authoritative with a tunnel in its zone", authTunnel, "", false, []flag2{
			{SignalSuspiciousDomain, "lab.test."},
			{SignalSuspiciousClient, "127.0.57.34"},
			{SignalManySubdomains, "lab.test."},
			{SignalTXTNullAny, "127.0.57.34"},
		}},
		{"resolver golden", "../testdata/golden/resolver.fstrm", "", false, nil},
		{"upstream golden", "../testdata/golden/upstream.fstrm", "", false, nil},
		{"bindtext capture", "../internal/bindtext/testdata/capture.fstrm", "", false, nil},
		{"bindtext crafted", "../internal/bindtext/testdata/crafted.fstrm", "", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Exact: tc.exact}
			if tc.baseline != "" {
				cfg.Baseline = baseline(t, tc.baseline)
			}
			got := signalSet(report(t, cfg, tc.input))
			if !slices.Equal(got, tc.want) {
				t.Errorf("signals = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestBaseline: against the normal capture, the mixed one's new domains are exactly the
// tunnel domain and the 40 DGA domains.
func TestBaseline(t *testing.T) {
	r := report(t, Config{Baseline: baseline(t, normal), TopN: 100}, mixed)
	b := r.Baseline
	if b == nil {
		t.Fatal("no baseline section")
	}
	if b.Distinct != 41 || b.Queries != 290 || b.BaselineDomains != 3 {
		t.Errorf("baseline: %d new domains, %d queries, baseline %d; want 41, 290, 3", b.Distinct, b.Queries, b.BaselineDomains)
	}
	news := 0
	for _, s := range r.Signals {
		if s.Kind == SignalNewDomain {
			news++
		}
	}
	if news != 41 {
		t.Errorf("%d new_domain signals, want 41", news)
	}
	if b.Top[0].Key != "tunnel-c2.net." || b.Top[0].Count != 250 {
		t.Errorf("top new domain = %+v, want tunnel-c2.net. with 250", b.Top[0])
	}
}

// TestSketchBounds: with tiny sketches the reported counts still bracket the exact ones.
func TestSketchBounds(t *testing.T) {
	ex := report(t, Config{Exact: true, TopN: 1000}, mixed)
	sk := report(t, Config{Capacity: 16, TopN: 16}, mixed)
	for _, c := range []struct {
		name      string
		got, want TopTables
	}{{"names", sk.Names, ex.Names}, {"domains", sk.Domains, ex.Domains}, {"clients", sk.Clients, ex.Clients}} {
		truth := tops(c.want.ByQueries)
		for _, row := range c.got.ByQueries {
			if tv := truth[row.Key]; row.Count < tv || row.Count-row.Error > tv {
				t.Errorf("%s %s: count %d error %d, exact %d", c.name, row.Key, row.Count, row.Error, tv)
			}
			if row.Error > c.got.MaxError {
				t.Errorf("%s %s: error %d > max error %d", c.name, row.Key, row.Error, c.got.MaxError)
			}
		}
	}
	if sk.Domains.ByQueries[0].Key != "tunnel-c2.net." {
		t.Errorf("top domain with 16 slots = %s, want tunnel-c2.net.", sk.Domains.ByQueries[0].Key)
	}
}

// TestGrowthNamesItsClient: the many_subdomains signal of a tunnel inside the zone names
// the client that asked its new subdomains.
func TestGrowthNamesItsClient(t *testing.T) {
	for _, s := range report(t, Config{}, authTunnel).Signals {
		if s.Kind == SignalManySubdomains && (s.Client != "127.0.57.34" || s.Value != 265 ||
			!strings.Contains(s.Reason, "250 of them from 127.0.57.34")) {
			t.Errorf("%+v: want 265 new subdomains, 250 from 127.0.57.34", s)
		}
	}
}

// TestJSONEmpty: a report of nothing has empty lists, never null, and no zero times.
func TestJSONEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, New(Config{}).Report()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("null")) || bytes.Contains(b.Bytes(), []byte("0001-01-01")) {
		t.Errorf("empty report:\n%s", b.Bytes())
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"signals", "latency", "pairing", "by_type", "qtypes"} {
		if l, ok := m[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %v, want []", k, m[k])
		}
	}
	if span := m["span"].(map[string]any); span["first"] != nil || span["last"] != nil {
		t.Errorf("span %v: want no first and last", span)
	}
}

func TestWriteTextEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteText(&b, New(Config{}).Report()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("messages  0\n")) {
		t.Errorf("empty report:\n%s", b.Bytes())
	}
}

// TestTypeNames: stats names query types and rcodes with the reader's one table, as
// dnstap-reader prints them (DSYNC, not TYPE66).
func TestTypeNames(t *testing.T) {
	s := New(Config{})
	for _, qt := range []uint16{28, 65, 66, 65280, 65533} {
		s.Add(rec(reader.ClientQuery, 10, 4000, 1e18, 0, wire(1, "a.example.org", qt, 0, false)))
	}
	s.Add(rec(reader.ClientResponse, 10, 4000, 0, 1e18, wire(1, "a.example.org", 1, 9, true)))
	r := s.Report()
	var got []string
	for _, c := range r.QTypes {
		got = append(got, c.Key)
	}
	slices.Sort(got)
	want := []string{reader.TypeString(66), reader.TypeString(65533), "AAAA", "HTTPS", "TYPE65280"}
	slices.Sort(want)
	if !slices.Equal(got, want) || !slices.Contains(got, "DSYNC") {
		t.Errorf("qtypes %v, want %v (with DSYNC)", got, want)
	}
	if len(r.RCodes) != 1 || r.RCodes[0].Key != reader.RcodeString(9) {
		t.Errorf("rcodes %v, want %s", r.RCodes, reader.RcodeString(9))
	}
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
