package collector

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/internal/certs"
)

// pki is a CA with a server certificate for 127.0.0.1 and client certificates, in a directory.
type pki struct {
	dir        string
	ca         *certs.CA
	serverCert string
	serverKey  string
	caFile     string
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	dir := t.TempDir()
	ca, err := certs.NewCA("test CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{dir: dir, ca: ca, caFile: filepath.Join(dir, "ca.pem")}
	if err := os.WriteFile(p.caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	p.serverCert, p.serverKey = p.issue(t, "server", certs.Leaf{CN: "central", DNSNames: []string{"127.0.0.1", "central"}, Server: true})
	return p
}

// issue writes a certificate and key for l (valid from an hour ago for a day unless set).
func (p *pki) issue(t testing.TB, name string, l certs.Leaf) (string, string) {
	t.Helper()
	if l.NotBefore.IsZero() {
		l.NotBefore, l.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	}
	cert, key, err := p.ca.Issue(l)
	if err != nil {
		t.Fatal(err)
	}
	cp, kp := filepath.Join(p.dir, name+".pem"), filepath.Join(p.dir, name+"-key.pem")
	if err := os.WriteFile(cp, cert, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kp, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return cp, kp
}

// client returns a TLS client config trusting p's CA, with the client certificate cert/key
// (none when cert is "").
func (p *pki) client(t testing.TB, cert, key string) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	cfg := &tls.Config{RootCAs: pool, ServerName: "central", MinVersion: tls.VersionTLS12}
	if cert != "" {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg
}

func tlsListener(t testing.TB, p *pki, clientCA bool) *TLSListener {
	t.Helper()
	tcp, err := ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	files := TLSFiles{Cert: p.serverCert, Key: p.serverKey}
	if clientCA {
		files.ClientCA = p.caFile
	}
	ln, err := ListenTLS(tcp, files)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// sendFramesOver runs the bidirectional handshake on nc, sends frames, STOP, and waits for FINISH.
func sendFramesOver(nc net.Conn, frames [][]byte) error {
	defer nc.Close()
	w, err := fs.NewWriter(nc, &fs.WriterOptions{ContentTypes: [][]byte{ctDnstap}, Bidirectional: true, Timeout: 10 * time.Second})
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	for i, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
	}
	return w.Close()
}

func sendFrames(network, addr string, frames [][]byte) error {
	nc, err := net.Dial(network, addr)
	if err != nil {
		return err
	}
	return sendFramesOver(nc, frames)
}

func sendTLS(addr string, cfg *tls.Config, frames [][]byte) error {
	nc, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	return sendFramesOver(nc, frames)
}

func payloads(sender, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = payload(sender, i)
	}
	return out
}

// TestTLSRefusals: a client certificate is required when a client CA is given. A wrong CA,
// an expired certificate, no certificate and plain TCP are each refused with one log line
// and counted (reason tls), while an honest sender streams on undisturbed; the honest
// sender's files are named by its certificate's CN.
func TestTLSRefusals(t *testing.T) {
	p := newPKI(t)
	ln := tlsListener(t, p, true)
	addr := ln.Addr().String()
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, IdentityVar, "cap.fstrm"), HandshakeTimeout: 2 * time.Second}, ln)

	goodCert, goodKey := p.issue(t, "router1", certs.Leaf{CN: "router1", Client: true})
	expCert, expKey := p.issue(t, "expired", certs.Leaf{CN: "router2", Client: true, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	other := newPKI(t)
	wrongCert, wrongKey := other.issue(t, "wrong", certs.Leaf{CN: "router3", Client: true})

	// The honest sender streams in several connections while the bad ones come and go.
	const conns, per = 20, 2000
	honest := make(chan error, 1)
	go func() {
		for c := range conns {
			if err := sendTLS(addr, p.client(t, goodCert, goodKey), payloads(c, per)); err != nil {
				honest <- fmt.Errorf("connection %d: %w", c, err)
				return
			}
		}
		honest <- nil
	}()

	bad := []struct {
		name string
		dial func() error
		log  string // what the refusal line must say
	}{
		{"wrong CA", func() error { return sendTLS(addr, p.client(t, wrongCert, wrongKey), payloads(90, 10)) }, "unknown authority"},
		{"expired", func() error { return sendTLS(addr, p.client(t, expCert, expKey), payloads(91, 10)) }, "expired"},
		{"no certificate", func() error { return sendTLS(addr, p.client(t, "", ""), payloads(92, 10)) }, "certificate"},
		{"plain TCP", func() error { return sendFrames("tcp", addr, payloads(93, 10)) }, "does not look like a TLS handshake"},
	}
	for i, b := range bad {
		before := strings.Count(r.log.String(), "TLS handshake failed")
		if err := b.dial(); err == nil {
			t.Errorf("%s: the sender was accepted", b.name)
		}
		waitFor(t, b.name+" refusal logged", func() bool { return strings.Count(r.log.String(), "TLS handshake failed") == before+1 })
		lines := strings.Split(r.log.String(), "\n")
		var line string
		for _, l := range lines {
			if strings.Contains(l, "TLS handshake failed") {
				line = l
			}
		}
		if !strings.Contains(line, b.log) {
			t.Errorf("%s: the refusal does not say %q: %s", b.name, b.log, line)
		}
		if got := r.c.Stats().Rejected[ReasonTLS]; got != uint64(i+1) {
			t.Errorf("%s: %d TLS rejections counted, want %d", b.name, got, i+1)
		}
	}
	if err := <-honest; err != nil {
		t.Fatalf("honest sender: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	want := map[int]int{}
	for c := range conns {
		want[c] = per
	}
	checkFrames(t, allFrames(t, filepath.Join(dir, "router1")), want)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("%d identity directories, want only router1's", len(ents))
	}
	if strings.Count(r.log.String(), "TLS handshake failed") != len(bad) {
		t.Errorf("want one log line per refused handshake:\n%s", r.log)
	}
}

// TestTLSReload: Reload serves the new certificate to new connections and leaves an open
// connection alone; a broken file keeps the old configuration.
func TestTLSReload(t *testing.T) {
	p := newPKI(t)
	ln := tlsListener(t, p, true)
	addr := ln.Addr().String()
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm")}, ln)
	cert, key := p.issue(t, "router1", certs.Leaf{CN: "router1", Client: true})
	cfg := p.client(t, cert, key)

	// A connection opened before the reload, still streaming after it.
	nc, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fs.NewWriter(nc, &fs.WriterOptions{ContentTypes: [][]byte{ctDnstap}, Bidirectional: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := w.WriteFrame(payload(1, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	firstSerial := nc.ConnectionState().PeerCertificates[0].SerialNumber

	// Replace the server certificate on disk and reload.
	newCert, newKey := p.issue(t, "server2", certs.Leaf{CN: "central", DNSNames: []string{"central"}, Server: true})
	if err := copyFile(newCert, p.serverCert); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(newKey, p.serverKey); err != nil {
		t.Fatal(err)
	}
	if err := ln.Reload(); err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 200; i++ {
		if _, err := w.WriteFrame(payload(1, i)); err != nil {
			t.Fatalf("the open connection broke at the reload: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("the open connection broke at the reload: %v", err)
	}
	nc2, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s := nc2.ConnectionState().PeerCertificates[0].SerialNumber; s.Cmp(firstSerial) == 0 {
		t.Error("a new connection still gets the old certificate after Reload")
	}
	if err := sendFramesOver(nc2, payloads(2, 100)); err != nil {
		t.Fatal(err)
	}

	// A broken key file: Reload fails and the listener keeps serving the last good pair.
	if err := os.WriteFile(p.serverKey, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ln.Reload(); err == nil {
		t.Error("Reload accepted a broken key")
	}
	if err := sendTLS(addr, cfg, payloads(3, 100)); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	checkFrames(t, allFrames(t, dir), map[int]int{1: 200, 2: 100, 3: 100})
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}

// TestTLSWithoutClientCA: no client CA means no client certificate is asked for; senders are
// then named by the dnstap identity of their first frame.
func TestTLSWithoutClientCA(t *testing.T) {
	p := newPKI(t)
	ln := tlsListener(t, p, false)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, IdentityVar, "cap.fstrm")}, ln)
	frames := tapFrames(t, "edge9", 50)
	if err := sendTLS(ln.Addr().String(), p.client(t, "", ""), frames); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if got := allFrames(t, filepath.Join(dir, "edge9")); len(got) != 50 {
		t.Errorf("%d frames for edge9, want 50", len(got))
	}
}
