package collector

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// DefaultContentType is the Frame Streams content type of dnstap.
const DefaultContentType = tapct.ContentType

// TimeNames says whether and how the output path template is filtered with strftime.
type TimeNames int

const (
	// NamesLiteral uses the output path as given (fstrm_capture without --gmtime/--localtime).
	NamesLiteral TimeNames = iota
	// NamesUTC expands strftime conversions in the path with UTC time (--gmtime).
	NamesUTC
	// NamesLocal expands strftime conversions in the path with local time (--localtime).
	NamesLocal
)

// Compression of closed files.
const (
	CompressNone = ""
	CompressGzip = "gzip"
	CompressZstd = "zstd"
)

// Config holds everything a Collector needs. The zero value of a field means its default.
type Config struct {
	// ContentType is the only content type accepted from senders and written to files.
	// Default DefaultContentType.
	ContentType string
	// Output is the path template of the output files, or "-" for Stream (no rotation).
	Output string
	// Stream receives the output when Output is "-" (usually os.Stdout).
	Stream io.Writer
	// TimeNames selects strftime expansion of Output, and the clock rotation aligns to.
	TimeNames TimeNames
	// RotateEvery closes the current file at each multiple of this interval on the clock
	// (UTC, or local time with NamesLocal), even when no frame arrives. 0: never.
	RotateEvery time.Duration
	// RotateBytes closes the current file once it holds at least this many bytes. 0: never.
	RotateBytes int64
	// KeepFiles keeps at most this many closed files matching Output (oldest deleted first). 0: all.
	KeepFiles int
	// KeepBytes keeps at most this many bytes of closed files matching Output. 0: no limit.
	KeepBytes int64
	// Compress is CompressNone, CompressGzip or CompressZstd, applied to closed files.
	Compress string
	// ReadBufferSize is the read buffer of each connection, in bytes. Default 262144.
	ReadBufferSize int
	// MaxConns caps the concurrent connections of each listener (a unix socket for named and a
	// TCP port each have their own); more are accepted and closed at once. Default 64.
	MaxConns int
	// MaxFrameSize is the largest data frame accepted, in bytes; a larger length closes the
	// connection. Default 1 MiB (a DNS message is at most 64 KiB).
	MaxFrameSize int
	// HandshakeTimeout bounds the handshake of a new connection. Default 5s.
	HandshakeTimeout time.Duration
	// FrameTimeout: a sender that has sent part of a frame must send the rest within this
	// long, or its connection is closed. Default 5s.
	FrameTimeout time.Duration
	// IdleTimeout: a connection that sends nothing at all for this long (between frames) is
	// closed, so that idle peers cannot hold every connection slot. A sender that comes back
	// (named reconnects after fstrm-set-reopen-interval) is served again. Default 1h;
	// negative: never.
	IdleTimeout time.Duration
	// DrainQuiet: when stopping, a connection that sends nothing for this long is closed. Default 1s.
	DrainQuiet time.Duration
	// DrainTimeout: when stopping, every connection is closed after this long, and writes that
	// still fail are given up (those frames are counted as lost). Default 5s.
	DrainTimeout time.Duration
	// BufferBytes bounds the frames read but not yet written (memory), in bytes: a hard bound,
	// retries of a failing output included. When it is full the connections stop reading.
	// It must hold at least one read (ReadBufferSize) and one frame (MaxFrameSize).
	// Default 16 MiB.
	BufferBytes int64
	// FlushInterval: frames are written at the latest this long after they were read (sooner
	// when 256 KiB have gathered). Default 100ms.
	FlushInterval time.Duration
	// RetryInterval is the wait between attempts after a failed write or open. Default 1s.
	RetryInterval time.Duration
	// Now is the clock (a test seam). Default time.Now.
	Now func() time.Time
	// Spool, when set, follows the output files and guards them from retention until they
	// are shipped (collector/forward). nil: none.
	Spool Spool
	// HandOver, when set, is how a stopping collector passes its live sender connections to
	// the next one instead of draining them (systemd's file descriptor store: FDStore). At
	// stop, each unix connection past its handshake stops being read at once, at a frame
	// boundary, and is given to HandOver with the bytes read after its last whole frame;
	// what was read before is written and the file closed as on any stop. A connection
	// HandOver refuses, or one stopped inside a control frame, is closed as when draining.
	// The sender never sees the connection close, so nothing it sends is lost.
	HandOver func(Handover) error
	// Adopt lists the connections an earlier collector handed over; Serve reads each from
	// where that one stopped, without a handshake.
	Adopt []Handover
}

// Handover is a live sender connection passed from one collector to the next at a frame
// boundary.
type Handover struct {
	Conn net.Conn
	// Leftover holds the bytes read from Conn after the last whole frame (the beginning of the
	// next one, fewer bytes than a frame); the next collector reads them before Conn.
	Leftover []byte
	// Bidirectional: the handshake was READY, ACCEPT, START; the sender waits for FINISH
	// after its STOP.
	Bidirectional bool
}

const (
	defaultReadBuffer = 262144
	defaultMaxConns   = 64
	defaultMaxFrame   = 1 << 20
	defaultBuffer     = 16 << 20
	// defaultIdleTimeout is long: named may be quiet for a long time on a quiet network.
	defaultIdleTimeout = time.Hour
	// batchSize is the size of the unit in which frames move from connections to the writer.
	batchSize = 256 << 10
)

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.ContentType == "" {
		cfg.ContentType = DefaultContentType
	}
	if cfg.ReadBufferSize == 0 {
		cfg.ReadBufferSize = defaultReadBuffer
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.MaxFrameSize == 0 {
		cfg.MaxFrameSize = defaultMaxFrame
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 5 * time.Second
	}
	if cfg.FrameTimeout == 0 {
		cfg.FrameTimeout = 5 * time.Second
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.DrainQuiet == 0 {
		cfg.DrainQuiet = time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 5 * time.Second
	}
	if cfg.BufferBytes == 0 {
		cfg.BufferBytes = defaultBuffer
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 100 * time.Millisecond
	}
	if cfg.RetryInterval == 0 {
		cfg.RetryInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Validate reports every problem of cfg (after defaults), each naming the field and the value.
func (cfg Config) Validate() error {
	_, err := cfg.validate()
	return err
}

// validate is Validate, returning also the output template it parsed (nil for a stream),
// so that New parses it once.
func (cfg Config) validate() (*Template, error) {
	cfg = cfg.withDefaults()
	var errs []error
	if cfg.Output == "" {
		errs = append(errs, errors.New("output: no output path (fstrm_capture -w)"))
	}
	if cfg.Output == "-" && cfg.Stream == nil {
		errs = append(errs, errors.New("output: \"-\" needs a stream"))
	}
	if len(cfg.ContentType) > 256 {
		errs = append(errs, fmt.Errorf("content type: %d bytes, at most 256", len(cfg.ContentType)))
	}
	if cfg.TimeNames < NamesLiteral || cfg.TimeNames > NamesLocal {
		errs = append(errs, fmt.Errorf("time names: unknown value %d", cfg.TimeNames))
	}
	if cfg.RotateEvery < 0 || (cfg.RotateEvery > 0 && cfg.RotateEvery < time.Second) {
		errs = append(errs, fmt.Errorf("rotate every: %v, must be 0 or at least 1s", cfg.RotateEvery))
	}
	if cfg.RotateBytes < 0 {
		errs = append(errs, fmt.Errorf("rotate size: %d, must be >= 0", cfg.RotateBytes))
	}
	if cfg.KeepFiles < 0 || cfg.KeepBytes < 0 {
		errs = append(errs, fmt.Errorf("retention: keep files %d, keep bytes %d, must be >= 0", cfg.KeepFiles, cfg.KeepBytes))
	}
	switch cfg.Compress {
	case CompressNone, CompressGzip, CompressZstd:
	default:
		errs = append(errs, fmt.Errorf("compress: %q, want gzip, zstd or nothing", cfg.Compress))
	}
	if cfg.ReadBufferSize < 4096 || cfg.ReadBufferSize > 64<<20 {
		errs = append(errs, fmt.Errorf("read buffer size: %d, must be between 4096 and %d bytes", cfg.ReadBufferSize, 64<<20))
	}
	if cfg.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("max conns: %d, must be >= 1", cfg.MaxConns))
	}
	if cfg.MaxFrameSize < 16 || cfg.MaxFrameSize > 64<<20 {
		errs = append(errs, fmt.Errorf("max frame size: %d, must be between 16 and %d bytes", cfg.MaxFrameSize, 64<<20))
	}
	if cfg.HandshakeTimeout < 0 || cfg.FrameTimeout < 0 || cfg.DrainQuiet < 0 || cfg.DrainTimeout < 0 || cfg.RetryInterval < 0 || cfg.FlushInterval < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	if least := max(batchSize*2, int64(cfg.ReadBufferSize), int64(cfg.MaxFrameSize)+4); cfg.BufferBytes < least {
		errs = append(errs, fmt.Errorf("buffer: %d bytes, must be at least %d (two batches, one read buffer and one frame)", cfg.BufferBytes, least))
	}
	var tmpl *Template
	if cfg.Output != "-" && cfg.Output != "" {
		// With %{identity}, each sender's output has a template of its own (outputs.get):
		// this one checks the template, and names a sender without an identity.
		t, err := NewTemplate(withIdentity(cfg.Output, unknownIdentity), cfg.TimeNames)
		if err != nil {
			errs = append(errs, err)
		}
		tmpl = t
	}
	return tmpl, errors.Join(errs...)
}
