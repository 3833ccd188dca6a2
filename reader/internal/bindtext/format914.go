package bindtext

import "strconv"

// This file mirrors the EDNS option rendering of BIND 9.14.12's
// dns_message_pseudosectiontotext and dns_message_pseudosectiontoyaml (lib/dns/message.c),
// where they differ from 9.18's: an option's name is written without a colon and ": " comes
// only before its data ("; NSID" for an empty NSID, 9.18 "; NSID:"), PAD reads
// "; PAD (71 bytes)", EDE (15) is not known, and in YAML neither is TCP-KEEPALIVE (11); an
// option 9.14 does not know is "; OPT=15: ..." in text and "OPT: 15" on a line of its own,
// its data on the next, in YAML.

// textOption914 is one option of 9.14's dns_message_pseudosectiontotext.
func (r *renderer) textOption914(code uint16, d []byte) {
	r.ind()
	switch code {
	case optLLQ: // LLQ
		if len(d) == 18 {
			r.dst = append(r.dst, "; LLQ:"...)
			r.llq(d)
			r.dst = append(r.dst, '\n')
			return
		}
		r.dst = append(r.dst, "; LLQ"...)
	case optNSID:
		r.dst = append(r.dst, "; NSID"...)
	case optCookie:
		r.dst = append(r.dst, "; COOKIE"...)
	case optECS:
		r.dst = append(r.dst, "; CLIENT-SUBNET"...)
		save := len(r.dst)
		var ok bool
		if r.dst, ok = appendECS(append(r.dst, ':'), d); ok {
			r.dst = append(r.dst, '\n')
			return
		}
		r.dst = r.dst[:save]
	case optExpire:
		if len(d) == 4 {
			r.expire914("; EXPIRE: ", d)
			return
		}
		r.dst = append(r.dst, "; EXPIRE"...)
	case optKeepalive:
		if len(d) == 2 {
			r.dst = append(r.dst, "; TCP KEEPALIVE:"...)
			r.optKeepalive(d)
			return
		}
		r.dst = append(r.dst, "; TCP KEEPALIVE"...)
	case optPad:
		r.dst = append(r.dst, "; PAD"...)
		r.optPadText(d)
		return
	case optKeyTag:
		r.dst = append(r.dst, "; KEY-TAG"...)
		if r.keyTags914(d) {
			return
		}
	case optClientTag, optServerTag:
		if r.tag914(code, d, "; ") {
			return
		}
	default:
		r.dst = append(r.dst, "; OPT="...)
		r.dst = strconv.AppendUint(r.dst, uint64(code), 10)
	}
	r.optData914(code, d)
	r.dst = append(r.dst, '\n')
}

// yamlOption914 is one option of 9.14's dns_message_pseudosectiontoyaml.
func (r *renderer) yamlOption914(code uint16, d []byte) {
	switch code {
	case optLLQ:
		r.ind()
		if len(d) == 18 {
			r.dst = append(r.dst, "LLQ: "...) // render_llq starts with " Version": two spaces
			r.llq(d)
			r.dst = append(r.dst, '\n')
			return
		}
		r.dst = append(r.dst, "LLQ"...)
	case optNSID:
		r.ind()
		r.dst = append(r.dst, "NSID"...)
	case optCookie:
		r.ind()
		r.dst = append(r.dst, "COOKIE"...)
	case optECS:
		r.ind()
		r.dst = append(r.dst, "CLIENT-SUBNET"...)
		save := len(r.dst)
		var ok bool
		if r.dst, ok = appendECS(append(r.dst, ':'), d); ok {
			r.dst = append(r.dst, '\n')
			return
		}
		// A malformed one: a newline, then the data on a line of its own.
		r.dst = append(r.dst[:save], '\n')
	case optExpire:
		if len(d) == 4 {
			r.ind()
			r.expire914("EXPIRE: ", d)
			return
		}
		r.ind()
		r.dst = append(r.dst, "EXPIRE"...)
	case optPad:
		r.ind()
		r.dst = append(r.dst, "PAD"...)
	case optKeyTag:
		r.ind()
		r.dst = append(r.dst, "KEY-TAG"...)
		if r.keyTags914(d) {
			return
		}
	case optClientTag, optServerTag:
		r.ind()
		if r.tag914(code, d, "") {
			return
		}
	default:
		// TCP-KEEPALIVE (11), EDE (15) and every other: the code on a line of its own.
		r.ind()
		r.dst = append(r.dst, "OPT: "...)
		r.dst = strconv.AppendUint(r.dst, uint64(code), 10)
		r.dst = append(r.dst, '\n')
	}
	r.optData914(code, d)
	r.dst = append(r.dst, '\n')
}

// optData914 is the shared tail of both: ": " and the bytes in hex (each followed by a
// space, COOKIE's not), then, but for COOKIE and CLIENT-SUBNET, the printable bytes in
// ("...") with "." for the others.
func (r *renderer) optData914(code uint16, d []byte) {
	if len(d) == 0 {
		return
	}
	r.dst = append(r.dst, ": "...)
	for _, c := range d {
		r.dst = appendHexByte(r.dst, c)
		if code != optCookie {
			r.dst = append(r.dst, ' ')
		}
	}
	if code == optCookie || code == optECS {
		return
	}
	r.dst = append(r.dst, "(\""...)
	for _, c := range d {
		if isPrint(c) {
			r.dst = append(r.dst, c)
		} else {
			r.dst = append(r.dst, '.')
		}
	}
	r.dst = append(r.dst, "\")"...)
}

// expire914 writes label, the seconds, " (", their dns_ttl_totext and ")\n".
func (r *renderer) expire914(label string, d []byte) {
	secs := be32(d)
	r.dst = append(r.dst, label...)
	r.dst = strconv.AppendUint(r.dst, uint64(secs), 10)
	r.dst = append(r.dst, " ("...)
	r.dst = appendTTLText(r.dst, secs)
	r.dst = append(r.dst, ")\n"...)
}

// keyTags914 writes ": 1, 2\n" for a KEY-TAG of whole tags and reports whether it did.
func (r *renderer) keyTags914(d []byte) bool {
	if len(d) == 0 || len(d)%2 != 0 {
		return false
	}
	sep := ": "
	for i := 0; i < len(d); i += 2 {
		r.dst = append(r.dst, sep...)
		r.dst = strconv.AppendUint(r.dst, uint64(be16(d[i:])), 10)
		sep = ", "
	}
	r.dst = append(r.dst, '\n')
	return true
}

// tag914 writes CLIENT-TAG or SERVER-TAG (after prefix), and ": n\n" when the option holds
// one tag; it reports whether the option is done.
func (r *renderer) tag914(code uint16, d []byte, prefix string) bool {
	r.dst = append(r.dst, prefix...)
	if code == optClientTag {
		r.dst = append(r.dst, "CLIENT-TAG"...)
	} else {
		r.dst = append(r.dst, "SERVER-TAG"...)
	}
	if len(d) != 2 {
		return false
	}
	r.dst = append(r.dst, ": "...)
	r.dst = strconv.AppendUint(r.dst, uint64(be16(d)), 10)
	r.dst = append(r.dst, '\n')
	return true
}
