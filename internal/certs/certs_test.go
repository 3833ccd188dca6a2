package certs

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerate: the central certificate verifies for its names as a server, each router's
// as a client with its name as CN, all against the CA; a second run refuses to overwrite.
func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out bytes.Buffer
	if err := Main(&out, dir, []string{"central.example", "192.0.2.10"}, []string{"edge1", "edge2"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "edge2: --forward-ca") {
		t.Errorf("output:\n%s", out.String())
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	leaf := func(name string) *x509.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	srv := leaf("central")
	for _, name := range []string{"central.example", "192.0.2.10"} {
		if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("central certificate for %s: %v", name, err)
		}
	}
	for _, r := range []string{"edge1", "edge2"} {
		c := leaf(r)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil || c.Subject.CommonName != r {
			t.Errorf("%s: CN %q, %v", r, c.Subject.CommonName, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, r+"-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s key mode: %v %v", r, fi.Mode(), err)
		}
	}
	if err := Main(&out, dir, nil, nil); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second run: %v", err)
	}
	if _, err := Generate(Options{Dir: t.TempDir(), Routers: []string{"../x"}}); err == nil {
		t.Error("a router name with a slash was accepted")
	}
}
