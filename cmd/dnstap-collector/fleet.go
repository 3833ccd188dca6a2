package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/fstrm"
)

// The fleet settings: TLS on the TCP listener (a central collector) and the forwarder (a
// router). See docs/fleet.md.

type forwardSettings struct {
	url, ca, cert, key, serverName, state string
	batchFrames                           int
	batchInterval, timeout                time.Duration
}

func fleetOptions() []*option {
	return []*option{
		{names: []string{"tls-cert"}, env: "DNSTAP_TLS_CERT", usage: "TLS certificate (PEM) of the TCP listener; with --tls-key, -a/-p speak TLS 1.2+"},
		{names: []string{"tls-key"}, env: "DNSTAP_TLS_KEY", usage: "TLS private key (PEM) of the TCP listener"},
		{names: []string{"tls-client-ca"}, env: "DNSTAP_TLS_CLIENT_CA", usage: "CA certificates (PEM) that senders' client certificates must chain to; then a certificate is required. SIGHUP reloads the TLS files"},
		{names: []string{"forward"}, env: "DNSTAP_FORWARD", usage: "ship every frame written to fstrm+tls://HOST:PORT, fstrm://HOST:PORT or unix:///PATH (store and forward; see docs/fleet.md)"},
		{names: []string{"forward-ca"}, env: "DNSTAP_FORWARD_CA", usage: "CA certificates (PEM) the receiver's certificate must chain to (default: the system's)"},
		{names: []string{"forward-cert"}, env: "DNSTAP_FORWARD_CERT", usage: "client certificate (PEM) for fstrm+tls; its CN names this sender at the receiver"},
		{names: []string{"forward-key"}, env: "DNSTAP_FORWARD_KEY", usage: "private key (PEM) of --forward-cert"},
		{names: []string{"forward-server-name"}, env: "DNSTAP_FORWARD_SERVER_NAME", usage: "name the receiver's certificate must have (default: the host of --forward)"},
		{names: []string{"forward-state"}, env: "DNSTAP_FORWARD_STATE", usage: "file of the forwarder's durable cursor (default: .dnstap-forward.state in the -w directory)"},
		{names: []string{"forward-batch-frames"}, env: "DNSTAP_FORWARD_BATCH_FRAMES", def: "10000", usage: "most frames in a batch (one connection, acknowledged by FINISH)"},
		{names: []string{"forward-batch-interval"}, env: "DNSTAP_FORWARD_BATCH_INTERVAL", def: "1s", usage: "longest a frame waits for its batch to fill"},
		{names: []string{"forward-timeout"}, env: "DNSTAP_FORWARD_TIMEOUT", def: "30s", usage: "bound on connecting, sending a batch and waiting for its FINISH"},
	}
}

// withFleet inserts the fleet options before --version and --help.
func withFleet(opts []*option) []*option {
	for i, o := range opts {
		if o.names[0] == "version" {
			return append(append(opts[:i:i], fleetOptions()...), opts[i:]...)
		}
	}
	return append(opts, fleetOptions()...)
}

// resolveFleet reads the fleet settings into s (after the collector's).
func resolveFleet(s *settings, one func(string) string, duration func(string) time.Duration) []error {
	var errs []error
	s.tls = collector.TLSFiles{Cert: one("tls-cert"), Key: one("tls-key"), ClientCA: one("tls-client-ca")}
	if (s.tls.Cert == "") != (s.tls.Key == "") || (s.tls.ClientCA != "" && s.tls.Cert == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together (and --tls-client-ca needs them)"))
	}
	f := &s.forward
	f.url = one("forward")
	f.ca, f.cert, f.key, f.serverName = one("forward-ca"), one("forward-cert"), one("forward-key"), one("forward-server-name")
	f.state = one("forward-state")
	n, err := strconv.Atoi(one("forward-batch-frames"))
	if err != nil || n < 1 || n > 1_000_000 {
		errs = append(errs, fmt.Errorf("--forward-batch-frames: %q, must be between 1 and 1000000", one("forward-batch-frames")))
	}
	f.batchFrames = n
	f.batchInterval, f.timeout = duration("forward-batch-interval"), duration("forward-timeout")
	if f.batchInterval <= 0 || f.timeout <= 0 {
		errs = append(errs, errors.New("--forward-batch-interval and --forward-timeout must be positive"))
	}
	if f.url == "" {
		if f.ca != "" || f.cert != "" || f.key != "" || f.serverName != "" || f.state != "" {
			errs = append(errs, errors.New("--forward-* flags need --forward URL"))
		}
		return errs
	}
	if (f.cert == "") != (f.key == "") {
		errs = append(errs, errors.New("--forward-cert and --forward-key go together"))
	}
	if _, err := fstrm.New(fstrm.Options{URL: f.url, TLS: &tls.Config{}}); err != nil { // the URL alone
		errs = append(errs, fmt.Errorf("--forward: %w", err))
	}
	out := s.cfg.Output
	switch {
	case out == "" || out == "-":
		errs = append(errs, errors.New("--forward ships the files of -w: give -w a file template"))
	case strings.Contains(out, collector.IdentityVar):
		errs = append(errs, fmt.Errorf("--forward with %s in -w: forwarding a central's per-sender files is not supported", collector.IdentityVar))
	case f.state == "":
		f.state = forward.DefaultStatePath(out)
	}
	if !strings.HasPrefix(f.url, "fstrm+tls://") && (f.ca != "" || f.cert != "" || f.serverName != "") {
		errs = append(errs, fmt.Errorf("--forward-ca, --forward-cert and --forward-server-name need an fstrm+tls:// URL, not %q", f.url))
	}
	return errs
}

// forwardTLS is the client configuration for fstrm+tls.
func forwardTLS(f forwardSettings) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.serverName}
	if f.ca != "" {
		pool, err := collector.LoadCertPool(f.ca)
		if err != nil {
			return nil, fmt.Errorf("--forward-ca: %w", err)
		}
		cfg.RootCAs = pool
	}
	if f.cert != "" {
		c, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("--forward-cert/--forward-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// newForwarder builds the forwarder of s, or returns nil when there is none. It must be
// given to the collector (cfg.Spool) before the collector starts.
func newForwarder(s settings, log *slog.Logger) (*forward.Forwarder, error) {
	f := s.forward
	if f.url == "" {
		return nil, nil
	}
	var tcfg *tls.Config
	if strings.HasPrefix(f.url, "fstrm+tls://") {
		var err error
		if tcfg, err = forwardTLS(f); err != nil {
			return nil, err
		}
	}
	dest, err := fstrm.New(fstrm.Options{URL: f.url, TLS: tcfg, ContentType: s.cfg.ContentType, Timeout: f.timeout})
	if err != nil {
		return nil, err
	}
	ccfg := s.cfg
	return forward.New(forward.Config{
		Destination: dest, Name: dest.String(), State: f.state,
		List:        func() ([]string, error) { return collector.ListSpool(ccfg) },
		BatchFrames: f.batchFrames, BatchDelay: f.batchInterval,
		MaxFrameSize: max(s.cfg.MaxFrameSize, 1<<20),
	}, log)
}

// withTLS wraps the TCP listeners in TLS when --tls-cert is given.
func withTLS(s settings, lns []net.Listener) ([]net.Listener, []*collector.TLSListener, error) {
	if s.tls.Cert == "" {
		return lns, nil, nil
	}
	var tlns []*collector.TLSListener
	for i, ln := range lns {
		if ln.Addr().Network() != "tcp" {
			continue
		}
		tl, err := collector.ListenTLS(ln, s.tls)
		if err != nil {
			return nil, nil, err
		}
		lns[i] = tl
		tlns = append(tlns, tl)
	}
	if len(tlns) == 0 {
		return nil, nil, errors.New("--tls-cert: no TCP listener to use it on (give -a and -p)")
	}
	return lns, tlns, nil
}
