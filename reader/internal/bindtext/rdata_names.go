package bindtext

import "strconv"

// BIND's fromwire checks and totext of the records of domain names: NS and its kin, SOA, MINFO, RP,
// MX and its kin, PX, SRV, NAPTR, TALINK.
// Each type is registered once, below (onWire, onText); helpers of one family stay here.

func init() {
	onWire(wireNS, typeNS, typeMD, typeMF, typeCNAME, typeMB, typeMG, typeMR, typePTR, typeDNAME)
	onWire(wireSOA, typeSOA)
	onWire(wireMINFO, typeMINFO, typeRP)
	onWire(wireMX, typeMX, typeAFSDB, typeRT, typeKX, typeLP)
	onWire(wirePX, typePX)
	onWire(wireSRV, typeSRV)
	onWire(wireNAPTR, typeNAPTR)
	onWire(wireTALINK, typeTALINK)
	onText(textNS, typeNS, typeMD, typeMF, typeCNAME, typeMB, typeMG, typeMR, typePTR, typeDNAME)
	onText(textSOA, typeSOA)
	onText(textMINFO, typeMINFO, typeRP)
	onText(textMX, typeMX, typeAFSDB, typeRT, typeKX, typeLP)
	onText(textPX, typePX)
	onText(textSRV, typeSRV)
	onText(textNAPTR, typeNAPTR)
	onText(textTALINK, typeTALINK)
}

// wireNS checks NS MD MF CNAME MB MG MR PTR DNAME.
func wireNS(r *rdr, t, class uint16) error {
	return r.name()
}

// wireSOA checks SOA.
func wireSOA(r *rdr, t, class uint16) error {
	if err := r.name(); err != nil {
		return err
	}
	if err := r.name(); err != nil {
		return err
	}
	return r.fixed(20)
}

// wireMINFO checks MINFO RP.
func wireMINFO(r *rdr, t, class uint16) error {
	if err := r.name(); err != nil {
		return err
	}
	return r.name()
}

// wireMX checks MX AFSDB RT KX LP.
func wireMX(r *rdr, t, class uint16) error {
	if err := r.fixed(2); err != nil {
		return err
	}
	return r.name()
}

// wirePX checks PX.
func wirePX(r *rdr, t, class uint16) error {
	if err := r.fixed(2); err != nil {
		return err
	}
	if err := r.name(); err != nil {
		return err
	}
	return r.name()
}

// wireSRV checks SRV.
func wireSRV(r *rdr, t, class uint16) error {
	if err := r.fixed(6); err != nil {
		return err
	}
	return r.name()
}

// wireNAPTR checks NAPTR.
func wireNAPTR(r *rdr, t, class uint16) error {
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
}

// wireTALINK checks TALINK.
func wireTALINK(r *rdr, t, class uint16) error {
	if err := r.name(); err != nil {
		return err
	}
	return r.name()
}

// textNS renders NS MD MF CNAME MB MG MR PTR DNAME.
func textNS(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	return appendName(dst, rd), nil
}

// textSOA renders SOA.
func textSOA(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
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
}

// textMINFO renders MINFO RP.
func textMINFO(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	n1 := nameLen(rd)
	dst = appendName(dst, rd[:n1])
	dst = append(dst, ' ')
	return appendName(dst, rd[n1:]), nil
}

// textMX renders MX AFSDB RT KX LP.
func textMX(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	return appendName(dst, rd[2:]), nil
}

// textPX renders PX.
func textPX(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	n1 := nameLen(rd[2:])
	dst = appendName(dst, rd[2:2+n1])
	dst = append(dst, ' ')
	return appendName(dst, rd[2+n1:]), nil
}

// textSRV renders SRV.
func textSRV(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	dst = appendUint(dst, uint64(be16(rd[2:])), " ")
	dst = appendUint(dst, uint64(be16(rd[4:])), " ")
	return appendName(dst, rd[6:]), nil
}

// textNAPTR renders NAPTR.
func textNAPTR(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	dst = appendUint(dst, uint64(be16(rd[2:])), " ")
	rd = rd[4:]
	for i := 0; i < 3; i++ {
		dst, rd = appendTxt(dst, rd, true, false)
		dst = append(dst, ' ')
	}
	return appendName(dst, rd), nil
}

// textTALINK renders TALINK.
func textTALINK(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	n1 := nameLen(rd)
	dst = appendName(dst, rd[:n1])
	dst = append(dst, ' ')
	return appendName(dst, rd[n1:]), nil
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
