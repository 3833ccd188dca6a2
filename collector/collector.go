package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	fs "github.com/farsightsec/golang-framestream"
	"golang.org/x/sys/unix"
)

// backlogGrace is how long Serve keeps accepting queued connections when told to stop.
const backlogGrace = 50 * time.Millisecond

// Collector accepts Frame Streams connections and writes their frames to rotated files.
type Collector struct {
	cfg  Config
	log  *slog.Logger
	tmpl *Template
	n    counters

	sink   *sink
	rotate chan struct{}

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	draining atomic.Bool
	hardStop time.Time // when draining: the time every connection is closed
	served   atomic.Bool
}

// New validates cfg and returns a Collector; nothing is opened before Serve.
func New(cfg Config, log *slog.Logger) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("collector config: %w", err)
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{cfg: cfg, log: log, conns: map[net.Conn]struct{}{},
		sink:   newSink(cfg.BufferBytes),
		rotate: make(chan struct{}, 1),
	}
	if cfg.Output != "-" {
		t, err := NewTemplate(cfg.Output, cfg.TimeNames)
		if err != nil {
			return nil, fmt.Errorf("collector config: %w", err)
		}
		c.tmpl = t
	}
	return c, nil
}

// Template returns the output path template, or nil when the output is a stream.
func (c *Collector) Template() *Template { return c.tmpl }

// CheckOutput creates the directory the first output file goes to, as the writer would, and
// checks that this process may create files in it: a collector that can never write should
// fail at start, not hold frames and pause its senders while it looks alive. (Once running, a
// failing output is held and retried.) A stream output is not checked.
func (c *Collector) CheckOutput() error {
	if c.tmpl == nil {
		return nil
	}
	dir := c.tmpl.Dir(c.cfg.Now())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	return nil
}

// Rotate asks the writer to close the current file (SIGHUP, SIGUSR1). It never blocks.
func (c *Collector) Rotate() {
	select {
	case c.rotate <- struct{}{}:
	default: // one request is already pending
	}
}

// Serve accepts on every listener until ctx is done, then drains: it closes the listeners,
// reads what the open connections still send (until STOP, EOF, DrainQuiet of silence or
// DrainTimeout), writes everything, closes the file with STOP and fsync, and returns.
// It also stops, at once, when the output fails for good (a stream whose reader went away).
// It returns an error when frames were lost: the output failed until the drain deadline, an
// output file was removed while being written, or the output stream closed.
// Serve may be called once.
func (c *Collector) Serve(ctx context.Context, lns ...net.Listener) error {
	if !c.served.CompareAndSwap(false, true) {
		return errors.New("collector: Serve called twice")
	}
	if len(lns) == 0 {
		return errors.New("collector: no listener")
	}
	var arch *archiver
	if c.tmpl != nil {
		arch = newArchiver(c.cfg, c.log, &c.n, c.tmpl)
		arch.recover(c.tmpl.Dir(c.cfg.Now())) // before the writer opens a file there
		go arch.run()
	}
	giveUp, connsDone := make(chan struct{}), make(chan struct{})
	fatal := make(chan error, 1)
	w := newWriter(c.cfg, c.log, &c.n, c.tmpl, arch, fatal)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		w.run(c.sink, connsDone, giveUp, c.rotate)
	}()

	var accepting, handling sync.WaitGroup
	for _, ln := range lns {
		accepting.Add(1)
		go func() {
			defer accepting.Done()
			c.acceptLoop(ctx, ln, &handling)
		}()
	}
	var fatalErr error
	drain := c.cfg.DrainTimeout
	select {
	case <-ctx.Done():
		c.log.Info("stopping: closing listeners and draining connections", "timeout", c.cfg.DrainTimeout)
		// Connections the kernel has already queued were accepted as far as their senders
		// know: take them during a short grace period, then close the listeners.
		for _, ln := range lns {
			if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok && d.SetDeadline(time.Now().Add(backlogGrace)) == nil {
				continue
			}
			_ = ln.Close() // the accept loop ends on the error this causes
		}
	case fatalErr = <-fatal:
		// Nothing more can be written: read nothing more. What senders have not sent stays
		// theirs (named counts what it drops); what was read is counted lost.
		c.log.Error("stopping: the output failed for good; closing listeners and connections", "error", fatalErr)
		drain = 0
		for _, ln := range lns {
			_ = ln.Close()
		}
	}
	accepting.Wait()
	for _, ln := range lns {
		_ = ln.Close() // may be closed already
	}

	c.mu.Lock()
	c.hardStop = time.Now().Add(drain)
	c.draining.Store(true)
	for nc := range c.conns {
		_ = nc.SetReadDeadline(c.drainDeadline()) // wakes readers blocked on a silent sender
	}
	c.mu.Unlock()
	giveUpTimer := time.AfterFunc(drain, func() { close(giveUp) })
	defer giveUpTimer.Stop()

	handling.Wait()
	close(connsDone)
	<-writerDone
	if arch != nil {
		close(arch.queue)
		<-arch.done
	}
	st := c.Stats()
	c.log.Info("stopped", "stats", st.String())
	switch {
	case fatalErr != nil:
		return fmt.Errorf("collector: output failed: %w (%d frames lost)", fatalErr, st.FramesLost)
	case st.FramesLost > 0:
		return fmt.Errorf("collector: %d frames read were lost (see the log)", st.FramesLost)
	}
	return nil
}

// drainDeadline is the read deadline while draining; c.mu or draining must be set.
func (c *Collector) drainDeadline() time.Time {
	d := time.Now().Add(c.cfg.DrainQuiet)
	if d.After(c.hardStop) {
		return c.hardStop
	}
	return d
}

func (c *Collector) acceptLoop(ctx context.Context, ln net.Listener, handling *sync.WaitGroup) {
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return // closed, or the grace period for queued connections is over
			}
			// Out of file descriptors and the like: wait and try again, never spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			c.log.Error("accept", "listener", ln.Addr().String(), "error", err, "retry", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c.mu.Lock()
		if c.draining.Load() || len(c.conns) >= c.cfg.MaxConns {
			c.mu.Unlock()
			c.n.reject(ReasonMaxConns)
			c.log.Warn("connection refused: too many connections", "peer", peerName(nc), "max", c.cfg.MaxConns)
			_ = nc.Close()
			continue
		}
		c.conns[nc] = struct{}{}
		handling.Add(1)
		c.mu.Unlock()
		go func() {
			defer handling.Done()
			c.handle(nc)
			c.mu.Lock()
			delete(c.conns, nc)
			c.mu.Unlock()
		}()
	}
}

func (c *Collector) handle(nc net.Conn) {
	defer nc.Close()
	peer := peerName(nc)
	c.n.connsTotal.Add(1)
	c.n.connsOpen.Add(1)
	defer c.n.connsOpen.Add(-1)
	log := c.log.With("peer", peer)

	_ = nc.SetDeadline(time.Now().Add(c.cfg.HandshakeTimeout))
	br := bufio.NewReaderSize(nc, c.cfg.ReadBufferSize)
	bidi, err := handshake(br, nc, []byte(c.cfg.ContentType))
	if err != nil {
		c.closeBad(log, "handshake", err)
		return
	}
	_ = nc.SetDeadline(time.Time{})
	if c.draining.Load() {
		_ = nc.SetReadDeadline(c.drainDeadline())
	}
	log.Info("sender connected", "bidirectional", bidi)

	// Deadlines: none while waiting for a new frame, FrameTimeout while a frame is incomplete,
	// the drain deadline when stopping.
	timed := false
	beforeBlock := func(partial bool) {
		switch {
		case c.draining.Load():
			_ = nc.SetReadDeadline(c.drainDeadline())
			timed = true
		case partial:
			_ = nc.SetReadDeadline(time.Now().Add(c.cfg.FrameTimeout))
			timed = true
		case timed:
			_ = nc.SetReadDeadline(time.Time{})
			timed = false
		}
	}
	put := func(frames []byte, n int) {
		c.n.framesRead.Add(uint64(n))
		c.n.bytesRead.Add(uint64(len(frames)))
		c.n.framesHeld.Add(int64(n))
		c.sink.put(frames, n)
	}
	stop, err := frameLoop(br, c.cfg.MaxFrameSize, put, beforeBlock)
	switch {
	case err != nil && c.draining.Load() && isTimeout(err):
		log.Info("connection closed at shutdown (sender idle or drain deadline)")
	case err != nil:
		c.closeBad(log, "frame loop", err)
	case stop && bidi:
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		finish := fs.ControlFrame{ControlType: fs.CONTROL_FINISH}
		if err := finish.Encode(nc); err != nil {
			log.Warn("send FINISH", "error", err)
		}
		log.Info("sender stopped (STOP, FINISH sent)")
	case stop:
		log.Info("sender stopped (STOP)")
	default:
		log.Info("sender closed the connection without STOP")
	}
}

func (c *Collector) closeBad(log *slog.Logger, stage string, err error) {
	reason := ReasonProtocol
	var pe *protoError
	switch {
	case errors.As(err, &pe):
		reason = pe.reason
	case isTimeout(err):
		reason = ReasonTimeout
	case stage == "handshake" && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		reason, err = ReasonHandshake, fmt.Errorf("connection closed during the handshake")
	}
	c.n.reject(reason)
	log.Warn("connection closed: bad input", "stage", stage, "reason", reason, "error", err)
}

// peerName names the sender for logs: address for TCP; socket path, pid and uid for unix.
func peerName(nc net.Conn) string {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return nc.RemoteAddr().String()
	}
	name := "unix:" + uc.LocalAddr().String()
	raw, err := uc.SyscallConn()
	if err != nil {
		return name
	}
	var cred *syscall.Ucred
	_ = raw.Control(func(fd uintptr) {
		cred, _ = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if cred != nil {
		name += fmt.Sprintf(" pid=%d uid=%d", cred.Pid, cred.Uid)
	}
	return name
}
