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
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/engine"
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
	Frames, Batches, Failures uint64
}

// Input moves frames from a Source into the collector.
type Input struct {
	cfg Config
	log *slog.Logger
	ln  *listener

	frames, batches, failures atomic.Uint64
}

// New returns an Input; give Listener() to the collector's Serve and run Run.
func New(cfg Config, log *slog.Logger) (*Input, error) {
	if cfg.Source == nil {
		return nil, errors.New("input: no source")
	}
	if cfg.ContentType == "" {
		cfg.ContentType = "protobuf:dnstap.Dnstap"
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
	return &Input{cfg: cfg, log: log.With("input", cfg.Name), ln: newListener(cfg.Name)}, nil
}

// Listener is where the Input's connections come from: pass it to collector.Serve.
func (in *Input) Listener() net.Listener { return in.ln }

// Stats returns the figures so far.
func (in *Input) Stats() Stats {
	return Stats{Frames: in.frames.Load(), Batches: in.batches.Load(), Failures: in.failures.Load()}
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

// once moves one batch: read, write each identity's frames over a connection of its own
// and wait for FINISH, then commit.
func (in *Input) once(ctx context.Context) error {
	msgs, err := in.cfg.Source.Next(ctx, in.cfg.BatchFrames, in.cfg.BatchWait)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	// Each router's frames, in order, on a connection of its own.
	var order []string
	byID := map[string][]int{}
	for i, m := range msgs {
		if _, ok := byID[m.Identity]; !ok {
			order = append(order, m.Identity)
		}
		byID[m.Identity] = append(byID[m.Identity], i)
	}
	for _, id := range order {
		if err := in.hand(ctx, id, msgs, byID[id]); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, in.cfg.Timeout)
	defer cancel()
	if err := in.cfg.Source.Commit(cctx); err != nil {
		return err
	}
	in.frames.Add(uint64(len(msgs)))
	in.batches.Add(1)
	return nil
}

// hand writes the frames msgs[idx] to the collector and waits for FINISH.
func (in *Input) hand(ctx context.Context, identity string, msgs []engine.Message, idx []int) error {
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
	for _, i := range idx {
		if _, err := w.WriteFrame(msgs[i].Value); err != nil {
			return fmt.Errorf("hand frames of %q to the collector: %w", identity, err)
		}
	}
	if err := w.Close(); err != nil { // STOP, then FINISH once written and fsync'd
		return fmt.Errorf("no FINISH from the collector for %d frames of %q: %w", len(idx), identity, err)
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
