// Package input feeds a dnstap-collector from a Kafka topic or a NATS JetStream subject
// (dnstap-collector --input kafka://... or nats://...), so that a central archive of the
// fleet's traffic lands in the same rotated files, per router, as frames that came over
// sockets. It reads batches from a durable consumer (engine.Source: a Kafka consumer group,
// a JetStream durable consumer), hands each router's frames of the batch to the collector
// over an in-process bidirectional Frame Streams connection that names the router
// (collector.SenderIdentifier), and commits the batch in the engine only when the collector
// has sent FINISH for every connection: after the frames are written and fsync'd. A crash
// between the fsync and the commit writes the batch again on restart: at least once.
// Frames are never decoded here.
package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// Config of an Input.
type Config struct {
	// Source is the durable consumer (required).
	Source engine.Source
	// Name names the input in logs (its URL).
	Name string
	// ContentType of the frames (default protobuf:dnstap.Dnstap).
	ContentType string
	// BatchFrames bounds a batch (default 10,000); BatchWait is the longest Next waits for
	// the first message of a batch (default 1s).
	BatchFrames int
	BatchWait   time.Duration
	// Timeout bounds the handing over of a batch, FINISH included (default 1 minute).
	Timeout time.Duration
	// BackoffMin and BackoffMax bound the wait after a failure (default 250ms and 30s).
	BackoffMin, BackoffMax time.Duration
}

// Stats of an Input.
type Stats struct {
	Input                     string // its name (URL)
	Frames, Batches, Failures uint64
	// Duplicates counts frames dropped because their message id (engine.MsgID) was among
	// the last engine.SeenIDs read: a router's batch that reached the engine twice.
	Duplicates uint64
}

// WritePrometheus writes the figures as dnstap_input_* metrics.
func (s Stats) WritePrometheus(w io.Writer) error {
	for _, m := range []struct {
		name, help string
		v          uint64
	}{
		{"frames_total", "Frames written to the files and committed in the engine.", s.Frames},
		{"batches_total", "Batches written and committed.", s.Batches},
		{"failures_total", "Failed batches (read, hand-over or commit), each retried.", s.Failures},
		{"duplicates_total", "Frames dropped: their message id was read already (a router's batch the engine holds twice).", s.Duplicates},
	} {
		if _, err := fmt.Fprintf(w, "# HELP dnstap_input_%[1]s %[2]s\n# TYPE dnstap_input_%[1]s counter\ndnstap_input_%[1]s{input=%[4]q} %[3]d\n",
			m.name, m.help, m.v, s.Input); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}

// Input moves frames from a Source into the collector.
type Input struct {
	cfg Config
	log *slog.Logger
	ln  *listener

	seen    *engine.Seen // message ids of frames taken (only the Run goroutine)
	pending *batch       // the batch taken and not yet committed

	frames, batches, failures, duplicates atomic.Uint64
}

// New returns an Input; give Listener() to the collector's Serve and run Run.
func New(cfg Config, log *slog.Logger) (*Input, error) {
	if cfg.Source == nil {
		return nil, errors.New("input: no source")
	}
	if cfg.ContentType == "" {
		cfg.ContentType = tapct.ContentType
	}
	if cfg.BatchFrames <= 0 {
		cfg.BatchFrames = 10000
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 250 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(30*time.Second, cfg.BackoffMin)
	}
	return &Input{cfg: cfg, log: log.With("input", cfg.Name), ln: newListener(cfg.Name), seen: engine.NewSeen(engine.SeenIDs)}, nil
}

// Listener is where the Input's connections come from: pass it to collector.Serve.
func (in *Input) Listener() net.Listener { return in.ln }

// Stats returns the figures so far.
func (in *Input) Stats() Stats {
	return Stats{Input: in.cfg.Name, Duplicates: in.duplicates.Load(), Frames: in.frames.Load(), Batches: in.batches.Load(), Failures: in.failures.Load()}
}

// Run moves batches until ctx ends; then it closes the listener and the source.
func (in *Input) Run(ctx context.Context) error {
	defer in.cfg.Source.Close()
	defer in.ln.Close()
	backoff := in.cfg.BackoffMin
	failed := false
	for ctx.Err() == nil {
		err := in.once(ctx)
		if err == nil {
			if failed {
				in.log.Info("input works again")
				failed = false
			}
			backoff = in.cfg.BackoffMin
			continue
		}
		if ctx.Err() != nil {
			break
		}
		in.failures.Add(1)
		if perm := (*permanentError)(nil); errors.As(err, &perm) {
			in.log.Error("input stopped: nothing was committed past the last batch written", "error", err)
			return err
		}
		if !failed {
			in.log.Warn("input failed; retrying", "error", err)
			failed = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, in.cfg.BackoffMax)
	}
	return nil
}

// once moves one batch: read (or, after a failure, take again the batch that failed: the
// engine has not committed it, and a later commit would commit it too), write each router's
// frames over a connection of its own and wait for FINISH, then commit.
func (in *Input) once(ctx context.Context) error {
	if in.pending == nil {
		msgs, err := in.cfg.Source.Next(ctx, in.cfg.BatchFrames, in.cfg.BatchWait)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			return nil
		}
		b, err := in.take(msgs)
		if err != nil {
			return err
		}
		in.pending = b
	}
	b := in.pending
	for _, id := range b.order {
		if err := in.hand(ctx, id, b.byID[id]); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, in.cfg.Timeout)
	defer cancel()
	if err := in.cfg.Source.Commit(cctx); err != nil {
		return err
	}
	in.pending = nil
	in.frames.Add(uint64(b.frames))
	in.batches.Add(1)
	return nil
}

// batch is what Next returned, grouped by router, without the duplicates.
type batch struct {
	order  []string            // the routers, in order of their first frame
	byID   map[string][][]byte // each router's frames, in order
	frames int
}

// take groups msgs by router and drops a frame whose message id was read already. A message
// that is not a frame of the input's content type (a topic filled with --forward-format json)
// stops the input: it would never become one, and skipping it would lose it silently.
func (in *Input) take(msgs []engine.Message) (*batch, error) {
	b := &batch{byID: map[string][][]byte{}}
	for _, m := range msgs {
		if err := m.CheckContentType(in.cfg.ContentType); err != nil {
			return nil, &permanentError{err}
		}
		if m.ID != "" && !in.seen.Add(m.ID) {
			in.duplicates.Add(1)
			continue
		}
		if _, ok := b.byID[m.Identity]; !ok {
			b.order = append(b.order, m.Identity)
		}
		b.byID[m.Identity] = append(b.byID[m.Identity], m.Value)
		b.frames++
	}
	return b, nil
}

// permanentError is a failure that no retry can mend: Run returns it.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// hand writes frames to the collector as identity's and waits for FINISH.
func (in *Input) hand(ctx context.Context, identity string, frames [][]byte) error {
	c, err := in.ln.dial(ctx, identity)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(in.cfg.Timeout))
	w, err := fs.NewWriter(c, &fs.WriterOptions{ContentTypes: [][]byte{[]byte(in.cfg.ContentType)}, Bidirectional: true})
	if err != nil {
		return fmt.Errorf("hand frames of %q to the collector: %w", identity, err)
	}
	for _, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			return fmt.Errorf("hand frames of %q to the collector: %w", identity, err)
		}
	}
	if err := w.Close(); err != nil { // STOP, then FINISH once written and fsync'd
		return fmt.Errorf("no FINISH from the collector for %d frames of %q: %w", len(frames), identity, err)
	}
	return nil
}

// listener is an in-process net.Listener: dial hands one end of a pipe to Accept.
type listener struct {
	name   string
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newListener(name string) *listener {
	return &listener{name: name, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error { l.closed.Do(func() { close(l.done) }); return nil }

func (l *listener) Addr() net.Addr { return addr(l.name) }

func (l *listener) dial(ctx context.Context, identity string) (net.Conn, error) {
	client, server := net.Pipe()
	var sc net.Conn = &anonConn{Conn: server, name: l.name}
	if identity != "" {
		sc = &identConn{anonConn{Conn: server, name: l.name + " " + identity}, identity}
	}
	select {
	case l.conns <- sc:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type addr string

func (a addr) Network() string { return "input" }
func (a addr) String() string  { return string(a) }

// anonConn is the collector's end of a batch with no router identity (the collector then
// takes the dnstap identity field of the first frame).
type anonConn struct {
	net.Conn
	name string
}

func (c *anonConn) RemoteAddr() net.Addr { return addr(c.name) }

// identConn is the collector's end: it names the router.
type identConn struct {
	anonConn
	identity string
}

func (c *identConn) SenderIdentity() string { return c.identity }
