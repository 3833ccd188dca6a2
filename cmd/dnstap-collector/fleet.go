package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/fstrm"
	fkafka "github.com/dnstapkit/dnstapkit/collector/forward/kafka"
	fnats "github.com/dnstapkit/dnstapkit/collector/forward/nats"
	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	enats "github.com/dnstapkit/dnstapkit/engine/nats"
)

// The fleet settings: TLS on the TCP listener (a central collector) and the forwarder (a
// router). See docs/fleet.md.

type forwardSettings struct {
	url, ca, cert, key, serverName, state   string
	identity, creds, saslUser, saslPassFile string
	tls, scram256, json                     bool
	batchFrames                             int
	batchInterval, timeout                  time.Duration
}

func fleetOptions() []*option {
	return []*option{
		{names: []string{"tls-cert"}, env: "DNSTAP_TLS_CERT", usage: "TLS certificate (PEM) of the TCP listener; with --tls-key, -a/-p speak TLS 1.2+"},
		{names: []string{"tls-key"}, env: "DNSTAP_TLS_KEY", usage: "TLS private key (PEM) of the TCP listener"},
		{names: []string{"tls-client-ca"}, env: "DNSTAP_TLS_CLIENT_CA", usage: "CA certificates (PEM) that senders' client certificates must chain to; then a certificate is required. SIGHUP reloads the TLS files"},
		{names: []string{"forward"}, env: "DNSTAP_FORWARD", usage: "ship every frame written to fstrm+tls://HOST:PORT, fstrm://HOST:PORT, unix:///PATH, kafka://BROKER[,BROKER...]/TOPIC or nats://SERVER[,SERVER...]/SUBJECT (store and forward; see docs/fleet.md)"},
		{names: []string{"forward-identity"}, env: "DNSTAP_FORWARD_IDENTITY", usage: "this router's name for kafka:// and nats:// (the record key, the first part of Nats-Msg-Id; default: the host name)"},
		{names: []string{"forward-format"}, env: "DNSTAP_FORWARD_FORMAT", def: "protobuf", usage: "what a kafka:// or nats:// message holds: protobuf (the frame as BIND wrote it) or json (dnstap-reader --json's object of it)"},
		{names: []string{"forward-tls"}, env: "DNSTAP_FORWARD_TLS", isBool: true, def: "false", usage: "TLS to kafka:// or nats:// (implied by --forward-ca and --forward-cert)"},
		{names: []string{"forward-creds"}, env: "DNSTAP_FORWARD_CREDS", usage: "NATS credentials file (user JWT and NKey seed) for nats://"},
		{names: []string{"forward-sasl-user"}, env: "DNSTAP_FORWARD_SASL_USER", usage: "SASL SCRAM user for kafka:// (SCRAM-SHA-512)"},
		{names: []string{"forward-sasl-password-file"}, env: "DNSTAP_FORWARD_SASL_PASSWORD_FILE", usage: "file holding the SASL SCRAM password of --forward-sasl-user"},
		{names: []string{"forward-sasl-sha256"}, env: "DNSTAP_FORWARD_SASL_SHA256", isBool: true, def: "false", usage: "SCRAM-SHA-256 instead of SCRAM-SHA-512"},
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
			return append(append(append(opts[:i:i], fleetOptions()...), inputOptions()...), opts[i:]...)
		}
	}
	return append(append(opts, fleetOptions()...), inputOptions()...)
}

// resolveFleet reads the fleet settings into s (after the collector's).
func resolveFleet(s *settings, one func(string) string, boolean func(string) bool, duration func(string) time.Duration) []error {
	var errs []error
	s.tls = collector.TLSFiles{Cert: one("tls-cert"), Key: one("tls-key"), ClientCA: one("tls-client-ca")}
	if (s.tls.Cert == "") != (s.tls.Key == "") || (s.tls.ClientCA != "" && s.tls.Cert == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together (and --tls-client-ca needs them)"))
	}
	f := &s.forward
	f.url = one("forward")
	f.ca, f.cert, f.key, f.serverName = one("forward-ca"), one("forward-cert"), one("forward-key"), one("forward-server-name")
	f.state = one("forward-state")
	f.identity, f.creds = one("forward-identity"), one("forward-creds")
	f.saslUser, f.saslPassFile = one("forward-sasl-user"), one("forward-sasl-password-file")
	f.tls, f.scram256 = boolean("forward-tls"), boolean("forward-sasl-sha256")
	switch format := one("forward-format"); format {
	case "protobuf":
	case "json":
		f.json = true
	default:
		errs = append(errs, fmt.Errorf("--forward-format: %q, want protobuf or json", format))
	}
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
		if f.ca != "" || f.cert != "" || f.key != "" || f.serverName != "" || f.state != "" || f.identity != "" || f.creds != "" || f.saslUser != "" || f.tls || f.json {
			errs = append(errs, errors.New("--forward-* flags need --forward URL"))
		}
		return errs
	}
	if (f.cert == "") != (f.key == "") {
		errs = append(errs, errors.New("--forward-cert and --forward-key go together"))
	}
	engineURL := strings.HasPrefix(f.url, "kafka://") || strings.HasPrefix(f.url, "nats://")
	if engineURL {
		if f.identity == "" {
			h, err := os.Hostname()
			if err != nil {
				errs = append(errs, fmt.Errorf("--forward-identity: none given and no host name: %w", err))
			}
			f.identity = h
		}
		if err := engine.CheckIdentity(f.identity); err != nil {
			errs = append(errs, fmt.Errorf("--forward-identity: %w", err))
		}
		u, err := engine.ParseURL(f.url)
		if err == nil && len(u.Query) > 0 {
			err = fmt.Errorf("URL %q: no options are known after ?", f.url)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--forward: %w", err))
		}
		if f.creds != "" && !strings.HasPrefix(f.url, "nats://") || (f.saslUser != "" || f.saslPassFile != "") && !strings.HasPrefix(f.url, "kafka://") {
			errs = append(errs, errors.New("--forward-creds is for nats://, --forward-sasl-* for kafka://"))
		}
		if (f.saslUser == "") != (f.saslPassFile == "") {
			errs = append(errs, errors.New("--forward-sasl-user and --forward-sasl-password-file go together"))
		}
	} else if _, err := fstrm.New(fstrm.Options{URL: f.url, TLS: &tls.Config{}}); err != nil { // the URL alone
		errs = append(errs, fmt.Errorf("--forward: %w", err))
	} else if f.identity != "" || f.tls || f.creds != "" || f.saslUser != "" || f.saslPassFile != "" || f.json {
		errs = append(errs, errors.New("--forward-identity, --forward-format json, --forward-tls, --forward-creds and --forward-sasl-* are for kafka:// and nats://"))
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
	if !strings.HasPrefix(f.url, "fstrm+tls://") && !engineURL && (f.ca != "" || f.cert != "" || f.serverName != "") {
		errs = append(errs, fmt.Errorf("--forward-ca, --forward-cert and --forward-server-name need an fstrm+tls://, kafka:// or nats:// URL, not %q", f.url))
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
	if strings.HasPrefix(f.url, "fstrm+tls://") || f.tls || f.ca != "" || f.cert != "" {
		var err error
		if tcfg, err = forwardTLS(f); err != nil {
			return nil, err
		}
	}
	dest, name, err := newDestination(s, tcfg)
	if err != nil {
		return nil, err
	}
	ccfg := s.cfg
	return forward.New(forward.Config{
		Destination: dest, Name: name, State: f.state,
		List:        func() ([]string, error) { return collector.ListSpool(ccfg) },
		BatchFrames: f.batchFrames, BatchDelay: f.batchInterval,
		MaxFrameSize: max(s.cfg.MaxFrameSize, 1<<20),
	}, log)
}

// newDestination makes the destination of --forward.
func newDestination(s settings, tcfg *tls.Config) (forward.Destination, string, error) {
	f := s.forward
	switch {
	case strings.HasPrefix(f.url, "kafka://"):
		a, err := ekafka.Auth{TLS: tcfg}.WithSCRAM(f.saslUser, f.saslPassFile, f.scram256)
		if err != nil {
			return nil, "", fmt.Errorf("--forward-sasl-password-file: %w", err)
		}
		d, err := fkafka.New(fkafka.Options{URL: f.url, Identity: f.identity, Auth: a, ContentType: s.cfg.ContentType, JSON: f.json, Timeout: f.timeout})
		if err != nil {
			return nil, "", err
		}
		return d, d.String(), nil
	case strings.HasPrefix(f.url, "nats://"):
		d, err := fnats.New(fnats.Options{URL: f.url, Identity: f.identity, Auth: enats.Auth{TLS: tcfg, CredsFile: f.creds}, ContentType: s.cfg.ContentType, JSON: f.json, Timeout: f.timeout})
		if err != nil {
			return nil, "", err
		}
		return d, d.String(), nil
	}
	d, err := fstrm.New(fstrm.Options{URL: f.url, TLS: tcfg, ContentType: s.cfg.ContentType, Timeout: f.timeout})
	if err != nil {
		return nil, "", err
	}
	return d, d.String(), nil
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
