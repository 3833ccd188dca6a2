package bindtext

import "errors"

// Style selects which of dnstap-read's three renderings AppendMessage writes.
type Style uint8

const (
	// StylePrint is dnstap-read -p: dns_master_style_debug, no indentation.
	StylePrint Style = iota
	// StyleYAML is the block under "query_message_data:" in dnstap-read -y:
	// dns_master_style_yaml with an indent of two "  " (four spaces).
	StyleYAML
	// StyleIndent is the block under "query_message: |" in dnstap-read -y:
	// dns_master_style_indent with an indent of two "  " (four spaces).
	StyleIndent
)

// ErrNotRendered is wrapped by every error AppendMessage returns: BIND would not parse
// the message, so dnstap-read prints no text for it.
var ErrNotRendered = errors.New("bindtext: message not rendered")

// AppendMessage appends BIND's text for the DNS message wire in the given style to dst
// and returns the extended slice. On error dst is returned unchanged (see the package
// documentation for when that happens).
func AppendMessage(dst, wire []byte, style Style) ([]byte, error) {
	return dst, ErrNotRendered // implemented in the next commit
}

// AppendYAML appends what dnstap-read -y prints for the message after the dnstap fields:
// the "query_message_data:" key (or "response_message_data:" when query is false), the
// YAML rendering, the "query_message: |" key and the indented text rendering. When the
// message does not parse it appends nothing and returns an error, as dnstap-read prints
// none of these lines then.
func AppendYAML(dst, wire []byte, query bool) ([]byte, error) {
	return dst, ErrNotRendered // implemented in the next commit
}
