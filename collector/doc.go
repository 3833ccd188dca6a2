// Package collector receives Frame Streams (dnstap) from name servers and writes them to
// rotated, self-contained Frame Streams files without losing a frame it has read.
//
// A Collector accepts connections on any number of net.Listeners (see ListenUnix, ListenTCP,
// or listeners inherited from systemd), runs the Frame Streams handshake on each (the
// bidirectional READY/ACCEPT/START that BIND's libfstrm uses on unix sockets, or a
// unidirectional START), and copies data frames, undecoded, to a single writer goroutine. The
// writer keeps one output file open at a time; every file starts with a START control frame
// and ends with a STOP, is written as NAME.part and renamed to NAME when closed.
//
// Frames travel from the connections to the writer in bounded batches. When the disk is slower
// than the senders, or a write fails, the writer holds what it has and the connections block:
// they stop reading their sockets, so the sender (named) decides what to drop and counts it.
// A frame that has been read is written, or, only when the collector is told to stop and the
// output still fails after the drain deadline, counted as lost and logged.
//
//	c, err := collector.New(collector.Config{Output: "/var/log/dnstap/%Y%m%d.fstrm", TimeNames: collector.NamesUTC}, logger)
//	ln, err := collector.ListenUnix("/var/cache/bind/dnstap.sock", collector.SocketOptions{Mode: 0o660, Group: "bind"})
//	go func() { <-hup; c.Rotate() }()
//	err = c.Serve(ctx, ln) // returns when ctx is done and everything is drained and closed
package collector
