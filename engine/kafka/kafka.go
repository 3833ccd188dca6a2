// Package kafka is dnstapkit's Kafka client side that the producer (collector/forward/kafka)
// and the consumers (dnstap-reader, dnstap-collector --input) share: the client options from
// a URL and credentials, and Consume, which reads a topic's frames back.
package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/dnstapkit/dnstapkit/engine"
)

// Auth is how to reach the brokers: TLS, and SASL SCRAM when User is set.
type Auth struct {
	TLS            *tls.Config
	User, Password string
	SCRAMSHA256    bool // SCRAM-SHA-256; default SCRAM-SHA-512
}

// WithSCRAM returns a with SASL SCRAM as user, the password read from passwordFile (its
// trailing line break removed), SCRAM-SHA-256 when sha256 is set; a unchanged when user is "".
func (a Auth) WithSCRAM(user, passwordFile string, sha256 bool) (Auth, error) {
	if user == "" {
		return a, nil
	}
	b, err := os.ReadFile(passwordFile)
	if err != nil {
		return a, fmt.Errorf("SASL password of %q: %w", user, err)
	}
	a.User, a.Password, a.SCRAMSHA256 = user, strings.TrimRight(string(b), "\r\n"), sha256
	return a, nil
}

// ClientOpts returns the client options for the brokers of u with a.
func ClientOpts(u engine.URL, a Auth) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(u.Servers...), kgo.ClientID("dnstapkit")}
	if a.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(a.TLS.Clone()))
	}
	if a.User != "" {
		s := scram.Auth{User: a.User, Pass: a.Password}
		if a.SCRAMSHA256 {
			opts = append(opts, kgo.SASL(s.AsSha256Mechanism()))
		} else {
			opts = append(opts, kgo.SASL(s.AsSha512Mechanism()))
		}
	}
	return opts
}

// Consume reads the records of u's topic, every partition, and calls fn with each, in
// order within a partition. Without o.Follow it returns nil once it has read every record
// stored when it started (the high watermarks then); with it, it waits for new records
// until ctx ends (then it returns nil). An error of fn stops it and is returned.
func Consume(ctx context.Context, u engine.URL, a Auth, o engine.ConsumeOptions, fn func(engine.Message) error) error {
	if u.Scheme != "kafka" {
		return fmt.Errorf("%s: not a kafka:// URL", u)
	}
	topic := u.Name
	adm, err := kgo.NewClient(ClientOpts(u, a)...)
	if err != nil {
		return fmt.Errorf("kafka client for %s: %w", u, err)
	}
	ac := kadm.NewClient(adm)
	ends, err := ac.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	var starts kadm.ListedOffsets
	if err == nil && !o.Since.IsZero() {
		starts, err = ac.ListOffsetsAfterMilli(ctx, o.Since.UnixMilli(), topic)
		if err == nil {
			err = starts.Error()
		}
	}
	adm.Close()
	if err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("%s: the topic does not exist", u)
		}
		return fmt.Errorf("%s: list offsets: %w", u, err)
	}
	// left: the partitions still to read to their end (without Follow).
	left := map[int32]int64{}
	offsets := map[string]map[int32]kgo.Offset{topic: {}}
	ends.Each(func(l kadm.ListedOffset) {
		start := kgo.NewOffset().AtStart()
		from := int64(0)
		if !o.Since.IsZero() {
			if s, ok := starts.Lookup(topic, l.Partition); ok && s.Offset >= 0 {
				start, from = kgo.NewOffset().At(s.Offset), s.Offset
			} else {
				start, from = kgo.NewOffset().At(l.Offset), l.Offset
			}
		}
		offsets[topic][l.Partition] = start
		if l.Offset > from {
			left[l.Partition] = l.Offset
		}
	})
	if !o.Follow && len(left) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(ClientOpts(u, a), kgo.ConsumePartitions(offsets), kgo.FetchMaxWait(500*time.Millisecond))...)
	if err != nil {
		return fmt.Errorf("kafka client for %s: %w", u, err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			if o.Follow {
				return nil
			}
			return ctx.Err()
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.Canceled) {
				continue
			}
			return fmt.Errorf("%s partition %d: %w", u, fe.Partition, fe.Err)
		}
		var ferr error
		fs.EachRecord(func(r *kgo.Record) {
			if ferr != nil {
				return
			}
			if end, ok := left[r.Partition]; ok && !o.Follow && r.Offset >= end {
				return // written after the start
			}
			ferr = fn(message(r))
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
		if ferr != nil {
			return ferr
		}
		if !o.Follow && len(left) == 0 {
			return nil
		}
	}
}

func message(r *kgo.Record) engine.Message {
	m := engine.Message{Value: r.Value, Time: r.Timestamp, Where: r.Topic + "/" + strconv.Itoa(int(r.Partition)) + "@" + strconv.FormatInt(r.Offset, 10)}
	for _, h := range r.Headers {
		switch h.Key {
		case engine.HeaderIdentity:
			m.Identity = string(h.Value)
		case engine.HeaderMsgID:
			m.ID = string(h.Value)
		case engine.HeaderContentType:
			m.ContentType = string(h.Value)
		}
	}
	if m.Identity == "" {
		m.Identity = string(r.Key)
	}
	return m
}
