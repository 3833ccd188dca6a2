package bindtext

import "strconv"

// BIND's fromwire checks and totext of the addresses and locators: A, AAAA, A6, APL, WKS, LOC,
// EUI48/64, ILNP (NID, L32, L64), ATMA, NSAP, EID, NIMLOC, AMTRELAY, DOA.
// Each type is registered once, below (onWire, onText); helpers of one family stay here.

func init() {
	onWire(wireA, typeA)
	onWire(wireAAAA, typeAAAA)
	onWire(wireEUI48, typeEUI48, typeEUI64)
	onWire(wireNID, typeNID, typeL64)
	onWire(wireL32, typeL32)
	onWire(wireNSAP, typeNSAP, typeEID, typeNIMLOC, typeDHCID, typeHHIT, typeBRID)
	onWire(wireNSAPPTR, typeNSAPPTR)
	onWire(wireATMA, typeATMA)
	onWire(wireDOA, typeDOA)
	onWire(wireAMTRELAY, typeAMTRELAY)
	onWire(wireWKS, typeWKS)
	onWire(wireA6, typeA6)
	onWire(wireAPL, typeAPL)
	onWire(wireLOC, typeLOC)
	onText(textA, typeA)
	onText(textAAAA, typeAAAA)
	onText(textEUI48, typeEUI48, typeEUI64)
	onText(textNID, typeNID, typeL64)
	onText(textL32, typeL32)
	onText(textNSAP, typeNSAP)
	onText(textEID, typeEID, typeNIMLOC)
	onText(textNSAPPTR, typeNSAPPTR)
	onText(textATMA, typeATMA)
	onText(textDOA, typeDOA)
	onText(textAMTRELAY, typeAMTRELAY)
	onText(textWKS, typeWKS)
	onText(textA6, typeA6)
	onText(textAPL, typeAPL)
	onText(textLOC, typeLOC)
}

// wireA checks A.
func wireA(r *rdr, t, class uint16) error {
	switch class {
	case classCH: // ch_3/a_1.c: domain name and 16-bit address
		if err := r.name(); err != nil {
			return err
		}
		return r.fixed(2)
	default:
		return r.fixed(4)
	}
}

// wireAAAA checks AAAA.
func wireAAAA(r *rdr, t, class uint16) error {
	return r.fixed(16)
}

// wireEUI48 checks EUI48 EUI64.
func wireEUI48(r *rdr, t, class uint16) error {
	if r.left() != int(t-108)*2+6 {
		return r.fail("bad EUI length")
	}
	r.rest()
	return nil
}

// wireNID checks NID L64.
func wireNID(r *rdr, t, class uint16) error {
	if r.left() != 10 {
		return r.fail("bad NID/L64 length")
	}
	r.rest()
	return nil
}

// wireL32 checks L32.
func wireL32(r *rdr, t, class uint16) error {
	if r.left() != 6 {
		return r.fail("bad L32 length")
	}
	r.rest()
	return nil
}

// wireNSAP checks NSAP EID NIMLOC DHCID HHIT BRID.
func wireNSAP(r *rdr, t, class uint16) error {
	if r.left() < 1 {
		return r.fail("empty rdata")
	}
	r.rest()
	return nil
}

// wireNSAPPTR checks NSAPPTR.
func wireNSAPPTR(r *rdr, t, class uint16) error {
	return r.name()
}

// wireATMA checks ATMA.
func wireATMA(r *rdr, t, class uint16) error {
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
}

// wireDOA checks DOA.
func wireDOA(r *rdr, t, class uint16) error {
	if r.left() < 10 || int(r.peek(9)) > r.left()-10 {
		return r.fail("DOA too short")
	}
	r.rest()
	return nil
}

// wireAMTRELAY checks AMTRELAY.
func wireAMTRELAY(r *rdr, t, class uint16) error {
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
}

// wireWKS checks WKS.
func wireWKS(r *rdr, t, class uint16) error {
	n := r.left()
	if n < 5 {
		return r.fail("WKS too short")
	}
	if n > 8*1024+5 || (n > 5 && r.peek(n-1) == 0) {
		return r.fail("bad WKS bitmap")
	}
	r.rest()
	return nil
}

// wireA6 checks A6.
func wireA6(r *rdr, t, class uint16) error {
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
}

// wireAPL checks APL.
func wireAPL(r *rdr, t, class uint16) error {
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
}

// wireLOC checks LOC.
func wireLOC(r *rdr, t, class uint16) error {
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
}

// textA renders A.
func textA(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	if class == classCH {
		n := nameLen(rd)
		dst = appendName(dst, rd[:n])
		dst = append(dst, ' ')
		return strconv.AppendUint(dst, uint64(be16(rd[n:])), 8), nil // octal, as ch_3/a_1.c
	}
	return appendIPv4(dst, rd), nil
}

// textAAAA renders AAAA.
func textAAAA(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	return r.appendIPv6(dst, rd), nil
}

// textEUI48 renders EUI48 EUI64.
func textEUI48(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	for i, c := range rd {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = appendHexByte(dst, c)
	}
	return dst, nil
}

// textNID renders NID L64.
func textNID(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	for i := 0; i < 4; i++ {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = strconv.AppendUint(dst, uint64(be16(rd[2+2*i:])), 16)
	}
	return dst, nil
}

// textL32 renders L32.
func textL32(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	return appendIPv4(dst, rd[2:]), nil
}

// textNSAP renders NSAP.
func textNSAP(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = append(dst, "0x"...)
	for _, c := range rd {
		dst = appendHexByte(dst, c)
	}
	return dst, nil
}

// textEID renders EID NIMLOC.
func textEID(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	return appendHex(dst, rd, wordWidth, lineBreak), nil
}

// textNSAPPTR renders NSAPPTR.
func textNSAPPTR(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	return appendName(dst, rd), nil
}

// textATMA renders ATMA.
func textATMA(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
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
	return appendUnknown(dst, rd), nil
}

// textDOA renders DOA.
func textDOA(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be32(rd)), " ")
	dst = appendUint(dst, uint64(be32(rd[4:])), " ")
	dst = appendUint(dst, uint64(rd[8]), " ")
	dst, rd = appendTxt(dst, rd[9:], true, false)
	dst = append(dst, ' ')
	if len(rd) == 0 {
		return append(dst, '-'), nil
	}
	return appendBase64(dst, rd, 60, ""), nil
}

// textAMTRELAY renders AMTRELAY.
func textAMTRELAY(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	gw := rd[1] & 0x7f
	if gw > 3 {
		return appendUnknown(dst, rd), nil
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
}

// textWKS renders WKS.
func textWKS(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
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
}

// textA6 renders A6.
func textA6(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
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
}

// textAPL renders APL.
func textAPL(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	if out, ok := r.appendAPL(dst, rd); ok {
		return out, nil
	}
	return appendUnknown(dst, rd), nil
}

// textLOC renders LOC.
func textLOC(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	if rd[0] != 0 {
		return appendUnknown(dst, rd), nil
	}
	return appendLOC(dst, rd), nil
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
