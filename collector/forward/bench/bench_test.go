package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/fstrm"
	"github.com/dnstapkit/dnstapkit/internal/bench"
	"github.com/dnstapkit/dnstapkit/internal/certs"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// sink is a Frame Streams receiver over TLS that reads and discards, and answers STOP with
// FINISH at once (no disk): what is left is the forwarder's own cost.
func sink(b *testing.B, pki certs.Files) string {
	cert, err := tls.LoadX509KeyPair(pki.CentralCert, pki.CentralKey)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReaderSize(nc, 1<<20)
				var cf fs.ControlFrame
				if cf.DecodeEscape(br) != nil {
					return
				}
				acc := fs.ControlFrame{ControlType: fs.CONTROL_ACCEPT, ContentTypes: cf.ContentTypes}
				_ = acc.Encode(nc)
				var hdr [4]byte
				for {
					if _, err := io.ReadFull(br, hdr[:]); err != nil {
						return
					}
					n := int(binary.BigEndian.Uint32(hdr[:]))
					if n == 0 {
						var c fs.ControlFrame
						if c.Decode(br) != nil {
							return
						}
						if c.ControlType == fs.CONTROL_STOP {
							fin := fs.ControlFrame{ControlType: fs.CONTROL_FINISH}
							_ = fin.Encode(nc)
							return
						}
						continue
					}
					if _, err := br.Discard(n); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkShipTLS ships b.N real BIND frames from closed spool files over TLS to a receiver
// that keeps nothing: the forwarder's reading, batching, TLS and state saving, per frame.
func BenchmarkShipTLS(b *testing.B) {
	frames, err := goldenFrames([]string{"../../../reader/testdata/golden/resolver.fstrm", "../../../reader/testdata/golden/upstream.fstrm"})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	pki, err := certs.Generate(certs.Options{Dir: filepath.Join(dir, "pki"), Central: []string{"127.0.0.1"}})
	if err != nil {
		b.Fatal(err)
	}
	addr := sink(b, pki)
	spool := filepath.Join(dir, "spool")
	n, size, err := writeSpool(spool, frames, max(b.N, 1), 500_000)
	if err != nil {
		b.Fatal(err)
	}
	pem, _ := os.ReadFile(pki.CA)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	dest, err := fstrm.New(fstrm.Options{URL: "fstrm+tls://" + addr, TLS: &tls.Config{RootCAs: pool}})
	if err != nil {
		b.Fatal(err)
	}
	ccfg := collector.Config{Output: filepath.Join(spool, "cap.fstrm")}
	fw, err := forward.New(forward.Config{Destination: dest, Name: "bench", State: filepath.Join(dir, "state"),
		List: func() ([]string, error) { return collector.ListSpool(ccfg) }}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.SetBytes(size / int64(n))
	b.ResetTimer()
	done := make(chan error, 1)
	go func() { done <- fw.Run(ctx) }()
	for fw.Stats().FramesShipped < uint64(n) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
}

// TestRunSmall runs the whole benchmark small (real binaries, TLS, the ingest reference):
// the centre must hold every frame and the report must carry the goals.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs dnstap-collector")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "dnstap-collector")
	if err := bench.Build(context.Background(), "../../..", "dnstap-collector", bin); err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	res, err := Run(context.Background(), Options{Frames: 30000, FilesOf: 10000, Collector: bin, Work: work, Out: &report,
		Golden: []string{"../../../reader/testdata/golden/resolver.fstrm", "../../../reader/testdata/golden/upstream.fstrm"}})
	if err != nil {
		t.Fatalf("%v\n%s", err, report.String())
	}
	if res.Frames != 30000 || res.CentralReceived != 30000 || res.RouterCPU <= 0 || res.IngestWall <= 0 {
		t.Errorf("%+v\n%s", res, report.String())
	}
	for _, want := range []string{"forwarder / ingest:", "goal 1,000,000 frames/s", "one-hour backlog"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
	t.Log("\n" + report.String())
}

// TestRunEngines runs the engine benchmark small: every frame of the spool reaches
// nats-server and kfake through the real binary, and the report has both lines.
func TestRunEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	natsBin := testenv.LookPath(t, "nats-server", "nats-server")
	work := t.TempDir()
	bin := filepath.Join(work, "dnstap-collector")
	if err := bench.Build(context.Background(), "../../..", "dnstap-collector", bin); err != nil {
		t.Fatal(err)
	}
	golden, _ := filepath.Glob("../../../reader/testdata/golden/*.fstrm")
	var out strings.Builder
	rs, err := RunEngines(context.Background(), Options{Frames: 20000, FilesOf: 7000, Collector: bin, Work: work, Golden: golden, Out: &out}, natsBin)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rs) != 2 || rs[0].Frames != 20000 || rs[1].Frames != 20000 || !strings.Contains(out.String(), "goal 500,000 frames/s into kafka") {
		t.Errorf("results %+v\n%s", rs, out.String())
	}
	t.Log(out.String())
}
