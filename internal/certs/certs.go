// Package certs makes a private certificate authority and the certificates of a small fleet
// (one central collector, any number of routers) for trying mutual TLS out and for tests:
// `go tool mage certs`. Keys are ECDSA P-256; files are PEM. Use a real CA in production.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// CA is a certificate authority that can issue certificates.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named cn, valid from an hour ago for validity.
func NewCA(cn string, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("ca key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"dnstapkit test CA"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	return &CA{Cert: cert, CertPEM: pemBlock("CERTIFICATE", der), key: key}, nil
}

// Leaf says what certificate to issue.
type Leaf struct {
	CN        string
	DNSNames  []string // also IP addresses, which go into the IP SANs
	Server    bool     // extended key usage serverAuth
	Client    bool     // extended key usage clientAuth
	NotBefore time.Time
	NotAfter  time.Time
}

// Issue signs a new key's certificate and returns both in PEM.
func (ca *CA) Issue(l Leaf) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("key for %s: %w", l.CN, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: l.CN},
		NotBefore:    l.NotBefore,
		NotAfter:     l.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	for _, n := range l.DNSNames {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if l.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if l.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate for %s: %w", l.CN, err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("key for %s: %w", l.CN, err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", kder), nil
}

// Options of Generate.
type Options struct {
	Dir      string        // where the files go (created 0700)
	Central  []string      // DNS names and IP addresses of the central collector (default "central")
	Routers  []string      // one client certificate each, CN = the name (default router1..3)
	Validity time.Duration // of every certificate (default 825 days)
}

// Files are the paths Generate wrote.
type Files struct {
	CA                      string               // ca.pem: give it to both sides (--tls-client-ca, --forward-ca)
	CentralCert, CentralKey string               // central.pem, central-key.pem (--tls-cert, --tls-key)
	Routers                 map[string][2]string // name -> cert, key (--forward-cert, --forward-key)
}

// Generate makes a CA, a server certificate for the central collector and a client
// certificate for each router, in Dir. It refuses to overwrite an existing ca.pem.
func Generate(o Options) (Files, error) {
	if o.Dir == "" {
		return Files{}, errors.New("certs: no directory")
	}
	if len(o.Central) == 0 {
		o.Central = []string{"central"}
	}
	if len(o.Routers) == 0 {
		o.Routers = []string{"router1", "router2", "router3"}
	}
	if o.Validity == 0 {
		o.Validity = 825 * 24 * time.Hour
	}
	for _, r := range o.Routers {
		if !safeName.MatchString(r) {
			return Files{}, fmt.Errorf("certs: router name %q: letters, digits, '.', '_' and '-' only (it names files and the sender's directory)", r)
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("certs: %w", err)
	}
	f := Files{CA: filepath.Join(o.Dir, "ca.pem"), CentralCert: filepath.Join(o.Dir, "central.pem"),
		CentralKey: filepath.Join(o.Dir, "central-key.pem"), Routers: map[string][2]string{}}
	if _, err := os.Stat(f.CA); err == nil {
		return Files{}, fmt.Errorf("certs: %s exists; remove the directory's files to make a new CA", f.CA)
	}
	ca, err := NewCA("dnstapkit test CA", o.Validity)
	if err != nil {
		return Files{}, err
	}
	now := time.Now()
	nb, na := now.Add(-time.Hour), now.Add(o.Validity)
	write := func(p string, b []byte, mode os.FileMode) error {
		if err := os.WriteFile(p, b, mode); err != nil {
			return fmt.Errorf("certs: %w", err)
		}
		return nil
	}
	if err := write(f.CA, ca.CertPEM, 0o644); err != nil {
		return Files{}, err
	}
	cert, key, err := ca.Issue(Leaf{CN: o.Central[0], DNSNames: o.Central, Server: true, NotBefore: nb, NotAfter: na})
	if err != nil {
		return Files{}, err
	}
	if err := errors.Join(write(f.CentralCert, cert, 0o644), write(f.CentralKey, key, 0o600)); err != nil {
		return Files{}, err
	}
	for _, r := range o.Routers {
		cert, key, err := ca.Issue(Leaf{CN: r, DNSNames: []string{r}, Client: true, NotBefore: nb, NotAfter: na})
		if err != nil {
			return Files{}, err
		}
		cp, kp := filepath.Join(o.Dir, r+".pem"), filepath.Join(o.Dir, r+"-key.pem")
		if err := errors.Join(write(cp, cert, 0o644), write(kp, key, 0o600)); err != nil {
			return Files{}, err
		}
		f.Routers[r] = [2]string{cp, kp}
	}
	return f, nil
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$`)

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil { // crypto/rand does not fail on Linux
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// Main is `go tool mage certs`: Generate in dir, then a list of what was written and the
// flags that use it.
func Main(w io.Writer, dir string, central, routers []string) error {
	f, err := Generate(Options{Dir: dir, Central: central, Routers: routers})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "CA:      %s\n", f.CA)
	fmt.Fprintf(w, "central: --tls-cert %s --tls-key %s --tls-client-ca %s\n", f.CentralCert, f.CentralKey, f.CA)
	names := make([]string, 0, len(f.Routers))
	for n := range f.Routers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "%s: --forward-ca %s --forward-cert %s --forward-key %s\n", n, f.CA, f.Routers[n][0], f.Routers[n][1])
	}
	return nil
}
