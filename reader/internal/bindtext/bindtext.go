package bindtext

import (
	"errors"
	"fmt"
	"sync"
)

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
// (or not print) the message, so dnstap-read prints no text for it.
var ErrNotRendered = errors.New("bindtext: message not rendered")

// ErrUnsupported is wrapped (together with ErrNotRendered) when the message holds a record
// type whose BIND rendering this package does not reproduce; dnstap-read would print it.
var ErrUnsupported = errors.New("bindtext: record type not supported")

// parseError is what parsing and rendering return: a short reason and the byte offset.
type parseError struct {
	what   string
	offset int
	err    error // ErrNotRendered, or ErrUnsupported
}

func (e *parseError) Error() string {
	return fmt.Sprintf("bindtext: %s at offset %d", e.what, e.offset)
}

func (e *parseError) Unwrap() []error {
	if e.err == ErrUnsupported {
		return []error{ErrUnsupported, ErrNotRendered}
	}
	return []error{ErrNotRendered}
}

var pool = sync.Pool{New: func() any { return new(message) }}

// AppendMessage appends BIND's text for the DNS message wire in the given style to dst
// and returns the extended slice. On error dst is returned unchanged (see the package
// documentation for when that happens).
func AppendMessage(dst, wire []byte, style Style) ([]byte, error) {
	if style > StyleIndent {
		return dst, fmt.Errorf("bindtext: unknown style %d: %w", style, ErrNotRendered)
	}
	m := pool.Get().(*message)
	defer pool.Put(m)
	if err := m.parse(wire); err != nil {
		return dst, err
	}
	out, err := m.render(dst, style)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendYAML appends what dnstap-read -y prints for the message after the dnstap fields:
// the "query_message_data:" key (or "response_message_data:" when query is false), the
// YAML rendering, the "query_message: |" key and the indented text rendering. When the
// message does not parse it appends nothing and returns an error, as dnstap-read prints
// none of these lines then.
func AppendYAML(dst, wire []byte, query bool) ([]byte, error) {
	m := pool.Get().(*message)
	defer pool.Put(m)
	if err := m.parse(wire); err != nil {
		return dst, err
	}
	start := len(dst)
	if query {
		dst = append(dst, "  query_message_data:\n"...)
	} else {
		dst = append(dst, "  response_message_data:\n"...)
	}
	dst, err := m.render(dst, StyleYAML)
	if err != nil {
		return dst[:start], err
	}
	if query {
		dst = append(dst, "  query_message: |\n"...)
	} else {
		dst = append(dst, "  response_message: |\n"...)
	}
	dst, err = m.render(dst, StyleIndent)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}
