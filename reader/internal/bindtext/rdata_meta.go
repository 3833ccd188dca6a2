package bindtext

import "strconv"

// BIND's fromwire checks and totext of the meta records: OPT, TSIG, TKEY.
// Each type is registered once, below (onWire, onText); helpers of one family stay here.

func init() {
	onWire(wireOPT, typeOPT)
	onWire(wireTSIG, typeTSIG)
	onWire(wireTKEY, typeTKEY)
	onText(textOPT, typeOPT)
	onText(textTSIG, typeTSIG)
	onText(textTKEY, typeTKEY)
}

// wireOPT checks OPT.
func wireOPT(r *rdr, t, class uint16) error {
	if !OptionsValid(r.m.wire[r.off:r.end]) {
		return r.fail("bad EDNS option")
	}
	r.rest()
	return nil
}

// wireTSIG checks TSIG: TSIG (any_255; checked as ANY class by the section parser).
func wireTSIG(r *rdr, t, class uint16) error {
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
}

// wireTKEY checks TKEY.
func wireTKEY(r *rdr, t, class uint16) error {
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
}

// textOPT renders OPT.
func textOPT(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
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
}

// textTSIG renders TSIG.
func textTSIG(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	if class != classANY {
		return appendUnknown(dst, rd), nil
	}
	return appendTSIG(dst, rd), nil
}

// textTKEY renders TKEY.
func textTKEY(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
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
