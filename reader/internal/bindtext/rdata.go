package bindtext

import "strconv"

// Per-type fromwire (checks, and names uncompressed into m.buf) and totext, after
// lib/dns/rdata/*/*.c of BIND 9.18. Outside the master-file multiline style, tctx->width is
// 60 and tctx->linebreak is " ", so base64 and hex fields break into words of 56
// characters separated by one space.

const (
	wordWidth = 60 - 2
	lineBreak = " "
)

// rdr walks one record's rdata on the wire while fromwire copies it into m.buf.
type rdr struct {
	m        *message
	off, end int
}

func (r *rdr) left() int { return r.end - r.off }

func (r *rdr) fail(what string) error { return r.m.fail(what, r.off) }

func (r *rdr) fixed(n int) error {
	if r.left() < n {
		return r.fail("rdata too short")
	}
	r.m.buf = append(r.m.buf, r.m.wire[r.off:r.off+n]...)
	r.off += n
	return nil
}

func (r *rdr) rest() {
	r.m.buf = append(r.m.buf, r.m.wire[r.off:r.end]...)
	r.off = r.end
}

func (r *rdr) name() error {
	if r.off >= r.end {
		return r.fail("rdata too short for a name")
	}
	off, err := r.m.name(r.off, r.end)
	if err != nil {
		return err
	}
	if off > r.end {
		return r.fail("name runs past the rdata")
	}
	r.off = off
	return nil
}

// txt is txt_fromwire: one <character-string>.
func (r *rdr) txt() error {
	if r.left() < 1 || int(r.m.wire[r.off])+1 > r.left() {
		return r.fail("character-string runs past the rdata")
	}
	return r.fixed(int(r.m.wire[r.off]) + 1)
}

func (r *rdr) peek(i int) byte { return r.m.wire[r.off+i] }

// classSpecific reports types that BIND implements only for class IN (in_1/), so that
// in other classes they are unknown rdata.
func classSpecific(t uint16) bool {
	switch t {
	case typeA, typeWKS, typeNSAP, typeNSAPPTR, typePX, typeAAAA, typeEID, typeNIMLOC, typeSRV, typeATMA, typeKX, typeA6, typeAPL, typeDHCID, typeSVCB, typeHTTPS:
		return true
	}
	return false
}

// rdataFromWire applies BIND's fromwire checks for type t in class to the rdata at
// wire[off:end]: the type's own checks where BIND has code for it in that class, none
// (unknown data) otherwise; the rdata must be used up exactly.
func (m *message) rdataFromWire(t, class uint16, off, end int) error {
	r := &rdr{m: m, off: off, end: end}
	if t == 0 {
		return r.fail("record type 0")
	}
	generic := !classSpecific(t) || class == classIN
	if t == typeA && (class == classCH || class == classHS) {
		generic = true
	}
	var err error
	if generic {
		err = r.fromWire(t, class)
	} else {
		r.rest()
	}
	if err != nil {
		return err
	}
	if r.off != r.end {
		return r.fail("extra data after rdata")
	}
	return nil
}

func (r *rdr) fromWire(t, class uint16) error {
	switch t {
	case typeA:
		switch class {
		case classCH: // ch_3/a_1.c: domain name and 16-bit address
			if err := r.name(); err != nil {
				return err
			}
			return r.fixed(2)
		default:
			return r.fixed(4)
		}
	case typeAAAA:
		return r.fixed(16)
	case typeNS, typeMD, typeMF, typeCNAME, typeMB, typeMG, typeMR, typePTR, typeDNAME:
		return r.name()
	case typeSOA:
		if err := r.name(); err != nil {
			return err
		}
		if err := r.name(); err != nil {
			return err
		}
		return r.fixed(20)
	case typeMINFO, typeRP:
		if err := r.name(); err != nil {
			return err
		}
		return r.name()
	case typeMX, typeAFSDB, typeRT, typeKX, typeLP:
		if err := r.fixed(2); err != nil {
			return err
		}
		return r.name()
	case typePX:
		if err := r.fixed(2); err != nil {
			return err
		}
		if err := r.name(); err != nil {
			return err
		}
		return r.name()
	case typeSRV:
		if err := r.fixed(6); err != nil {
			return err
		}
		return r.name()
	case typeTXT, typeSPF, typeNINFO, typeAVC, typeWALLET:
		for {
			if err := r.txt(); err != nil {
				return err
			}
			if r.left() == 0 {
				return nil
			}
		}
	case typeRESINFO:
		for {
			if err := r.txt(); err != nil {
				return err
			}
			if r.left() == 0 {
				return nil
			}
		}
	case typeHINFO:
		if err := r.txt(); err != nil {
			return err
		}
		return r.txt()
	case typeGPOS:
		for i := 0; i < 3; i++ {
			if err := r.txt(); err != nil {
				return err
			}
		}
		return nil
	case typeX25:
		n := r.left()
		if n < 5 || int(r.peek(0)) != n-1 {
			return r.fail("bad X25")
		}
		for i := 1; i < n; i++ {
			if c := r.peek(i); c < '0' || c > '9' {
				return r.fail("bad X25")
			}
		}
		return r.txt()
	case typeISDN:
		if err := r.txt(); err != nil {
			return err
		}
		if r.left() == 0 {
			return nil
		}
		return r.txt()
	case typeNAPTR:
		if err := r.fixed(4); err != nil {
			return err
		}
		if err := r.txt(); err != nil {
			return err
		}
		if err := r.txt(); err != nil {
			return err
		}
		re := len(r.m.buf)
		if err := r.txt(); err != nil {
			return err
		}
		if !validRegex(r.m.buf[re:]) {
			return r.fail("bad NAPTR regexp")
		}
		return r.name()
	case typeCAA:
		if r.left() < 2 {
			return r.fail("CAA too short")
		}
		n := int(r.peek(1))
		if r.left()-2 < n || n == 0 {
			return r.fail("bad CAA tag length")
		}
		for i := 0; i < n; i++ {
			c := r.peek(2 + i)
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return r.fail("bad CAA tag")
			}
		}
		r.rest()
		return nil
	case typeURI:
		if r.left() < 4 {
			return r.fail("URI too short")
		}
		r.rest()
		return nil
	case typeSSHFP:
		n := r.left()
		if n < 2 {
			return r.fail("SSHFP too short")
		}
		if (r.peek(1) == 1 && n != 22) || (r.peek(1) == 2 && n != 34) {
			return r.fail("bad SSHFP digest length")
		}
		r.rest()
		return nil
	case typeTLSA, typeSMIMEA:
		if r.left() < 4 {
			return r.fail("TLSA too short")
		}
		r.rest()
		return nil
	case typeOPENPGPKEY:
		if r.left() < 1 {
			return r.fail("OPENPGPKEY empty")
		}
		r.rest()
		return nil
	case typeDS, typeCDS, typeTA, typeDLV:
		n := r.left()
		if n < 5 {
			return r.fail("DS too short")
		}
		dl := map[byte]int{1: 20, 2: 32, 4: 48}[r.peek(3)]
		if dl != 0 {
			if n < 4+dl {
				return r.fail("DS digest too short")
			}
			return r.fixed(4 + dl)
		}
		r.rest()
		return nil
	case typeDNSKEY, typeCDNSKEY, typeKEY, typeRKEY:
		if r.left() < 4 {
			return r.fail("key too short")
		}
		flags := uint16(r.peek(0))<<8 | uint16(r.peek(1))
		if t == typeRKEY && flags != 0 {
			return r.fail("RKEY flags")
		}
		alg := r.peek(3)
		if err := r.fixed(4); err != nil {
			return err
		}
		if keyNoKey(t, flags) {
			return nil
		}
		if r.left() == 0 {
			return r.fail("key without key data")
		}
		if alg == 253 { // PRIVATEDNS
			if err := r.name(); err != nil {
				return err
			}
		}
		r.rest()
		return nil
	case typeRRSIG, typeSIG:
		if r.left() < 18 {
			return r.fail("signature too short")
		}
		labels := int(r.peek(3))
		if err := r.fixed(18); err != nil {
			return err
		}
		signer := len(r.m.buf)
		if err := r.name(); err != nil {
			return err
		}
		if t == typeRRSIG && r.left() < 1 {
			return r.fail("RRSIG without signature")
		}
		if t == typeRRSIG && labels < countLabels(r.m.buf[signer:]) {
			// Debian's 9.18.49-1~deb12u3 refuses an RRSIG whose labels field is below
			// the signer name's label count (seen with dnstap-read on crafted
			// messages; not in the upstream 9.18.49 source).
			return r.fail("RRSIG labels below the signer's")
		}
		r.rest()
		return nil
	case typeNSEC:
		if err := r.name(); err != nil {
			return err
		}
		if !typemapOK(r.m.wire[r.off:r.end], false) {
			return r.fail("bad NSEC type map")
		}
		r.rest()
		return nil
	case typeNSEC3:
		w := r.m.wire[r.off:r.end]
		if len(w) < 5 {
			return r.fail("NSEC3 too short")
		}
		hash, salt := w[0], int(w[4])
		w = w[5:]
		if len(w) < salt {
			return r.fail("NSEC3 salt")
		}
		w = w[salt:]
		if len(w) < 1 {
			return r.fail("NSEC3 hash length")
		}
		hl := int(w[0])
		w = w[1:]
		if hash == 1 {
			if hl != 20 || len(w) < hl {
				return r.fail("NSEC3 hash")
			}
		} else if hl < 1 || hl > 155 || len(w) < hl {
			return r.fail("NSEC3 hash")
		}
		if !typemapOK(w[hl:], true) {
			return r.fail("bad NSEC3 type map")
		}
		r.rest()
		return nil
	case typeNSEC3PARAM:
		if r.left() < 5 || r.left()-5 != int(r.peek(4)) {
			return r.fail("bad NSEC3PARAM")
		}
		r.rest()
		return nil
	case typeOPT:
		if !OptionsValid(r.m.wire[r.off:r.end]) {
			return r.fail("bad EDNS option")
		}
		r.rest()
		return nil
	case typeNULL:
		r.rest()
		return nil
	case typeSVCB, typeHTTPS:
		return r.svcb()
	case typeTSIG: // TSIG (any_255; checked as ANY class by the section parser)
		if class != classANY {
			r.rest()
			return nil
		}
		if err := r.name(); err != nil {
			return err
		}
		if err := r.fixed(8); err != nil {
			return err
		}
		if r.left() < 2 || r.left() < int(be16(r.m.wire[r.off:]))+2 {
			return r.fail("TSIG MAC")
		}
		if err := r.fixed(int(be16(r.m.wire[r.off:])) + 2); err != nil {
			return err
		}
		if err := r.fixed(4); err != nil {
			return err
		}
		if r.left() < 2 || r.left() < int(be16(r.m.wire[r.off:]))+2 {
			return r.fail("TSIG other data")
		}
		return r.fixed(int(be16(r.m.wire[r.off:])) + 2)
	case typeEUI48, typeEUI64:
		if r.left() != int(t-108)*2+6 {
			return r.fail("bad EUI length")
		}
		r.rest()
		return nil
	case typeNID, typeL64:
		if r.left() != 10 {
			return r.fail("bad NID/L64 length")
		}
		r.rest()
		return nil
	case typeL32:
		if r.left() != 6 {
			return r.fail("bad L32 length")
		}
		r.rest()
		return nil
	case typeNSAP, typeEID, typeNIMLOC, typeDHCID, typeHHIT, typeBRID:
		if r.left() < 1 {
			return r.fail("empty rdata")
		}
		r.rest()
		return nil
	case typeNSAPPTR:
		return r.name()
	case typeTALINK:
		if err := r.name(); err != nil {
			return err
		}
		return r.name()
	case typeSINK:
		if r.left() < 3 {
			return r.fail("SINK too short")
		}
		r.rest()
		return nil
	case typeATMA:
		if r.left() < 2 {
			return r.fail("ATMA too short")
		}
		if r.peek(0) == 1 {
			for i := 1; i < r.left(); i++ {
				if c := r.peek(i); c < '0' || c > '9' {
					return r.fail("bad ATMA E.164")
				}
			}
		}
		r.rest()
		return nil
	case typeCERT:
		if r.left() < 6 {
			return r.fail("CERT too short")
		}
		r.rest()
		return nil
	case typeCSYNC:
		if err := r.fixed(6); err != nil {
			return err
		}
		if !typemapOK(r.m.wire[r.off:r.end], true) {
			return r.fail("bad CSYNC type map")
		}
		r.rest()
		return nil
	case typeZONEMD:
		if r.left() < 18 {
			return r.fail("ZONEMD too short")
		}
		dl := map[byte]int{1: 48, 2: 64}[r.peek(5)]
		if dl != 0 {
			if r.left() < 6+dl {
				return r.fail("ZONEMD digest too short")
			}
			return r.fixed(6 + dl)
		}
		r.rest()
		return nil
	case typeDOA:
		if r.left() < 10 || int(r.peek(9)) > r.left()-10 {
			return r.fail("DOA too short")
		}
		r.rest()
		return nil
	case typeHIP:
		if r.left() < 4 {
			return r.fail("HIP too short")
		}
		hl, kl := int(r.peek(0)), int(be16(r.m.wire[r.off+2:]))
		if hl == 0 || kl == 0 || hl+kl > r.left()-4 {
			return r.fail("bad HIP lengths")
		}
		if err := r.fixed(4 + hl + kl); err != nil {
			return err
		}
		for r.left() > 0 {
			if err := r.name(); err != nil {
				return err
			}
		}
		return nil
	case typeIPSECKEY:
		if r.left() < 3 {
			return r.fail("IPSECKEY too short")
		}
		switch r.peek(1) {
		case 0, 1, 2:
			if r.left() < [3]int{4, 8, 20}[r.peek(1)] {
				return r.fail("IPSECKEY too short")
			}
			r.rest()
			return nil
		case 3:
			if err := r.fixed(3); err != nil {
				return err
			}
			if err := r.name(); err != nil {
				return err
			}
			if r.left() < 1 {
				return r.fail("IPSECKEY without key")
			}
			r.rest()
			return nil
		}
		return r.fail("IPSECKEY gateway type")
	case typeAMTRELAY:
		if r.left() < 2 {
			return r.fail("AMTRELAY too short")
		}
		switch r.peek(1) & 0x7f {
		case 0, 1, 2:
			if r.left() != [3]int{2, 6, 18}[r.peek(1)&0x7f] {
				return r.fail("bad AMTRELAY length")
			}
		case 3:
			if err := r.fixed(2); err != nil {
				return err
			}
			return r.name()
		}
		r.rest()
		return nil
	case typeWKS:
		n := r.left()
		if n < 5 {
			return r.fail("WKS too short")
		}
		if n > 8*1024+5 || (n > 5 && r.peek(n-1) == 0) {
			return r.fail("bad WKS bitmap")
		}
		r.rest()
		return nil
	case typeA6:
		if r.left() < 1 {
			return r.fail("A6 too short")
		}
		pl := int(r.peek(0))
		if pl > 128 {
			return r.fail("A6 prefix length")
		}
		if err := r.fixed(1); err != nil {
			return err
		}
		if pl != 128 {
			oct := 16 - pl/8
			if r.left() < oct {
				return r.fail("A6 too short")
			}
			if r.peek(0)&^byte(0xff>>(pl%8)) != 0 {
				return r.fail("A6 address bits")
			}
			if err := r.fixed(oct); err != nil {
				return err
			}
		}
		if pl == 0 {
			return nil
		}
		return r.name()
	case typeAPL:
		w := r.m.wire[r.off:r.end]
		for len(w) > 0 {
			if len(w) < 4 {
				return r.fail("APL item too short")
			}
			afi, pfx, l := be16(w), int(w[2]), int(w[3]&0x7f)
			w = w[4:]
			if l > len(w) {
				return r.fail("APL address too short")
			}
			switch afi {
			case 1:
				if pfx > 32 || l > 4 {
					return r.fail("APL IPv4 range")
				}
			case 2:
				if pfx > 128 || l > 16 {
					return r.fail("APL IPv6 range")
				}
			}
			if l > 0 && w[l-1] == 0 {
				return r.fail("APL trailing zero")
			}
			w = w[l:]
		}
		r.rest()
		return nil
	case typeLOC:
		if r.left() < 1 {
			return r.fail("LOC too short")
		}
		if r.peek(0) != 0 {
			r.rest()
			return nil
		}
		if r.left() < 16 {
			return r.fail("LOC too short")
		}
		for i := 1; i <= 3; i++ {
			if c := r.peek(i); c != 0 && (c&0xf > 9 || c>>4 > 9 || c>>4 == 0) {
				return r.fail("LOC precision")
			}
		}
		lat, lon := be32(r.m.wire[r.off+4:]), be32(r.m.wire[r.off+8:])
		if lat < 0x80000000-90*3600000 || lat > 0x80000000+90*3600000 ||
			lon < 0x80000000-180*3600000 || lon > 0x80000000+180*3600000 {
			return r.fail("LOC coordinates")
		}
		return r.fixed(16)
	case typeTKEY:
		if err := r.name(); err != nil {
			return err
		}
		if err := r.fixed(12); err != nil {
			return err
		}
		for i := 0; i < 2; i++ {
			if r.left() < 2 || r.left() < int(be16(r.m.wire[r.off:]))+2 {
				return r.fail("TKEY data")
			}
			if err := r.fixed(int(be16(r.m.wire[r.off:])) + 2); err != nil {
				return err
			}
		}
		return nil
	case typeDSYNC:
		if err := r.fixed(5); err != nil {
			return err
		}
		return r.name()
	case typeKEYDATA: // KEYDATA: any content; printed as unknown outside key files
		r.rest()
		return nil
	case typeNXT:
		if err := r.name(); err != nil {
			return err
		}
		w := r.m.wire[r.off:r.end]
		if len(w) > 0 && (w[0]&0x80 != 0 || len(w) > 16 || w[len(w)-1] == 0) {
			return r.fail("bad NXT bitmap")
		}
		r.rest()
		return nil
	}
	if known, ok := unsupported[t]; ok && known {
		return &parseError{what: "record type " + typeNames[t], offset: r.off, err: ErrUnsupported}
	}
	// Types BIND does not know: generic rdata, any content.
	r.rest()
	return nil
}

// unsupported lists the types BIND 9.18 implements that this package does not render.
var unsupported = map[uint16]bool{}

// keyNoKey is generic_key_nokey.
func keyNoKey(t, flags uint16) bool {
	switch t {
	case typeDNSKEY, typeCDNSKEY, typeRKEY:
		return false
	}
	return flags&0xc000 == 0xc000
}

func typemapOK(b []byte, allowEmpty bool) bool {
	first, last := true, 0
	i := 0
	for i < len(b) {
		if i+2 > len(b) {
			return false
		}
		win, l := int(b[i]), int(b[i+1])
		i += 2
		if !first && win <= last {
			return false
		}
		if l < 1 || l > 32 || i+l > len(b) || b[i+l-1] == 0 {
			return false
		}
		last, first = win, false
		i += l
	}
	return allowEmpty || !first
}

// validRegex is txt_valid_regex for a NAPTR regexp field (a <character-string>).
func validRegex(txt []byte) bool {
	n := int(txt[0])
	if n == 0 {
		return true
	}
	s := txt[1 : 1+n]
	delim := s[0]
	switch delim {
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '\\', 'i', 0:
		return false
	}
	s = s[1:]
	var re []byte
	nsub := 0
	replace, flags := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return false
		}
		if c == delim && !replace {
			replace = true
			continue
		} else if c == delim && !flags {
			flags = true
			continue
		} else if c == delim {
			return false
		}
		if flags {
			if c == 'i' {
				continue
			}
			return false
		}
		if !replace {
			re = append(re, c)
		}
		if c == '\\' {
			if i+1 >= len(s) {
				return false
			}
			i++
			c = s[i]
			if c == 0 {
				return false
			}
			if replace {
				if c == '0' {
					return false
				}
				if c >= '1' && c <= '9' && int(c-'0') > nsub {
					nsub = int(c - '0')
				}
			}
			if !replace {
				re = append(re, c)
			}
		}
	}
	if !flags {
		return false
	}
	groups := regexValidate(re)
	return groups >= 0 && nsub <= groups
}

func (r *renderer) rdata(dst []byte, rec *record) ([]byte, error) {
	m := r.m
	rd := m.buf[rec.rd : rec.rd+rec.rdlen]
	t, class := rec.typ, rec.class
	if classSpecific(t) && class != classIN && !(t == typeA && (class == classCH || class == classHS)) {
		return appendUnknown(dst, rd), nil
	}
	if r.f.Lacks(t) {
		return appendUnknown(dst, rd), nil
	}
	switch t {
	case typeA:
		if class == classCH {
			n := nameLen(rd)
			dst = appendName(dst, rd[:n])
			dst = append(dst, ' ')
			return strconv.AppendUint(dst, uint64(be16(rd[n:])), 8), nil // octal, as ch_3/a_1.c
		}
		return appendIPv4(dst, rd), nil
	case typeAAAA:
		return r.appendIPv6(dst, rd), nil
	case typeNS, typeMD, typeMF, typeCNAME, typeMB, typeMG, typeMR, typePTR, typeDNAME:
		return appendName(dst, rd), nil
	case typeSOA:
		n1 := nameLen(rd)
		dst = appendName(dst, rd[:n1])
		dst = append(dst, ' ')
		n2 := nameLen(rd[n1:])
		dst = appendName(dst, rd[n1:n1+n2])
		rest := rd[n1+n2:]
		for i := 0; i < 5; i++ {
			dst = append(dst, ' ')
			dst = strconv.AppendUint(dst, uint64(be32(rest[4*i:])), 10)
		}
		return dst, nil
	case typeMINFO, typeRP:
		n1 := nameLen(rd)
		dst = appendName(dst, rd[:n1])
		dst = append(dst, ' ')
		return appendName(dst, rd[n1:]), nil
	case typeMX, typeAFSDB, typeRT, typeKX, typeLP:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		return appendName(dst, rd[2:]), nil
	case typePX:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		n1 := nameLen(rd[2:])
		dst = appendName(dst, rd[2:2+n1])
		dst = append(dst, ' ')
		return appendName(dst, rd[2+n1:]), nil
	case typeSRV:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		dst = appendUint(dst, uint64(be16(rd[2:])), " ")
		dst = appendUint(dst, uint64(be16(rd[4:])), " ")
		return appendName(dst, rd[6:]), nil
	case typeTXT, typeSPF, typeNINFO, typeAVC, typeWALLET, typeRESINFO:
		for len(rd) > 0 {
			dst, rd = appendTxt(dst, rd, true, false)
			if len(rd) > 0 {
				dst = append(dst, ' ')
			}
		}
		return dst, nil
	case typeHINFO:
		dst, rd = appendTxt(dst, rd, true, false)
		dst = append(dst, ' ')
		dst, _ = appendTxt(dst, rd, true, false)
		return dst, nil
	case typeGPOS:
		for i := 0; i < 3; i++ {
			dst, rd = appendTxt(dst, rd, true, false)
			if i != 2 {
				dst = append(dst, ' ')
			}
		}
		return dst, nil
	case typeX25:
		dst, _ = appendTxt(dst, rd, true, false)
		return dst, nil
	case typeISDN:
		dst, rd = appendTxt(dst, rd, true, false)
		if len(rd) == 0 {
			return dst, nil
		}
		dst = append(dst, ' ')
		dst, _ = appendTxt(dst, rd, true, false)
		return dst, nil
	case typeNAPTR:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		dst = appendUint(dst, uint64(be16(rd[2:])), " ")
		rd = rd[4:]
		for i := 0; i < 3; i++ {
			dst, rd = appendTxt(dst, rd, true, false)
			dst = append(dst, ' ')
		}
		return appendName(dst, rd), nil
	case typeCAA:
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst, rd = appendTxt(dst, rd[1:], false, false)
		dst = append(dst, ' ')
		return appendMultiTxt(dst, rd), nil
	case typeURI:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		dst = appendUint(dst, uint64(be16(rd[2:])), " ")
		return appendMultiTxt(dst, rd[4:]), nil
	case typeSSHFP:
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]), "")
		if len(rd) == 2 {
			return dst, nil
		}
		dst = append(dst, lineBreak...)
		return appendHex(dst, rd[2:], wordWidth, lineBreak), nil
	case typeTLSA, typeSMIMEA:
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]), " ")
		dst = appendUint(dst, uint64(rd[2]), "")
		dst = append(dst, lineBreak...)
		return appendHex(dst, rd[3:], wordWidth, lineBreak), nil
	case typeOPENPGPKEY:
		return appendBase64(dst, rd, wordWidth, lineBreak), nil
	case typeDS, typeCDS, typeTA, typeDLV:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		dst = appendUint(dst, uint64(rd[2]), " ")
		dst = appendUint(dst, uint64(rd[3]), "")
		dst = append(dst, lineBreak...)
		return appendHex(dst, rd[4:], wordWidth, lineBreak), nil
	case typeDNSKEY, typeCDNSKEY, typeKEY, typeRKEY:
		flags := be16(rd)
		dst = appendUint(dst, uint64(flags), " ")
		dst = appendUint(dst, uint64(rd[2]), " ")
		dst = appendUint(dst, uint64(rd[3]), "")
		if keyNoKey(t, flags) {
			return dst, nil
		}
		dst = append(dst, lineBreak...)
		return appendBase64(dst, rd[4:], wordWidth, lineBreak), nil
	case typeRRSIG, typeSIG:
		if cov := be16(rd); t == typeSIG && (cov == 0 || !r.knownType(cov)) {
			dst = strconv.AppendUint(dst, uint64(cov), 10) // totext_sig prints a number
		} else {
			dst = r.appendType(dst, cov)
		}
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(rd[2]), " ")
		dst = appendUint(dst, uint64(rd[3]), " ")
		dst = appendUint(dst, uint64(be32(rd[4:])), "")
		dst = append(dst, lineBreak...)
		var err error
		if dst, err = appendTime32(dst, be32(rd[8:])); err != nil {
			return dst, err
		}
		dst = append(dst, ' ')
		if dst, err = appendTime32(dst, be32(rd[12:])); err != nil {
			return dst, err
		}
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(be16(rd[16:])), " ")
		n := nameLen(rd[18:])
		dst = appendName(dst, rd[18:18+n])
		dst = append(dst, lineBreak...)
		return appendBase64(dst, rd[18+n:], wordWidth, lineBreak), nil
	case typeNSEC:
		n := nameLen(rd)
		dst = appendName(dst, rd[:n])
		if len(rd) > n {
			dst = append(dst, ' ')
		}
		return r.appendTypemap(dst, rd[n:]), nil
	case typeNSEC3:
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]), " ")
		dst = appendUint(dst, uint64(be16(rd[2:])), " ")
		sl := int(rd[4])
		if sl != 0 {
			dst = appendHex(dst, rd[5:5+sl], 1, "")
		} else {
			dst = append(dst, '-')
		}
		rd = rd[5+sl:]
		dst = append(dst, lineBreak...)
		hl := int(rd[0])
		dst = appendBase32HexNP(dst, rd[1:1+hl])
		rd = rd[1+hl:]
		if len(rd) > 0 {
			dst = append(dst, ' ')
		}
		return r.appendTypemap(dst, rd), nil
	case typeNSEC3PARAM:
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]), " ")
		dst = appendUint(dst, uint64(be16(rd[2:])), " ")
		if sl := int(rd[4]); sl != 0 {
			return appendHex(dst, rd[5:5+sl], 1, ""), nil
		}
		return append(dst, '-'), nil
	case typeOPT:
		for len(rd) > 0 {
			n := int(be16(rd[2:]))
			dst = appendUint(dst, uint64(be16(rd)), " ")
			dst = appendUint(dst, uint64(n), "")
			if n > 0 {
				dst = append(dst, lineBreak...)
				dst = appendBase64(dst, rd[4:4+n], wordWidth, lineBreak)
			}
			rd = rd[4+n:]
			if len(rd) > 0 {
				dst = append(dst, ' ')
			}
		}
		return dst, nil
	case typeSVCB, typeHTTPS:
		return appendSVCB(dst, rd), nil
	case typeTSIG:
		if class != classANY {
			break
		}
		return appendTSIG(dst, rd), nil
	case typeEUI48, typeEUI64:
		for i, c := range rd {
			if i > 0 {
				dst = append(dst, '-')
			}
			dst = appendHexByte(dst, c)
		}
		return dst, nil
	case typeNID, typeL64:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		for i := 0; i < 4; i++ {
			if i > 0 {
				dst = append(dst, ':')
			}
			dst = strconv.AppendUint(dst, uint64(be16(rd[2+2*i:])), 16)
		}
		return dst, nil
	case typeL32:
		dst = appendUint(dst, uint64(be16(rd)), " ")
		return appendIPv4(dst, rd[2:]), nil
	case typeNSAP:
		dst = append(dst, "0x"...)
		for _, c := range rd {
			dst = appendHexByte(dst, c)
		}
		return dst, nil
	case typeEID, typeNIMLOC:
		return appendHex(dst, rd, wordWidth, lineBreak), nil
	case typeDHCID, typeHHIT, typeBRID:
		return appendBase64(dst, rd, wordWidth, lineBreak), nil
	case typeNSAPPTR:
		return appendName(dst, rd), nil
	case typeTALINK:
		n1 := nameLen(rd)
		dst = appendName(dst, rd[:n1])
		dst = append(dst, ' ')
		return appendName(dst, rd[n1:]), nil
	case typeSINK:
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]), " ")
		dst = appendUint(dst, uint64(rd[2]), "")
		if len(rd) == 3 {
			return dst, nil
		}
		dst = append(dst, lineBreak...)
		return appendBase64(dst, rd[3:], wordWidth, lineBreak), nil
	case typeATMA:
		switch rd[0] {
		case 0:
			for _, c := range rd[1:] {
				dst = appendHexByte(dst, c)
			}
			return dst, nil
		case 1:
			dst = append(dst, '+')
			return append(dst, rd[1:]...), nil
		}
	case typeCERT:
		dst = appendCert(dst, be16(rd))
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(be16(rd[2:])), " ")
		dst = appendSecAlg(dst, rd[4])
		dst = append(dst, lineBreak...)
		return appendBase64(dst, rd[5:], wordWidth, lineBreak), nil
	case typeCSYNC:
		dst = appendUint(dst, uint64(be32(rd)), " ")
		dst = appendUint(dst, uint64(be16(rd[4:])), "")
		if len(rd) > 6 {
			dst = append(dst, ' ')
		}
		return r.appendTypemap(dst, rd[6:]), nil
	case typeZONEMD:
		dst = appendUint(dst, uint64(be32(rd)), " ")
		dst = appendUint(dst, uint64(rd[4]), " ")
		dst = appendUint(dst, uint64(rd[5]), "")
		dst = append(dst, lineBreak...)
		return appendHex(dst, rd[6:], wordWidth, lineBreak), nil
	case typeDOA:
		dst = appendUint(dst, uint64(be32(rd)), " ")
		dst = appendUint(dst, uint64(be32(rd[4:])), " ")
		dst = appendUint(dst, uint64(rd[8]), " ")
		dst, rd = appendTxt(dst, rd[9:], true, false)
		dst = append(dst, ' ')
		if len(rd) == 0 {
			return append(dst, '-'), nil
		}
		return appendBase64(dst, rd, 60, ""), nil
	case typeHIP:
		hl, kl := int(rd[0]), int(be16(rd[2:]))
		dst = appendUint(dst, uint64(rd[1]), " ")
		dst = appendHex(dst, rd[4:4+hl], 1, "")
		dst = append(dst, lineBreak...)
		dst = appendBase64(dst, rd[4+hl:4+hl+kl], 1, "")
		rd = rd[4+hl+kl:]
		if len(rd) > 0 {
			dst = append(dst, lineBreak...)
		}
		for len(rd) > 0 {
			n := nameLen(rd)
			dst = appendName(dst, rd[:n])
			rd = rd[n:]
			if len(rd) > 0 {
				dst = append(dst, lineBreak...)
			}
		}
		return dst, nil
	case typeIPSECKEY:
		if rd[1] > 3 {
			break
		}
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]), " ")
		dst = appendUint(dst, uint64(rd[2]), " ")
		rest := rd[3:]
		switch rd[1] {
		case 0:
			dst = append(dst, '.')
		case 1:
			dst = appendIPv4(dst, rest)
			rest = rest[4:]
		case 2:
			dst = r.appendIPv6(dst, rest[:16])
			rest = rest[16:]
		case 3:
			n := nameLen(rest)
			dst = appendName(dst, rest[:n])
			rest = rest[n:]
		}
		if len(rest) > 0 {
			dst = append(dst, lineBreak...)
			dst = appendBase64(dst, rest, wordWidth, lineBreak)
		}
		return dst, nil
	case typeAMTRELAY:
		gw := rd[1] & 0x7f
		if gw > 3 {
			break
		}
		dst = appendUint(dst, uint64(rd[0]), " ")
		dst = appendUint(dst, uint64(rd[1]>>7), " ")
		dst = appendUint(dst, uint64(gw), " ")
		switch gw {
		case 0:
			return append(dst, '.'), nil
		case 1:
			return appendIPv4(dst, rd[2:]), nil
		case 2:
			return r.appendIPv6(dst, rd[2:18]), nil
		}
		return appendName(dst, rd[2:]), nil
	case typeWKS:
		dst = appendIPv4(dst, rd)
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(rd[4]), 10)
		for i, c := range rd[5:] {
			for j := 0; j < 8; j++ {
				if c&(0x80>>j) != 0 {
					dst = append(dst, ' ')
					dst = strconv.AppendUint(dst, uint64(i*8+j), 10)
				}
			}
		}
		return dst, nil
	case typeA6:
		pl := int(rd[0])
		dst = appendUint(dst, uint64(pl), " ")
		rest := rd[1:]
		if pl != 128 {
			oct := pl / 8
			var a [16]byte
			copy(a[oct:], rest[:16-oct])
			a[oct] &= byte(0xff >> (pl % 8))
			dst = r.appendIPv6(dst, a[:])
			rest = rest[16-oct:]
		}
		if pl == 0 {
			return dst, nil
		}
		dst = append(dst, ' ')
		return appendName(dst, rest), nil
	case typeAPL:
		if out, ok := r.appendAPL(dst, rd); ok {
			return out, nil
		}
	case typeLOC:
		if rd[0] != 0 {
			break
		}
		return appendLOC(dst, rd), nil
	case typeTKEY:
		n := nameLen(rd)
		dst = appendName(dst, rd[:n])
		dst = append(dst, ' ')
		rd = rd[n:]
		dst = appendUint(dst, uint64(be32(rd)), " ")
		dst = appendUint(dst, uint64(be32(rd[4:])), " ")
		dst = appendUint(dst, uint64(be16(rd[8:])), " ")
		dst = appendTSIGRcode(dst, be16(rd[10:]))
		dst = append(dst, ' ')
		kl := int(be16(rd[12:]))
		dst = appendUint(dst, uint64(kl), "")
		dst = append(dst, lineBreak...)
		dst = appendBase64(dst, rd[14:14+kl], wordWidth, lineBreak)
		dst = append(dst, ' ')
		rd = rd[14+kl:]
		ol := int(be16(rd))
		dst = appendUint(dst, uint64(ol), "")
		if ol != 0 {
			dst = append(dst, lineBreak...)
			dst = appendBase64(dst, rd[2:2+ol], wordWidth, lineBreak)
		}
		return dst, nil
	case typeDSYNC:
		cov := be16(rd)
		if r.knownType(cov) && cov != 0 {
			dst = r.appendType(dst, cov)
		} else {
			dst = append(dst, "TYPE"...)
			dst = strconv.AppendUint(dst, uint64(cov), 10)
		}
		dst = append(dst, ' ')
		if rd[2] == 1 {
			dst = append(dst, "NOTIFY"...)
		} else {
			dst = strconv.AppendUint(dst, uint64(rd[2]), 10)
		}
		dst = append(dst, ' ')
		dst = appendUint(dst, uint64(be16(rd[3:])), " ")
		return appendName(dst, rd[5:]), nil
	case typeNXT:
		n := nameLen(rd)
		dst = appendName(dst, rd[:n])
		for i, c := range rd[n:] {
			for j := 0; j < 8; j++ {
				if c&(0x80>>j) != 0 {
					dst = append(dst, ' ')
					if r.knownType(uint16(i*8 + j)) {
						dst = r.appendType(dst, uint16(i*8+j))
					} else {
						dst = strconv.AppendUint(dst, uint64(i*8+j), 10)
					}
				}
			}
		}
		return dst, nil
	}
	return appendUnknown(dst, rd), nil
}

// appendUnknown is unknown_totext: \# length hex.
func appendUnknown(dst, rd []byte) []byte {
	dst = append(dst, "\\# "...)
	dst = strconv.AppendUint(dst, uint64(len(rd)), 10)
	if len(rd) != 0 {
		dst = append(dst, ' ')
		dst = appendHex(dst, rd, wordWidth, lineBreak)
	}
	return dst
}

// appendTypemap is typemap_totext (single-line).
func (r *renderer) appendTypemap(dst, b []byte) []byte {
	first := true
	for i := 0; i+2 <= len(b); {
		win, l := int(b[i]), int(b[i+1])
		i += 2
		for j := 0; j < l && i+j < len(b); j++ {
			v := b[i+j]
			for k := 0; k < 8; k++ {
				if v&(0x80>>k) == 0 {
					continue
				}
				if !first {
					dst = append(dst, ' ')
				}
				first = false
				dst = r.appendType(dst, uint16(win*256+j*8+k))
			}
		}
		i += l
	}
	return dst
}

// appendIPv6 is inet_totext(AF_INET6): in YAML an address ending in "::" gets a "0".
func (r *renderer) appendIPv6(dst, a []byte) []byte {
	dst = appendIPv6(dst, a)
	if r.yaml && r.f != Format914 && dst[len(dst)-1] == ':' { // 9.14's inet_totext adds no "0"
		dst = append(dst, '0')
	}
	return dst
}

// appendTSIG is totext_any_tsig (single-line).
func appendTSIG(dst, rd []byte) []byte {
	n := nameLen(rd)
	dst = appendName(dst, rd[:n])
	dst = append(dst, ' ')
	rd = rd[n:]
	t := uint64(rd[0])<<40 | uint64(rd[1])<<32 | uint64(be32(rd[2:]))
	dst = appendUint(dst, t, " ")
	dst = appendUint(dst, uint64(be16(rd[6:])), " ")
	ml := int(be16(rd[8:]))
	dst = appendUint(dst, uint64(ml), "")
	rd = rd[10:]
	dst = append(dst, ' ')
	if ml != 0 {
		dst = appendBase64(dst, rd[:ml], wordWidth, lineBreak)
		dst = append(dst, ' ')
		rd = rd[ml:]
	}
	dst = appendUint(dst, uint64(be16(rd)), " ")
	dst = appendTSIGRcode(dst, be16(rd[2:]))
	ol := int(be16(rd[4:]))
	dst = append(dst, ' ')
	dst = appendUint(dst, uint64(ol), " ")
	return appendBase64(dst, rd[6:6+ol], 60, " ")
}

func appendTSIGRcode(dst []byte, rc uint16) []byte {
	if int(rc) < 16 {
		return append(dst, rcodeNames[rc]...)
	}
	names := [...]string{16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC"}
	if int(rc) < len(names) {
		return append(dst, names[rc]...)
	}
	return strconv.AppendUint(dst, uint64(rc), 10)
}

func appendCert(dst []byte, v uint16) []byte {
	switch v {
	case 1, 2, 3, 4, 5, 6, 7, 8:
		return append(dst, [...]string{"", "PKIX", "SPKI", "PGP", "IPKIX", "ISPKI", "IPGP", "ACPKIX", "IACPKIX"}[v]...)
	case 253:
		return append(dst, "URI"...)
	case 254:
		return append(dst, "OID"...)
	}
	return strconv.AppendUint(dst, uint64(v), 10)
}

// appendSecAlg is dns_secalg_totext.
func appendSecAlg(dst []byte, a byte) []byte {
	names := map[byte]string{1: "RSAMD5", 2: "DH", 3: "DSA", 5: "RSASHA1", 6: "NSEC3DSA",
		7: "NSEC3RSASHA1", 8: "RSASHA256", 10: "RSASHA512", 12: "ECCGOST", 13: "ECDSAP256SHA256",
		14: "ECDSAP384SHA384", 15: "ED25519", 16: "ED448", 252: "INDIRECT", 253: "PRIVATEDNS",
		254: "PRIVATEOID"}
	if n, ok := names[a]; ok {
		return append(dst, n...)
	}
	return strconv.AppendUint(dst, uint64(a), 10)
}

// appendAPL is totext_in_apl; ok is false for an unknown address family (BIND then prints
// the rdata as unknown).
func (r *renderer) appendAPL(dst, rd []byte) ([]byte, bool) {
	start := len(dst)
	sep := ""
	for len(rd) >= 4 {
		afi, pfx, l, neg := be16(rd), rd[2], int(rd[3]&0x7f), rd[3]&0x80 != 0
		rd = rd[4:]
		dst = append(dst, sep...)
		if neg {
			dst = append(dst, '!')
		}
		dst = appendUint(dst, uint64(afi), ":")
		var a [16]byte
		copy(a[:], rd[:l])
		switch afi {
		case 1:
			dst = appendIPv4(dst, a[:4])
		case 2:
			dst = r.appendIPv6(dst, a[:])
		default:
			return dst[:start], false
		}
		dst = append(dst, '/')
		dst = strconv.AppendUint(dst, uint64(pfx), 10)
		rd = rd[l:]
		sep = " "
	}
	return dst, true
}

// appendLOC is totext_loc.
func appendLOC(dst, rd []byte) []byte {
	pow := [...]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}
	prec := func(dst []byte, c byte) []byte {
		m, e := uint64(c>>4), int(c&0xf)
		if e > 1 {
			dst = strconv.AppendUint(dst, m*pow[e-2], 10)
			return append(dst, 'm')
		}
		v := m * pow[e]
		dst = append(dst, "0."...)
		if v < 10 {
			dst = append(dst, '0')
		}
		dst = strconv.AppendUint(dst, v, 10)
		return append(dst, 'm')
	}
	coord := func(dst []byte, v uint32, pos, neg byte) []byte {
		h := pos
		if v >= 0x80000000 {
			v -= 0x80000000
		} else {
			h = neg
			v = 0x80000000 - v
		}
		fs := v % 1000
		v /= 1000
		sec := v % 60
		v /= 60
		min := v % 60
		v /= 60
		dst = appendUint(dst, uint64(v), " ")
		dst = appendUint(dst, uint64(min), " ")
		dst = appendUint(dst, uint64(sec), ".")
		dst = append(dst, byte('0'+fs/100), byte('0'+fs/10%10), byte('0'+fs%10), ' ', h)
		return dst
	}
	dst = coord(dst, be32(rd[4:]), 'N', 'S')
	dst = append(dst, ' ')
	dst = coord(dst, be32(rd[8:]), 'E', 'W')
	dst = append(dst, ' ')
	alt := be32(rd[12:])
	if alt < 10000000 {
		dst = append(dst, '-')
		alt = 10000000 - alt
	} else {
		alt -= 10000000
	}
	dst = appendUint(dst, uint64(alt/100), ".")
	if alt%100 < 10 {
		dst = append(dst, '0')
	}
	dst = appendUint(dst, uint64(alt%100), "m ")
	dst = prec(dst, rd[1])
	dst = append(dst, ' ')
	dst = prec(dst, rd[2])
	dst = append(dst, ' ')
	return prec(dst, rd[3])
}

// knownType is dns_rdatatype_isknown.
func knownType(t uint16) bool {
	_, ok := typeNames[t]
	return ok
}

// countLabels is the number of labels of an uncompressed name, the root not counted.
func countLabels(name []byte) int {
	n := 0
	for i := 0; i < len(name) && name[i] != 0; i += int(name[i]) + 1 {
		n++
	}
	return n
}
