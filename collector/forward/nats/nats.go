// Package nats is the NATS JetStream destination of the forwarder: each frame of a batch is
// published, asynchronously, as one message to the subject of the URL
// (nats://server:4222[,server2:4222]/subject), with Nats-Msg-Id = identity/file/offset
// (engine.MsgID), and Send returns nil once JetStream has acknowledged every message (it
// has stored it in a stream). A batch sent again after a failure carries the same message
// ids, so the stream's duplicate window (2 minutes unless the stream says otherwise) drops
// the frames it holds already: exactly once within that window, at least once past it.
//
// The stream is the operator's: the destination does not create it (a subject no stream
// listens on is an error that says so). The message's data is the dnstap frame exactly as
// in the spool; the headers carry the id, the identity and the content type.
package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/jsonvalue"
	"github.com/dnstapkit/dnstapkit/engine"
	enats "github.com/dnstapkit/dnstapkit/engine/nats"
)

// Options of a Destination.
type Options struct {
	// URL is nats://host[:port][,host[:port]...]/subject.
	URL string
	// Identity names this router: the first part of every Nats-Msg-Id (required).
	Identity string
	// Auth: TLS, a credentials file.
	Auth enats.Auth
	// ContentType goes in the Content-Type header. Default protobuf:dnstap.Dnstap.
	ContentType string
	// JSON sends, instead of each frame, the object dnstap-reader --json prints for it
	// (package jsonvalue), with Content-Type application/json (--forward-format json).
	JSON bool
	// Timeout bounds connecting and the wait for the acknowledgements of a batch. Default 30s.
	Timeout time.Duration
}

// Destination publishes batches to a JetStream stream.
type Destination struct {
	o    Options
	u    engine.URL
	name string

	mu   sync.Mutex // the connection
	conn *conn

	msgs []natsgo.Msg // reused across batches: no message is pending between Sends
	enc  jsonvalue.Encoder

	duplicates atomic.Uint64
}

// conn is one NATS connection and the counts of the acknowledgements its callbacks see.
type conn struct {
	nc *natsgo.Conn
	js jetstream.JetStream

	acked, dups, failed atomic.Int64
	errMu               sync.Mutex
	firstErr            error
}

var _ forward.Destination = (*Destination)(nil)

// New checks the options; nothing is dialled before Send.
func New(o Options) (*Destination, error) {
	u, err := engine.DestinationURL(o.URL, "nats", o.Identity)
	if err != nil {
		return nil, err
	}
	o.ContentType = jsonvalue.ContentTypeOf(o.ContentType, o.JSON)
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &Destination{o: o, u: u, name: u.String()}, nil
}

// String names the destination.
func (d *Destination) String() string { return d.name }

// Duplicates is the number of messages JetStream acknowledged as duplicates (it held them
// already from an earlier send and dropped the copy).
func (d *Destination) Duplicates() uint64 { return d.duplicates.Load() }

// Close closes the connection.
func (d *Destination) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.nc.Close()
		d.conn = nil
	}
	return nil
}

// connect returns the connection, dialling it when there is none. The client reconnects by
// itself after a server restart; publishes fail meanwhile and the batch is sent again.
func (d *Destination) connect() (*conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		return d.conn, nil
	}
	nc, err := enats.Connect(d.u, d.o.Auth, "dnstap-collector "+d.o.Identity, d.o.Timeout)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc}
	c.js, err = jetstream.New(nc,
		jetstream.WithPublishAsyncTimeout(d.o.Timeout),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, _ *natsgo.Msg, ack *jetstream.PubAck) {
			if ack.Duplicate {
				c.dups.Add(1)
			}
			c.acked.Add(1)
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *natsgo.Msg, err error) {
			c.failed.Add(1)
			c.errMu.Lock()
			if c.firstErr == nil {
				c.firstErr = err
			}
			c.errMu.Unlock()
		}))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("JetStream on %s: %w", d.name, err)
	}
	d.conn = c
	return c, nil
}

// drop closes c after ctx ended in the middle of a batch, so that no callback of that batch
// can count into the next one (a new connection has counts of its own).
func (d *Destination) drop(c *conn) {
	d.mu.Lock()
	if d.conn == c {
		d.conn = nil
	}
	d.mu.Unlock()
	c.nc.Close()
}

// Send publishes every frame of b and returns nil once JetStream has acknowledged them all.
// Messages are published without waiting for each acknowledgement (the client keeps them
// pending), so a batch costs about one round trip.
func (d *Destination) Send(ctx context.Context, b *forward.Batch) error {
	c, err := d.connect()
	if err != nil {
		return forward.NotDelivered(err)
	}
	if !c.nc.IsConnected() {
		return forward.NotDelivered(fmt.Errorf("publish to %s: not connected (%s)", d.name, c.nc.Status()))
	}
	c.acked.Store(0)
	c.dups.Store(0)
	c.failed.Store(0)
	c.errMu.Lock()
	c.firstErr = nil
	c.errMu.Unlock()

	n := b.Len()
	if cap(d.msgs) < n {
		d.msgs = make([]natsgo.Msg, n)
	}
	msgs := d.msgs[:n]
	ct := []string{d.o.ContentType}
	ident := []string{d.o.Identity}
	value := b.Payload
	if d.o.JSON {
		vals := d.enc.Values(n, b.Payload)
		value = func(i int) []byte { return vals[i] }
	}
	published := 0
	var pubErr error
	for i := range n {
		f := b.Frames[i]
		m := &msgs[i]
		h := m.Header
		if h == nil {
			h = make(natsgo.Header, 3)
		}
		h[engine.HeaderMsgID] = []string{engine.MsgID(d.o.Identity, f.FileID, f.Offset)}
		h[engine.HeaderContentType] = ct
		h[engine.HeaderIdentity] = ident
		*m = natsgo.Msg{Subject: d.u.Name, Data: value(i), Header: h}
		if _, err := c.js.PublishMsgAsync(m); err != nil {
			pubErr = fmt.Errorf("publish frame %d of %d to %s: %w", i+1, n, d.name, err)
			break
		}
		published++
	}
	// Wait for every acknowledgement (or error, or the async timeout) of what went out.
	t := time.NewTimer(d.o.Timeout + time.Second)
	defer t.Stop()
	select {
	case <-c.js.PublishAsyncComplete():
	case <-ctx.Done():
		d.drop(c)
		return fmt.Errorf("publish to %s: %w", d.name, ctx.Err())
	case <-t.C:
		d.drop(c)
		return fmt.Errorf("publish to %s: no acknowledgement of %d messages in %v", d.name, int64(published)-c.acked.Load()-c.failed.Load(), d.o.Timeout)
	}
	d.duplicates.Add(uint64(c.dups.Load()))
	acked, failed := c.acked.Load(), c.failed.Load()
	c.errMu.Lock()
	first := c.firstErr
	c.errMu.Unlock()
	switch {
	case pubErr == nil && failed == 0 && acked == int64(n):
		return nil
	case failed > 0 && acked == 0 && published > 0 && errors.Is(first, jetstream.ErrNoStreamResponse):
		// Nothing stored any of them.
		return forward.NotDelivered(fmt.Errorf("publish to %s: no JetStream stream takes subject %q (create one: nats stream add)", d.name, d.u.Name))
	case pubErr != nil && published == 0:
		return forward.NotDelivered(pubErr)
	case pubErr != nil:
		return fmt.Errorf("%w (%d of the %d published acknowledged)", pubErr, acked, published)
	default:
		return fmt.Errorf("publish %d frames to %s: %d acknowledged, %d failed, first: %v", n, d.name, acked, failed, first)
	}
}
