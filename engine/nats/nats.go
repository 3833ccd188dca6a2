// Package nats is dnstapkit's NATS client side that the JetStream destination
// (collector/forward/nats) and the consumers (dnstap-reader, dnstap-collector --input)
// share: connecting from a URL and credentials, and Consume, which reads a subject's frames
// back from the stream that stores it.
package nats

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dnstapkit/dnstapkit/engine"
)

// Auth is how to reach the servers: TLS, and a credentials file (user JWT and NKey seed).
type Auth struct {
	TLS       *tls.Config
	CredsFile string
}

// Connect connects to the servers of u as name. The client reconnects by itself, forever,
// after a server restart; extra options come last.
func Connect(u engine.URL, a Auth, name string, timeout time.Duration, extra ...natsgo.Option) (*natsgo.Conn, error) {
	opts := []natsgo.Option{
		natsgo.Name(name),
		natsgo.Timeout(timeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(250 * time.Millisecond),
		natsgo.ReconnectJitter(250*time.Millisecond, time.Second),
		natsgo.NoCallbacksAfterClientClose(),
	}
	if a.TLS != nil {
		opts = append(opts, natsgo.Secure(a.TLS.Clone()))
	}
	if a.CredsFile != "" {
		opts = append(opts, natsgo.UserCredentials(a.CredsFile))
	}
	servers := make([]string, len(u.Servers))
	for i, s := range u.Servers {
		servers[i] = "nats://" + s
	}
	nc, err := natsgo.Connect(strings.Join(servers, ","), append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u, err)
	}
	return nc, nil
}

// Consume reads the messages of u's subject (wildcards allowed) from the JetStream stream
// that takes it, in stream order, and calls fn with each. Without o.Follow it returns nil
// once it has read every message stored when it started; with it, it waits for new ones
// until ctx ends (then it returns nil). An error of fn stops it and is returned.
func Consume(ctx context.Context, u engine.URL, a Auth, o engine.ConsumeOptions, fn func(engine.Message) error) error {
	if u.Scheme != "nats" {
		return fmt.Errorf("%s: not a nats:// URL", u)
	}
	nc, err := Connect(u, a, "dnstap-reader", 10*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("%s: %w", u, err)
	}
	name, err := js.StreamNameBySubject(ctx, u.Name)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("%s: no JetStream stream takes subject %q", u, u.Name)
		}
		return fmt.Errorf("%s: find the stream of subject %q: %w", u, u.Name, err)
	}
	st, err := js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("%s: stream %s: %w", u, name, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{u.Name}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !o.Since.IsZero() {
		since := o.Since
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("%s: consumer on stream %s: %w", u, name, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("%s: consumer on stream %s: %w", u, name, err)
	}
	if !o.Follow && info.NumPending == 0 {
		return nil
	}
	for {
		b, err := cons.Fetch(10000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return followEnd(ctx, o)
			}
			return fmt.Errorf("%s: fetch from stream %s: %w", u, name, err)
		}
		last := false
		for m := range b.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("%s: message of stream %s: %w", u, name, err)
			}
			h := m.Headers()
			em := engine.Message{Value: m.Data(), Identity: h.Get(engine.HeaderIdentity), ID: h.Get(engine.HeaderMsgID), ContentType: h.Get(engine.HeaderContentType),
				Time: md.Timestamp, Where: name + "#" + strconv.FormatUint(md.Sequence.Stream, 10)}
			if em.Identity == "" {
				em.Identity = engine.IdentityOf(em.ID)
			}
			if err := fn(em); err != nil {
				return err
			}
			if md.NumPending == 0 {
				last = true
			}
		}
		if err := b.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, natsgo.ErrTimeout) {
			if ctx.Err() != nil {
				return followEnd(ctx, o)
			}
			return fmt.Errorf("%s: fetch from stream %s: %w", u, name, err)
		}
		if ctx.Err() != nil {
			return followEnd(ctx, o)
		}
		if last && !o.Follow {
			return nil
		}
	}
}

func followEnd(ctx context.Context, o engine.ConsumeOptions) error {
	if o.Follow {
		return nil
	}
	return ctx.Err()
}
