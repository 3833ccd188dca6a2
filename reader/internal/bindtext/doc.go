// Package bindtext renders a DNS message in wire format as the text that BIND 9.18's
// dns_message_totext produces, byte for byte, for the two places dnstap-read prints it:
//
//   - dnstap-read -p prints, after each summary line, dns_message_totext with
//     dns_master_style_debug: AppendMessage(dst, wire, StylePrint).
//   - dnstap-read -y prints, for a message that parses, the key line
//     "  query_message_data:\n" (or "  response_message_data:\n"), then
//     dns_message_totext with dns_master_style_yaml and an indent of two "  "
//     (AppendMessage(dst, wire, StyleYAML)), then the key line
//     "  query_message: |\n" (or "  response_message: |\n"), then dns_message_totext
//     with dns_master_style_indent and the same indent (AppendMessage(dst, wire,
//     StyleIndent)). AppendYAML does all four steps.
//
// # Contract
//
// AppendMessage appends exactly the bytes dns_message_totext writes, nothing more: the
// caller adds no newline. In StylePrint and StyleIndent every non-empty section ends with
// an empty line ("\n" after its last record), so the text usually ends in "\n\n"; a
// message with no records ends after the header (and the OPT pseudosection) with a
// single "\n". StyleYAML never writes empty lines.
//
// dnstap-read parses the message with dns_message_parse (no best-effort, no
// preserve-order option) and prints nothing at all for the message when that fails: no
// text in -p, and neither of the two keys in -y. AppendMessage applies the same checks
// (a short or truncated message, bad compression pointers, an rdata that BIND's fromwire
// rejects, two question names, a class that differs from the question's, an OPT that is
// not ".", not in the additional section or not the only one, a TSIG that is not last,
// ...) and returns a non-nil error with dst unchanged in exactly those cases, so that the
// caller prints nothing for that message. An empty wire (no query_message or
// response_message in the frame) is such an error too.
//
// Like BIND, the renderer groups records: within a section, records whose owner names are
// equal (ignoring case) are printed under the first such name, and within a name, records
// of the same class, type (and, for RRSIG and SIG, the covered type) form one RRset,
// printed in the order each name and RRset first appeared, with the RRset's smallest TTL
// and the owner name's case as written in its first record. The OPT record is shown only
// as the OPT PSEUDOSECTION, a TSIG record only as the TSIG PSEUDOSECTION, a SIG(0) only
// as the SIG0 PSEUDOSECTION; the header counts are those on the wire.
package bindtext
