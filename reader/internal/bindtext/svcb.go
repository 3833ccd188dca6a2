package bindtext

import (
	"strconv"
	"time"
)

type svcbEnc uint8

const (
	sbprText svcbEnc = iota
	sbprPort
	sbprIPv4s
	sbprIPv6s
	sbprBase64
	sbprEmpty
	sbprALPN
	sbprKeylist
	sbprDohpath
)

// svcbKey is svcparamkey: the name and encoding of a SvcParamKey. dohpath (7) is not an
// "initial" key in BIND 9.18, so it prints as key7 with text encoding.
func svcbKey(dst []byte, k uint16) ([]byte, svcbEnc) {
	names := [...]string{"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"}
	encs := [...]svcbEnc{sbprKeylist, sbprALPN, sbprEmpty, sbprPort, sbprIPv4s, sbprBase64, sbprIPv6s}
	if int(k) < len(names) {
		return append(dst, names[k]...), encs[k]
	}
	dst = append(dst, "key"...)
	return strconv.AppendUint(dst, uint64(k), 10), sbprText
}

// svcbValidateEnc is the encoding svcb_validate checks (dohpath included).
func svcbValidateEnc(k uint16) (svcbEnc, bool) {
	encs := [...]svcbEnc{sbprKeylist, sbprALPN, sbprEmpty, sbprPort, sbprIPv4s, sbprBase64, sbprIPv6s, sbprDohpath}
	if int(k) < len(encs) {
		return encs[k], true
	}
	return 0, false
}

func svcbValidate(k uint16, v []byte) bool {
	enc, ok := svcbValidateEnc(k)
	if !ok {
		return true
	}
	switch enc {
	case sbprPort:
		return len(v) == 2
	case sbprIPv4s:
		return len(v)%4 == 0 && len(v) != 0
	case sbprIPv6s:
		return len(v)%16 == 0 && len(v) != 0
	case sbprALPN:
		if len(v) == 0 {
			return false
		}
		for len(v) != 0 {
			l := int(v[0]) + 1
			if l == 1 || l > len(v) {
				return false
			}
			v = v[l:]
		}
	case sbprKeylist:
		if len(v)%2 != 0 || len(v) == 0 {
			return false
		}
		for ; len(v) >= 4; v = v[2:] {
			if v[0] > v[2] || (v[0] == v[2] && v[1] >= v[3]) {
				return false
			}
		}
	case sbprDohpath:
		return validDohpath(v)
	case sbprEmpty:
		return len(v) == 0
	}
	return true
}

// svcb is generic_fromwire_in_svcb.
func (r *rdr) svcb() error {
	if err := r.fixed(2); err != nil {
		return err
	}
	if err := r.name(); err != nil {
		return err
	}
	w := r.m.wire[r.off:r.end]
	first, haveALPN := true, false
	var last, mankey uint16
	var man []byte
	for len(w) > 0 {
		if len(w) < 2 {
			return r.fail("SVCB key")
		}
		key := be16(w)
		w = w[2:]
		if !first && key <= last {
			return r.fail("SVCB keys out of order")
		}
		if mankey != 0 {
			if key > mankey {
				return r.fail("SVCB mandatory key missing")
			}
			if key == mankey {
				if len(man) >= 2 {
					mankey = be16(man)
					man = man[2:]
				} else {
					mankey = 0
				}
			}
		}
		if key == 1 {
			haveALPN = true
		} else if key == 2 && !haveALPN {
			return r.fail("SVCB no-default-alpn without alpn")
		}
		first, last = false, key
		if len(w) < 2 {
			return r.fail("SVCB value length")
		}
		n := int(be16(w))
		w = w[2:]
		if len(w) < n {
			return r.fail("SVCB value")
		}
		if key == 0 {
			man = w[:n]
			if len(man) < 2 {
				return r.fail("SVCB mandatory")
			}
			mankey = be16(man)
			man = man[2:]
			if mankey == 0 {
				return r.fail("SVCB mandatory lists itself")
			}
		}
		if !svcbValidate(key, w[:n]) {
			return r.fail("bad SVCB value")
		}
		w = w[n:]
	}
	if mankey != 0 {
		return r.fail("SVCB mandatory key missing")
	}
	r.rest()
	return nil
}

// appendSVCB is generic_totext_in_svcb.
func appendSVCB(dst, rd []byte) []byte {
	dst = appendUint(dst, uint64(be16(rd)), " ")
	rd = rd[2:]
	n := nameLen(rd)
	dst = appendName(dst, rd[:n])
	rd = rd[n:]
	for len(rd) >= 4 {
		dst = append(dst, ' ')
		var enc svcbEnc
		dst, enc = svcbKey(dst, be16(rd))
		l := int(be16(rd[2:]))
		v := rd[4 : 4+l]
		rd = rd[4+l:]
		if l == 0 {
			continue
		}
		if enc != sbprEmpty {
			dst = append(dst, '=')
		}
		switch enc {
		case sbprText:
			dst = appendMultiTxt(dst, v)
		case sbprPort:
			dst = strconv.AppendUint(dst, uint64(be16(v)), 10)
		case sbprIPv4s:
			for i := 0; i+4 <= len(v); i += 4 {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendIPv4(dst, v[i:])
			}
		case sbprIPv6s:
			for i := 0; i+16 <= len(v); i += 16 {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendIPv6(dst, v[i:i+16])
			}
		case sbprBase64:
			dst = appendBase64(dst, v, 0, "")
		case sbprALPN:
			dst = append(dst, '"')
			for len(v) != 0 {
				dst, v = appendTxt(dst, v, false, true)
				if len(v) != 0 {
					dst = append(dst, ',')
				}
			}
			dst = append(dst, '"')
		case sbprKeylist:
			for i := 0; i+2 <= len(v); i += 2 {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst, _ = svcbKey(dst, be16(v[i:]))
			}
		}
	}
	return dst
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// validDohpath is validate_dohpath (lib/dns/rdata.c).
func validDohpath(b []byte) bool {
	const (
		path = iota
		variable
		percent1
		percent2
		varPercent1
		varPercent2
		prefix
		explode
	)
	if len(b) == 0 || b[0] != '/' || !utf8Valid(b) {
		return false
	}
	state, dns, wasop := path, false, false
	v, n := 0, 0
	for p := 0; p < len(b); {
		c := b[p]
		p++
		switch state {
		case path:
			switch c {
			case '{':
				state, wasop, v = variable, false, p
			case '%':
				state = percent1
			}
		case variable:
			switch c {
			case '+', '#', '.', '/', ';', '?', '&':
				if p != v+1 || wasop {
					return false
				}
				wasop, v = true, p
			case '=', '!', '@', '|':
				return false
			case '*', ':', '}', ',':
				if p == v+1 {
					return false
				}
				if p-v == 4 && string(b[v:v+3]) == "dns" {
					dns = true
				}
				switch c {
				case ':':
					state, n = prefix, p
				case '}':
					state = path
				case '*':
					state = explode
				case ',':
					wasop, v = false, p
				}
			case '%':
				state = varPercent1
			default:
				if c != '_' && !isAlnum(c) {
					return false
				}
			}
		case explode:
			switch c {
			case ',':
				state, wasop, v = variable, false, p
			case '}':
				state = path
			default:
				return false
			}
		case percent1, percent2, varPercent1, varPercent2:
			if !isHex(c) {
				return false
			}
			switch state {
			case percent1:
				state = percent2
			case percent2:
				state = path
			case varPercent1:
				state = varPercent2
			default:
				state = variable
			}
		case prefix:
			if c < '0' || c > '9' {
				if p == n+1 || p-n > 5 || b[n] == '0' {
					return false
				}
				switch c {
				case ',':
					state, wasop = variable, false
				case '}':
					state = path
				default:
					return false
				}
			}
		}
	}
	return state == path && dns
}

// now is the clock dns_time64_from32 reads; tests may replace it.
var now = func() int64 { return time.Now().Unix() }

// appendTime32 is dns_time32_totext: YYYYMMDDHHMMSS of the serial-arithmetic time
// closest to now.
func appendTime32(dst []byte, v uint32) ([]byte, error) {
	n := now()
	nowv := uint32(n)
	var t int64
	if int32(v-nowv) > 0 { // isc_serial_gt(value, now)
		t = n + int64(v-nowv)
	} else {
		t = n - int64(nowv-v)
	}
	tm := time.Unix(t, 0).UTC()
	if tm.Year() > 9999 || t < 0 {
		return dst, &parseError{what: "signature time out of range", err: ErrNotRendered}
	}
	var b [14]byte
	put := func(i, w, x int) {
		for j := i + w - 1; j >= i; j-- {
			b[j] = byte('0' + x%10)
			x /= 10
		}
	}
	put(0, 4, tm.Year())
	put(4, 2, int(tm.Month()))
	put(6, 2, tm.Day())
	put(8, 2, tm.Hour())
	put(10, 2, tm.Minute())
	put(12, 2, tm.Second())
	return append(dst, b[:]...), nil
}

// regexValidate approximates isc_regex_validate: the number of groups in a POSIX
// extended regular expression, or -1 when the parentheses or brackets do not balance or
// it ends in a lone backslash.
func regexValidate(re []byte) int {
	depth, groups := 0, 0
	for i := 0; i < len(re); i++ {
		switch re[i] {
		case '\\':
			if i+1 >= len(re) {
				return -1
			}
			i++
		case '[':
			j := i + 1
			if j < len(re) && re[j] == '^' {
				j++
			}
			if j < len(re) && re[j] == ']' {
				j++
			}
			for j < len(re) && re[j] != ']' {
				j++
			}
			if j >= len(re) {
				return -1
			}
			i = j
		case '(':
			depth++
			groups++
		case ')':
			if depth == 0 {
				return -1
			}
			depth--
		}
	}
	if depth != 0 {
		return -1
	}
	return groups
}
