package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dnstapkit/dnstapkit/engine"
)

// Source is a JetStream durable pull consumer (ack all) on u's subject: Commit acknowledges
// the last message returned, and with it every one before.
type Source struct {
	u    engine.URL
	nc   *natsgo.Conn
	cons jetstream.Consumer
	last jetstream.Msg
	buf  []engine.Message
}

var _ engine.Source = (*Source)(nil)

// NewSource creates (or finds) the durable consumer named durable on the stream that takes
// u's subject. A new one starts at the oldest message kept.
func NewSource(ctx context.Context, u engine.URL, a Auth, durable string) (*Source, error) {
	if u.Scheme != "nats" {
		return nil, fmt.Errorf("%s: not a nats:// URL", u)
	}
	nc, err := Connect(u, a, "dnstap-collector input", 10*time.Second)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	name, err := js.StreamNameBySubject(ctx, u.Name)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: find the stream of subject %q: %w", u, u.Name, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: u.Name, AckPolicy: jetstream.AckAllPolicy,
		AckWait: 5 * time.Minute, MaxAckPending: -1, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: durable consumer %s on stream %s: %w", u, durable, name, err)
	}
	return &Source{u: u, nc: nc, cons: cons}, nil
}

// Next fetches up to max messages.
func (s *Source) Next(ctx context.Context, max int, wait time.Duration) ([]engine.Message, error) {
	b, err := s.cons.Fetch(max, jetstream.FetchMaxWait(wait))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: fetch: %w", s.u, err)
	}
	s.buf = s.buf[:0]
	for m := range b.Messages() {
		md, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.u, err)
		}
		h := m.Headers()
		em := engine.Message{Value: m.Data(), Identity: h.Get(engine.HeaderIdentity), ID: h.Get(engine.HeaderMsgID), ContentType: h.Get(engine.HeaderContentType),
			Time: md.Timestamp, Where: md.Stream + "#" + strconv.FormatUint(md.Sequence.Stream, 10)}
		if em.Identity == "" {
			em.Identity = engine.IdentityOf(em.ID)
		}
		s.buf = append(s.buf, em)
		s.last = m
	}
	if err := b.Error(); err != nil && !errors.Is(err, natsgo.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		return s.buf, fmt.Errorf("%s: fetch: %w", s.u, err)
	}
	return s.buf, nil
}

// Commit acknowledges the last message returned (ack all), and waits for the server's
// confirmation.
func (s *Source) Commit(ctx context.Context) error {
	if s.last == nil {
		return nil
	}
	if err := s.last.DoubleAck(ctx); err != nil {
		return fmt.Errorf("%s: acknowledge: %w", s.u, err)
	}
	s.last = nil
	return nil
}

// Close closes the connection (the durable consumer stays on the server).
func (s *Source) Close() error { s.nc.Close(); return nil }
