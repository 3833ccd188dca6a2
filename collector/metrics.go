package collector

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// Reasons a connection was rejected or closed early, as used in logs and metrics.
const (
	ReasonMaxConns    = "max_conns"
	ReasonHandshake   = "handshake"
	ReasonContentType = "content_type"
	ReasonTimeout     = "timeout"
	ReasonFrameSize   = "frame_too_large"
	ReasonProtocol    = "protocol"
	ReasonTruncated   = "truncated"
	ReasonIdle        = "idle"
	ReasonTLS         = "tls" // TLS handshake failed: wrong CA, no or expired client certificate, not TLS
)

var reasons = []string{ReasonMaxConns, ReasonHandshake, ReasonContentType, ReasonTimeout, ReasonFrameSize, ReasonProtocol, ReasonTruncated, ReasonIdle, ReasonTLS}

// counters are updated with atomics; the hot path touches them once per batch.
type counters struct {
	framesRead, bytesRead       atomic.Uint64
	framesWritten, bytesWritten atomic.Uint64
	connsOpen                   atomic.Int64
	connsTotal                  atomic.Uint64
	filesClosed, rotations      atomic.Uint64
	writeErrors                 atomic.Uint64
	framesHeld                  atomic.Int64
	framesLost                  atomic.Uint64
	filesCompressed             atomic.Uint64
	filesDeleted                atomic.Uint64
	rejected                    [9]atomic.Uint64 // indexed like reasons
}

func (c *counters) reject(reason string) {
	for i, r := range reasons {
		if r == reason {
			c.rejected[i].Add(1)
		}
	}
}

// Stats is a snapshot of the counters of a Collector.
type Stats struct {
	FramesRead, BytesRead       uint64 // data frames (and their bytes, with length prefix) read from sockets
	FramesWritten, BytesWritten uint64 // data frames and bytes handed to the output successfully
	ConnsOpen                   int64
	ConnsTotal                  uint64
	FilesClosed                 uint64 // output files finished (STOP written, renamed)
	Rotations                   uint64 // rotations asked for (timer, size, Rotate)
	WriteErrors                 uint64 // failed writes, opens and closes of output files
	FramesHeld                  int64  // frames read and not yet written (in memory)
	BytesHeld                   int64  // bytes of those frames; at most Config.BufferBytes
	// FramesLost counts frames read that reached no finished file: still unwritable at the
	// drain deadline, written to a file that was removed while open, or not written because
	// the output stream was closed by its reader.
	FramesLost      uint64
	FilesCompressed uint64
	FilesDeleted    uint64 // by retention
	Rejected        map[string]uint64
}

// Stats returns the current counters.
func (c *Collector) Stats() Stats {
	s := Stats{
		FramesRead: c.n.framesRead.Load(), BytesRead: c.n.bytesRead.Load(),
		FramesWritten: c.n.framesWritten.Load(), BytesWritten: c.n.bytesWritten.Load(),
		ConnsOpen: c.n.connsOpen.Load(), ConnsTotal: c.n.connsTotal.Load(),
		FilesClosed: c.n.filesClosed.Load(), Rotations: c.n.rotations.Load(),
		WriteErrors: c.n.writeErrors.Load(), FramesHeld: c.n.framesHeld.Load(), BytesHeld: c.outs.Load().heldBytes(),
		FramesLost: c.n.framesLost.Load(), FilesCompressed: c.n.filesCompressed.Load(),
		FilesDeleted: c.n.filesDeleted.Load(), Rejected: map[string]uint64{},
	}
	for i, r := range reasons {
		s.Rejected[r] = c.n.rejected[i].Load()
	}
	return s
}

// String is the one-line summary used for sd_notify STATUS and the final log line.
func (s Stats) String() string {
	var rej uint64
	for _, v := range s.Rejected {
		rej += v
	}
	return fmt.Sprintf("frames=%d written=%d bytes=%d conns=%d/%d files=%d write_errors=%d held=%d lost=%d rejected=%d",
		s.FramesRead, s.FramesWritten, s.BytesWritten, s.ConnsOpen, s.ConnsTotal, s.FilesClosed,
		s.WriteErrors, s.FramesHeld, s.FramesLost, rej)
}

// WritePrometheus writes the counters in the Prometheus text exposition format (0.0.4).
func (s Stats) WritePrometheus(w io.Writer) error {
	type m struct {
		name, typ, help string
		v               any
	}
	ms := []m{
		{"frames_read_total", "counter", "Data frames read from senders.", s.FramesRead},
		{"bytes_read_total", "counter", "Bytes of data frames read from senders, length prefixes included.", s.BytesRead},
		{"frames_written_total", "counter", "Data frames written to the output.", s.FramesWritten},
		{"bytes_written_total", "counter", "Bytes of data frames written to the output.", s.BytesWritten},
		{"connections_open", "gauge", "Sender connections open now.", s.ConnsOpen},
		{"connections_total", "counter", "Sender connections accepted.", s.ConnsTotal},
		{"files_closed_total", "counter", "Output files finished (STOP written, renamed).", s.FilesClosed},
		{"rotations_total", "counter", "Rotations asked for by the timer, the size limit or a signal.", s.Rotations},
		{"write_errors_total", "counter", "Failed opens, writes and closes of output files.", s.WriteErrors},
		{"frames_held", "gauge", "Frames read and not yet written (held in memory; many while the output fails).", s.FramesHeld},
		{"bytes_held", "gauge", "Bytes of the frames held; at most --buffer.", s.BytesHeld},
		{"frames_lost_total", "counter", "Frames read that reached no finished file: output failing at the drain deadline, file removed while open, output stream closed.", s.FramesLost},
		{"files_compressed_total", "counter", "Closed files compressed.", s.FilesCompressed},
		{"files_deleted_total", "counter", "Closed files deleted by retention.", s.FilesDeleted},
	}
	for _, x := range ms {
		if _, err := fmt.Fprintf(w, "# HELP dnstap_collector_%[1]s %[2]s\n# TYPE dnstap_collector_%[1]s %[3]s\ndnstap_collector_%[1]s %[4]v\n", x.name, x.help, x.typ, x.v); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	if _, err := fmt.Fprintf(w, "# HELP dnstap_collector_connections_rejected_total Connections refused, or closed on bad input or idleness, by reason.\n# TYPE dnstap_collector_connections_rejected_total counter\n"); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	for _, r := range reasons {
		if _, err := fmt.Fprintf(w, "dnstap_collector_connections_rejected_total{reason=%q} %d\n", r, s.Rejected[r]); err != nil {
			return fmt.Errorf("write metrics: %w", err)
		}
	}
	return nil
}

// MetricsHandler serves the counters of c at any path in the Prometheus text format.
func MetricsHandler(c *Collector) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = c.Stats().WritePrometheus(w) // the client went away; nothing to do
	})
}
