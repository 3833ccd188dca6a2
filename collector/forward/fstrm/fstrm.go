// Package fstrm is the Frame Streams destination of the forwarder: each batch goes over a
// bidirectional connection of its own (READY, ACCEPT, START, the frames, STOP), and the
// receiver's FINISH acknowledges it. A dnstap-collector sends FINISH only once the frames
// are written and fsync'd; other receivers (fstrm_capture, golang-dnstap, DNS-collector)
// send it when they have read STOP, which is as far as their word goes.
//
// URLs: fstrm+tls://host:port (TLS, mutual when a client certificate is given), fstrm://host:port
// (plain TCP), unix:///path/to/socket. TLS sessions are resumed across connections (a client
// session cache), so a connection per batch costs one round trip more than plain TCP.
package fstrm

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

// Options of a Destination.
type Options struct {
	// URL is fstrm+tls://host:port, fstrm://host:port or unix:///path.
	URL string
	// TLS is the client configuration for fstrm+tls (required there): RootCAs, the client
	// certificate, ServerName. New adds a session cache when it has none.
	TLS *tls.Config
	// ContentType offered in READY and START. Default protobuf:dnstap.Dnstap.
	ContentType string
	// Timeout bounds the connection and handshakes, the writing of the batch, and the wait
	// for FINISH (the receiver fsyncs before it answers). Default 30s.
	Timeout time.Duration
}

// Destination sends batches to one Frame Streams receiver.
type Destination struct {
	network, addr string
	tls           *tls.Config
	ready, start  []byte
	stop          []byte
	ct            []byte
	timeout       time.Duration
	name          string
}

var _ forward.Destination = (*Destination)(nil)

// New checks the options and returns a Destination; nothing is dialled before Send.
func New(o Options) (*Destination, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("forward URL %q: %w", o.URL, err)
	}
	if o.ContentType == "" {
		o.ContentType = tapct.ContentType
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	d := &Destination{ct: []byte(o.ContentType), timeout: o.Timeout, name: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()}
	switch u.Scheme {
	case "fstrm+tls", "fstrm":
		if u.Port() == "" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
			return nil, fmt.Errorf("forward URL %q: want %s://host:port", o.URL, u.Scheme)
		}
		d.network, d.addr = "tcp", u.Host
		if u.Scheme == "fstrm+tls" {
			if o.TLS == nil {
				return nil, fmt.Errorf("forward URL %q: fstrm+tls needs a TLS configuration (--forward-ca)", o.URL)
			}
			d.tls = o.TLS.Clone()
			if d.tls.ServerName == "" {
				d.tls.ServerName = u.Hostname()
			}
			if d.tls.ClientSessionCache == nil {
				d.tls.ClientSessionCache = tls.NewLRUClientSessionCache(8)
			}
			if d.tls.MinVersion == 0 {
				d.tls.MinVersion = tls.VersionTLS12
			}
		}
	case "unix":
		if u.Path == "" || u.Host != "" {
			return nil, fmt.Errorf("forward URL %q: want unix:///path/to/socket", o.URL)
		}
		d.network, d.addr = "unix", u.Path
	default:
		return nil, fmt.Errorf("forward URL %q: scheme %q, want fstrm+tls, fstrm or unix", o.URL, u.Scheme)
	}
	d.ready = control(fs.ControlFrame{ControlType: fs.CONTROL_READY, ContentTypes: [][]byte{d.ct}})
	d.start = control(fs.ControlFrame{ControlType: fs.CONTROL_START, ContentTypes: [][]byte{d.ct}})
	d.stop = control(fs.ControlFrame{ControlType: fs.CONTROL_STOP})
	return d, nil
}

func control(cf fs.ControlFrame) []byte {
	var b buffer
	_ = cf.Encode(&b) // writes to memory cannot fail
	return b
}

type buffer []byte

func (b *buffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// String names the destination (the URL without anything secret).
func (d *Destination) String() string { return d.name }

// Close does nothing: every batch has its own connection.
func (d *Destination) Close() error { return nil }

// Send sends b over a new connection and returns nil once the receiver has sent FINISH.
// Failures before the first frame is written are marked forward.NotDelivered.
func (d *Destination) Send(ctx context.Context, b *forward.Batch) error {
	dl := net.Dialer{Timeout: d.timeout}
	nc, err := dl.DialContext(ctx, d.network, d.addr)
	if err != nil {
		return forward.NotDelivered(fmt.Errorf("connect %s: %w", d.name, err))
	}
	defer nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(d.timeout))
	if d.tls != nil {
		tc := tls.Client(nc, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return forward.NotDelivered(fmt.Errorf("TLS handshake with %s: %w", d.name, err))
		}
		nc = tc
	}
	br := bufio.NewReaderSize(nc, 4096)
	if _, err := nc.Write(d.ready); err != nil {
		return forward.NotDelivered(fmt.Errorf("send READY to %s: %w", d.name, err))
	}
	cf, err := readControl(br)
	if err != nil {
		return forward.NotDelivered(fmt.Errorf("read ACCEPT from %s: %w", d.name, err))
	}
	if cf.ControlType != fs.CONTROL_ACCEPT || !cf.MatchContentType(d.ct) {
		return forward.NotDelivered(fmt.Errorf("%s answered READY with control type %d, content types %q: not an ACCEPT of %q",
			d.name, cf.ControlType, cf.ContentTypes, d.ct))
	}
	// START, the frames and STOP; the frames go as they are in the spool.
	bufs := net.Buffers{d.start, b.Wire, d.stop}
	if _, err := bufs.WriteTo(nc); err != nil {
		return fmt.Errorf("send %d frames to %s: %w", len(b.Frames), d.name, err)
	}
	_ = nc.SetDeadline(time.Now().Add(d.timeout))
	if cf, err = readControl(br); err != nil {
		return fmt.Errorf("wait for FINISH from %s after %d frames: %w", d.name, len(b.Frames), err)
	}
	if cf.ControlType != fs.CONTROL_FINISH {
		return fmt.Errorf("%s answered STOP with control type %d, not FINISH", d.name, cf.ControlType)
	}
	return nil
}

// readControl reads one escaped control frame.
func readControl(br *bufio.Reader) (fs.ControlFrame, error) {
	var cf fs.ControlFrame
	esc, err := br.Peek(4)
	if err != nil {
		return cf, err
	}
	if binary.BigEndian.Uint32(esc) != 0 {
		return cf, errors.New("a data frame where a control frame was expected")
	}
	_, _ = br.Discard(4)
	if err := cf.Decode(br); err != nil {
		return cf, fmt.Errorf("control frame: %w", err)
	}
	return cf, nil
}
