package stats

import (
	"encoding/binary"
	"errors"

	"github.com/dnstapkit/dnstapkit/reader"
)

// Record is what stats needs of one dnstap message. Byte slices may point into a decoder's
// buffer: Add copies what it keeps.
type Record struct {
	Type     reader.MessageType
	Family   reader.SocketFamily   // 0 when absent
	Protocol reader.SocketProtocol // 0 when absent

	QueryAddr    []byte // 4 or 16 bytes; the client for CQ/CR/AQ/AR
	ResponseAddr []byte
	QueryPort    uint16
	ResponsePort uint16

	QueryTime    int64 // Unix nanoseconds; 0 when absent
	ResponseTime int64 // Unix nanoseconds; 0 when absent

	// Wire is the DNS message: query_message for a query type, response_message for a
	// response type (what dnstap-read shows); nil when absent.
	Wire []byte
}

// FromMessage fills r from a decoded dnstap message. r's slices then point into m.
func FromMessage(r *Record, m *reader.Message) {
	*r = Record{
		Type: m.Type, Family: m.SocketFamily, Protocol: m.SocketProtocol,
		QueryAddr: m.QueryAddress, ResponseAddr: m.ResponseAddress,
		QueryPort: uint16(m.QueryPort), ResponsePort: uint16(m.ResponsePort),
		Wire: m.Wire(),
	}
	if m.HasQueryTimeSec && m.HasQueryTimeNsec {
		r.QueryTime = int64(m.QueryTimeSec)*1e9 + int64(m.QueryTimeNsec)
	}
	if m.HasResponseTimeSec && m.HasResponseTimeNsec {
		r.ResponseTime = int64(m.ResponseTimeSec)*1e9 + int64(m.ResponseTimeNsec)
	}
}

// Time returns the time dnstap-read shows: query_time for a query type, response_time for a
// response type (0 when absent).
func (r *Record) Time() int64 {
	if r.Type.IsQuery() {
		return r.QueryTime
	}
	return r.ResponseTime
}

// header is the part of a DNS message stats uses.
type header struct {
	id    uint16
	rcode uint8
	qtype uint16
	// name is the first question's name in lower-case presentation form with a trailing
	// dot ("www.example.org."; the root is "."). It aliases the parser's buffer.
	name []byte
	// labels holds the end offset in name of each label (before its dot).
	labels []uint16
}

var (
	errShort     = errors.New("dns message shorter than its header")
	errNoQ       = errors.New("dns message has no question")
	errBadName   = errors.New("bad question name")
	errLoop      = errors.New("compression pointer loop")
	errTruncName = errors.New("question truncated")
)

const maxPointers = 16 // more jumps than any sane name needs: treat as a loop

// parseHeader reads the header and the first question of msg into h, reusing h's buffers.
func parseHeader(h *header, msg []byte) error {
	h.name, h.labels = h.name[:0], h.labels[:0]
	if len(msg) < 12 {
		return errShort
	}
	h.id = binary.BigEndian.Uint16(msg)
	h.rcode = msg[3] & 0x0f
	if binary.BigEndian.Uint16(msg[4:]) == 0 {
		return errNoQ
	}
	off, end, jumps := 12, -1, 0
	for {
		if off >= len(msg) {
			return errTruncName
		}
		l := int(msg[off])
		switch {
		case l == 0:
			off++
			if end < 0 {
				end = off
			}
			if len(h.name) == 0 {
				h.name = append(h.name, '.')
			}
			if end+4 > len(msg) {
				return errTruncName
			}
			h.qtype = binary.BigEndian.Uint16(msg[end:])
			return nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(msg) {
				return errTruncName
			}
			if jumps++; jumps > maxPointers {
				return errLoop
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
		case l&0xc0 != 0:
			return errBadName
		default:
			if off+1+l > len(msg) {
				return errTruncName
			}
			appendLabel(h, msg[off+1:off+1+l])
			if len(h.name) > 255*4 {
				return errBadName
			}
			h.labels = append(h.labels, uint16(len(h.name)))
			h.name = append(h.name, '.')
			off += 1 + l
		}
	}
}

// charClass sorts bytes for appendLabel: 0 copy, 1 upper-case letter, 2 needs escaping.
var charClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'A' <= c && c <= 'Z':
			t[c] = 1
		case c == '.' || c == '\\' || c < '!' || c > '~':
			t[c] = 2
		}
	}
	return t
}()

// appendLabel appends a label in lower-case presentation form to h.name: the bytes are
// copied in one go and fixed in place; a label with bytes to escape takes the slow path.
func appendLabel(h *header, l []byte) {
	start := len(h.name)
	h.name = append(h.name, l...)
	b := h.name[start:]
	var acc uint8
	for _, c := range b { // branch-free scan: most labels need nothing
		acc |= charClass[c]
	}
	switch {
	case acc == 0:
	case acc&2 != 0:
		h.name = appendEscaped(h.name[:start], l)
	default:
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
	}
}

func appendEscaped(name, l []byte) []byte {
	for _, c := range l {
		switch {
		case 'A' <= c && c <= 'Z':
			name = append(name, c+'a'-'A')
		case c == '.' || c == '\\':
			name = append(name, '\\', c)
		case c < '!' || c > '~':
			name = append(name, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		default:
			name = append(name, c)
		}
	}
	return name
}
