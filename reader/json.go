package reader

import (
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends m as one JSON object and a newline (NDJSON). The field names are
// stable and documented in docs/reader.md; absent fields are omitted:
//
//	type, query_time, response_time, identity, version, family, transport,
//	query_address, query_port, response_address, response_port, query_zone, message_size,
//	id, opcode, rcode, flags, qname, qclass, qtype, ancount, nscount, arcount, edns, answers,
//	dns_error
func AppendJSON(dst []byte, m *Message) []byte {
	dst = append(dst, `{"type":"`...)
	if m.Type.Valid() {
		dst = append(dst, typeMnemonics[m.Type]...)
	} else {
		dst = append(dst, m.Type.String()...)
	}
	dst = append(dst, '"')
	if t := m.QueryTime(); !t.IsZero() {
		dst = appendJSONTime(append(dst, `,"query_time":`...), t)
	}
	if t := m.ResponseTime(); !t.IsZero() {
		dst = appendJSONTime(append(dst, `,"response_time":`...), t)
	}
	if m.Identity != nil {
		dst = appendJSONString(append(dst, `,"identity":`...), m.Identity)
	}
	if m.Version != nil {
		dst = appendJSONString(append(dst, `,"version":`...), m.Version)
	}
	if s := m.SocketFamily.String(); s != "" {
		dst = append(append(append(dst, `,"family":"`...), s...), '"')
	}
	if s := m.SocketProtocol.String(); s != "" {
		dst = append(append(append(dst, `,"transport":"`...), s...), '"')
	}
	if m.QueryAddress != nil {
		dst = append(appendIP(append(dst, `,"query_address":"`...), m.QueryAddress), '"')
	}
	if m.HasQueryPort {
		dst = strconv.AppendUint(append(dst, `,"query_port":`...), uint64(m.QueryPort), 10)
	}
	if m.ResponseAddress != nil {
		dst = append(appendIP(append(dst, `,"response_address":"`...), m.ResponseAddress), '"')
	}
	if m.HasResponsePort {
		dst = strconv.AppendUint(append(dst, `,"response_port":`...), uint64(m.ResponsePort), 10)
	}
	var scratch [1024]byte // a name's text is at most 4*255 bytes
	if m.QueryZone != nil {
		if _, ok := skipName(m.QueryZone, 0); ok {
			dst = append(dst, `,"query_zone":`...)
			dst = appendJSONString(dst, appendFQDN(scratch[:0], m.QueryZone, 0))
		}
	}
	wire := m.Wire()
	dst = strconv.AppendInt(append(dst, `,"message_size":`...), int64(len(wire)), 10)
	if wire != nil {
		dst = appendJSONDNS(dst, m.DNS(), wire, scratch[:0])
	}
	return append(dst, "}\n"...)
}

var flagNames = [...]struct {
	bit  uint16
	name string
}{{FlagQR, "qr"}, {FlagAA, "aa"}, {FlagTC, "tc"}, {FlagRD, "rd"}, {FlagRA, "ra"}, {FlagAD, "ad"}, {FlagCD, "cd"}}

var opcodeNames = [...]string{"QUERY", "IQUERY", "STATUS", "OPCODE3", "NOTIFY", "UPDATE"}

func appendJSONDNS(dst []byte, d *DNS, wire, scratch []byte) []byte {
	if len(wire) < 12 {
		return append(dst, `,"dns_error":"short DNS message"`...)
	}
	dst = strconv.AppendUint(append(dst, `,"id":`...), uint64(d.ID), 10)
	dst = append(dst, `,"opcode":"`...)
	if op := d.Opcode(); int(op) < len(opcodeNames) {
		dst = append(dst, opcodeNames[op]...)
	} else {
		dst = strconv.AppendUint(append(dst, "OPCODE"...), uint64(op), 10)
	}
	dst = append(append(append(dst, `","rcode":"`...), RcodeString(d.Rcode())...), `","flags":[`...)
	n := 0
	for _, f := range flagNames {
		if d.Flags&f.bit != 0 {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, '"'), f.name...), '"')
			n++
		}
	}
	dst = append(dst, ']')
	if d.HasQuestion {
		dst = append(dst, `,"qname":`...)
		dst = appendJSONString(dst, appendFQDN(scratch[:0], wire, questionOffset))
		dst = append(appendClass(append(dst, `,"qclass":"`...), d.QClass), '"')
		dst = append(appendType(append(dst, `,"qtype":"`...), d.QType), '"')
	}
	dst = strconv.AppendUint(append(dst, `,"ancount":`...), uint64(d.ANCount), 10)
	dst = strconv.AppendUint(append(dst, `,"nscount":`...), uint64(d.NSCount), 10)
	dst = strconv.AppendUint(append(dst, `,"arcount":`...), uint64(d.ARCount), 10)
	if d.HasEDNS {
		dst = strconv.AppendUint(append(dst, `,"edns":{"udp_size":`...), uint64(d.UDPSize), 10)
		dst = strconv.AppendUint(append(dst, `,"version":`...), uint64(d.EDNSVersion), 10)
		dst = strconv.AppendBool(append(dst, `,"do":`...), d.DO)
		dst = append(dst, '}')
	}
	if !d.Parsed {
		return append(dst, `,"dns_error":"malformed DNS message"`...)
	}
	if d.ANCount > 0 {
		dst = appendAnswers(append(dst, `,"answers":[`...), wire, d, scratch)
		dst = append(dst, ']')
	}
	return dst
}

const questionOffset = 12

// appendAnswers renders the answer section of a parsed message.
func appendAnswers(dst, b []byte, d *DNS, scratch []byte) []byte {
	off := questionOffset
	for i := 0; i < int(d.QDCount); i++ {
		end, _ := skipName(b, off)
		off = end + 4
	}
	for i := 0; i < int(d.ANCount); i++ {
		owner := off
		end, _ := skipName(b, off)
		typ := binary.BigEndian.Uint16(b[end:])
		class := binary.BigEndian.Uint16(b[end+2:])
		ttl := binary.BigEndian.Uint32(b[end+4:])
		rdlen := int(binary.BigEndian.Uint16(b[end+8:]))
		rd := end + 10
		off = rd + rdlen
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(append(dst, `{"name":`...), appendFQDN(scratch[:0], b, owner))
		dst = strconv.AppendUint(append(dst, `,"ttl":`...), uint64(ttl), 10)
		dst = append(appendClass(append(dst, `,"class":"`...), class), '"')
		dst = append(appendType(append(dst, `,"type":"`...), typ), '"')
		scratch = appendRdata(scratch[:0], b, typ, rd, rdlen)
		dst = appendJSONString(append(dst, `,"data":`...), scratch)
		dst = append(dst, '}')
	}
	return dst
}

// appendRdata renders common rdata in master-file form; anything else (or anything
// malformed) in RFC 3597 form: \# length hex.
func appendRdata(dst, b []byte, typ uint16, off, n int) []byte {
	rd := b[off : off+n]
	switch typ {
	case 1:
		if n == 4 {
			return appendIP(dst, rd)
		}
	case 28:
		if n == 16 {
			return appendIP(dst, rd)
		}
	case 2, 5, 12, 39: // NS, CNAME, PTR, DNAME
		if end, ok := skipName(b, off); ok && end <= off+n {
			return appendFQDN(dst, b, off)
		}
	case 15: // MX
		if n >= 3 {
			if end, ok := skipName(b, off+2); ok && end <= off+n {
				dst = strconv.AppendUint(dst, uint64(binary.BigEndian.Uint16(rd)), 10)
				return appendFQDN(append(dst, ' '), b, off+2)
			}
		}
	case 16: // TXT
		if txt, ok := appendTXT(dst, rd); ok {
			return txt
		}
	}
	dst = strconv.AppendInt(append(dst, `\# `...), int64(n), 10)
	if n > 0 {
		dst = appendHexLower(append(dst, ' '), rd)
	}
	return dst
}

func appendTXT(dst, rd []byte) ([]byte, bool) {
	n0 := len(dst)
	for i := 0; i < len(rd); {
		l := int(rd[i])
		if i+1+l > len(rd) {
			return dst[:n0], false
		}
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, '"')
		for _, c := range rd[i+1 : i+1+l] {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20 || c >= 0x7f:
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			default:
				dst = append(dst, c)
			}
		}
		dst = append(dst, '"')
		i += 1 + l
	}
	return dst, true
}

// appendFQDN appends the valid name at off with its final dot.
func appendFQDN(dst, b []byte, off int) []byte {
	n0 := len(dst)
	dst = appendName(dst, b, off)
	if len(dst)-n0 != 1 || dst[n0] != '.' {
		dst = append(dst, '.')
	}
	return dst
}

// appendJSONTime appends t in UTC as RFC 3339 with all nine digits of nanoseconds.
func appendJSONTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ns := t.Nanosecond()
	dst = append(dst, '"')
	if y >= 0 && y < 10000 {
		dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		dst = strconv.AppendInt(dst, int64(y), 10)
	}
	dst = append(dst, '-', byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10),
		'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	dst = append(dst, digits[:]...)
	return append(dst, 'Z', '"')
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 bytes are escaped as \u00XX
// (read as Latin-1), so any input gives valid JSON.
func appendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
