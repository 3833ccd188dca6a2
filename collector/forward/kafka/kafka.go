// Package kafka is the Kafka destination of the forwarder: each frame of a batch is a record
// of the topic of the URL (kafka://broker1:9092,broker2:9092/topic), produced by an
// idempotent producer with acks=all, and Send returns nil once every record is acknowledged
// by the partition's in-sync replicas. The record key is the router's identity (so one
// router's frames stay in order in one partition), the value the dnstap frame exactly as
// BIND wrote it, and the headers name the content type, the identity, the spool file and
// the frame's offset in it.
//
// The client retries a record itself, a bounded number of times (RecordRetries) within a
// bounded time (Timeout); past that the batch fails, the forwarder counts it and sends it
// again after a backoff. The topic is the operator's: it is not created (a missing topic
// fails the batch with UNKNOWN_TOPIC_OR_PARTITION after a few metadata retries). Kafka's
// idempotence removes duplicates of the client's own retries within one producer session;
// a batch the forwarder sends again after a failure (a new producer session) can land twice:
// at least once, duplicates counted by the forwarder and visible by the headers.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/forward/jsonvalue"
	"github.com/dnstapkit/dnstapkit/engine"
	ekafka "github.com/dnstapkit/dnstapkit/engine/kafka"
)

// Options of a Destination.
type Options struct {
	// URL is kafka://host[:port][,host[:port]...]/topic.
	URL string
	// Identity names this router: the record key and the Dnstap-Identity header (required).
	Identity string
	// Auth: TLS and SASL SCRAM.
	Auth ekafka.Auth
	// ContentType goes in the Content-Type header. Default protobuf:dnstap.Dnstap.
	ContentType string
	// JSON sends, instead of each frame, the object dnstap-reader --json prints for it
	// (package jsonvalue), with Content-Type application/json (--forward-format json).
	JSON bool
	// Timeout bounds a batch: connecting, the client's retries and the acknowledgements.
	// Default 30s.
	Timeout time.Duration
	// RecordRetries bounds the client's retries of one record before the batch fails
	// (default 10).
	RecordRetries int
	// Linger is how long the client waits for more records before it sends a produce
	// request (default 0: the forwarder batches already).
	Linger time.Duration
}

// Destination produces batches to a Kafka topic.
type Destination struct {
	o     Options
	u     engine.URL
	name  string
	key   []byte
	ct    []byte
	ident []byte

	mu sync.Mutex
	cl *kgo.Client

	recs []kgo.Record // reused across batches: nothing is buffered between Sends
	enc  jsonvalue.Encoder

	failedRecords atomic.Uint64
	sessions      atomic.Uint64
}

var _ forward.Destination = (*Destination)(nil)

// New checks the options; nothing is dialled before Send.
func New(o Options) (*Destination, error) {
	u, err := engine.DestinationURL(o.URL, "kafka", o.Identity)
	if err != nil {
		return nil, err
	}
	o.ContentType = jsonvalue.ContentTypeOf(o.ContentType, o.JSON)
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.RecordRetries <= 0 {
		o.RecordRetries = 10
	}
	return &Destination{o: o, u: u, name: u.String(), key: []byte(o.Identity), ct: []byte(o.ContentType), ident: []byte(o.Identity)}, nil
}

// String names the destination.
func (d *Destination) String() string { return d.name }

// FailedRecords counts records the client gave up on (each failed its batch).
func (d *Destination) FailedRecords() uint64 { return d.failedRecords.Load() }

// Sessions counts the producer clients made: one at the start, one more after each batch
// that could not be settled in time (its records were abandoned with the client).
func (d *Destination) Sessions() uint64 { return d.sessions.Load() }

// Close closes the client.
func (d *Destination) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cl != nil {
		d.cl.Close()
		d.cl = nil
	}
	return nil
}

func (d *Destination) client() (*kgo.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cl != nil {
		return d.cl, nil
	}
	opts := append(ekafka.ClientOpts(d.u, d.o.Auth),
		kgo.DefaultProduceTopic(d.u.Name),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence is on by default with acks=all
		kgo.RecordRetries(d.o.RecordRetries),
		kgo.RecordDeliveryTimeout(d.o.Timeout),
		kgo.ProduceRequestTimeout(d.o.Timeout),
		kgo.DialTimeout(min(d.o.Timeout, 10*time.Second)),
		kgo.RetryTimeout(d.o.Timeout),
		kgo.ProducerLinger(d.o.Linger),
		kgo.MetadataMinAge(500*time.Millisecond), // a leader change is found in half a second, not five
		kgo.MaxBufferedRecords(1_000_000),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client for %s: %w", d.name, err)
	}
	d.sessions.Add(1)
	d.cl = cl
	return cl, nil
}

// drop closes cl, which still holds records of a batch that Send returns from: they fail
// with the client, and the batch's memory is not read again.
func (d *Destination) drop(cl *kgo.Client) {
	d.mu.Lock()
	if d.cl == cl {
		d.cl = nil
	}
	d.mu.Unlock()
	cl.Close()
}

// Send produces every frame of b and returns nil once Kafka acknowledged them all (acks=all).
func (d *Destination) Send(ctx context.Context, b *forward.Batch) error {
	cl, err := d.client()
	if err != nil {
		return forward.NotDelivered(err)
	}
	n := b.Len()
	if cap(d.recs) < n {
		d.recs = make([]kgo.Record, n)
	}
	recs := d.recs[:n]
	var (
		wg       sync.WaitGroup
		acked    atomic.Int64
		failed   atomic.Int64
		errMu    sync.Mutex
		firstErr error
	)
	promise := func(_ *kgo.Record, err error) {
		if err == nil {
			acked.Add(1)
		} else {
			failed.Add(1)
			errMu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			errMu.Unlock()
		}
		wg.Done()
	}
	value := b.Payload
	if d.o.JSON {
		vals := d.enc.Values(n, b.Payload)
		value = func(i int) []byte { return vals[i] }
	}
	wg.Add(n)
	for i := range n {
		f := b.Frames[i]
		r := &recs[i]
		h := r.Headers[:0]
		h = append(h,
			kgo.RecordHeader{Key: engine.HeaderContentType, Value: d.ct},
			kgo.RecordHeader{Key: engine.HeaderIdentity, Value: d.ident},
			kgo.RecordHeader{Key: engine.HeaderFile, Value: []byte(f.File)},
			kgo.RecordHeader{Key: engine.HeaderOffset, Value: strconv.AppendInt(nil, f.Offset, 10)},
			kgo.RecordHeader{Key: engine.HeaderMsgID, Value: []byte(engine.MsgID(d.o.Identity, f.FileID, f.Offset))},
		)
		*r = kgo.Record{Key: d.key, Value: value(i), Headers: h}
		cl.Produce(ctx, r, promise)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d.o.Timeout + 5*time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-ctx.Done():
		d.drop(cl)
		<-done
		return fmt.Errorf("produce to %s: %w", d.name, ctx.Err())
	case <-t.C:
		d.drop(cl)
		<-done
		return fmt.Errorf("produce to %s: %d of %d records not acknowledged in %v", d.name, int64(n)-acked.Load(), n, d.o.Timeout)
	}
	nf := failed.Load()
	if nf == 0 {
		return nil
	}
	d.failedRecords.Add(uint64(nf))
	err = fmt.Errorf("produce %d records to %s: %d acknowledged, %d failed: %w", n, d.name, acked.Load(), nf, describe(firstErr))
	if acked.Load() == 0 && noneWritten(firstErr) {
		return forward.NotDelivered(err)
	}
	return err
}

// noneWritten: errors after which the broker cannot have appended the record.
func noneWritten(err error) bool {
	return errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.MessageTooLarge) ||
		errors.Is(err, kerr.RecordListTooLarge) || errors.Is(err, kerr.TopicAuthorizationFailed) ||
		errors.Is(err, kerr.InvalidTopicException)
}

// describe adds what to do about the errors an operator can fix.
func describe(err error) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("%w (the topic does not exist: create it, the forwarder does not)", err)
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return fmt.Errorf("%w (a frame is larger than the topic's max.message.bytes: raise it; the forwarder keeps the frame and retries)", err)
	}
	return err
}
