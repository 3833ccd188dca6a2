package bindtext

// BIND's fromwire checks and totext of the records of character strings and opaque data: TXT and
// its kin, RESINFO, HINFO, GPOS, X25, ISDN, CAA, URI, NULL, SINK.
// Each type is registered once, below (onWire, onText); helpers of one family stay here.

func init() {
	onWire(wireTXT, typeTXT, typeSPF, typeNINFO, typeAVC, typeWALLET)
	onWire(wireRESINFO, typeRESINFO)
	onWire(wireHINFO, typeHINFO)
	onWire(wireGPOS, typeGPOS)
	onWire(wireX25, typeX25)
	onWire(wireISDN, typeISDN)
	onWire(wireCAA, typeCAA)
	onWire(wireURI, typeURI)
	onWire(wireNULL, typeNULL)
	onWire(wireSINK, typeSINK)
	onText(textTXT, typeTXT, typeSPF, typeNINFO, typeAVC, typeWALLET, typeRESINFO)
	onText(textHINFO, typeHINFO)
	onText(textGPOS, typeGPOS)
	onText(textX25, typeX25)
	onText(textISDN, typeISDN)
	onText(textCAA, typeCAA)
	onText(textURI, typeURI)
	onText(textSINK, typeSINK)
}

// wireTXT checks TXT SPF NINFO AVC WALLET.
func wireTXT(r *rdr, t, class uint16) error {
	for {
		if err := r.txt(); err != nil {
			return err
		}
		if r.left() == 0 {
			return nil
		}
	}
}

// wireRESINFO checks RESINFO.
func wireRESINFO(r *rdr, t, class uint16) error {
	for {
		if err := r.txt(); err != nil {
			return err
		}
		if r.left() == 0 {
			return nil
		}
	}
}

// wireHINFO checks HINFO.
func wireHINFO(r *rdr, t, class uint16) error {
	if err := r.txt(); err != nil {
		return err
	}
	return r.txt()
}

// wireGPOS checks GPOS.
func wireGPOS(r *rdr, t, class uint16) error {
	for i := 0; i < 3; i++ {
		if err := r.txt(); err != nil {
			return err
		}
	}
	return nil
}

// wireX25 checks X25.
func wireX25(r *rdr, t, class uint16) error {
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
}

// wireISDN checks ISDN.
func wireISDN(r *rdr, t, class uint16) error {
	if err := r.txt(); err != nil {
		return err
	}
	if r.left() == 0 {
		return nil
	}
	return r.txt()
}

// wireCAA checks CAA.
func wireCAA(r *rdr, t, class uint16) error {
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
}

// wireURI checks URI.
func wireURI(r *rdr, t, class uint16) error {
	if r.left() < 4 {
		return r.fail("URI too short")
	}
	r.rest()
	return nil
}

// wireNULL checks NULL.
func wireNULL(r *rdr, t, class uint16) error {
	r.rest()
	return nil
}

// wireSINK checks SINK.
func wireSINK(r *rdr, t, class uint16) error {
	if r.left() < 3 {
		return r.fail("SINK too short")
	}
	r.rest()
	return nil
}

// textTXT renders TXT SPF NINFO AVC WALLET RESINFO.
func textTXT(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	for len(rd) > 0 {
		dst, rd = appendTxt(dst, rd, true, false)
		if len(rd) > 0 {
			dst = append(dst, ' ')
		}
	}
	return dst, nil
}

// textHINFO renders HINFO.
func textHINFO(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst, rd = appendTxt(dst, rd, true, false)
	dst = append(dst, ' ')
	dst, _ = appendTxt(dst, rd, true, false)
	return dst, nil
}

// textGPOS renders GPOS.
func textGPOS(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	for i := 0; i < 3; i++ {
		dst, rd = appendTxt(dst, rd, true, false)
		if i != 2 {
			dst = append(dst, ' ')
		}
	}
	return dst, nil
}

// textX25 renders X25.
func textX25(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst, _ = appendTxt(dst, rd, true, false)
	return dst, nil
}

// textISDN renders ISDN.
func textISDN(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst, rd = appendTxt(dst, rd, true, false)
	if len(rd) == 0 {
		return dst, nil
	}
	dst = append(dst, ' ')
	dst, _ = appendTxt(dst, rd, true, false)
	return dst, nil
}

// textCAA renders CAA.
func textCAA(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(rd[0]), " ")
	dst, rd = appendTxt(dst, rd[1:], false, false)
	dst = append(dst, ' ')
	return appendMultiTxt(dst, rd), nil
}

// textURI renders URI.
func textURI(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	dst = appendUint(dst, uint64(be16(rd[2:])), " ")
	return appendMultiTxt(dst, rd[4:]), nil
}

// textSINK renders SINK.
func textSINK(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(rd[0]), " ")
	dst = appendUint(dst, uint64(rd[1]), " ")
	dst = appendUint(dst, uint64(rd[2]), "")
	if len(rd) == 3 {
		return dst, nil
	}
	dst = append(dst, lineBreak...)
	return appendBase64(dst, rd[3:], wordWidth, lineBreak), nil
}
