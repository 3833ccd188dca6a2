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

// ErrSkipFrame is wrapped by the error for a message that parses but has no question:
// dnstap-read's dns_dt_parse then fails, and dnstap-read skips the whole frame (no summary
// line either) in every output mode.
var ErrSkipFrame = errors.New("bindtext: message has no question, dnstap-read skips the frame")

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
	if e.err != ErrNotRendered {
		return []error{e.err, ErrNotRendered}
	}
	return []error{ErrNotRendered}
}

// Check parses wire as dnstap-read does (dns_message_parse, then dns_dt_parse's look at
// the question) and reports how dnstap-read treats the frame that carries it:
//
//   - nil: the message parses; the summary line shows its first question (AppendQuestion)
//     and -p and -y print the message.
//   - an error wrapping ErrSkipFrame: it parses but has no question; dnstap-read skips the
//     frame entirely, in every mode.
//   - another error (wrapping ErrNotRendered): it does not parse; the summary line shows
//     "?/?/?" and -p and -y print no message text. An empty wire (a frame without the
//     message) is such a case.
func Check(wire []byte) error {
	m := pool.Get().(*message)
	defer release(m)
	return m.parse(wire)
}

// AppendQuestion appends "name/class/type" of the first question as dnstap-read's summary
// line shows it (dns_name_format: no final dot except for the root; class and type
// mnemonics or CLASSnnn/TYPEnnn). It fails when Check fails.
func AppendQuestion(dst, wire []byte) ([]byte, error) {
	m := pool.Get().(*message)
	defer release(m)
	if err := m.parse(wire); err != nil {
		return dst, err
	}
	return m.appendQuestion(dst), nil
}

var pool = sync.Pool{New: func() any { return new(message) }}

// release returns m to the pool without keeping the caller's wire alive.
func release(m *message) {
	m.wire = nil
	pool.Put(m)
}

// AppendMessage appends BIND's text for the DNS message wire in the given style to dst
// and returns the extended slice. On error dst is returned unchanged (see the package
// documentation for when that happens).
func AppendMessage(dst, wire []byte, style Style) ([]byte, error) {
	return Format918.AppendMessage(dst, wire, style)
}

// AppendYAML appends what dnstap-read -y prints for the message after the dnstap fields:
// the "query_message_data:" key (or "response_message_data:" when query is false), the
// YAML rendering, the "query_message: |" key and the indented text rendering. When the
// message does not parse it appends nothing and returns an error, as dnstap-read prints
// none of these lines then.
func AppendYAML(dst, wire []byte, query bool) ([]byte, error) {
	return Format918.AppendYAML(dst, wire, query)
}

// Message parses a message once for several renderings (the summary's question, -p, -y),
// saving the repeated parse that Check, AppendQuestion and AppendMessage each do. The zero
// value is ready to use and reusable; a Message is not safe for concurrent use, and it
// keeps a reference to the wire passed to Parse, which must not change until the next
// Parse.
type Message struct {
	Format Format // whose dnstap-read Append and AppendYAML follow (default 9.18)

	m      message
	err    error
	parsed bool
}

// Parse parses wire as dnstap-read does; its error is Check's.
func (p *Message) Parse(wire []byte) error {
	p.err = p.m.parse(wire)
	p.parsed = true
	return p.err
}

func (p *Message) ready() error {
	if !p.parsed {
		return &parseError{what: "Parse not called", err: ErrNotRendered}
	}
	return p.err
}

// AppendQuestion is AppendQuestion for the parsed message.
func (p *Message) AppendQuestion(dst []byte) ([]byte, error) {
	if err := p.ready(); err != nil {
		return dst, err
	}
	return p.m.appendQuestion(dst), nil
}

// Append is AppendMessage for the parsed message.
func (p *Message) Append(dst []byte, style Style) ([]byte, error) {
	if err := p.ready(); err != nil {
		return dst, err
	}
	if style > StyleIndent {
		return dst, fmt.Errorf("bindtext: unknown style %d: %w", style, ErrNotRendered)
	}
	return p.m.render(dst, style, p.Format)
}

// AppendYAML is AppendYAML for the parsed message.
func (p *Message) AppendYAML(dst []byte, query bool) ([]byte, error) {
	if err := p.ready(); err != nil {
		return dst, err
	}
	return p.m.appendYAML(dst, query, p.Format)
}

func (m *message) appendQuestion(dst []byte) []byte {
	q := &m.recs[0]
	name := m.buf[q.name : q.name+q.nlen]
	dst = appendName(dst, name)
	if len(name) > 1 {
		dst = dst[:len(dst)-1]
	}
	dst = append(dst, '/')
	dst = appendClass(dst, q.class)
	dst = append(dst, '/')
	return appendType(dst, q.typ)
}

func (m *message) appendYAML(dst []byte, query bool, f Format) ([]byte, error) {
	start := len(dst)
	if query {
		dst = append(dst, "  query_message_data:\n"...)
	} else {
		dst = append(dst, "  response_message_data:\n"...)
	}
	dst, err := m.render(dst, StyleYAML, f)
	if err != nil {
		return dst[:start], err
	}
	if query {
		dst = append(dst, "  query_message: |\n"...)
	} else {
		dst = append(dst, "  response_message: |\n"...)
	}
	dst, err = m.render(dst, StyleIndent, f)
	if err != nil {
		return dst[:start], err
	}
	return dst, nil
}
