package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/dnstapkit/dnstapkit/engine"
)

// Source is a consumer group member reading u's topic, committing offsets only when told.
type Source struct {
	u       engine.URL
	cl      *kgo.Client
	buf     []engine.Message
	reached bool // the topic's offsets were listed once: brokers reachable, credentials good
}

var _ engine.Source = (*Source)(nil)

// NewSource joins the consumer group group for u's topic. A group with no committed offsets
// starts at the oldest record kept.
func NewSource(u engine.URL, a Auth, group string) (*Source, error) {
	if u.Scheme != "kafka" {
		return nil, fmt.Errorf("%s: not a kafka:// URL", u)
	}
	cl, err := kgo.NewClient(append(ClientOpts(u, a),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(u.Name), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond),
		kgo.BlockRebalanceOnPoll())...)
	if err != nil {
		return nil, fmt.Errorf("kafka consumer for %s: %w", u, err)
	}
	return &Source{u: u, cl: cl}, nil
}

// Next polls up to max records.
func (s *Source) Next(ctx context.Context, max int, wait time.Duration) ([]engine.Message, error) {
	s.cl.AllowRebalance() // the previous batch is committed or will be read again
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if !s.reached {
		// A consumer group retries its joins by itself and polls nothing, silently, when the
		// brokers refuse the credentials or the topic is missing: ask once, and say so.
		ends, err := kadm.NewClient(s.cl).ListEndOffsets(ctx, s.u.Name)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("%s: list the topic's offsets: %w", s.u, err)
		}
		s.reached = true
	}
	fs := s.cl.PollRecords(pctx, max)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for _, fe := range fs.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		return nil, fmt.Errorf("%s partition %d: %w", s.u, fe.Partition, fe.Err)
	}
	s.buf = s.buf[:0]
	fs.EachRecord(func(r *kgo.Record) { s.buf = append(s.buf, message(r)) })
	return s.buf, nil
}

// Commit commits the offsets of every record polled.
func (s *Source) Commit(ctx context.Context) error {
	if err := s.cl.CommitUncommittedOffsets(ctx); err != nil {
		return fmt.Errorf("%s: commit offsets: %w", s.u, err)
	}
	return nil
}

// Close leaves the group.
func (s *Source) Close() error { s.cl.AllowRebalance(); s.cl.Close(); return nil }
