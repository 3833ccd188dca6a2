// Package reader decodes dnstap files: Frame Streams files of content type
// protobuf:dnstap.Dnstap, as written by BIND (dnstap-output file), fstrm_capture,
// golang-dnstap and dnstap-collector, plain or compressed with gzip or zstd (recognised by
// their first bytes, not their names). It also renders messages the way BIND 9.18's
// dnstap-read prints them, and as JSON.
//
// # Decoding
//
//	d, err := reader.Open("dnstap.fstrm") // "-" is standard input
//	if err != nil { ... }
//	defer d.Close()
//	for {
//		m, err := d.Next()
//		if err == io.EOF {
//			break // STOP frame seen
//		}
//		if reader.Recoverable(err) {
//			continue // one bad frame skipped (as dnstap-read skips it)
//		}
//		if err != nil {
//			return err // *reader.FrameError: file, frame number, byte offset
//		}
//		fmt.Println(m.Type.Mnemonic(), string(m.DNS().QName))
//	}
//
// NewDecoder(r, name) does the same over any io.Reader. Next returns a *Message that is
// reused: the Message and every byte slice in it (identity, addresses, the DNS wire bytes,
// the qname of DNS()) are valid only until the next call to Next. Copy what you keep. The
// decoder allocates nothing per message once its buffers have grown to the largest frame.
//
// A Message is the Dnstap envelope and its Message flattened into one struct: Type
// (MessageType, with Mnemonic "CQ" and String "CLIENT_QUERY"), socket family and protocol,
// query/response addresses (4 or 16 raw bytes) and ports, query/response times (seconds and
// nanoseconds with presence flags, or QueryTime/ResponseTime/Time as time.Time),
// QueryMessage/ResponseMessage (DNS wire format), QueryZone (wire-format name), identity,
// version and extra. Absent byte fields are nil, present ones non-nil. Wire and Time select
// the message and time that dnstap-read shows: the query side for query types, the response
// side for response types. DNS returns the header, first question (qname in BIND's text,
// qtype, qclass), rcode and EDNS summary of Wire, from a cheap structural walk;
// BINDParses adds BIND's exact verdict (rdata checks included, via reader/internal/bindtext),
// which decides what dnstap-read prints.
//
// # Errors
//
// Every error about the input is a *FrameError{Path, Index, Offset, Err} wrapping one of the
// sentinels:
//
//   - ErrNotFrameStream: no START control frame at the beginning (garbage, wrong format).
//   - ErrNotDnstap: START names another content type; the message quotes it.
//   - ErrTruncated: the input ends inside a frame or before STOP: a file still being written
//     or cut short. Every complete message before that point was returned first.
//   - ErrBadControl: an unexpected or malformed control frame.
//   - ErrCorrupt: a data frame length over the limit that runs past the end of the input.
//   - ErrBadProtobuf, ErrFrameTooLarge: recoverable; that one frame is skipped and Next may be
//     called again. dnstap-read skips undecodable frames silently.
//
// Offsets count bytes of the decompressed stream. A STOP frame followed by another START
// (concatenated files, as `cat a.fstrm b.fstrm` produces) continues the stream.
//
// # Compared with golang-dnstap
//
// The decoder is a hand-written protobuf parser (protowire) over reused buffers, so it does
// not allocate per message; TestDecoderMatchesGolangDnstap checks that it yields the same
// fields as golang-dnstap's proto.Unmarshal on the golden captures, and
// BenchmarkDecode/golang-dnstap against BenchmarkDecode/reader shows the speed difference.
// Like protobuf-c (which BIND uses) and unlike golang/protobuf it rejects a known field that
// has the wrong wire type, and keeps enum values it does not know.
package reader
