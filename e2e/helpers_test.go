//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/e2e/internal/dnsq"
	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/packaging"
	"github.com/dnstapkit/dnstapkit/reader"
)

// Flavors of the chain (see chain.Flavor).
const (
	flavorDnstap = "bind9-dnstap" // BIND built by bind:build, from its .deb
	flavorDebian = "debian-bind9" // Debian's own bind9 package
)

// chainEnv returns the environment variable name, or def when it is unset.
func chainEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// chainPhase logs how long a phase took when the returned func is called.
func chainPhase(t *testing.T, name string) func() {
	t.Helper()
	start := time.Now()
	return func() {
		t.Helper()
		t.Logf("phase %-28s %6.1fs", name, time.Since(start).Seconds())
	}
}

// chainToolkitDebs builds the dnstap-collector and dnstap-reader .debs from the cmd/ programs
// of this checkout with the packaging API, once per test binary, in .cache/e2e/toolkit.
var chainToolkitDebs = sync.OnceValues(func() ([]string, error) {
	dir, err := filepath.Abs("../.cache/e2e/toolkit")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ctx := context.Background()
	for _, name := range packaging.Names {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=0.0.0~e2e",
			"-o", filepath.Join(dir, name), "../cmd/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", name, err, out)
		}
	}
	return packaging.BuildAll(ctx, packaging.Options{Root: "..", BinDir: dir, OutDir: filepath.Join(dir, "debs"), Version: "0.0.0~e2e"})
})

// chainDnsqBin builds the dnsq program (queries from inside the container), once, as
// .cache/e2e/dnsq.
var chainDnsqBin = sync.OnceValues(func() (string, error) {
	p, err := filepath.Abs("../.cache/e2e/dnsq")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", p, "./internal/dnsq/cmd/dnsq")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build dnsq: %v\n%s", err, out)
	}
	return p, nil
})

// chainSetup is an image with a flavor installed, made once per flavor and test binary.
type chainSetup struct {
	flavor chain.Flavor
	image  string
	dnsq   string
}

var (
	chainSetupsMu sync.Mutex
	chainSetups   = map[string]*chainSetup{}
)

// chainFlavors expands a comma list of flavors: "bind9-dnstap" stands for one flavor per
// BIND of bindTargets ("bind9-dnstap-9.14", ...).
func chainFlavors(list string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(list, ",") {
		if name != flavorDnstap {
			out = append(out, name)
			continue
		}
		targets, err := bindTargets()
		if err != nil {
			return nil, err
		}
		for _, tg := range targets {
			out = append(out, flavorDnstap+"-"+tg.Version.Series)
		}
	}
	return out, nil
}

// chainPrepare builds (or finds cached) everything a flavor needs: the toolkit's .debs, BIND
// (bind9-dnstap-<series>: the build of that target of bindTargets; bind9-dnstap alone: 9.18's
// when it is one of them, else the first), the base image and the image with the packages
// installed.
func chainPrepare(t *testing.T, name string) *chainSetup {
	t.Helper()
	chainSetupsMu.Lock()
	defer chainSetupsMu.Unlock()
	if s, ok := chainSetups[name]; ok {
		return s
	}
	ctx := context.Background()
	distro := chainEnv("DISTRO", "debian:bookworm")

	done := chainPhase(t, "toolkit .debs")
	debs, err := chainToolkitDebs()
	if err != nil {
		t.Fatalf("build the toolkit's packages: %v", err)
	}
	dnsqBin, err := chainDnsqBin()
	if err != nil {
		t.Fatal(err)
	}
	done()

	var f chain.Flavor
	switch {
	case name == flavorDnstap || strings.HasPrefix(name, flavorDnstap+"-"):
		tg, err := chainTarget(name)
		if err != nil {
			t.Fatal(err)
		}
		distro = tg.Distro
		done := chainPhase(t, "bind:build "+tg.Version.Release+" for "+distro)
		res, log, err := bindBuild(tg)
		if err != nil {
			t.Fatalf("build BIND %s for %s: %v\n%s", tg.Version.Release, distro, err, log)
		}
		done()
		t.Logf("BIND: %s (compile cached: %v)", filepath.Base(res.Deb), res.Cached)
		dnstapRead := "/usr/local/bin/dnstap-read"
		if _, err := os.Stat(filepath.Join(res.Staging, "usr/local/bin/dnstap-read")); err != nil {
			dnstapRead = "/usr/local/sbin/dnstap-read" // 9.16 and older
		}
		f = chain.DnstapBIND(tg.Version.Series, res.Deb, dnstapRead, strings.Contains(res.NamedV, "json-c"), debs...)
	case name == flavorDebian:
		f = chain.DebianBIND(debs...)
	default:
		t.Fatalf("unknown flavor %q (want %s, %s-<version> or %s)", name, flavorDnstap, flavorDnstap, flavorDebian)
	}

	done = chainPhase(t, "base image "+distro)
	base, err := baseimage.Ensure(ctx, distro)
	if err != nil {
		t.Fatal(err)
	}
	done()
	done = chainPhase(t, "image "+name)
	var log bytes.Buffer
	img, err := chain.Image(ctx, base, f, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(log.String(), 40))
	}
	done()
	s := &chainSetup{flavor: f, image: img, dnsq: dnsqBin}
	chainSetups[name] = s
	return s
}

// chainTarget returns the BIND target of a bind9-dnstap flavor name.
func chainTarget(name string) (bindTarget, error) {
	targets, err := bindTargets()
	if err != nil {
		return bindTarget{}, err
	}
	series := strings.TrimPrefix(strings.TrimPrefix(name, flavorDnstap), "-")
	if series == "" && len(targets) > 0 {
		series = targets[0].Version.Series
		for _, tg := range targets {
			if tg.Version.Series == "9.18" { // the default BIND, as bind:build's
				series = "9.18"
			}
		}
	}
	for _, tg := range targets {
		if tg.Version.Series == series {
			return tg, nil
		}
	}
	v, err := bind.Lookup(series)
	if err != nil {
		return bindTarget{}, fmt.Errorf("flavor %s: %w", name, err)
	}
	return bindTarget{Version: v, Distro: chainEnv("DISTRO", v.Distro)}, nil
}

// chainRun starts a container of the flavor, registers its cleanup, and on failure keeps
// the named, upstream and collector logs and every capture file in artifacts/<test>/.
func chainRun(t *testing.T, name string, opts ...testcontainers.ContainerCustomizer) *chain.Container {
	t.Helper()
	s := chainPrepare(t, name)
	done := chainPhase(t, "container start")
	ctx := context.Background()
	ctr, err := chain.Run(ctx, s.image, s.flavor, s.dnsq, opts...)
	if ctr != nil {
		testcontainers.CleanupContainer(t, ctr, testcontainers.StopTimeout(5*time.Second))
		t.Cleanup(func() {
			if !t.Failed() {
				return
			}
			dir := filepath.Join("artifacts", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := ctr.SaveArtifacts(ctx, dir); err != nil {
				t.Logf("artifacts: %v", err)
			}
			t.Logf("kept the logs and captures in e2e/%s", dir)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	done()
	return ctr
}

// tapKey is what the suite asserts of one dnstap message. For resolver messages the source
// port named chose is not predictable and is left 0.
type tapKey struct {
	Type   string // AQ, CR, RQ, ...
	Family string // INET, INET6
	Proto  string // UDP, TCP
	QAddr  string
	QPort  uint32
	RAddr  string
	RPort  uint32
	QName  string
	QType  string
	Rcode  string // responses only
	DO     bool   // the message's OPT has the DO bit (client messages only)
}

func (k tapKey) String() string {
	s := fmt.Sprintf("%s %s/%s %s:%d -> %s:%d %s/%s", k.Type, k.Family, k.Proto, k.QAddr, k.QPort, k.RAddr, k.RPort, k.QName, k.QType)
	if k.Rcode != "" {
		s += " " + k.Rcode
	}
	if k.DO {
		s += " DO"
	}
	return s
}

// expect returns the dnstap messages named logs for the query behind r, sent to server
// (an address:port), following BIND 9.18's ways (lib/ns/client.c): the query is CQ when
// recursion is allowed for the client and RD is set, else AQ; the response is CR when RD is
// set, else AR; a query named answers with BADVERS (EDNS version 1) is not logged at all; a
// query for the forward zone adds the resolver query and response (RQ/RR, not FQ/FR) to the
// upstream, from a port of named's choosing and with the source address resolverSrc (see
// resolverSource).
func expect(r dnsq.Result, resolverSrc string) ([]tapKey, error) {
	if r.Err != "" {
		return nil, fmt.Errorf("query %s: %s", r.Query, r.Err)
	}
	if r.Rcode == dns.RcodeBadVers {
		return nil, nil
	}
	cip, cport, err := r.LocalAddrPort()
	if err != nil {
		return nil, err
	}
	sh, sp, err := net.SplitHostPort(r.Query.Server)
	if err != nil {
		return nil, err
	}
	var sport uint32
	fmt.Sscan(sp, &sport)
	family := "INET"
	if cip.To4() == nil {
		family = "INET6"
	}
	recursion := false
	for _, a := range chain.RecursionClients {
		if net.ParseIP(a).Equal(cip) {
			recursion = r.Query.RD
		}
	}
	q := tapKey{Family: family, Proto: strings.ToUpper(r.Query.Net), QAddr: cip.String(), QPort: cport,
		RAddr: net.ParseIP(sh).String(), RPort: sport, QName: dns.Fqdn(strings.ToLower(r.Query.Name)),
		QType: dns.TypeToString[r.Query.Type], DO: r.Query.DO}
	resp := q
	q.Type, resp.Type = "AQ", "AR"
	if recursion {
		q.Type = "CQ"
	}
	if r.Query.RD {
		resp.Type = "CR"
	}
	resp.Rcode, resp.DO = dns.RcodeToString[r.Rcode], r.DO
	if r.Query.Type == dns.TypeAXFR {
		return []tapKey{q}, nil
	}
	out := []tapKey{q, resp}
	if recursion && dns.IsSubDomain(chain.ZoneForward, q.QName) {
		rq := tapKey{Type: "RQ", Family: "INET", Proto: "UDP", QAddr: resolverSrc, RAddr: chain.UpstreamAddr,
			RPort: chain.UpstreamPort, QName: q.QName, QType: q.QType}
		rr := rq
		rr.Type, rr.Rcode = "RR", "NOERROR"
		out = append(out, rq, rr)
	}
	return out, nil
}

// resolverSource returns the query address named logs in its resolver queries: 9.14 and
// 9.16 log the address they sent from (127.0.0.1 towards the upstream), 9.18 and 9.20 the
// address their dispatch socket is bound to (0.0.0.0). Seen on 9.14.12, 9.16.50, 9.18.49
// and 9.20.27.
func resolverSource(t *testing.T, ctr *chain.Container) string {
	t.Helper()
	if v := namedVersion(t, ctr); strings.HasPrefix(v, "BIND 9.14.") || strings.HasPrefix(v, "BIND 9.16.") {
		return "127.0.0.1"
	}
	return "0.0.0.0"
}

// namedVersion is the first line of named -v.
func namedVersion(t *testing.T, ctr *chain.Container) string {
	t.Helper()
	out, err := ctr.Sh(context.Background(), ctr.Flavor.Named+" -v")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// forNamed adjusts want (made by expect, BIND 9.18's ways) to named of version v:
//   - 9.14 logs port 0 as its own in client messages (AQ, AR, CQ, CR): its response_port is
//     the port of the interface address, which 9.14 leaves 0 (seen on 9.14.12);
//   - 9.20 logs the queries it forwards as FQ/FR, where 9.18 logs RQ/RR (seen on 9.20.27).
func forNamed(want []tapKey, v string) []tapKey {
	out := make([]tapKey, len(want))
	for i, k := range want {
		resolver := k.Type == "RQ" || k.Type == "RR"
		switch {
		case strings.HasPrefix(v, "BIND 9.14.") && !resolver:
			k.RPort = 0
		case strings.HasPrefix(v, "BIND 9.20.") && resolver && dns.IsSubDomain(chain.ZoneForward, k.QName):
			k.Type = "F" + k.Type[1:]
		}
		out[i] = k
	}
	return out
}

// expectAll is expect for many results.
func expectAll(t *testing.T, rs []dnsq.Result, resolverSrc string) []tapKey {
	t.Helper()
	var out []tapKey
	for _, r := range rs {
		ks, err := expect(r, resolverSrc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ks...)
	}
	return out
}

// capture is what a set of capture files holds.
type capture struct {
	msgs    []tapKey // every message, in file order
	priming int      // resolver messages about the root (priming), left out of msgs
	files   int
}

// decodeCapture decodes Frame Streams captures with the reader package and returns their
// messages. partial allows a file still being written (no STOP yet: an unexpected EOF).
func decodeCapture(files map[string][]byte, partial bool) (capture, error) {
	var c capture
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		c.files++
		d := reader.NewDecoder(bytes.NewReader(files[name]), name)
		for {
			m, err := d.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if partial {
					break
				}
				return c, fmt.Errorf("decode %s: %w", name, err)
			}
			if !m.HasMessage {
				continue
			}
			k, err := keyOf(m)
			if err != nil {
				return c, fmt.Errorf("decode %s: frame %d: %w", name, d.Frames(), err)
			}
			if (k.Type == "RQ" || k.Type == "RR") && k.QName == "." {
				c.priming++
				continue
			}
			c.msgs = append(c.msgs, k)
		}
	}
	return c, nil
}

// keyOf makes the tapKey of a decoded message (for named's own queries and their answers,
// RQ/RR and FQ/FR, without the port it chose and the DO bit it set); the DNS message is parsed with miekg/dns, not
// with the reader's own parser, so the two are checked against each other.
func keyOf(m *reader.Message) (tapKey, error) {
	k := tapKey{Type: m.Type.Mnemonic(), Family: m.SocketFamily.String(), Proto: m.SocketProtocol.String(),
		QAddr: net.IP(m.QueryAddress).String(), QPort: m.QueryPort,
		RAddr: net.IP(m.ResponseAddress).String(), RPort: m.ResponsePort}
	var msg dns.Msg
	if err := msg.Unpack(m.Wire()); err != nil {
		return k, fmt.Errorf("%s: DNS message: %w", k.Type, err)
	}
	if len(msg.Question) != 1 {
		return k, fmt.Errorf("%s: %d questions", k.Type, len(msg.Question))
	}
	k.QName, k.QType = strings.ToLower(msg.Question[0].Name), dns.TypeToString[msg.Question[0].Qtype]
	if !m.IsQuery() {
		k.Rcode = dns.RcodeToString[msg.Rcode]
	}
	if opt := msg.IsEdns0(); opt != nil {
		k.DO = opt.Do()
	}
	if k.Type == "RQ" || k.Type == "RR" || k.Type == "FQ" || k.Type == "FR" {
		k.QPort, k.DO = 0, false
	}
	return k, nil
}

// diff compares the wanted and the captured messages as multisets and returns the wanted
// ones missing from the capture and the captured ones nobody wanted.
func diff(want, got []tapKey) (missing, unexpected []tapKey) {
	n := map[tapKey]int{}
	for _, k := range want {
		n[k]++
	}
	for _, k := range got {
		n[k]--
	}
	for _, k := range want {
		if n[k] > 0 {
			missing = append(missing, k)
			n[k]--
		}
	}
	for k, c := range n {
		for ; c < 0; c++ {
			unexpected = append(unexpected, k)
		}
	}
	sort.Slice(unexpected, func(i, j int) bool { return unexpected[i].String() < unexpected[j].String() })
	return missing, unexpected
}

// listKeys prints at most 20 keys.
func listKeys(ks []tapKey) string {
	var b strings.Builder
	for i, k := range ks {
		if i == 20 {
			fmt.Fprintf(&b, "\n\t... and %d more", len(ks)-20)
			break
		}
		b.WriteString("\n\t" + k.String())
	}
	return b.String()
}

// readCapture copies every capture file (finished, and with partial also .part) out. A
// .part file can be renamed between the listing and the copy: then it lists again.
// stopAndReadCapture stops named, then the collector (the reverse of the units' order, so
// named's last frames reach the collector), and returns the capture files. A .part file left
// after the collector stopped is an error: every file must be finished (START ... STOP).
func stopAndReadCapture(ctx context.Context, t *testing.T, ctr *chain.Container) map[string][]byte {
	t.Helper()
	done := chainPhase(t, "stop named, then the collector")
	if err := ctr.StopNamed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ctr.StopCollector(ctx); err != nil {
		t.Fatal(err)
	}
	done()
	files, err := readCapture(ctx, ctr, true)
	if err != nil {
		t.Fatal(err)
	}
	for name := range files {
		if strings.HasSuffix(name, ".part") {
			t.Errorf("%s is left unfinished after the collector stopped", name)
		}
	}
	return files
}

func readCapture(ctx context.Context, ctr *chain.Container, partial bool) (map[string][]byte, error) {
	pattern := "-name '*.fstrm'"
	if partial {
		pattern = `\( -name '*.fstrm' -o -name '*.fstrm.part' \)`
	}
	var err error
	for range 5 {
		var files map[string][]byte
		if files, err = readCaptureOnce(ctx, ctr, pattern); err == nil {
			return files, nil
		}
	}
	return nil, err
}

func readCaptureOnce(ctx context.Context, ctr *chain.Container, pattern string) (map[string][]byte, error) {
	out, err := ctr.Sh(ctx, "find "+chain.CaptureDir+" -maxdepth 1 -type f "+pattern)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range strings.Fields(out) {
		b, err := ctr.ReadFile(ctx, p)
		if err != nil {
			return nil, err
		}
		files[p] = b
	}
	return files, nil
}

// waitCaptured polls the capture (finished and partial files) until every wanted message is
// in it, or timeout passes; named sends dnstap about a second after a query. It returns
// what was missing at the end (nil when all arrived).
func waitCaptured(t *testing.T, ctr *chain.Container, want []tapKey, timeout time.Duration) []tapKey {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		files, err := readCapture(ctx, ctr, true)
		if err != nil {
			t.Fatal(err)
		}
		c, err := decodeCapture(files, true)
		if err != nil {
			t.Fatal(err)
		}
		missing, _ := diff(want, c.msgs)
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// queryHost sends qs from the test process, concurrently with at most par in flight, and
// returns the results in the order of qs.
func queryHost(qs []dnsq.Query, par int) []dnsq.Result {
	rs := make([]dnsq.Result, len(qs))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rs[i] = dnsq.Do(ctx, q, 5*time.Second)
		}()
	}
	wg.Wait()
	return rs
}

// burst returns n UDP queries for distinct names under the wildcard *.burst.example.test.
func burst(server, tag string, n int) []dnsq.Query {
	qs := make([]dnsq.Query, n)
	for i := range qs {
		qs[i] = dnsq.Query{Net: "udp", Server: server, Name: fmt.Sprintf("%s%d.burst.%s", tag, i, chain.ZoneExample), Type: dns.TypeA}
	}
	return qs
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
