package reader

import (
	"encoding/binary"
	"errors"

	"github.com/dnstapkit/dnstapkit/reader/internal/bindtext"
)

// DNS is a summary of the DNS message of a dnstap Message (see Message.DNS): the header, the
// first question and the EDNS OPT record.
type DNS struct {
	// Parsed reports whether the message is well formed: header, sections, names (with
	// BIND's rule that compression pointers point backwards), record bounds, OPT and TSIG
	// placement, a single question name. BIND checks each rdata too: Message.BINDParses
	// gives its exact verdict. When Parsed is false the other fields hold what could be read.
	Parsed bool

	ID      uint16
	Flags   uint16 // the second 16-bit word of the header: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode
	QDCount uint16
	ANCount uint16
	NSCount uint16
	ARCount uint16

	HasQuestion bool
	QName       []byte // first question name in BIND's text, without the final dot ("." for the root)
	QType       uint16
	QClass      uint16

	HasEDNS     bool
	UDPSize     uint16 // OPT class
	ExtRcode    uint8  // upper 8 bits of the extended rcode
	EDNSVersion uint8
	DO          bool
}

// Header flag bits of DNS.Flags.
const (
	FlagQR = 1 << 15
	FlagAA = 1 << 10
	FlagTC = 1 << 9
	FlagRD = 1 << 8
	FlagRA = 1 << 7
	FlagAD = 1 << 5
	FlagCD = 1 << 4
)

// Opcode returns the header opcode.
func (d *DNS) Opcode() uint8 { return uint8(d.Flags>>11) & 0xf }

// Rcode returns the rcode, extended by the OPT record when there is one.
func (d *DNS) Rcode() uint16 { return d.Flags&0xf | uint16(d.ExtRcode)<<4 }

// DNS returns the summary of Wire() (the message dnstap-read shows), computed on first use.
// QName points into the Message: it is valid until the next call to Next.
func (m *Message) DNS() *DNS {
	if !m.dnsDone {
		m.dnsDone = true
		m.name = parseDNS(&m.dns, m.Wire(), m.name[:0])
	}
	return &m.dns
}

// BINDParses reports how BIND's dnstap-read treats Wire(): parses is true when
// dns_message_parse accepts it (dnstap-read then shows its question and, with -p and -y, its
// text); skip is true when it parses but has no question, so that dnstap-read prints nothing
// for the frame. It is DNS().Parsed refined by bindtext.Check, which applies BIND's rdata
// checks too; it costs a full parse, once per message.
func (m *Message) BINDParses() (parses, skip bool) {
	if !m.checkDone {
		m.check(nil)
	}
	return m.checkParses, m.checkSkip
}

// check sets BINDParses's verdict. Given msg, it parses a structurally sound message into
// msg whatever the fast path would say, so that -p and -y render it from that one parse
// (where the fast path accepts, the full parse accepts too: FuzzBINDAccepts).
func (m *Message) check(msg *bindtext.Message) {
	m.checkDone = true
	d := m.DNS()
	m.checkParses = d.Parsed
	m.checkSkip = d.Parsed && !d.HasQuestion
	if !d.Parsed {
		return
	}
	var err error
	switch {
	case msg != nil:
		err = msg.Parse(m.Wire())
	case !bindAccepts(m.Wire(), d):
		err = bindtext.Check(m.Wire())
	}
	if err != nil {
		if errors.Is(err, bindtext.ErrSkipFrame) {
			m.checkSkip = true
		} else {
			m.checkParses, m.checkSkip = false, false
		}
	}
}

const (
	typeOPT  = 41
	typeTSIG = 250
)

// parseDNS fills d from the wire message b, appending the first qname's text to name.
func parseDNS(d *DNS, b []byte, name []byte) []byte {
	*d = DNS{}
	if len(b) < 12 {
		return name
	}
	d.ID = binary.BigEndian.Uint16(b)
	d.Flags = binary.BigEndian.Uint16(b[2:])
	d.QDCount = binary.BigEndian.Uint16(b[4:])
	d.ANCount = binary.BigEndian.Uint16(b[6:])
	d.NSCount = binary.BigEndian.Uint16(b[8:])
	d.ARCount = binary.BigEndian.Uint16(b[10:])
	off := 12
	var firstQ int
	for i := 0; i < int(d.QDCount); i++ {
		start := off
		end, ok := skipName(b, off)
		if !ok || end+4 > len(b) {
			return name
		}
		off = end + 4
		if i == 0 {
			firstQ = start
			d.HasQuestion = true
			name = appendName(name, b, start)
			d.QName = name
			d.QType = binary.BigEndian.Uint16(b[end:])
			d.QClass = binary.BigEndian.Uint16(b[end+2:])
		} else if !nameEqualFold(b, firstQ, start) {
			return name // BIND: one question name only (FORMERR)
		}
	}
	counts := [3]uint16{d.ANCount, d.NSCount, d.ARCount}
	for sec, n := range counts {
		for i := 0; i < int(n); i++ {
			start := off
			end, ok := skipName(b, off)
			if !ok || end+10 > len(b) {
				return name
			}
			typ := binary.BigEndian.Uint16(b[end:])
			rdlen := int(binary.BigEndian.Uint16(b[end+8:]))
			off = end + 10 + rdlen
			if off > len(b) {
				return name
			}
			switch typ {
			case typeOPT:
				if sec != 2 || d.HasEDNS || !isRoot(b, start) {
					return name
				}
				d.HasEDNS = true
				d.UDPSize = binary.BigEndian.Uint16(b[end+2:])
				d.ExtRcode = b[end+4]
				d.EDNSVersion = b[end+5]
				d.DO = b[end+6]&0x80 != 0
			case typeTSIG:
				if sec != 2 || i != int(n)-1 {
					return name
				}
			}
		}
	}
	d.Parsed = true
	return name
}

// skipName checks the (possibly compressed) name at off and returns the offset just past its
// in-place part. Like BIND, every compression pointer must point before the previous one.
func skipName(b []byte, off int) (int, bool) {
	end := -1
	limit := off // a pointer must point below this
	total := 0
	for {
		if off >= len(b) {
			return 0, false
		}
		c := int(b[off])
		switch c & 0xc0 {
		case 0x00:
			total += c + 1
			if total > 255 {
				return 0, false
			}
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				return end, true
			}
			off += c + 1
		case 0xc0:
			if off+1 >= len(b) {
				return 0, false
			}
			ptr := (c&0x3f)<<8 | int(b[off+1])
			if end < 0 {
				end = off + 2
			}
			if ptr >= limit {
				return 0, false
			}
			limit = ptr
			off = ptr
		default:
			return 0, false
		}
	}
}

// appendName appends BIND's presentation of the valid name at off, without the final dot.
func appendName(dst, b []byte, off int) []byte {
	n0 := len(dst)
	for {
		c := int(b[off])
		if c&0xc0 == 0xc0 {
			off = (c&0x3f)<<8 | int(b[off+1])
			continue
		}
		if c == 0 {
			break
		}
		if len(dst) > n0 {
			dst = append(dst, '.')
		}
		for _, ch := range b[off+1 : off+1+c] {
			switch ch {
			case '"', '(', ')', '.', ';', '\\', '@', '$':
				dst = append(dst, '\\', ch)
			default:
				if ch > 0x20 && ch < 0x7f {
					dst = append(dst, ch)
				} else {
					dst = append(dst, '\\', '0'+ch/100, '0'+ch/10%10, '0'+ch%10)
				}
			}
		}
		off += c + 1
	}
	if len(dst) == n0 {
		dst = append(dst, '.')
	}
	return dst
}

// nameEqualFold compares two valid names in b, ignoring ASCII case.
func nameEqualFold(b []byte, x, y int) bool {
	for {
		for b[x]&0xc0 == 0xc0 {
			x = int(b[x]&0x3f)<<8 | int(b[x+1])
		}
		for b[y]&0xc0 == 0xc0 {
			y = int(b[y]&0x3f)<<8 | int(b[y+1])
		}
		lx, ly := int(b[x]), int(b[y])
		if lx != ly {
			return false
		}
		if lx == 0 {
			return true
		}
		for i := 1; i <= lx; i++ {
			cx, cy := b[x+i], b[y+i]
			if 'A' <= cx && cx <= 'Z' {
				cx += 'a' - 'A'
			}
			if 'A' <= cy && cy <= 'Z' {
				cy += 'a' - 'A'
			}
			if cx != cy {
				return false
			}
		}
		x += lx + 1
		y += ly + 1
	}
}

// isRoot reports whether the valid name at off is the root name (possibly via pointers).
func isRoot(b []byte, off int) bool {
	for b[off]&0xc0 == 0xc0 {
		off = int(b[off]&0x3f)<<8 | int(b[off+1])
	}
	return b[off] == 0
}
