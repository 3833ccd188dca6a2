package fstrm

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/internal/certs"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// batch makes a batch of n frames "tag-i".
func batch(tag string, n int) (*forward.Batch, []string) {
	b := &forward.Batch{Seq: 1, Attempt: 1}
	var want []string
	for i := range n {
		p := fmt.Sprintf("%s-%05d", tag, i)
		want = append(want, p)
		b.Wire = binary.BigEndian.AppendUint32(b.Wire, uint32(len(p)))
		start := len(b.Wire)
		b.Wire = append(b.Wire, p...)
		b.Frames = append(b.Frames, forward.Frame{Start: start, End: len(b.Wire), File: "/spool/x", Offset: int64(start - 4)})
	}
	return b, want
}

// tlsFiles writes a CA, a server certificate for 127.0.0.1 and a client certificate.
type tlsFiles struct {
	ca                  *certs.CA
	caFile              string
	srvCert, srvKey     string
	cliCert, cliKey     string
	otherCert, otherKey string // from another CA
}

func makeTLS(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	ca, err := certs.NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.NewCA("other", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f := tlsFiles{ca: ca, caFile: write("ca.pem", ca.CertPEM)}
	nb, na := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	issue := func(ca *certs.CA, name string, l certs.Leaf) (string, string) {
		l.NotBefore, l.NotAfter = nb, na
		c, k, err := ca.Issue(l)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", c), write(name+"-key.pem", k)
	}
	f.srvCert, f.srvKey = issue(ca, "srv", certs.Leaf{CN: "central", DNSNames: []string{"central", "127.0.0.1"}, Server: true})
	f.cliCert, f.cliKey = issue(ca, "cli", certs.Leaf{CN: "router1", Client: true})
	f.otherCert, f.otherKey = issue(other, "oth", certs.Leaf{CN: "router9", Client: true})
	return f
}

func (f tlsFiles) client(t *testing.T, cert, key string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.Cert)
	c, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{c}}
}

// central runs a dnstap-collector (the library) behind mutual TLS on 127.0.0.1.
func central(t *testing.T, f tlsFiles, out string) (addr string, stop func() error, c *collector.Collector) {
	t.Helper()
	tcp, err := collector.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := collector.ListenTLS(tcp, collector.TLSFiles{Cert: f.srvCert, Key: f.srvKey, ClientCA: f.caFile})
	if err != nil {
		t.Fatal(err)
	}
	c, err = collector.New(collector.Config{Output: out}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, ln) }()
	var once sync.Once
	var serr error
	stop = func() error { once.Do(func() { cancel(); serr = <-done }); return serr }
	t.Cleanup(func() { _ = stop() })
	return ln.Addr().String(), stop, c
}

// readFrames returns the data frames of a Frame Streams file.
func readFrames(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := fs.NewReader(f, &fs.ReaderOptions{ContentTypes: [][]byte{[]byte(collector.DefaultContentType)}})
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	var out []string
	buf := make([]byte, 1<<16)
	for {
		n, err := r.ReadFrame(buf)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, string(buf[:n]))
	}
}

// TestSendToCollectorOverMutualTLS: batches reach a central dnstap-collector over mutual TLS,
// in the directory named by the client certificate; each Send returns once FINISH came.
func TestSendToCollectorOverMutualTLS(t *testing.T) {
	f := makeTLS(t)
	dir := t.TempDir()
	addr, stop, c := central(t, f, filepath.Join(dir, collector.IdentityVar, "cap.fstrm"))
	d, err := New(Options{URL: "fstrm+tls://" + addr, TLS: withName(f.client(t, f.cliCert, f.cliKey), "central")})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 5 {
		b, w := batch(fmt.Sprint("b", i), 1000)
		if err := d.Send(context.Background(), b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		want = append(want, w...)
		// FINISH came: the frames are written (and fsync'd) already, before any stop.
		if got := c.Stats().FramesWritten; got != uint64(len(want)) {
			t.Fatalf("after FINISH of batch %d the collector has written %d frames, want %d", i, got, len(want))
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := readFrames(t, filepath.Join(dir, "router1", "cap.fstrm"))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("the central file holds %d frames, want the %d sent, in order", len(got), len(want))
	}
}

func withName(c *tls.Config, name string) *tls.Config { c.ServerName = name; return c }

// TestSendFailures: what cannot reach the far side is NotDelivered (no duplicate possible);
// a receiver that reads the frames and hangs up without FINISH is a plain error.
func TestSendFailures(t *testing.T) {
	f := makeTLS(t)
	addr, _, _ := central(t, f, filepath.Join(t.TempDir(), "cap.fstrm"))
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close()
	noFinish := rudeReceiver(t)

	b, _ := batch("f", 10)
	for _, tc := range []struct {
		name          string
		opt           Options
		notDelivered  bool
		errorContains string
	}{
		{"nothing listens", Options{URL: "fstrm://" + deadAddr}, true, "connection refused"},
		{"wrong CA", Options{URL: "fstrm+tls://" + addr, TLS: withName(f.client(t, f.otherCert, f.otherKey), "central")}, true, "certificate"},
		{"wrong server name", Options{URL: "fstrm+tls://" + addr, TLS: withName(f.client(t, f.cliCert, f.cliKey), "elsewhere")}, true, "certificate"},
		{"plain TCP to TLS", Options{URL: "fstrm://" + addr, Timeout: 2 * time.Second}, true, "ACCEPT"},
		{"no FINISH", Options{URL: "fstrm://" + noFinish}, false, "FINISH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			err = d.Send(context.Background(), b)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if forward.IsNotDelivered(err) != tc.notDelivered || !strings.Contains(err.Error(), tc.errorContains) {
				t.Errorf("error %q: not delivered %v, want %v and %q", err, forward.IsNotDelivered(err), tc.notDelivered, tc.errorContains)
			}
		})
	}
}

// rudeReceiver accepts, does the handshake, reads up to STOP and closes without FINISH.
func rudeReceiver(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(nc)
			var cf fs.ControlFrame
			if cf.DecodeEscape(br) == nil {
				acc := fs.ControlFrame{ControlType: fs.CONTROL_ACCEPT, ContentTypes: cf.ContentTypes}
				_ = acc.Encode(nc)
				_, _ = io.Copy(io.Discard, io.LimitReader(br, 100)) // some of the frames
			}
			nc.Close()
		}
	}()
	return ln.Addr().String()
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"fstrm://host", "fstrm+tls://h:1", "http://h:1", "unix://host/x", "fstrm://h:1/path", "fstrm://user@h:1", "::"} {
		if _, err := New(Options{URL: u}); err == nil {
			t.Errorf("New accepted %q", u)
		}
	}
}

// TestSessionResumption: after the first batch, TLS sessions are resumed.
func TestSessionResumption(t *testing.T) {
	f := makeTLS(t)
	cert, err := tls.LoadX509KeyPair(f.srvCert, f.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(f.ca.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resumed := make(chan bool, 10)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				r, err := fs.NewReader(nc, &fs.ReaderOptions{ContentTypes: [][]byte{[]byte(collector.DefaultContentType)}, Bidirectional: true})
				if err != nil {
					return
				}
				buf := make([]byte, 1<<16)
				for {
					if _, err := r.ReadFrame(buf); err != nil {
						break
					}
				}
				resumed <- nc.(*tls.Conn).ConnectionState().DidResume
			}()
		}
	}()
	d, err := New(Options{URL: "fstrm+tls://" + ln.Addr().String(), TLS: withName(f.client(t, f.cliCert, f.cliKey), "central")})
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	for i := range 4 {
		b, _ := batch("s", 10)
		if err := d.Send(context.Background(), b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		got = append(got, <-resumed)
	}
	if fmt.Sprint(got) != "[false true true true]" {
		t.Errorf("resumed: %v, want the first handshake full and the others resumed", got)
	}
}

// TestSendToFstrmCapture: any Frame Streams receiver works: Debian's fstrm_capture over TCP
// and over a unix socket gets every frame.
func TestSendToFstrmCapture(t *testing.T) {
	capture := testenv.LookPath(t, "fstrm_capture", "fstrm-bin")
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "fc")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			out := filepath.Join(dir, "out.fstrm")
			args := []string{"-t", collector.DefaultContentType, "-w", out}
			var url string
			if network == "tcp" {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				port := l.Addr().(*net.TCPAddr).Port
				l.Close()
				args = append(args, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
				url = fmt.Sprintf("fstrm://127.0.0.1:%d", port)
			} else {
				sock := filepath.Join(dir, "s")
				args = append(args, "-u", sock)
				url = "unix://" + sock
			}
			cmd := exec.Command(capture, args...)
			var log strings.Builder
			cmd.Stderr = &log
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			d, err := New(Options{URL: url, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			deadline := time.Now().Add(30 * time.Second)
			for i := 0; i < 3; {
				b, w := batch(fmt.Sprint("fc", i), 500)
				if err := d.Send(context.Background(), b); err != nil {
					if forward.IsNotDelivered(err) && time.Now().Before(deadline) {
						time.Sleep(50 * time.Millisecond) // fstrm_capture still starting
						continue
					}
					t.Fatalf("batch %d: %v\n%s", i, err, log.String())
				}
				want = append(want, w...)
				i++
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			if got := readFrames(t, out); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("fstrm_capture wrote %d frames, want the %d sent, in order\n%s", len(got), len(want), log.String())
			}
		})
	}
}
