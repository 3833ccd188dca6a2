package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/input"
	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
	enats "github.com/dnstapkit/dnstapkit/engine/nats"
)

// --input: consume a Kafka topic or a NATS subject into the collector's files (a central
// archive of what the fleet publishes). See docs/fleet.md.

type inputSettings struct {
	url, group, creds, ca  string
	saslUser, saslPassFile string
	scram256               bool
}

func inputOptions() []*option {
	return []*option{
		{names: []string{"input"}, env: "DNSTAP_INPUT", usage: "also read frames from kafka://BROKER[,...]/TOPIC or nats://SERVER[,...]/SUBJECT into the files of -w (with %{identity}: per router)"},
		{names: []string{"input-group"}, env: "DNSTAP_INPUT_GROUP", def: "dnstap-collector", usage: "Kafka consumer group or JetStream durable consumer name of --input (where it resumes)"},
		{names: []string{"input-creds"}, env: "DNSTAP_INPUT_CREDS", usage: "NATS credentials file for --input nats://"},
		{names: []string{"input-ca"}, env: "DNSTAP_INPUT_CA", usage: "CA certificates (PEM) of the engine's servers: --input over TLS"},
		{names: []string{"input-sasl-user"}, env: "DNSTAP_INPUT_SASL_USER", usage: "SASL SCRAM user for --input kafka:// (SCRAM-SHA-512)"},
		{names: []string{"input-sasl-password-file"}, env: "DNSTAP_INPUT_SASL_PASSWORD_FILE", usage: "file holding the SASL SCRAM password of --input-sasl-user"},
		{names: []string{"input-sasl-sha256"}, env: "DNSTAP_INPUT_SASL_SHA256", isBool: true, def: "false", usage: "SCRAM-SHA-256 instead of SCRAM-SHA-512 for --input"},
	}
}

func resolveInput(s *settings, one func(string) string, boolean func(string) bool) []error {
	in := &s.input
	in.url, in.group, in.creds, in.ca = one("input"), one("input-group"), one("input-creds"), one("input-ca")
	in.saslUser, in.saslPassFile, in.scram256 = one("input-sasl-user"), one("input-sasl-password-file"), boolean("input-sasl-sha256")
	if in.url == "" {
		if in.creds != "" || in.ca != "" || in.saslUser != "" || in.saslPassFile != "" {
			return []error{errors.New("--input-* flags need --input URL")}
		}
		return nil
	}
	var errs []error
	u, err := engine.ParseURL(in.url)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("--input: %w", err))
	case len(u.Query) > 0:
		errs = append(errs, fmt.Errorf("--input: URL %q: no options are known after ?", in.url))
	case in.creds != "" && u.Scheme != "nats":
		errs = append(errs, errors.New("--input-creds is for nats://"))
	case (in.saslUser != "" || in.saslPassFile != "") && u.Scheme != "kafka":
		errs = append(errs, errors.New("--input-sasl-* are for kafka://"))
	}
	if (in.saslUser == "") != (in.saslPassFile == "") {
		errs = append(errs, errors.New("--input-sasl-user and --input-sasl-password-file go together"))
	}
	if in.group == "" || strings.ContainsAny(in.group, " .*>/\t") {
		errs = append(errs, fmt.Errorf("--input-group %q: want a name without spaces, dots, * or >", in.group))
	}
	if out := s.cfg.Output; out == "" || out == "-" {
		errs = append(errs, errors.New("--input writes the files of -w: give -w a file template"))
	}
	if s.forward.url != "" {
		errs = append(errs, errors.New("--input and --forward together are not supported (a central archive does not forward)"))
	}
	return errs
}

// newInput builds the --input of s, or returns nil when there is none.
func newInput(ctx context.Context, s settings, log *slog.Logger) (*input.Input, error) {
	in := s.input
	if in.url == "" {
		return nil, nil
	}
	u, err := engine.ParseURL(in.url)
	if err != nil {
		return nil, err
	}
	var tcfg *tls.Config
	if in.ca != "" {
		pool, err := collector.LoadCertPool(in.ca)
		if err != nil {
			return nil, fmt.Errorf("--input-ca: %w", err)
		}
		tcfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var src engine.Source
	if u.Scheme == "kafka" {
		var a ekafka.Auth
		if a, err = (ekafka.Auth{TLS: tcfg}).WithSCRAM(in.saslUser, in.saslPassFile, in.scram256); err != nil {
			return nil, fmt.Errorf("--input-sasl-password-file: %w", err)
		}
		src, err = ekafka.NewSource(u, a, in.group)
	} else {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		src, err = enats.NewSource(cctx, u, enats.Auth{TLS: tcfg, CredsFile: in.creds}, in.group)
		cancel()
	}
	if err != nil {
		return nil, fmt.Errorf("--input: %w", err)
	}
	return input.New(input.Config{Source: src, Name: u.String(), ContentType: s.cfg.ContentType}, log)
}
