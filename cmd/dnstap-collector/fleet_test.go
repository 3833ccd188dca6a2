package main

import (
	enc "encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
	"github.com/dnstapkit/dnstapkit/internal/certs"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// node is a collector of the fleet test: a proc (failures_test.go) that listens.
type node struct {
	*proc
	t *testing.T
}

// startNode starts the binary with args and waits until it listens.
func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	p := startProc(t, io.Discard, args...)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.logs.String(), "msg=listening") {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start listening:\n%s", strings.Join(args, " "), p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return &node{p, t}
}

// stop sends sig and waits for the exit; SIGTERM must give exit 0.
func (n *node) stop(sig syscall.Signal) {
	n.t.Helper()
	_ = n.cmd.Process.Signal(sig)
	if code := n.wait(n.t); sig == syscall.SIGTERM && code != 0 {
		n.t.Fatalf("exit %d after SIGTERM:\n%s", code, n.logs.String())
	}
}

// forwardMetrics reads the dnstap_forward_* figures from the process's /metrics.
func (n *node) forwardMetrics() map[string]float64 {
	n.t.Helper()
	m := metricsAddr.FindStringSubmatch(n.logs.String())
	if m == nil {
		n.t.Fatal("no metrics address logged")
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return collectortest.ParseMetrics(string(body))
}

// payloadCounts counts each frame payload in every capture file under dir (finished or
// .part; a cut-off last frame is not counted).
func payloadCounts(t *testing.T, dir string) (map[string]int, int) {
	t.Helper()
	counts, total := map[string]int{}, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(d.Name(), ".fstrm") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for len(raw) >= 4 {
			n := int(enc.BigEndian.Uint32(raw))
			if n == 0 { // control frame
				if len(raw) < 8 {
					break
				}
				raw = raw[8+int(enc.BigEndian.Uint32(raw[4:])):]
				continue
			}
			if len(raw) < 4+n {
				break
			}
			counts[string(raw[4:4+n])]++
			total++
			raw = raw[4+n:]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts, total
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// TestFleetBinaries runs the fleet on loopback with the real binaries: a central collector
// behind mutual TLS writing per-sender files, a router collector forwarding to it, and a
// router whose certificate comes from another CA. fstrm_replay feeds the routers; the
// central collector is stopped for a while and started again, the router is killed with
// SIGKILL and started again. Then every frame in the router's files is in the central
// files, counted from the files themselves, with the duplicates counted and within what the
// forwarder reported; the bad router is refused and keeps its frames.
func TestFleetBinaries(t *testing.T) {
	binary(t) // skips in -short mode; startNode runs it
	replay := testenv.LookPath(t, "fstrm_replay", "fstrm-bin")
	work, err := os.MkdirTemp("", "dcf")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(work)
	pki, err := certs.Generate(certs.Options{Dir: filepath.Join(work, "pki"), Central: []string{"central", "127.0.0.1"}, Routers: []string{"router1"}})
	if err != nil {
		t.Fatal(err)
	}
	bad, err := certs.Generate(certs.Options{Dir: filepath.Join(work, "otherpki"), Routers: []string{"router2"}})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(work, "in.fstrm")
	if _, err := collectortest.WriteCapture(in, 20000); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	centralDir := filepath.Join(work, "central")
	centralArgs := []string{"-a", "127.0.0.1", "-p", port, "--tls-cert", pki.CentralCert, "--tls-key", pki.CentralKey, "--tls-client-ca", pki.CA,
		"-w", filepath.Join(centralDir, "%{identity}", "%Y%m%d-%H%M%S.fstrm"), "--gmtime", "-s", "2"}
	central := startNode(t, centralArgs...)

	router := func(name, cert, key string) (*node, string, string) {
		dir, sock := filepath.Join(work, name), filepath.Join(work, name+".sock")
		p := startNode(t, "-u", sock, "-w", filepath.Join(dir, "cap-%Y%m%d-%H%M%S.fstrm"), "--gmtime", "-s", "1", "--metrics", "127.0.0.1:0",
			"--forward", "fstrm+tls://127.0.0.1:"+port, "--forward-ca", pki.CA, "--forward-cert", cert, "--forward-key", key,
			"--forward-server-name", "central", "--forward-batch-frames", "5000", "--forward-batch-interval", "200ms")
		return p, dir, sock
	}
	r1, r1dir, r1sock := router("router1", pki.Routers["router1"][0], pki.Routers["router1"][1])
	r2, r2dir, r2sock := router("router2", bad.Routers["router2"][0], bad.Routers["router2"][1])
	feed := func(sock string) {
		t.Helper()
		if out, err := exec.Command(replay, "-t", collectortest.ContentType, "-u", sock, "-r", in).CombinedOutput(); err != nil {
			t.Fatalf("fstrm_replay: %v: %s", err, out)
		}
	}
	feed(r1sock)
	feed(r2sock)
	waitFor(t, "router1's first frames at the centre", func() bool { _, n := payloadCounts(t, filepath.Join(centralDir, "router1")); return n > 0 })

	// The centre goes away while router1 writes on, then comes back.
	central.stop(syscall.SIGTERM)
	feed(r1sock)
	waitFor(t, "failed sends", func() bool { return r1.forwardMetrics()["dnstap_forward_batches_retried_total"] > 0 })
	central = startNode(t, centralArgs...)
	feed(r1sock)

	// router1 is killed in the middle of its work and started again.
	killed := exec.Command(replay, "-t", collectortest.ContentType, "-u", r1sock, "-r", in)
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "frames in flight", func() bool { return strings.Count(r1.logs.String(), "sender connected") >= 4 })
	r1.stop(syscall.SIGKILL)
	_ = killed.Wait() // it fails or not, as the kill caught it: the router's files say what it wrote
	r1, _, _ = router("router1", pki.Routers["router1"][0], pki.Routers["router1"][1])
	feed(r1sock)

	waitFor(t, "router1 to catch up", func() bool {
		m := r1.forwardMetrics()
		return m["dnstap_forward_lag_complete"] == 1 && m["dnstap_forward_lag_frames"] == 0 && m["dnstap_forward_files_pending"] <= 1
	})
	dupReported := r1.forwardMetrics()["dnstap_forward_duplicate_frames_possible_total"]
	r1.stop(syscall.SIGTERM)
	r2.stop(syscall.SIGTERM)
	central.stop(syscall.SIGTERM)

	routerFrames, routerTotal := payloadCounts(t, r1dir)
	centralFrames, centralTotal := payloadCounts(t, filepath.Join(centralDir, "router1"))
	missing, dups, alien := collectortest.CompareCounts(routerFrames, centralFrames)
	if alien > 0 {
		t.Errorf("the centre has %d frames router1 never wrote", alien)
	}
	t.Logf("router1 wrote %d frames, the centre has %d: %d missing, %d duplicates (%v reported possible since the restart)", routerTotal, centralTotal, missing, dups, dupReported)
	if missing > 0 {
		t.Errorf("%d frames of router1 missing at the centre", missing)
	}
	if dups > 2*5000 {
		t.Errorf("%d duplicates: more than the batch in flight at each of the two faults", dups)
	}
	// The bad router: refused, one log line per attempt at the centre, its frames on its disk.
	if !strings.Contains(central.logs.String(), "TLS handshake failed") {
		t.Errorf("the centre does not log router2's refusal")
	}
	if _, err := os.Stat(filepath.Join(centralDir, "router2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the centre wrote files for router2: %v", err)
	}
	if _, n := payloadCounts(t, r2dir); n != 20000 {
		t.Errorf("router2 holds %d frames, wrote 20000", n)
	}
	if !strings.Contains(r2.logs.String(), "send failed") {
		t.Errorf("router2 does not log its failed sends:\n%s", r2.logs.String())
	}
}

func TestResolveFleet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, s settings)
	}{
		{name: "router", args: "-u /s -w /var/log/dnstap/d-%Y.fstrm --gmtime --forward fstrm+tls://c:6000 --forward-ca /ca --forward-cert /c --forward-key /k",
			check: func(t *testing.T, s settings) {
				f := s.forward
				if f.url != "fstrm+tls://c:6000" || f.state != "/var/log/dnstap/.dnstap-forward.state" || f.batchFrames != 10000 || f.batchInterval != time.Second || f.timeout != 30*time.Second {
					t.Errorf("%+v", f)
				}
			}},
		{name: "router from env", args: "-u /s -w /x/y.fstrm", env: map[string]string{"DNSTAP_FORWARD": "unix:///run/relay.sock", "DNSTAP_FORWARD_BATCH_FRAMES": "500"},
			check: func(t *testing.T, s settings) {
				if s.forward.url != "unix:///run/relay.sock" || s.forward.batchFrames != 500 || s.forward.state != "/x/.dnstap-forward.state" {
					t.Errorf("%+v", s.forward)
				}
			}},
		{name: "central", args: "-a :: -p 6000 --tls-cert /c --tls-key /k --tls-client-ca /ca -w /v/%{identity}/%Y.fstrm --gmtime",
			check: func(t *testing.T, s settings) {
				if s.tls.Cert != "/c" || s.tls.Key != "/k" || s.tls.ClientCA != "/ca" || s.tcp != "[::]:6000" {
					t.Errorf("%+v %s", s.tls, s.tcp)
				}
			}},
		{name: "router to NATS", args: "-u /s -w /x/y.fstrm --forward nats://n1,n2:4223/dnstap.r1 --forward-identity r1 --forward-creds /c.creds",
			check: func(t *testing.T, s settings) {
				if f := s.forward; f.identity != "r1" || f.creds != "/c.creds" || f.tls {
					t.Errorf("%+v", f)
				}
			}},
		{name: "router to Kafka, identity from the host name", args: "-u /s -w /x/y.fstrm --forward kafka://k1:9092/dnstap --forward-tls --forward-sasl-user u --forward-sasl-password-file /p",
			check: func(t *testing.T, s settings) {
				h, _ := os.Hostname()
				if f := s.forward; f.identity != h || !f.tls || f.saslUser != "u" || f.saslPassFile != "/p" {
					t.Errorf("%+v", f)
				}
			}},
		{name: "router to Kafka as JSON", args: "-u /s -w /x/y.fstrm --forward kafka://k1/dnstap --forward-format json", env: map[string]string{"DNSTAP_FORWARD_IDENTITY": "r2"},
			check: func(t *testing.T, s settings) {
				if f := s.forward; !f.json || f.identity != "r2" {
					t.Errorf("%+v", f)
				}
			}},
		{name: "protobuf by default", args: "-u /s -w /x/y.fstrm --forward nats://n/s --forward-identity r",
			check: func(t *testing.T, s settings) {
				if s.forward.json {
					t.Errorf("%+v", s.forward)
				}
			}},
		{name: "unknown format", args: "-u /s -w /x --forward kafka://k/t --forward-format xml", wantErr: `--forward-format: "xml", want protobuf or json`},
		{name: "JSON to a collector", args: "-u /s -w /x --forward fstrm://c:1 --forward-format json", wantErr: "--forward-format json"},
		{name: "JSON without forward", args: "-u /s -w /x --forward-format json", wantErr: "need --forward URL"},
		{name: "Kafka without a topic", args: "-u /s -w /x --forward kafka://k1:9092", wantErr: "no topic"},
		{name: "identity with a slash", args: "-u /s -w /x --forward nats://n/s --forward-identity a/b", wantErr: "--forward-identity"},
		{name: "creds for Kafka", args: "-u /s -w /x --forward kafka://k/t --forward-creds /c", wantErr: "--forward-creds is for nats://"},
		{name: "SASL user alone", args: "-u /s -w /x --forward kafka://k/t --forward-sasl-user u", wantErr: "go together"},
		{name: "identity for fstrm", args: "-u /s -w /x --forward fstrm://c:1 --forward-identity r", wantErr: "are for kafka:// and nats://"},
		{name: "central archive of NATS", args: "-w /a/%{identity}/%Y.fstrm --gmtime --input nats://n1/dnstap.> --input-group archive --input-creds /c",
			check: func(t *testing.T, s settings) {
				if in := s.input; in.url != "nats://n1/dnstap.>" || in.group != "archive" || in.creds != "/c" {
					t.Errorf("%+v", in)
				}
			}},
		{name: "input to stdout", args: "-w - --input kafka://k/t", wantErr: "--input writes the files of -w"},
		{name: "input and forward", args: "-u /s -w /x --input kafka://k/t --forward fstrm://c:1", wantErr: "not supported"},
		{name: "central archive of Kafka with SASL", args: "-w /a/%{identity}/%Y.fstrm --gmtime --input kafka://k1/dnstap --input-sasl-user c --input-sasl-password-file /p --input-sasl-sha256",
			check: func(t *testing.T, s settings) {
				if in := s.input; in.saslUser != "c" || in.saslPassFile != "/p" || !in.scram256 {
					t.Errorf("%+v", in)
				}
			}},
		{name: "input SASL for NATS", args: "-w /x --input nats://n/s --input-sasl-user c --input-sasl-password-file /p", wantErr: "--input-sasl-* are for kafka://"},
		{name: "input SASL user alone", args: "-w /x --input kafka://k/t --input-sasl-user c", wantErr: "--input-sasl-user and --input-sasl-password-file go together"},
		{name: "input SASL without input", args: "-w /x --input-sasl-user c", wantErr: "--input-* flags need --input URL"},
		{name: "input creds for Kafka", args: "-w /x --input kafka://k/t --input-creds /c", wantErr: "--input-creds is for nats://"},
		{name: "input group with a dot", args: "-w /x --input kafka://k/t --input-group a.b", wantErr: "--input-group"},
		{name: "cert without key", args: "-a :: -p 1 -w /x --tls-cert /c", wantErr: "--tls-cert and --tls-key go together"},
		{name: "client CA alone", args: "-a :: -p 1 -w /x --tls-client-ca /ca", wantErr: "--tls-client-ca needs them"},
		{name: "forward to stdout", args: "-u /s -w - --forward fstrm://c:1", wantErr: "give -w a file template"},
		{name: "forward a central", args: "-u /s -w /v/%{identity}/x.fstrm --forward fstrm://c:1", wantErr: "not supported"},
		{name: "TLS flags on plain", args: "-u /s -w /x --forward fstrm://c:1 --forward-ca /ca", wantErr: "need an fstrm+tls://, kafka:// or nats:// URL"},
		{name: "forward flags alone", args: "-u /s -w /x --forward-cert /c --forward-key /k", wantErr: "need --forward URL"},
		{name: "bad URL", args: "-u /s -w /x --forward http://c:1", wantErr: `--forward: forward URL "http://c:1": scheme "http"`},
		{name: "batch too big", args: "-u /s -w /x --forward fstrm://c:1 --forward-batch-frames 0", wantErr: "--forward-batch-frames"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolve(strings.Fields(tc.args), env(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}
