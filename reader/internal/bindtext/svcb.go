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
	if tm.Year() > 9999 || tm.Year() < 1900 {
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

// regexValidate is isc_regex_validate (lib/isc/regex.c): the number of groups in a
// POSIX extended regular expression, or -1 when BIND deems it invalid.
func regexValidate(re []byte) int {
	const (
		none = iota
		bracket
		bound
		ce
		ec
		cc
	)
	if len(re) == 0 {
		return -1
	}
	at := func(i int) byte { // the C string ends at len(re)
		if i < len(re) {
			return re[i]
		}
		return 0
	}
	classes := [...]string{":alnum:", ":digit:", ":punct:", ":alpha:", ":graph:", ":space:",
		":blank:", ":lower:", ":upper:", ":cntrl:", ":print:", ":xdigit:"}
	state := none
	var seenComma, seenHigh, seenChar, seenEC, seenCE, haveAtom, emptyOK, neg, wasMultiple bool
	group, rng, sub, rangeStart, ccname := 0, 0, 0, 0, 0
	low, high := 0, 0
	c := 0
	for c < len(re) {
		switch state {
		case none:
			switch re[c] {
			case '\\':
				c++
				switch ch := at(c); {
				case ch >= '1' && ch <= '9':
					if int(ch-'0') > sub {
						return -1
					}
					haveAtom, wasMultiple = true, false
					c++
				case ch == 0:
					return -1
				default:
					haveAtom, wasMultiple = true, false
					c++
				}
			case '[':
				c++
				neg, wasMultiple, seenChar = false, false, false
				state = bracket
			case '{':
				if d := at(c + 1); d >= '0' && d <= '9' {
					if !haveAtom || wasMultiple {
						return -1
					}
					seenComma, seenHigh = false, false
					low, high = 0, 0
					state = bound
					c++
					haveAtom, wasMultiple = true, true
				} else {
					haveAtom, wasMultiple = true, false
					c++
				}
			case '(':
				haveAtom, wasMultiple, emptyOK = false, false, true
				group++
				sub++
				c++
			case ')':
				if group != 0 && !haveAtom && !emptyOK {
					return -1
				}
				haveAtom, wasMultiple = true, false
				if group != 0 {
					group--
				}
				c++
			case '|':
				if !haveAtom {
					return -1
				}
				haveAtom, emptyOK, wasMultiple = false, false, false
				c++
			case '^', '$':
				haveAtom, wasMultiple = true, true
				c++
			case '+', '*', '?':
				if wasMultiple || !haveAtom {
					return -1
				}
				haveAtom, wasMultiple = true, true
				c++
			default:
				haveAtom, wasMultiple = true, false
				c++
			}
		case bound:
			switch ch := re[c]; {
			case ch >= '0' && ch <= '9':
				if !seenComma {
					low = low*10 + int(ch-'0')
					if low > 255 {
						return -1
					}
				} else {
					seenHigh = true
					high = high*10 + int(ch-'0')
					if high > 255 {
						return -1
					}
				}
				c++
			case ch == ',':
				if seenComma {
					return -1
				}
				seenComma = true
				c++
			case ch == '}':
				if seenHigh && low > high {
					return -1
				}
				seenComma = false
				state = none
				c++
			default:
				return -1
			}
		case bracket:
			inside := false
			switch re[c] {
			case '^':
				if seenChar || neg {
					inside = true
				} else {
					neg = true
					c++
				}
			case '-':
				switch {
				case rng == 2 || !seenChar:
					inside = true
				case rng == 1:
					return -1
				default:
					rng = 2
					c++
				}
			case '[':
				c++
				switch at(c) {
				case '.':
					if rng != 0 {
						rng--
					}
					c++
					state, seenCE = ce, false
				case '=':
					if rng == 2 {
						return -1
					}
					c++
					state, seenEC = ec, false
				case ':':
					if rng == 2 {
						return -1
					}
					ccname = c
					c++
					state = cc
				}
				seenChar = true
			case ']':
				if at(c+1) == 0 && !seenChar {
					return -1
				}
				if !seenChar {
					inside = true
				} else {
					c++
					rng = 0
					haveAtom = true
					state = none
				}
			default:
				inside = true
			}
			if inside {
				seenChar = true
				if rng == 2 && int(re[c]) < rangeStart {
					return -1
				}
				if rng != 0 {
					rng--
				}
				rangeStart = int(re[c])
				c++
			}
		case ce:
			if re[c] == '.' {
				c++
				if at(c) == ']' {
					if !seenCE {
						return -1
					}
					c++
					state = bracket
				} else {
					if seenCE {
						rangeStart = 256
					} else {
						rangeStart = '.'
					}
					seenCE = true
				}
			} else {
				if seenCE {
					rangeStart = 256
				} else {
					rangeStart = int(re[c])
				}
				seenCE = true
				c++
			}
		case ec:
			if re[c] == '=' {
				c++
				if at(c) == ']' {
					if !seenEC {
						return -1
					}
					c++
					state = bracket
				} else {
					seenEC = true
				}
			} else {
				seenEC = true
				c++
			}
		case cc:
			if re[c] == ':' {
				c++
				if at(c) == ']' {
					found := false
					for _, name := range classes {
						if len(name) == c-ccname && string(re[ccname:c]) == name {
							found = true
						}
					}
					if !found {
						return -1
					}
					c++
					state = bracket
				}
			} else {
				c++
			}
		}
	}
	if group != 0 || state != none || !haveAtom {
		return -1
	}
	return sub
}

func init() {
	onWire(wireSVCB, typeSVCB, typeHTTPS)
	onText(textSVCB, typeSVCB, typeHTTPS)
}

// wireSVCB checks SVCB HTTPS.
func wireSVCB(r *rdr, t, class uint16) error {
	return r.svcb()
}

// textSVCB renders SVCB HTTPS.
func textSVCB(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error) {
	return appendSVCB(dst, rd), nil
}
