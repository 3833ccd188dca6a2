package collector

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// TLSFiles names the PEM files of a TLS listener: its certificate (chain) and private key
// and, when ClientCA is set, the CA certificates that client certificates must chain to;
// then every client must present one.
type TLSFiles struct {
	Cert, Key, ClientCA string
}

// TLSListener accepts TLS connections (1.2 or later, Go's default cipher suites) on an inner
// listener. Reload reads the files again: new handshakes use the new certificate and CA,
// connections already open are not touched. The TLS handshake itself runs in the
// collector's connection goroutine, under the handshake timeout; a refused handshake (wrong
// CA, a client certificate missing or expired, plain TCP) is logged once and counted with
// the reason "tls".
type TLSListener struct {
	net.Listener
	inner net.Listener
	files TLSFiles
	cur   atomic.Pointer[tls.Config]
}

// ListenTLS wraps inner (a TCP listener) in TLS with the certificate and key of files.
func ListenTLS(inner net.Listener, files TLSFiles) (*TLSListener, error) {
	if files.Cert == "" || files.Key == "" {
		return nil, errors.New("tls listener: a certificate and a key are both needed")
	}
	l := &TLSListener{inner: inner, files: files}
	if err := l.Reload(); err != nil {
		return nil, err
	}
	base := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The returned config has no session ticket keys of its own, so the base config's
		// (rotated by crypto/tls) serve every reload: senders resume sessions across reloads.
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.cur.Load(), nil },
	}
	l.Listener = tls.NewListener(inner, base)
	return l, nil
}

// Reload reads the certificate, key and client CA files again. On error the listener keeps
// what it had.
func (l *TLSListener) Reload() error {
	cfg, err := serverTLSConfig(l.files)
	if err != nil {
		return err
	}
	l.cur.Store(cfg)
	return nil
}

// SetDeadline passes a deadline for Accept to the inner listener (Serve's grace period for
// connections queued at shutdown).
func (l *TLSListener) SetDeadline(t time.Time) error {
	if d, ok := l.inner.(interface{ SetDeadline(time.Time) error }); ok {
		return d.SetDeadline(t)
	}
	return errors.New("tls listener: inner listener has no deadline")
}

func serverTLSConfig(files TLSFiles) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		return nil, fmt.Errorf("tls certificate %s, key %s: %w", files.Cert, files.Key, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if files.ClientCA != "" {
		pool, err := LoadCertPool(files.ClientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// LoadCertPool reads PEM CA certificates from path; a file with none is an error.
func LoadCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// SenderIdentifier is a connection that knows its sender's identity: the in-process
// connections of an --input that consumes a Kafka topic or a NATS stream (collector/input)
// name the router each batch came from. Like a TLS client certificate's CN, it wins over
// the dnstap identity field of the first frame.
type SenderIdentifier interface {
	SenderIdentity() string
}

// tlsHandshake runs the TLS handshake of a TLS connection (under the deadline the caller
// set) and returns the client's identity from its certificate; plain connections pass
// through with "" (or their SenderIdentity).
func (c *Collector) tlsHandshake(nc net.Conn) (string, error) {
	if si, ok := nc.(SenderIdentifier); ok {
		return SanitizeIdentity([]byte(si.SenderIdentity())), nil
	}
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return "", nil
	}
	if err := tc.Handshake(); err != nil {
		return "", err
	}
	return tlsIdentity(tc.ConnectionState()), nil
}
