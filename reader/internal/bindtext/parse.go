package bindtext

// This file mirrors BIND 9.18's dns_message_parse (lib/dns/message.c) with options 0, as
// dnstap-read calls it: every check that makes it fail makes AppendMessage fail.

const (
	secQuestion = iota
	secAnswer
	secAuthority
	secAdditional
)

const (
	opcodeNotify = 4
	opcodeUpdate = 5

	classIN   = 1
	classCH   = 3
	classHS   = 4
	classNONE = 254
	classANY  = 255
)

// record is one resource record; names and rdata live in message.buf.
type record struct {
	name   int32  // offset of the uncompressed owner name in buf
	nlen   int32  // its length
	rd     int32  // offset of the uncompressed rdata in buf
	rdlen  int32  // its length
	ttl    uint32 // for a set head: the smallest TTL of the set
	typ    uint16
	class  uint16
	covers uint16
	update bool  // DynDNS meta-record with empty rdata (printed with no rdata)
	dup    bool  // a repeated identical singleton (CNAME, DNAME, SOA, RESINFO): see Format.keepsDup
	owner  int32 // index of the first record of the same owner name in the section
	set    int32 // index of the first record of the same RRset

	// Links, so that rendering and grouping stay linear in the number of records.
	nextSet  int32 // on a set head: the next set head of the same owner, or -1
	lastSet  int32 // on an owner head: its last set head
	nextRec  int32 // the next record of the same set, or -1
	lastRec  int32 // on a set head: the last record of the set
	nextHash int32 // on an owner head: the next owner head with the same name hash, or -1
}

type message struct {
	wire    []byte
	buf     []byte // uncompressed names and rdata
	recs    []record
	sec     [5]int // recs[sec[i]:sec[i+1]] are section i (question records carry no rdata)
	id      uint16
	flags   uint16
	opcode  uint8
	rcode   uint16
	counts  [4]uint16
	class   uint16 // msg->rdclass
	classOK bool
	tkey    bool
	opt     record
	hasOPT  bool
	tsig    record
	hasTSIG bool
	sig0    record
	hasSIG0 bool

	names  map[uint64]int32    // owner heads by name hash, for large sections
	qtypes map[uint16]struct{} // question types, for many questions

	// The walker and the renderer live here, not on the stack: the per-type functions are
	// called through rrTable, which would make a stack one escape (an allocation a record).
	rd   rdr
	rend renderer
}

// nameHash hashes an uncompressed name ignoring ASCII case (FNV-1a).
func nameHash(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 32
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

func (m *message) fail(what string, off int) error {
	return &parseError{what: what, offset: off, err: ErrNotRendered}
}

func (m *message) parse(wire []byte) error {
	m.wire = wire
	m.buf = m.buf[:0]
	m.recs = m.recs[:0]
	m.classOK, m.tkey, m.hasOPT, m.hasTSIG, m.hasSIG0 = false, false, false, false, false
	m.class = 0
	if len(wire) < 12 {
		return m.fail("message shorter than its header", len(wire))
	}
	m.id = uint16(wire[0])<<8 | uint16(wire[1])
	fl := uint16(wire[2])<<8 | uint16(wire[3])
	m.opcode = uint8(fl>>11) & 0xf
	m.rcode = fl & 0xf
	m.flags = fl & 0x87f0
	for i := range m.counts {
		m.counts[i] = uint16(wire[4+2*i])<<8 | uint16(wire[5+2*i])
	}
	off, err := m.questions(12)
	if err != nil {
		return err
	}
	for s := secAnswer; s <= secAdditional; s++ {
		m.sec[s] = len(m.recs)
		if off, err = m.section(off, s); err != nil {
			return err
		}
	}
	m.sec[4] = len(m.recs)
	if m.counts[secQuestion] == 0 {
		return &parseError{what: "no question", offset: 4, err: ErrSkipFrame}
	}
	return nil
}

// name reads a possibly compressed name at off (dns_name_fromwire), appends it
// uncompressed to m.buf and returns the offset after it. Labels are read only before end:
// the end of the message for owner names, the end of the rdata for names in rdata (as
// Debian's 9.18.49-1~deb12u3 does: a compression pointer may lead back into earlier data,
// but the labels it reaches must not run past the current rdata).
func (m *message) name(off, end int) (int, error) {
	w := m.wire[:end]
	start := len(m.buf)
	marker, cursor, consumed := off, off, -1
	n := 0
	for cursor < len(w) {
		l := int(w[cursor])
		cursor++
		switch {
		case l < 64:
			n += l + 1
			if n > 255 {
				m.buf = m.buf[:start]
				return 0, m.fail("name too long", off)
			}
			if l == 0 {
				m.buf = append(m.buf, w[marker:cursor]...)
				if consumed < 0 {
					consumed = cursor
				}
				return consumed, nil
			}
			cursor += l
		case l < 192:
			m.buf = m.buf[:start]
			return 0, m.fail("bad label type", cursor-1)
		default:
			if cursor >= len(w) {
				cursor = len(w) + 1
				continue
			}
			ptr := (l&0x3f)<<8 | int(w[cursor])
			cursor++
			if ptr >= marker {
				m.buf = m.buf[:start]
				return 0, m.fail("bad compression pointer", cursor-2)
			}
			m.buf = append(m.buf, w[marker:cursor-2]...)
			if consumed < 0 {
				consumed = cursor
			}
			cursor, marker = ptr, ptr
		}
	}
	m.buf = m.buf[:start]
	return 0, m.fail("name runs past the end", off)
}

func (m *message) questions(off int) (int, error) {
	m.sec[secQuestion] = 0
	for i := 0; i < int(m.counts[secQuestion]); i++ {
		nstart := len(m.buf)
		noff := off
		var err error
		if off, err = m.name(off, len(m.wire)); err != nil {
			return 0, err
		}
		r := record{name: int32(nstart), nlen: int32(len(m.buf) - nstart)}
		if i > 0 {
			first := &m.recs[0]
			if !nameEqual(m.buf[first.name:first.name+first.nlen], m.buf[r.name:r.name+r.nlen]) {
				return 0, m.fail("second question name", noff)
			}
			m.buf = m.buf[:nstart]
			r.name, r.nlen = first.name, first.nlen
		}
		if len(m.wire)-off < 4 {
			return 0, m.fail("question runs past the end", off)
		}
		r.typ = be16(m.wire[off:])
		r.class = be16(m.wire[off+2:])
		off += 4
		if (m.opcode == opcodeUpdate || m.opcode == opcodeNotify) &&
			(r.class == classNONE || r.class == classANY) {
			return 0, m.fail("question class NONE or ANY in UPDATE or NOTIFY", off-2)
		}
		if !m.classOK {
			m.class, m.classOK = r.class, true
		} else if m.class != r.class {
			return 0, m.fail("questions of different classes", off-2)
		}
		if r.typ == typeTKEY {
			m.tkey = true
		}
		if m.counts[secQuestion] > 16 {
			// The class is the same for all (checked above), so the type decides.
			if i == 0 {
				if m.qtypes == nil {
					m.qtypes = make(map[uint16]struct{})
				}
				clear(m.qtypes)
			}
			if _, dup := m.qtypes[r.typ]; dup {
				return 0, m.fail("repeated question", off-4)
			}
			m.qtypes[r.typ] = struct{}{}
		} else {
			for j := range m.recs {
				if m.recs[j].typ == r.typ && m.recs[j].class == r.class {
					return 0, m.fail("repeated question", off-4)
				}
			}
		}
		idx := int32(len(m.recs))
		r.owner, r.set = 0, idx
		r.nextSet, r.nextRec, r.lastRec, r.nextHash = -1, -1, idx, -1
		if idx == 0 {
			r.lastSet = 0
		} else {
			m.recs[m.recs[0].lastSet].nextSet = idx
			m.recs[0].lastSet = idx
		}
		m.recs = append(m.recs, r)
	}
	return off, nil
}

// isUpdateMeta is message.c's update(): records whose class says "no rdata".
func isUpdateMeta(section int, class uint16) bool {
	switch section {
	case secAnswer: // PREREQUISITE
		return class == classANY || class == classNONE
	case secAuthority: // UPDATE
		return class == classANY
	}
	return false
}

func (m *message) section(off, section int) (int, error) {
	count := int(m.counts[section])
	base := len(m.recs)
	useHash := count > 16 && m.opcode != opcodeUpdate
	if useHash {
		if m.names == nil {
			m.names = make(map[uint64]int32)
		}
		clear(m.names)
	}
	for i := 0; i < count; i++ {
		recstart := off
		nstart := len(m.buf)
		var err error
		if off, err = m.name(off, len(m.wire)); err != nil {
			return 0, err
		}
		r := record{name: int32(nstart), nlen: int32(len(m.buf) - nstart)}
		if len(m.wire)-off < 10 {
			return 0, m.fail("record runs past the end", off)
		}
		r.typ = be16(m.wire[off:])
		r.class = be16(m.wire[off+2:])
		if !m.classOK && r.typ != typeOPT && r.typ != typeTSIG && r.typ != typeTKEY {
			m.class, m.classOK = r.class, true
		}
		if m.opcode != opcodeUpdate && r.typ != typeTSIG && r.typ != typeOPT &&
			r.typ != typeKEY && r.typ != typeSIG && r.typ != typeTKEY &&
			m.class != classANY && m.class != r.class {
			return 0, m.fail("record class differs from the question's", off+2)
		}
		if m.opcode != opcodeUpdate && !m.tkey && r.typ == typeKEY &&
			m.class != classANY && m.class != r.class {
			return 0, m.fail("KEY class differs from the question's", off+2)
		}
		isOPT, isTSIG, isSIG0 := false, false, false
		switch r.typ {
		case typeTSIG:
			if section != secAdditional || r.class != classANY || i != count-1 {
				return 0, m.fail("TSIG not last in the additional section", recstart)
			}
			isTSIG = true
		case typeOPT:
			if r.nlen != 1 || section != secAdditional || m.hasOPT {
				return 0, m.fail("misplaced OPT record", recstart)
			}
			isOPT = true
		case typeTKEY:
			want := secAdditional
			if m.flags&0x8000 != 0 {
				want = secAnswer
			}
			if section != want && section != secAnswer {
				return 0, m.fail("misplaced TKEY record", recstart)
			}
		}
		r.ttl = be32(m.wire[off+4:])
		rdlen := int(be16(m.wire[off+8:]))
		off += 10
		if len(m.wire)-off < rdlen {
			return 0, m.fail("rdata runs past the end", off)
		}
		r.rd = int32(len(m.buf))
		switch {
		case m.opcode == opcodeUpdate && isUpdateMeta(section, r.class):
			if rdlen != 0 {
				return 0, m.fail("update meta-record with rdata", off)
			}
			r.update = true
		case r.class == classNONE && m.opcode == opcodeUpdate && section == secAuthority:
			err = m.rdataFromWire(r.typ, m.class, off, off+rdlen)
		default:
			err = m.rdataFromWire(r.typ, r.class, off, off+rdlen)
		}
		if err != nil {
			return 0, err
		}
		r.rdlen = int32(len(m.buf)) - r.rd
		rd := m.buf[r.rd : r.rd+r.rdlen]
		switch {
		case r.typ == typeRRSIG && !r.update:
			r.covers = be16(rd)
			if r.covers == 0 {
				return 0, m.fail("RRSIG covers type 0", off)
			}
		case r.typ == typeSIG && !r.update:
			r.covers = be16(rd)
			if r.covers == 0 {
				if section != secAdditional || i != count-1 || r.nlen != 1 {
					return 0, m.fail("misplaced SIG(0)", recstart)
				}
				isSIG0 = true
			} else if m.class != classANY && m.class != r.class {
				return 0, m.fail("SIG class differs from the question's", recstart)
			}
		}
		if r.typ == typeNSEC3 && !nsec3Owner(m.buf[r.name:r.name+r.nlen]) {
			return 0, m.fail("NSEC3 owner is not a base32hex hash", recstart)
		}
		off += rdlen
		switch {
		case isOPT:
			m.opt, m.hasOPT = r, true
			m.rcode |= uint16(r.ttl>>20) & 0xff0
			continue
		case isTSIG:
			m.tsig, m.hasTSIG = r, true
			continue
		case isSIG0:
			m.sig0, m.hasSIG0 = r, true
			continue
		}
		idx := int32(len(m.recs))
		r.owner, r.set = idx, idx
		r.nextSet, r.lastSet, r.nextRec, r.lastRec, r.nextHash = -1, idx, -1, idx, -1
		var h uint64
		if m.opcode != opcodeUpdate {
			if r.typ >= 251 && r.typ <= 255 {
				return 0, m.fail("question-only type outside the question section", recstart)
			}
			// Find the owner name (case-insensitive) and then the RRset.
			nm := m.buf[r.name : r.name+r.nlen]
			if useHash {
				h = nameHash(nm)
				if j, ok := m.names[h]; ok {
					for ; j >= 0; j = m.recs[j].nextHash {
						o := &m.recs[j]
						if nameEqual(m.buf[o.name:o.name+o.nlen], nm) {
							r.owner = j
							break
						}
					}
				}
			} else {
				for j := base; j < len(m.recs); j++ {
					o := &m.recs[j]
					if o.owner == int32(j) && nameEqual(m.buf[o.name:o.name+o.nlen], nm) {
						r.owner = int32(j)
						break
					}
				}
			}
			if r.owner != idx {
				for j := r.owner; j >= 0; j = m.recs[j].nextSet {
					o := &m.recs[j]
					if o.typ == r.typ && o.class == r.class && o.covers == r.covers {
						r.set = j
						break
					}
				}
			}
			if r.set != idx {
				head := &m.recs[r.set]
				if isSingleton(r.typ) && !singletonEqual(r.typ, m.buf[head.rd:head.rd+head.rdlen], rd) {
					return 0, m.fail("second record in a singleton RRset", recstart)
				}
				if r.ttl < head.ttl {
					head.ttl = r.ttl
				}
				if isSingleton(r.typ) {
					// Debian's 9.18.49-1~deb12u3 keeps one copy of a repeated singleton
					// (seen with dnstap-read; the upstream 9.18.49 source appends it, and
					// so do 9.14.12 and 9.20.27): kept, marked, and printed per Format.
					r.dup = true
				}
			}
		}
		switch {
		case r.owner == idx: // a new name
			if useHash {
				if j, ok := m.names[h]; ok {
					r.nextHash = j
				}
				m.names[h] = idx
			}
		case r.set == idx: // a new RRset of a known name
			o := &m.recs[r.owner]
			m.recs[o.lastSet].nextSet = idx
			o.lastSet = idx
		default: // another record of a known RRset
			head := &m.recs[r.set]
			m.recs[head.lastRec].nextRec = idx
			head.lastRec = idx
		}
		m.recs = append(m.recs, r)
	}
	return off, nil
}

func isSingleton(t uint16) bool {
	return t == typeCNAME || t == typeSOA || t == typeDNAME || t == typeOPT || t == typeRESINFO
}

// singletonEqual is dns_rdata_compare() == 0 for the singleton types.
func singletonEqual(t uint16, a, b []byte) bool {
	switch t {
	case typeCNAME, typeDNAME:
		return nameEqual(a, b)
	case typeSOA:
		na, nb := nameLen(a), nameLen(b)
		ra, rb := nameLen(a[na:]), nameLen(b[nb:])
		return nameEqual(a[:na], b[:nb]) && nameEqual(a[na:na+ra], b[nb:nb+rb]) &&
			string(a[na+ra:]) == string(b[nb+rb:])
	}
	return string(a) == string(b)
}

// nameLen is the length of the uncompressed name at the start of b.
func nameLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] != 0 {
		i += int(b[i]) + 1
	}
	return i + 1
}

// nameEqual compares two uncompressed names ignoring ASCII case.
func nameEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x != y {
			if 'A' <= x && x <= 'Z' {
				x += 32
			}
			if 'A' <= y && y <= 'Z' {
				y += 32
			}
			if x != y {
				return false
			}
		}
	}
	return true
}

// nsec3Owner is checkowner_nsec3: the first label decodes as base32hex without padding.
func nsec3Owner(name []byte) bool {
	l := int(name[0])
	label := name[1 : 1+l]
	var val [8]byte
	digits, out := 0, 0
	for _, c := range label {
		v := b32val(c)
		if v < 0 {
			return false
		}
		val[digits] = byte(v)
		digits++
		if digits == 8 {
			digits = 0
			out += 5
		}
	}
	// Padding is added by decode_finish; check the bits that must be zero.
	switch digits {
	case 0:
	case 2:
		if val[1]&0x03 != 0 {
			return false
		}
		out++
	case 4:
		if val[3]&0x0f != 0 {
			return false
		}
		out += 2
	case 5:
		if val[4]&0x01 != 0 {
			return false
		}
		out += 3
	case 7:
		if val[6]&0x07 != 0 {
			return false
		}
		out += 4
	default:
		return false
	}
	return out <= 155
}

func b32val(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'V':
		return int(c-'A') + 10
	case 'a' <= c && c <= 'v':
		return int(c-'a') + 10
	}
	return -1
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
