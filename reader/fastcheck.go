package reader

import (
	"encoding/binary"

	"github.com/dnstapkit/dnstapkit/reader/internal/bindtext"
)

// RR types of the fast path.
const (
	typeA     = 1
	typeNS    = 2
	typeCNAME = 5
	typeSOA   = 6
	typePTR   = 12
	typeMX    = 15
	typeAAAA  = 28
)

// bindAccepts reports whether BIND's dns_message_parse certainly accepts b, for the common
// shape of DNS traffic: a QUERY with one IN question whose records are IN A, AAAA, NS, PTR,
// MX, at most one CNAME and one SOA, and one OPT with well-formed options. It is false for
// everything else, which then goes to bindtext.Check; it must never be true where BIND
// rejects the message (FuzzBINDAccepts holds bindtext.Check to that). It requires a DNS
// summary d whose structural walk passed.
func bindAccepts(b []byte, d *DNS) bool {
	if !d.Parsed || d.QDCount != 1 || d.Opcode() != 0 || d.QClass != 1 {
		return false
	}
	end, _ := skipName(b, questionOffset)
	off := end + 4
	cnames, soas := 0, 0
	for sec, n := range [3]uint16{d.ANCount, d.NSCount, d.ARCount} {
		for i := 0; i < int(n); i++ {
			end, _ := skipName(b, off)
			typ := binary.BigEndian.Uint16(b[end:])
			class := binary.BigEndian.Uint16(b[end+2:])
			rdlen := int(binary.BigEndian.Uint16(b[end+8:]))
			rd := end + 10
			off = rd + rdlen
			if typ == typeOPT {
				if sec != 2 || !bindtext.OptionsValid(b[rd:off]) {
					return false
				}
				continue
			}
			if class != 1 {
				return false
			}
			switch typ {
			case typeA:
				if rdlen != 4 {
					return false
				}
			case typeAAAA:
				if rdlen != 16 {
					return false
				}
			case typeNS, typePTR:
				if !nameFills(b, rd, off) {
					return false
				}
			case typeCNAME:
				cnames++
				if cnames > 1 || !nameFills(b, rd, off) {
					return false
				}
			case typeMX:
				if rdlen < 3 || !nameFills(b, rd+2, off) {
					return false
				}
			case typeSOA:
				soas++
				if soas > 1 {
					return false
				}
				// BIND reads rdata names with the buffer's end at the rdata's end: a
				// pointer may go back anywhere, but the labels it leads to must end
				// before the rdata does.
				e1, ok := skipName(b[:off], rd)
				if !ok {
					return false
				}
				e2, ok := skipName(b[:off], e1)
				if !ok || e2+20 != off {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// nameFills reports whether a valid name starts at off and ends exactly at end.
func nameFills(b []byte, off, end int) bool {
	if off >= end {
		return false
	}
	e, ok := skipName(b[:end], off)
	return ok && e == end
}
