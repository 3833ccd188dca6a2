//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/e2e/internal/dnsq"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// chainBurst is the number of queries of the burst: a few thousand, bounded.
const chainBurst = 2000

// TestChain proves the whole chain on each flavor (E2E_FLAVORS, default both): BIND from
// the bind9-dnstap .deb (one flavor per BIND of bindTargets: bind9-dnstap-9.14,
// bind9-dnstap-9.18, bind9-dnstap-9.20), and Debian's own bind9, each with the collector and the reader
// installed from the toolkit's .debs. The collector starts first, then named. Queries go
// over UDP and TCP, IPv4 (from the test, over the Docker bridge) and IPv6 (::1, from the
// dnsq program inside the container). The capture must hold exactly the messages BIND logs
// for them, and dnstap-reader must print what BIND's dnstap-read prints for it, in all four
// modes.
func TestChain(t *testing.T) {
	testenv.Docker(t)
	t.Parallel() // after the sequential tests, while BIND compiles in the background
	bindSerial.Lock()
	defer bindSerial.Unlock()
	names, err := chainFlavors(chainEnv("E2E_FLAVORS", flavorDnstap+","+flavorDebian))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) { testChain(t, name) })
	}
}

// chainCase is a query and what its answer must be.
type chainCase struct {
	q         dnsq.Query
	rcode     int
	answers   int  // -1: do not check
	truncated bool // the answer has TC (then the same query is sent over TCP)
}

func chainCases(server string) []chainCase {
	q := func(network, name string, qtype uint16) dnsq.Query {
		return dnsq.Query{Net: network, Server: server, Name: name, Type: qtype, RD: true}
	}
	www, nx, big := "www."+chain.ZoneExample, "nx."+chain.ZoneExample, chain.BigTXTName
	do := q("udp", chain.ZoneExample, dns.TypeSOA)
	do.DO = true
	v1 := q("udp", www, dns.TypeA)
	v1.EDNSVersion = 1
	nord := q("udp", www, dns.TypeA)
	nord.RD = false
	var cs []chainCase
	for _, network := range []string{"udp", "tcp"} {
		cs = append(cs,
			chainCase{q: q(network, www, dns.TypeA), answers: 1},
			chainCase{q: q(network, www, dns.TypeAAAA), answers: 1},
			chainCase{q: q(network, chain.ZoneExample, dns.TypeMX), answers: 1},
			chainCase{q: q(network, nx, dns.TypeA), rcode: dns.RcodeNameError},
			chainCase{q: q(network, "x."+chain.ZoneRefused, dns.TypeA), rcode: dns.RcodeRefused},
		)
	}
	return append(cs,
		chainCase{q: q("udp", big, dns.TypeTXT), answers: -1, truncated: true},
		chainCase{q: do, answers: 1},
		chainCase{q: v1, rcode: dns.RcodeBadVers},
		chainCase{q: nord, answers: 1},
		chainCase{q: q("tcp", chain.ZoneExample, dns.TypeAXFR), answers: -1},
	)
}

// checkCase checks a result against its case, and returns the TCP retry of a truncated answer.
func checkCase(t *testing.T, c chainCase, r dnsq.Result) (retry *dnsq.Query) {
	t.Helper()
	if r.Err != "" {
		t.Errorf("%s: %s", c.q, r.Err)
		return nil
	}
	if r.Rcode != c.rcode || r.Truncated != c.truncated || (c.answers >= 0 && r.Answers != c.answers) {
		t.Errorf("%s: rcode %s, truncated %v, %d answers; want %s, %v, %d", c.q, dns.RcodeToString[r.Rcode], r.Truncated, r.Answers,
			dns.RcodeToString[c.rcode], c.truncated, c.answers)
	}
	if c.q.DO && !r.DO {
		t.Errorf("%s: the answer's OPT lacks the DO bit", c.q)
	}
	if r.Truncated {
		q := c.q
		q.Net = "tcp"
		return &q
	}
	return nil
}

func testChain(t *testing.T, flavor string) {
	ctx := context.Background()
	ctr := chainRun(t, flavor)

	done := chainPhase(t, "start collector, then named")
	if err := ctr.StartUpstream(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.StartCollector(ctx, "-w", chain.CaptureDir+"/capture.fstrm"); err != nil {
		t.Fatal(err)
	}
	if err := ctr.StartNamed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.WaitLog(ctx, chain.CollectorLog, "sender connected", 1, 30*time.Second); err != nil {
		t.Fatalf("named did not connect to the collector: %v", err)
	}
	done()

	done = chainPhase(t, "queries")
	var results []dnsq.Result
	// IPv4 from the test process.
	for _, c := range chainCases(ctr.Server()) {
		r := dnsq.Do(ctx, c.q, 5*time.Second)
		results = append(results, r)
		if retry := checkCase(t, c, r); retry != nil {
			r := dnsq.Do(ctx, *retry, 5*time.Second)
			results = append(results, r)
			checkCase(t, chainCase{q: *retry, answers: 10}, r)
		}
	}
	// IPv6 over ::1 from inside the container, where recursion (and the forward zone) is
	// allowed: CQ instead of AQ, and the forwarded query as RQ/RR.
	v6 := "[::1]:53"
	www := "www." + chain.ZoneExample
	v6Cases := []chainCase{
		{q: dnsq.Query{Net: "udp", Server: v6, Name: www, Type: dns.TypeA, RD: true}, answers: 1},
		{q: dnsq.Query{Net: "tcp", Server: v6, Name: www, Type: dns.TypeAAAA, RD: true}, answers: 1},
		{q: dnsq.Query{Net: "udp", Server: v6, Name: "www." + chain.ZoneForward, Type: dns.TypeA, RD: true}, answers: 1},
		{q: dnsq.Query{Net: "tcp", Server: v6, Name: "nx." + chain.ZoneExample, Type: dns.TypeA, RD: true}, rcode: dns.RcodeNameError},
		{q: dnsq.Query{Net: "udp", Server: v6, Name: www, Type: dns.TypeA}, answers: 1},
		{q: dnsq.Query{Net: "udp", Server: v6, Name: chain.BigTXTName, Type: dns.TypeTXT, RD: true}, answers: -1, truncated: true},
		{q: dnsq.Query{Net: "tcp", Server: v6, Name: chain.BigTXTName, Type: dns.TypeTXT, RD: true}, answers: 10},
	}
	var qs []dnsq.Query
	for _, c := range v6Cases {
		qs = append(qs, c.q)
	}
	rs, err := ctr.QueryInside(ctx, qs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(v6Cases) {
		t.Fatalf("dnsq answered %d of %d queries", len(rs), len(v6Cases))
	}
	for i, r := range rs {
		checkCase(t, v6Cases[i], r)
		if ip, _, err := r.LocalAddrPort(); err != nil || !ip.Equal(net.IPv6loopback) {
			t.Errorf("%s left from %q, want ::1", r.Query, r.Local)
		}
	}
	results = append(results, rs...)
	src := resolverSource(t, ctr)
	want := expectAll(t, results, src)
	// A query from the host for the forward zone is refused: no recursion for it.
	fwd := dnsq.Do(ctx, dnsq.Query{Net: "udp", Server: ctr.Server(), Name: "www." + chain.ZoneForward, Type: dns.TypeA, RD: true}, 5*time.Second)
	if fwd.Rcode != dns.RcodeRefused {
		t.Errorf("%s: rcode %s, want REFUSED", fwd.Query, dns.RcodeToString[fwd.Rcode])
	}
	want = append(want, expectAll(t, []dnsq.Result{fwd}, src)...)
	done()

	done = chainPhase(t, fmt.Sprintf("burst of %d", chainBurst))
	burstRes := queryHost(burst(ctr.Server(), "b", chainBurst), 16)
	var burstWant []tapKey
	for _, r := range burstRes {
		if r.Err != "" || r.Rcode != dns.RcodeSuccess || r.Answers != 1 {
			t.Fatalf("burst: %s: rcode %s, %d answers, error %q", r.Query, dns.RcodeToString[r.Rcode], r.Answers, r.Err)
		}
	}
	burstWant = expectAll(t, burstRes, src)
	v := namedVersion(t, ctr)
	want, burstWant = forNamed(want, v), forNamed(burstWant, v)
	done()

	done = chainPhase(t, "wait for the frames")
	all := append(append([]tapKey(nil), want...), burstWant...)
	lastPoll := waitCaptured(t, ctr, all, time.Minute)
	done()
	success, dropped, statsErr := ctr.DnstapStats(ctx)
	if statsErr != nil {
		t.Logf("no dnstap counters from named (%v): BIND built without libxml2 and json-c has no statistics channel; the test then needs every message", statsErr)
	} else {
		t.Logf("named's dnstap counters: %d written to its queue, %d dropped", success, dropped)
	}

	files := stopAndReadCapture(ctx, t, ctr)
	capt, err := decodeCapture(files, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capture: %d files, %d messages (+%d root priming, left out)", capt.files, len(capt.msgs), capt.priming)

	missing, unexpected := diff(all, capt.msgs)
	if len(unexpected) > 0 {
		t.Errorf("%d messages in the capture that no query explains:%s", len(unexpected), listKeys(unexpected))
	}
	// Only named may lose messages, only from the burst, and only as many as it counted.
	mw, _ := diff(want, capt.msgs)
	if len(mw) > 0 {
		t.Errorf("%d messages missing for the single queries:%s", len(mw), listKeys(mw))
	}
	if uint64(len(missing)) != dropped {
		t.Errorf("%d messages missing (%d at the last poll), named dropped %d:%s", len(missing), len(lastPoll), dropped, listKeys(missing))
	}
	if statsErr == nil && uint64(len(capt.msgs)+capt.priming) != success {
		t.Errorf("the capture holds %d messages, named handed %d to its dnstap queue", len(capt.msgs)+capt.priming, success)
	}
	t.Logf("lost frames: %d (named dropped %d)", len(missing), dropped)

	t.Run("dnstap-reader equals dnstap-read", func(t *testing.T) {
		defer chainPhase(t, "dnstap-read vs dnstap-reader")()
		compareReaders(t, ctr, files)
	})
}

// compareReaders runs BIND's dnstap-read and the toolkit's dnstap-reader (with the flavor's
// --format) on each capture file in the container, in the four modes, and requires the
// same bytes.
func compareReaders(t *testing.T, ctr *chain.Container, files map[string][]byte) {
	t.Helper()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	compareDnstapRead(t, ctr.Output, ctr.Flavor.DnstapRead, ctr.Flavor.ReaderArgs, names)
}

// compareDnstapRead runs dnstapRead and dnstap-reader with readerArgs through run on each
// file, in the four modes of dnstap-read, and requires the same bytes.
func compareDnstapRead(t *testing.T, run func(ctx context.Context, cmd ...string) ([]byte, error), dnstapRead string, readerArgs, files []string) {
	t.Helper()
	ctx := context.Background()
	for _, name := range files {
		for _, mode := range [][]string{nil, {"-y"}, {"-p"}, {"-x"}} {
			want, err := run(ctx, append(append([]string{dnstapRead}, mode...), name)...)
			if err != nil {
				t.Errorf("dnstap-read: %v", err)
				continue
			}
			got, err := run(ctx, append(append(append([]string{chain.Reader}, readerArgs...), mode...), name)...)
			if err != nil {
				t.Errorf("dnstap-reader: %v", err)
				continue
			}
			if len(want) == 0 {
				t.Errorf("%s %s %s printed nothing", dnstapRead, strings.Join(mode, " "), name)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("dnstap-reader %s %s %s differs from %s (%d and %d bytes): %s", strings.Join(readerArgs, " "), strings.Join(mode, " "), name,
					dnstapRead, len(got), len(want), firstDiff(want, got))
			}
		}
	}
}

// firstDiff shows the first line where got differs from want.
func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n\tdnstap-read:   %q\n\tdnstap-reader: %q", i+1, w, g)
		}
	}
	return "same lines"
}
