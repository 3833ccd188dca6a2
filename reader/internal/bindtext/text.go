package bindtext

import "strconv"

// Presentation helpers shared by the renderers: names, types, classes, addresses and the
// string encodings of lib/dns/rdata.c and lib/isc (hex, base64, base32hex).

// AppendClass appends BIND's text for a class (dns_rdataclass_totext): "IN", "CH", ...,
// or "CLASSnnn".
func AppendClass(dst []byte, c uint16) []byte { return appendClass(dst, c) }

// appendClass is dns_rdataclass_totext.
func appendClass(dst []byte, c uint16) []byte {
	switch c {
	case 1:
		return append(dst, "IN"...)
	case 3:
		return append(dst, "CH"...)
	case 4:
		return append(dst, "HS"...)
	case 254:
		return append(dst, "NONE"...)
	case 255:
		return append(dst, "ANY"...)
	case 0:
		return append(dst, "RESERVED0"...)
	}
	dst = append(dst, "CLASS"...)
	return strconv.AppendUint(dst, uint64(c), 10)
}

// nameEsc classifies a label byte for dns_name_totext: 0 plain, 1 backslash before it,
// 2 written as \DDD.
var nameEsc = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c == '"' || c == '(' || c == ')' || c == '.' || c == ';' || c == '\\' || c == '@' || c == '$':
			t[c] = 1
		case c <= 0x20 || c >= 0x7f:
			t[c] = 2
		}
	}
	return t
}()

// appendName is dns_name_totext(name, omit_final_dot=false) of an uncompressed name;
// dns_name_totext always sets DNS_NAME_MASTERFILE, so '@' and '$' are escaped too.
func appendName(dst, name []byte) []byte {
	if len(name) <= 1 {
		return append(dst, '.')
	}
	for i := 0; i < len(name) && name[i] != 0; {
		l := int(name[i])
		label := name[i+1 : i+1+l]
		plain := 0
		for plain < len(label) && nameEsc[label[plain]] == 0 {
			plain++
		}
		dst = append(dst, label[:plain]...)
		for _, c := range label[plain:] {
			switch nameEsc[c] {
			case 0:
				dst = append(dst, c)
			case 1:
				dst = append(dst, '\\', c)
			default:
				dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			}
		}
		dst = append(dst, '.')
		i += l + 1
	}
	return dst
}

// appendTxt is txt_totext / commatxt_totext: one <character-string> at the start of src;
// it returns the rest of src.
func appendTxt(dst, src []byte, quote, comma bool) ([]byte, []byte) {
	n := int(src[0])
	s := src[1 : 1+n]
	if quote {
		dst = append(dst, '"')
	}
	low := byte('!')
	if quote {
		low = ' '
	}
	for _, c := range s {
		if c < low || c >= 0x7f {
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			continue
		}
		if c == '"' || c == '\\' || (comma && c == ',') || (!comma && !quote && (c == '@' || c == ';')) {
			dst = append(dst, '\\')
			if comma && (c == ',' || c == '\\') {
				dst = append(dst, '\\')
				if c == '\\' {
					dst = append(dst, '\\')
				}
			}
		}
		dst = append(dst, c)
	}
	if quote {
		dst = append(dst, '"')
	}
	return dst, src[1+n:]
}

// appendMultiTxt is multitxt_totext: all of src as one quoted string.
func appendMultiTxt(dst, src []byte) []byte {
	dst = append(dst, '"')
	for _, c := range src {
		if c < ' ' || c >= 0x7f {
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			continue
		}
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

const hexUpper = "0123456789ABCDEF"

// appendHex is isc_hex_totext(src, wordlength, wordbreak).
func appendHex(dst, src []byte, wordlength int, wordbreak string) []byte {
	if wordlength < 2 {
		wordlength = 2
	}
	loops := 0
	for i, c := range src {
		dst = append(dst, hexUpper[c>>4], hexUpper[c&0xf])
		loops++
		if i+1 < len(src) && (loops+1)*2 >= wordlength {
			loops = 0
			dst = append(dst, wordbreak...)
		}
	}
	return dst
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendBase64 is isc_base64_totext(src, wordlength, wordbreak).
func appendBase64(dst, src []byte, wordlength int, wordbreak string) []byte {
	if wordlength < 4 {
		wordlength = 4
	}
	loops := 0
	for len(src) > 2 {
		dst = append(dst, base64Chars[src[0]>>2], base64Chars[(src[0]<<4&0x30)|src[1]>>4],
			base64Chars[(src[1]<<2&0x3c)|src[2]>>6], base64Chars[src[2]&0x3f])
		src = src[3:]
		loops++
		if len(src) != 0 && (loops+1)*4 >= wordlength {
			loops = 0
			dst = append(dst, wordbreak...)
		}
	}
	switch len(src) {
	case 2:
		dst = append(dst, base64Chars[src[0]>>2], base64Chars[(src[0]<<4&0x30)|src[1]>>4],
			base64Chars[src[1]<<2&0x3c], '=')
	case 1:
		dst = append(dst, base64Chars[src[0]>>2], base64Chars[src[0]<<4&0x30], '=', '=')
	}
	return dst
}

const base32HexChars = "0123456789ABCDEFGHIJKLMNOPQRSTUV"

// appendBase32HexNP is isc_base32hexnp_totext with no word breaks (no padding).
func appendBase32HexNP(dst, src []byte) []byte {
	b := base32HexChars
	for len(src) > 0 {
		var in [5]byte
		n := copy(in[:], src)
		out := [8]byte{
			b[in[0]>>3], b[(in[0]<<2&0x1c)|in[1]>>6], b[in[1]>>1&0x1f],
			b[(in[1]<<4&0x10)|in[2]>>4], b[(in[2]<<1&0x1e)|in[3]>>7], b[in[3]>>2&0x1f],
			b[(in[3]<<3&0x18)|in[4]>>5], b[in[4]&0x1f],
		}
		keep := [6]int{0, 2, 4, 5, 7, 8}[n]
		dst = append(dst, out[:keep]...)
		if n < 5 {
			break
		}
		src = src[5:]
	}
	return dst
}

// decimal holds "0" to "255".
var decimal = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func appendIPv4(dst, a []byte) []byte { return AppendIP(dst, a[:4]) }

// appendIPv6 is glibc's inet_ntop(AF_INET6).
func appendIPv6(dst, a []byte) []byte { return AppendIP(dst, a[:16]) }

// AppendIP appends the address as glibc's inet_ntop prints it: dotted quad for 4 bytes;
// for 16 bytes, lower-case hex groups with the longest run (two groups or more, the first
// when tied) of zero groups as "::", and the embedded IPv4 form for ::a.b.c.d and
// ::ffff:a.b.c.d. Other lengths are printed as hex.
func AppendIP(dst, a []byte) []byte {
	switch len(a) {
	case 4:
		dst = append(dst, decimal[a[0]]...)
		dst = append(dst, '.')
		dst = append(dst, decimal[a[1]]...)
		dst = append(dst, '.')
		dst = append(dst, decimal[a[2]]...)
		dst = append(dst, '.')
		return append(dst, decimal[a[3]]...)
	case 16:
	default:
		return appendHexLower(dst, a)
	}
	var w [8]uint16
	for i := range w {
		w[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if w[i] == 0 {
			if curBase < 0 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
			continue
		}
		if curBase >= 0 {
			if bestBase < 0 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase >= 0 && (bestBase < 0 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase >= 0 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				dst = append(dst, ':')
			}
			continue
		}
		if i != 0 {
			dst = append(dst, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return AppendIP(dst, a[12:])
		}
		dst = strconv.AppendUint(dst, uint64(w[i]), 16)
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		dst = append(dst, ':')
	}
	return dst
}

func appendHexLower(dst, b []byte) []byte {
	const hexLower = "0123456789abcdef"
	for _, c := range b {
		dst = append(dst, hexLower[c>>4], hexLower[c&0xf])
	}
	return dst
}

// appendUint appends v in decimal followed by sep (if not empty).
func appendUint(dst []byte, v uint64, sep string) []byte {
	dst = strconv.AppendUint(dst, v, 10)
	return append(dst, sep...)
}
