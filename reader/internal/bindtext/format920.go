package bindtext

import "strconv"

// This file mirrors the EDNS option rendering of BIND 9.20.27's
// dns_message_pseudosectiontotext and dns_message_pseudosectiontoyaml (lib/dns/message.c),
// where they differ from 9.18's: every option is named from one table (PADDING for PAD,
// TCP-KEEPALIVE with a dash, and UPDATE-LEASE, DAU, DHU, N3U, CHAIN, Report-Channel and
// ZONEVERSION, which 9.18 prints as OPT=n), UPDATE-LEASE, CHAIN and Report-Channel have
// their own rendering, and in YAML a COOKIE is split into CLIENT and SERVER, EXPIRE and
// UPDATE-LEASE carry a "# ..." comment, KEY-TAG is a "[ ... ]" list and printable data is
// escaped (put_yamlstr).

// optionNames920 is 9.20's option_names.
var optionNames920 = [...]string{1: "LLQ", 2: "UPDATE-LEASE", 3: "NSID", 5: "DAU", 6: "DHU", 7: "N3U",
	8: "CLIENT-SUBNET", 9: "EXPIRE", 10: "COOKIE", 11: "TCP-KEEPALIVE", 12: "PADDING", 13: "CHAIN",
	14: "KEY-TAG", 15: "EDE", 16: "CLIENT-TAG", 17: "SERVER-TAG", 18: "Report-Channel", 19: "ZONEVERSION"}

func (r *renderer) optionName920(code uint16) {
	if int(code) < len(optionNames920) && optionNames920[code] != "" {
		r.dst = append(r.dst, optionNames920[code]...)
	} else {
		r.dst = append(r.dst, "OPT="...)
		r.dst = strconv.AppendUint(r.dst, uint64(code), 10)
	}
	r.dst = append(r.dst, ':')
}

// textOption920 is one option of 9.20's dns_message_pseudosectiontotext.
func (r *renderer) textOption920(code uint16, d []byte) {
	r.ind()
	r.dst = append(r.dst, "; "...)
	r.optionName920(code)
	switch code {
	case optLLQ:
		if len(d) == 18 {
			r.llq920(d, false)
			r.dst = append(r.dst, '\n')
			return
		}
	case optUL:
		if len(d) == 4 || len(d) == 8 {
			secs := be32(d)
			r.dst = append(r.dst, ' ')
			r.dst = strconv.AppendUint(r.dst, uint64(secs), 10)
			if len(d) == 8 {
				r.dst = append(r.dst, '/')
				r.dst = strconv.AppendUint(r.dst, uint64(be32(d[4:])), 10)
			}
			r.dst = append(r.dst, " ("...)
			r.dst = appendTTLText(r.dst, secs)
			if len(d) == 8 {
				r.dst = append(r.dst, '/')
				r.dst = appendTTLText(r.dst, be32(d[4:]))
			}
			r.dst = append(r.dst, ")\n"...)
			return
		}
	case optECS:
		if out, ok := appendECS(r.dst, d); ok {
			r.dst = append(out, '\n')
			return
		}
	case optExpire:
		if r.optExpire(d, 10) {
			return
		}
	case optKeepalive:
		if r.optKeepalive(d) {
			return
		}
	case optPad:
		r.optPadText(d)
		return
	case optChain, optReportChannel:
		if len(d) > 0 && r.nameopt920(d, false) {
			r.dst = append(r.dst, '\n')
			return
		}
		r.dst = append(r.dst, '\n')
	case optKeyTag:
		if r.optKeyTags(d) {
			return
		}
	case optEDE:
		var done bool
		if d, done = r.optEDEText(d); done {
			return
		}
	case optClientTag, optServerTag:
		if r.optNumber(d) {
			return
		}
	}
	r.optionData(code, d, code == optEDE, false)
}

// yamlOption920 is one option of 9.20's dns_message_pseudosectiontoyaml. The caller resets
// r.indent to the options' indent before each.
func (r *renderer) yamlOption920(code uint16, d []byte) {
	r.ind()
	r.optionName920(code)
	extra := false
	switch code {
	case optLLQ:
		if len(d) == 18 {
			r.llq920(d, true)
			r.dst = append(r.dst, '\n')
			return
		}
	case optUL:
		if len(d) == 4 || len(d) == 8 {
			r.indent++
			r.dst = append(r.dst, '\n')
			r.ind()
			r.lease920("LEASE:", be32(d))
			if len(d) == 8 {
				r.ind()
				r.lease920("KEY-LEASE:", be32(d[4:]))
			}
			return
		}
	case optECS:
		if out, ok := appendECS(r.dst, d); ok {
			r.dst = append(out, '\n')
			return
		}
		r.dst = append(r.dst, '\n')
	case optExpire:
		if len(d) == 4 {
			r.lease920("", be32(d))
			return
		}
	case optKeepalive:
		if r.optKeepalive(d) {
			return
		}
	case optChain, optReportChannel:
		if len(d) > 0 && r.nameopt920(d, true) {
			r.dst = append(r.dst, '\n')
			return
		}
	case optKeyTag:
		if len(d) > 0 && len(d)%2 == 0 {
			sep := " ["
			for i := 0; i < len(d); i += 2 {
				r.dst = append(r.dst, sep...)
				r.dst = append(r.dst, ' ')
				r.dst = strconv.AppendUint(r.dst, uint64(be16(d[i:])), 10)
				sep = ","
			}
			r.dst = append(r.dst, " ]\n"...)
			return
		}
	case optEDE:
		d, extra = r.yamlEDE(d)
	case optClientTag, optServerTag:
		if r.optNumber(d) {
			return
		}
	case optCookie:
		if len(d) == 8 || (len(d) >= 16 && len(d) < 40) {
			r.indent++
			r.dst = append(r.dst, '\n')
			r.ind()
			r.dst = append(r.dst, "CLIENT: "...)
			for _, c := range d[:8] {
				r.dst = appendHexByte(r.dst, c)
			}
			r.dst = append(r.dst, '\n')
			if len(d) >= 16 {
				r.ind()
				r.dst = append(r.dst, "SERVER: "...)
				for _, c := range d[8:] {
					r.dst = appendHexByte(r.dst, c)
				}
				r.dst = append(r.dst, '\n')
			}
			return
		}
	}
	r.optionData(code, d, extra, true)
}

// llq920 is 9.20's render_llq: one line in text, one indented key a line in YAML.
func (r *renderer) llq920(d []byte, yaml bool) {
	sep1, sep2 := " ", ", "
	keys := [5]string{"Version: ", "Opcode: ", "Error: ", "Identifier: ", "Lifetime: "}
	if yaml {
		sep1, sep2 = "\n", "\n"
		keys = [5]string{"LLQ-VERSION: ", "LLQ-OPCODE: ", "LLQ-ERROR: ", "LLQ-ID: ", "LLQ-LEASE: "}
		r.indent++
		defer func() { r.indent-- }()
	}
	vals := [5]uint64{uint64(be16(d)), uint64(be16(d[2:])), uint64(be16(d[4:])),
		uint64(be32(d[6:]))<<32 | uint64(be32(d[10:])), uint64(be32(d[14:]))}
	for i, k := range keys {
		if i == 0 {
			r.dst = append(r.dst, sep1...)
		} else {
			r.dst = append(r.dst, sep2...)
		}
		r.ind()
		r.dst = append(r.dst, k...)
		r.dst = strconv.AppendUint(r.dst, vals[i], 10)
	}
}

// lease920 writes key, " secs # ttl text" and a newline (YAML EXPIRE has no key: it follows
// "EXPIRE:").
func (r *renderer) lease920(key string, secs uint32) {
	r.dst = append(r.dst, key...)
	r.dst = append(r.dst, ' ')
	r.dst = strconv.AppendUint(r.dst, uint64(secs), 10)
	r.dst = append(r.dst, " # "...)
	r.dst = appendTTLText(r.dst, secs)
	r.dst = append(r.dst, '\n')
}

// nameopt920 is render_nameopt: when d is exactly one uncompressed domain name it writes
// ` "name"` (dns_name_format: no final dot but for the root; in YAML put_yamlstr-escaped)
// and reports true.
func (r *renderer) nameopt920(d []byte, yaml bool) bool {
	end, ok := uncompressedName(d)
	if !ok || end != len(d) {
		return false
	}
	name := appendName(nil, d)
	if len(name) > 1 {
		name = name[:len(name)-1]
	}
	r.dst = append(r.dst, " \""...)
	if yaml {
		r.dst = appendYAMLStr(r.dst, name, false)
	} else {
		r.dst = append(r.dst, name...)
	}
	r.dst = append(r.dst, '"')
	return true
}

// uncompressedName returns the end of the wire name at the start of b when it is valid
// without compression (labels of at most 63 octets, 255 octets in all).
func uncompressedName(b []byte) (int, bool) {
	for off := 0; off < len(b); {
		c := int(b[off])
		switch {
		case c == 0:
			return off + 1, off+1 <= 255
		case c > 63 || off+1+c > len(b):
			return 0, false
		}
		off += c + 1
	}
	return 0, false
}

// appendYAMLStr is put_yamlstr: printable bytes (and, with utf8ok, bytes above 127) with a
// backslash before \ and ", others as ".".
func appendYAMLStr(dst, d []byte, utf8ok bool) []byte {
	for _, c := range d {
		if isPrint(c) || (utf8ok && c > 127) {
			if c == '\\' || c == '"' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		} else {
			dst = append(dst, '.')
		}
	}
	return dst
}

func printOrDot(c byte) byte {
	if isPrint(c) {
		return c
	}
	return '.'
}
