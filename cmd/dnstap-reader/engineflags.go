package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/reader"
)

// engineFlags reach a secured Kafka or NATS input (kafka://, nats://): dnstap-reader and its
// stats subcommand share them.
type engineFlags struct {
	ca, cert, key, creds, saslUser, saslPassFile string
	tls, scram256                                bool
}

func (e *engineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&e.ca, "engine-ca", "", "")
	fs.StringVar(&e.cert, "engine-cert", "", "")
	fs.StringVar(&e.key, "engine-key", "", "")
	fs.BoolVar(&e.tls, "engine-tls", false, "")
	fs.StringVar(&e.creds, "nats-creds", "", "")
	fs.StringVar(&e.saslUser, "kafka-sasl-user", "", "")
	fs.StringVar(&e.saslPassFile, "kafka-sasl-password-file", "", "")
	fs.BoolVar(&e.scram256, "kafka-sasl-sha256", false, "")
}

// check refuses flags that go together given alone.
func (e *engineFlags) check() error {
	switch {
	case (e.cert == "") != (e.key == ""):
		return errors.New("--engine-cert and --engine-key go together")
	case (e.saslUser == "") != (e.saslPassFile == ""):
		return errors.New("--kafka-sasl-user and --kafka-sasl-password-file go together")
	}
	return nil
}

// urlOptions is how to read a kafka:// or nats:// input.
func (e *engineFlags) urlOptions(o engine.ConsumeOptions) (reader.URLOptions, error) {
	u := reader.URLOptions{ConsumeOptions: o}
	if e.tls || e.ca != "" || e.cert != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if e.ca != "" {
			pool, err := collector.LoadCertPool(e.ca)
			if err != nil {
				return u, fmt.Errorf("--engine-ca: %w", err)
			}
			cfg.RootCAs = pool
		}
		if e.cert != "" {
			c, err := tls.LoadX509KeyPair(e.cert, e.key)
			if err != nil {
				return u, fmt.Errorf("--engine-cert/--engine-key: %w", err)
			}
			cfg.Certificates = []tls.Certificate{c}
		}
		u.Kafka.TLS, u.NATS.TLS = cfg, cfg
	}
	u.NATS.CredsFile = e.creds
	var err error
	if u.Kafka, err = u.Kafka.WithSCRAM(e.saslUser, e.saslPassFile, e.scram256); err != nil {
		return u, fmt.Errorf("--kafka-sasl-password-file: %w", err)
	}
	return u, nil
}
