package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	fs "github.com/farsightsec/golang-framestream"
	"golang.org/x/sys/unix"
)

const (
	// backlogGrace is how long Serve keeps accepting queued connections when told to stop.
	backlogGrace = 50 * time.Millisecond
	// refusedLogEvery is the least time between two "too many connections" warnings of a
	// listener; the ones in between are counted in the next.
	refusedLogEvery = 10 * time.Second
)

// Collector accepts Frame Streams connections and writes their frames to rotated files.
type Collector struct {
	cfg  Config
	log  *slog.Logger
	tmpl *Template
	n    counters

	rotate chan struct{}
	outs   atomic.Pointer[outputs] // set by Serve

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	draining atomic.Bool
	// handingOver: stopping with Config.HandOver; set before draining, cleared if the output
	// fails for good.
	handingOver atomic.Bool
	hardStop    time.Time // when draining: the time every connection is closed
	served      atomic.Bool
}

// New validates cfg and returns a Collector; nothing is opened before Serve.
func New(cfg Config, log *slog.Logger) (*Collector, error) {
	tmpl, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("collector config: %w", err)
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{cfg: cfg, log: log, conns: map[net.Conn]struct{}{},
		rotate: make(chan struct{}, 1), tmpl: tmpl,
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
	if hasIdentity(c.cfg.Output) { // the directory the senders' directories go in
		dir = filepath.Dir(c.cfg.Output[:strings.Index(c.cfg.Output, IdentityVar)] + "x")
	}
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

// listener is one of the listeners Serve accepts on, with its own connection cap.
type listener struct {
	ln       net.Listener
	open     int       // connections open; c.mu
	refused  int       // refused since the last warning; c.mu
	lastWarn time.Time // c.mu
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
	giveUp, connsDone := make(chan struct{}), make(chan struct{})
	fatal := make(chan error, 1)
	outs := newOutputs(c, connsDone, giveUp, fatal)
	c.outs.Store(outs)
	if !hasIdentity(c.cfg.Output) {
		outs.get("") // the one output, started at once
	}
	go func() {
		for {
			select {
			case <-c.rotate:
				outs.rotateAll()
			case <-connsDone:
				return
			}
		}
	}()

	var accepting, handling sync.WaitGroup
	for i := range c.cfg.Adopt {
		h := c.cfg.Adopt[i]
		c.mu.Lock()
		c.conns[h.Conn] = struct{}{}
		handling.Add(1)
		c.mu.Unlock()
		go func() {
			defer handling.Done()
			c.handle(h.Conn, &h)
			c.mu.Lock()
			delete(c.conns, h.Conn)
			c.mu.Unlock()
		}()
	}
	for _, ln := range lns {
		accepting.Add(1)
		go func() {
			defer accepting.Done()
			c.acceptLoop(ctx, &listener{ln: ln}, &handling)
		}()
	}
	var fatalErr error
	drain := c.cfg.DrainTimeout
	select {
	case <-ctx.Done():
		if c.cfg.HandOver != nil {
			c.handingOver.Store(true)
			c.log.Info("stopping: closing listeners and handing the connections over")
		} else {
			c.log.Info("stopping: closing listeners and draining connections", "timeout", c.cfg.DrainTimeout)
		}
		// Connections the kernel has already queued were accepted as far as their senders
		// know: take them during a short grace period, then close the listeners.
		for _, ln := range lns {
			if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok && d.SetDeadline(time.Now().Add(backlogGrace)) == nil {
				continue
			}
			_ = ln.Close() // the accept loop ends on the error this causes
		}
	case fatalErr = <-fatal:
		c.handingOver.Store(false) // nothing more can be written: a handover would only hand on the loss
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
	outs.wait()
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

// drainDeadline is the read deadline while draining; c.mu or draining must be set. When
// handing over it is now: a read in progress returns at once, and what the sender sends next
// stays in the socket for the next collector.
func (c *Collector) drainDeadline() time.Time {
	if c.handingOver.Load() {
		return time.Now()
	}
	d := time.Now().Add(c.cfg.DrainQuiet)
	if d.After(c.hardStop) {
		return c.hardStop
	}
	return d
}

func (c *Collector) acceptLoop(ctx context.Context, l *listener, handling *sync.WaitGroup) {
	var backoff time.Duration
	addr := l.ln.Addr().String()
	for {
		nc, err := l.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return // closed, or the grace period for queued connections is over
			}
			// Out of file descriptors and the like: wait and try again, never spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			c.log.Error("accept", "listener", addr, "error", err, "retry", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c.mu.Lock()
		if c.draining.Load() || l.open >= c.cfg.MaxConns {
			l.refused++
			refused, warn := l.refused, time.Since(l.lastWarn) >= refusedLogEvery
			if warn {
				l.lastWarn, l.refused = time.Now(), 0
			}
			c.mu.Unlock()
			c.n.reject(ReasonMaxConns)
			if warn {
				c.log.Warn("connection refused: too many connections on this listener", "listener", addr, "peer", peerName(nc),
					"max", c.cfg.MaxConns, "refused", refused, "next_warning_in", refusedLogEvery)
			}
			_ = nc.Close()
			continue
		}
		l.open++
		c.conns[nc] = struct{}{}
		handling.Add(1)
		c.mu.Unlock()
		go func() {
			defer handling.Done()
			c.handle(nc, nil)
			c.mu.Lock()
			delete(c.conns, nc)
			l.open--
			c.mu.Unlock()
		}()
	}
}

// connReader reads a connection for its bufio.Reader and sets the read deadline before each
// read of the socket, from where the frame loop is: the handshake deadline; FrameTimeout from
// the first read that finds a frame begun and not finished, until a frame is finished (so any
// incomplete read times out: a length prefix, an escape, a control frame, a data frame); the
// idle timeout at a frame boundary; the drain deadline when stopping.
type connReader struct {
	c         *Collector
	nc        net.Conn
	pre       []byte // read before nc: the leftover of a connection handed over
	br        *bufio.Reader
	st        loopState
	handshake time.Time // the handshake deadline; zero once it is done
	seen      uint64    // st.done when partialSince was set
	since     time.Time // when the current incomplete frame was first waited for
	deadline  time.Time // the read deadline set last
	idle      bool      // the read deadline set last is the idle timeout
}

func (r *connReader) Read(p []byte) (int, error) {
	if len(r.pre) > 0 {
		n := copy(p, r.pre)
		r.pre = r.pre[n:]
		return n, nil
	}
	var d, idleFrom time.Time
	r.idle = false
	draining := r.c.draining.Load()
	switch {
	case !r.handshake.IsZero():
		d = r.handshake
	case draining:
		d = r.c.drainDeadline()
	case r.st.mid || r.br.Buffered() > 0:
		if r.since.IsZero() || r.seen != r.st.done {
			r.since, r.seen = time.Now(), r.st.done
		}
		d = r.since.Add(r.c.cfg.FrameTimeout)
	case r.c.cfg.IdleTimeout > 0:
		// Setting a deadline costs more than reading the clock: keep one that is still at
		// least half the idle timeout away, and when it fires early, wait on (below).
		r.since, r.idle, idleFrom = time.Time{}, true, time.Now()
		d = r.deadline
		if d.Sub(idleFrom) < r.c.cfg.IdleTimeout/2 {
			d = idleFrom.Add(r.c.cfg.IdleTimeout)
		}
	default:
		r.since = time.Time{}
	}
	for {
		if draining || !d.Equal(r.deadline) {
			_ = r.nc.SetReadDeadline(d) // fails only on a closed connection, which the read reports
			r.deadline = d
		}
		n, err := r.nc.Read(p)
		if !r.idle || n > 0 || !isTimeout(err) || time.Since(idleFrom) >= r.c.cfg.IdleTimeout || r.c.draining.Load() {
			return n, err
		}
		d = idleFrom.Add(r.c.cfg.IdleTimeout) // nothing since this read began: not idle long enough yet
	}
}

// handle serves one connection: from its handshake, or, adopted from an earlier collector,
// from where that one stopped.
func (c *Collector) handle(nc net.Conn, adopted *Handover) {
	handedOver := false
	defer func() {
		if !handedOver {
			_ = nc.Close()
		}
	}()
	peer := peerName(nc)
	c.n.connsTotal.Add(1)
	c.n.connsOpen.Add(1)
	defer c.n.connsOpen.Add(-1)
	log := c.log.With("peer", peer)

	var (
		identity string
		bidi     bool
		r        = &connReader{c: c, nc: nc}
		br       = bufio.NewReaderSize(r, c.cfg.ReadBufferSize)
	)
	r.br = br
	if adopted != nil {
		r.pre, bidi = adopted.Leftover, adopted.Bidirectional
		log.Info("sender connected (handed over by the previous collector)", "bidirectional", bidi, "leftover_bytes", len(r.pre))
	} else {
		handshakeEnd := time.Now().Add(c.cfg.HandshakeTimeout)
		_ = nc.SetDeadline(handshakeEnd)
		var err error
		identity, err = c.tlsHandshake(nc)
		if err != nil {
			c.n.reject(ReasonTLS)
			log.Warn("connection refused: TLS handshake failed", "reason", ReasonTLS, "error", err)
			return
		}
		if identity != "" {
			log = log.With("cert", identity)
		}
		r.handshake = handshakeEnd
		_ = nc.SetWriteDeadline(handshakeEnd)
		bidi, err = handshake(br, nc, []byte(c.cfg.ContentType))
		if err != nil {
			c.closeBad(log, "handshake", err)
			return
		}
		r.handshake = time.Time{}
		_ = nc.SetWriteDeadline(time.Time{})
		log.Info("sender connected", "bidirectional", bidi)
	}

	out, lastSeq := c.outputOf(identity, nil), uint64(0)
	put := func(frames []byte, n int) {
		c.n.framesRead.Add(uint64(n))
		c.n.bytesRead.Add(uint64(len(frames)))
		c.n.framesHeld.Add(int64(n))
		if out == nil { // the first frame names the sender (dnstap identity field)
			out = c.outputOf(identity, frames)
		}
		lastSeq = out.sink.put(frames, n)
	}
	stop, err := frameLoop(br, c.cfg.MaxFrameSize, put, &r.st)
	if err != nil && c.handingOver.Load() && identity == "" && !r.st.mid && (isTimeout(err) || reasonOf(err) == ReasonTimeout) {
		// Stopped at a frame boundary (whatever follows is still in br's buffer or the socket).
		left, _ := br.Peek(br.Buffered())
		_ = nc.SetReadDeadline(time.Time{})
		herr := c.cfg.HandOver(Handover{Conn: nc, Leftover: bytes.Clone(left), Bidirectional: bidi})
		if herr == nil {
			handedOver = true
			log.Info("connection handed over to the next collector", "leftover_bytes", len(left))
			return
		}
		log.Warn("connection not handed over; closed", "error", herr, "unread_bytes", len(left))
		return
	}
	switch {
	case err != nil && c.draining.Load() && isTimeout(err):
		log.Info("connection closed at shutdown (sender idle or drain deadline)")
	case err != nil && r.idle && isTimeout(err):
		c.n.reject(ReasonIdle)
		log.Info("connection closed: the sender sent nothing for the idle timeout", "reason", ReasonIdle, "idle_timeout", c.cfg.IdleTimeout)
	case err != nil:
		c.closeBad(log, "frame loop", err)
	case stop && bidi:
		// FINISH is the acknowledgement: only once the frames are written and fsync'd.
		if out != nil {
			if err := out.waitDurable(lastSeq); err != nil {
				log.Warn("sender stopped (STOP); FINISH withheld, the sender must send again", "error", err)
				return
			}
		}
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
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		reason = ReasonTruncated
	}
	if stage == "handshake" && reason == ReasonTruncated {
		reason, err = ReasonHandshake, fmt.Errorf("connection closed during the handshake: %w", err)
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
