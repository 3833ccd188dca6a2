// Package bindtext renders a DNS message in wire format as the text that BIND 9.18's
// dns_message_totext produces (or 9.14's or 9.20's: see Format), byte for byte, for the
// places dnstap-read (Debian's bind9-dnsutils 9.18.49) prints it, and tells how dnstap-read
// treats the frame that carries the message.
//
// # API
//
//	func Check(wire []byte) error
//	func AppendQuestion(dst, wire []byte) ([]byte, error)
//	func AppendMessage(dst, wire []byte, style Style) ([]byte, error)
//	func AppendYAML(dst, wire []byte, query bool) ([]byte, error)
//
//	type Message struct{ ... } // parse once, render several times (same results)
//	func (*Message) Parse(wire []byte) error
//	func (*Message) AppendQuestion(dst []byte) ([]byte, error)
//	func (*Message) Append(dst []byte, style Style) ([]byte, error)
//	func (*Message) AppendYAML(dst []byte, query bool) ([]byte, error)
//
// wire is the query_message of a *_QUERY dnstap message and the response_message
// otherwise (dnstap-read's choice), nil when the frame has none.
//
// Check says what dnstap-read does with the frame, in every mode:
//
//   - nil: the message parses. The summary line ends with AppendQuestion's
//     "name/class/type" (dns_name_format: escaped, no final dot except for the root).
//   - errors.Is(err, ErrSkipFrame): the message parses but has no question. dns_dt_parse
//     then fails and dnstap-read skips the whole frame: no summary line, nothing in any
//     mode.
//   - any other error (errors.Is(err, ErrNotRendered)): dns_message_parse fails (or the
//     frame has no message). The summary line shows "?/?/?", and -p and -y print no
//     message text (-y prints neither of the two message keys).
//
// AppendMessage appends exactly the bytes dns_message_totext writes, nothing more; the
// caller adds no newline:
//
//   - StylePrint (dnstap-read -p, after the summary line): dns_master_style_debug. Every
//     non-empty section ends with an empty line, so the text usually ends in "\n\n".
//   - StyleYAML (-y, under "  query_message_data:"): dns_master_style_yaml with the
//     message indent set to two "  ".
//   - StyleIndent (-y, under "  query_message: |"): dns_master_style_indent with the same
//     indent; its empty lines consist of the four-space indent.
//
// AppendYAML appends the whole tail of a -y document for the message: the
// "  query_message_data:\n" key (or "  response_message_data:\n" when query is false), the
// StyleYAML text, the "  query_message: |\n" (or "  response_message: |\n") key and the
// StyleIndent text. On any error both functions return dst unchanged, and the error wraps
// ErrNotRendered (and ErrSkipFrame when Check would say so).
//
// # What BIND does that this package copies
//
// dnstap-read parses with dns_message_parse (no best-effort, no preserve-order option),
// and AppendMessage applies the same checks: a short or truncated message, bad labels or
// compression pointers (a pointer must point before the name that uses it), a name over
// 255 octets, every rdata check of BIND's per-type fromwire (lengths, type maps, SVCB key
// order and values, CAA tags, NSEC3 owner names, EDNS option formats, ...), two question
// names, a repeated question, a record class that differs from the question's, an OPT that
// is not ".", not in the additional section or not the only one, a TSIG that is not last,
// a question-only type (ANY, AXFR, IXFR, MAILA, MAILB) outside the question, a second and
// different CNAME, DNAME or SOA. Trailing bytes after the last record are ignored.
//
// Records are grouped as BIND groups them: within a section, records whose owner names are
// equal (ignoring case) are printed under the first such name as first written; within a
// name, records of the same class and type (and covered type, for RRSIG and SIG) form one
// RRset printed with the smallest TTL of the set; names and RRsets keep the order in
// which they first appeared. A repeated identical CNAME, DNAME or SOA is printed once.
// UPDATE messages are not grouped. The OPT record is shown only as the OPT PSEUDOSECTION
// (extended RCODE folded into the status), a TSIG only as the TSIG PSEUDOSECTION, a SIG(0)
// only as the SIG0 PSEUDOSECTION; the header counts are those on the wire.
//
// # Record types
//
// Rendered as BIND renders them, and checked byte for byte against dnstap-read on
// captures of named (testdata/gen.sh) or on hand-made messages (crafted_test.go):
// A (IN, CH with its octal address, HS), NS, MD, MF, CNAME, SOA, MB, MG, MR, NULL, WKS, PTR,
// HINFO, MINFO, MX, TXT, RP, AFSDB, X25, ISDN, RT, NSAP, NSAP-PTR, SIG, KEY, PX, GPOS, AAAA,
// LOC, NXT, EID, NIMLOC, SRV, ATMA, NAPTR, KX, CERT, A6, DNAME, SINK, OPT, APL, DS, SSHFP,
// IPSECKEY, RRSIG, NSEC, DNSKEY, DHCID, NSEC3, NSEC3PARAM, TLSA, SMIMEA, HIP, NINFO, RKEY,
// TALINK, CDS, CDNSKEY, OPENPGPKEY, CSYNC, ZONEMD, SVCB, HTTPS, DSYNC, HHIT, BRID, SPF, NID,
// L32, L64, LP, EUI48, EUI64, TKEY, TSIG, URI, CAA, AVC, DOA, AMTRELAY, RESINFO, WALLET, TA,
// DLV, KEYDATA (shown as TYPE65533 with unknown data, as dnstap-read shows it),
// and every type BIND does not know (\# length hex). Class-specific types in another
// class are unknown data, as in BIND. In YAML an IPv6 address ending in "::" gets a "0",
// as BIND's inet_totext does.
//
// Debian's build (9.18.49-1~deb12u3) differs from the upstream 9.18.49 source in three
// ways this package follows, all found by differential tests against its dnstap-read: a
// repeated identical singleton (CNAME, DNAME, SOA, RESINFO) is kept once; an RRSIG whose
// labels field is below the signer name's label count is refused; and a compressed name
// in rdata must not read labels past the end of that rdata.
//
// # Other BIND releases
//
// Format selects whose dnstap-read is copied: Format918 (the zero value, everything above),
// Format914 (BIND 9.14.12) or Format920 (BIND 9.20.27); Format.AppendMessage and
// Format.AppendYAML, and Message.Format, render as that release does. Checked byte for byte
// against each release's own dnstap-read (built by bind:build) on the reader's golden
// captures and testdata/capture.fstrm, and for 9.20 on testdata/crafted.fstrm too:
//
//   - 9.14: in text (-p) an option's name has no colon before empty data ("; NSID", 9.18
//     "; NSID:"), PAD reads "; PAD (71 bytes)", EDE is "; OPT=15: ..."; EDNS knows the DO flag
//     only (CO counts as MBZ); in YAML the id is "%6u", list items are not quoted, EDE and
//     TCP-KEEPALIVE are "OPT: n" with the data on a line of its own, an IPv6 address ending
//     in "::" gets no "0"; SVCB, HTTPS, DSYNC, HHIT, BRID, RESINFO and WALLET are unknown
//     types (TYPEnnn, \# data); a repeated identical SOA/CNAME/DNAME is printed twice.
//   - 9.20: options are named from one table (PADDING, TCP-KEEPALIVE, UPDATE-LEASE, DAU,
//     DHU, N3U, CHAIN, Report-Channel, ZONEVERSION); in YAML a COOKIE has CLIENT and SERVER
//     keys, EXPIRE a "# ..." comment, KEY-TAG a "[ ... ]" list, printable data is escaped; a
//     repeated identical singleton is printed twice.
//
// Parsing is 9.18's for every Format: on 7 of the hand-made malformed messages of
// testdata/crafted.fstrm 9.14's parser decides otherwise (it takes malformed SVCB data as
// opaque, lacks Debian 9.18's RRSIG labels check, and refuses two that 9.18 takes).
//
// Not reproduced: nothing known for 9.18. RRSIG and SIG times are mapped into the 2^31-second
// window around the current time (dns_time64_from32 reads the clock), exactly as
// dnstap-read does when it runs, so the same capture can print differently decades apart.
package bindtext
