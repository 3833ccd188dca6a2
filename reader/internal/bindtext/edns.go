package bindtext

// EDNS option codes (IANA; BIND's DNS_OPT_*), for the checks and the renderers.
const (
	optLLQ           = 1
	optUL            = 2 // UPDATE-LEASE
	optNSID          = 3
	optECS           = 8 // CLIENT-SUBNET
	optExpire        = 9
	optCookie        = 10
	optKeepalive     = 11 // TCP-KEEPALIVE
	optPad           = 12
	optChain         = 13
	optKeyTag        = 14
	optEDE           = 15
	optClientTag     = 16
	optServerTag     = 17
	optReportChannel = 18
)

// OptionsValid applies BIND 9.18's fromwire_opt checks to OPT rdata: each option fits, and
// LLQ, CLIENT-SUBNET, EXPIRE, COOKIE, KEY-TAG, EDE (no BOM, valid UTF-8) and the tags have
// the lengths and values BIND accepts. dns_message_parse fails where it is false.
func OptionsValid(b []byte) bool {
	for len(b) != 0 {
		if len(b) < 4 {
			return false
		}
		code, n := be16(b), int(be16(b[2:]))
		b = b[4:]
		if len(b) < n {
			return false
		}
		d := b[:n]
		switch code {
		case optLLQ:
			if n != 18 {
				return false
			}
		case optECS:
			if n < 4 {
				return false
			}
			fam, al, sc := be16(d), int(d[2]), int(d[3])
			switch fam {
			case 0:
				if al != 0 || sc != 0 {
					return false
				}
			case 1:
				if al > 32 || sc > 32 {
					return false
				}
			case 2:
				if al > 128 || sc > 128 {
					return false
				}
			default:
				return false
			}
			ab := (al + 7) / 8
			if ab+4 != n {
				return false
			}
			if ab != 0 && al%8 != 0 {
				bits := byte(0xff << (8 - al%8))
				if d[4+ab-1]&bits != d[4+ab-1] {
					return false
				}
			}
		case optExpire:
			if n != 0 && n != 4 {
				return false
			}
		case optCookie:
			if n != 8 && (n < 16 || n > 40) {
				return false
			}
		case optKeyTag:
			if n == 0 || n%2 != 0 {
				return false
			}
		case optEDE:
			if n < 2 {
				return false
			}
			x := d[2:]
			if len(x) >= 3 && x[0] == 0xef && x[1] == 0xbb && x[2] == 0xbf {
				return false
			}
			if !utf8Valid(x) {
				return false
			}
		case optClientTag, optServerTag:
			if n != 2 {
				return false
			}
		}
		b = b[n:]
	}
	return true
}
