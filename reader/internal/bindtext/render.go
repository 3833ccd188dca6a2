package bindtext

import "strconv"

// This file mirrors dns_message_totext (lib/dns/message.c) and rdataset_totext /
// question_totext (lib/dns/masterdump.c) for the three styles dnstap-read uses.

var (
	sectionNames    = [4]string{"QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL"}
	updSectionNames = [4]string{"ZONE", "PREREQUISITE", "UPDATE", "ADDITIONAL"}
	opcodeNames     = [16]string{"QUERY", "IQUERY", "STATUS", "RESERVED3", "NOTIFY", "UPDATE",
		"RESERVED6", "RESERVED7", "RESERVED8", "RESERVED9", "RESERVED10", "RESERVED11",
		"RESERVED12", "RESERVED13", "RESERVED14", "RESERVED15"}
	edeNames = [...]string{"Other", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type",
		"Stale Answer", "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus",
		"Signature Expired", "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing",
		"No Zone Key Bit Set", "NSEC Missing", "Cached Error", "Not Ready", "Blocked",
		"Censored", "Filtered", "Prohibited", "Stale NXDOMAIN Answer", "Not Authoritative",
		"Not Supported", "No Reachable Authority", "Network Error", "Invalid Data"}
)

const indentUnit = "  " // dnstap-read sets msg->indent to {"  ", 2} for -y

type renderer struct {
	m      *message
	f      Format
	style  Style
	yaml   bool
	indent int // msg->indent.count; used only when the style indents
	dst    []byte
}

func (r *renderer) ind() {
	if r.style == StylePrint {
		return
	}
	for i := 0; i < r.indent; i++ {
		r.dst = append(r.dst, indentUnit...)
	}
}

func (m *message) render(dst []byte, style Style, f Format) ([]byte, error) {
	r := &m.rend
	*r = renderer{m: m, f: f, style: style, yaml: style == StyleYAML, dst: dst}
	defer func() { r.dst = nil }() // the pooled message keeps no caller's buffer
	if style != StylePrint {
		r.indent = 2
	}
	r.header()
	r.optSection()
	for s := secQuestion; s <= secAdditional; s++ {
		if err := r.section(s); err != nil {
			return dst, err
		}
	}
	if err := r.pseudoRR(m.hasTSIG, &m.tsig, "TSIG"); err != nil {
		return dst, err
	}
	if err := r.pseudoRR(m.hasSIG0, &m.sig0, "SIG0"); err != nil {
		return dst, err
	}
	return r.dst, nil
}

func (r *renderer) flags() {
	f := r.m.flags
	for _, b := range [...]struct {
		bit  uint16
		name string
	}{{0x8000, " qr"}, {0x0400, " aa"}, {0x0200, " tc"}, {0x0100, " rd"}, {0x0080, " ra"}, {0x0020, " ad"}, {0x0010, " cd"}} {
		if f&b.bit != 0 {
			r.dst = append(r.dst, b.name...)
		}
	}
}

func (r *renderer) header() {
	m := r.m
	upd := m.opcode == opcodeUpdate
	if r.yaml {
		r.ind()
		r.dst = append(r.dst, "opcode: "...)
		r.dst = append(r.dst, opcodeNames[m.opcode]...)
		r.dst = append(r.dst, '\n')
		r.ind()
		r.dst = append(r.dst, "status: "...)
		r.dst = appendRcode(r.dst, m.rcode)
		r.dst = append(r.dst, '\n')
		r.ind()
		r.dst = append(r.dst, "id: "...)
		if r.f == Format914 {
			r.dst = appendPadded(r.dst, uint64(m.id), 6) // "%6u", as in the text header
		} else {
			r.dst = strconv.AppendUint(r.dst, uint64(m.id), 10)
		}
		r.dst = append(r.dst, '\n')
		r.ind()
		r.dst = append(r.dst, "flags:"...)
		r.flags()
		r.dst = append(r.dst, '\n')
		if m.flags&0x0040 != 0 {
			r.ind()
			r.dst = append(r.dst, "MBZ: 0x4\n"...)
		}
		names := [4]string{"QUESTION: ", "ANSWER: ", "AUTHORITY: ", "ADDITIONAL: "}
		if upd {
			names = [4]string{"ZONE: ", "PREREQ: ", "UPDATE: ", "ADDITIONAL: "}
		}
		for i, n := range names {
			if !(i == 0 && upd && r.f == Format914) { // 9.14 writes "ZONE: " without its indent
				r.ind()
			}
			r.dst = append(r.dst, n...)
			r.dst = strconv.AppendUint(r.dst, uint64(m.counts[i]), 10)
			r.dst = append(r.dst, '\n')
		}
		return
	}
	r.ind()
	r.dst = append(r.dst, ";; ->>HEADER<<- opcode: "...)
	r.dst = append(r.dst, opcodeNames[m.opcode]...)
	r.dst = append(r.dst, ", status: "...)
	r.dst = appendRcode(r.dst, m.rcode)
	r.dst = append(r.dst, ", id: "...)
	r.dst = appendPadded(r.dst, uint64(m.id), 6)
	r.dst = append(r.dst, '\n')
	r.ind()
	r.dst = append(r.dst, ";; flags:"...)
	r.flags()
	if m.flags&0x0040 != 0 {
		r.ind()
		r.dst = append(r.dst, "; MBZ: 0x4"...)
	}
	r.ind()
	if upd {
		r.dst = append(r.dst, "; ZONE: "...)
	} else {
		r.dst = append(r.dst, "; QUESTION: "...)
	}
	r.dst = strconv.AppendUint(r.dst, uint64(m.counts[0]), 10)
	if upd {
		r.dst = append(r.dst, ", PREREQ: "...)
	} else {
		r.dst = append(r.dst, ", ANSWER: "...)
	}
	r.dst = strconv.AppendUint(r.dst, uint64(m.counts[1]), 10)
	if upd {
		r.dst = append(r.dst, ", UPDATE: "...)
	} else {
		r.dst = append(r.dst, ", AUTHORITY: "...)
	}
	r.dst = strconv.AppendUint(r.dst, uint64(m.counts[2]), 10)
	r.dst = append(r.dst, ", ADDITIONAL: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(m.counts[3]), 10)
	r.dst = append(r.dst, '\n')
}

// appendPadded is printf("%*u").
func appendPadded(dst []byte, v uint64, width int) []byte {
	var b [20]byte
	s := strconv.AppendUint(b[:0], v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, ' ')
	}
	return append(dst, s...)
}

func (r *renderer) section(s int) error {
	m := r.m
	lo, hi := 0, 0
	if s == secQuestion {
		lo, hi = 0, m.sec[secAnswer]
	} else {
		lo, hi = m.sec[s], m.sec[s+1]
	}
	if lo == hi {
		return nil
	}
	saved := r.indent
	defer func() { r.indent = saved }()
	name := sectionNames[s]
	if m.opcode == opcodeUpdate {
		name = updSectionNames[s]
	}
	r.ind()
	if r.yaml {
		r.dst = append(r.dst, name...)
		r.dst = append(r.dst, "_SECTION:\n"...)
		r.indent++
	} else {
		r.dst = append(r.dst, ";; "...)
		r.dst = append(r.dst, name...)
		r.dst = append(r.dst, " SECTION:\n"...)
	}
	// Names in order of first appearance, RRsets in order within each name.
	for i := lo; i < hi; i++ {
		if m.recs[i].owner != int32(i) {
			continue
		}
		for j := int32(i); j >= 0; j = m.recs[j].nextSet {
			rec := &m.recs[j]
			if s == secQuestion {
				r.ind()
				if !r.yaml {
					r.dst = append(r.dst, ';')
				}
				r.question(rec)
				continue
			}
			for k := j; k >= 0; k = m.recs[k].nextRec {
				if m.recs[k].dup && !r.f.keepsDup() {
					continue
				}
				if err := r.rr(rec, &m.recs[k]); err != nil {
					return err
				}
			}
		}
	}
	if !r.yaml {
		r.indent = saved
		r.ind()
		r.dst = append(r.dst, '\n')
	}
	return nil
}

// indentTo is masterdump.c's indent() (tabs of 8, then spaces), or one space in YAML.
func (r *renderer) indentTo(col *int, to int) {
	if r.yaml {
		r.dst = append(r.dst, ' ')
		return
	}
	from := *col
	if to < from+1 {
		to = from + 1
	}
	if ntabs := to/8 - from/8; ntabs > 0 {
		for ; ntabs > 0; ntabs-- {
			r.dst = append(r.dst, '\t')
		}
		from = (to / 8) * 8
	}
	for ; from < to; from++ {
		r.dst = append(r.dst, ' ')
	}
	*col = to
}

func (r *renderer) question(q *record) {
	m := r.m
	start := len(r.dst)
	quote := r.yaml && r.f != Format914 // 9.14 writes YAML lists unquoted
	if r.yaml {
		r.dst = append(r.dst, "- "...)
	}
	if quote {
		r.dst = append(r.dst, '\'')
		start = len(r.dst)
	}
	r.dst = appendName(r.dst, m.buf[q.name:q.name+q.nlen])
	col := len(r.dst) - start
	r.indentTo(&col, 32)
	n := len(r.dst)
	r.dst = appendClass(r.dst, q.class)
	col += len(r.dst) - n
	r.indentTo(&col, 40)
	r.dst = r.appendType(r.dst, q.typ)
	if quote {
		r.dst = yamlStringify(r.dst, start)
		r.dst = append(r.dst, '\'')
	}
	r.dst = append(r.dst, '\n')
}

// rr prints one record of the RRset whose first record is head.
func (r *renderer) rr(head, rec *record) error {
	m := r.m
	r.ind()
	start := len(r.dst)
	quote := r.yaml && r.f != Format914
	if r.yaml {
		r.dst = append(r.dst, "- "...)
	}
	if quote {
		r.dst = append(r.dst, '\'')
		start = len(r.dst)
	}
	// The owner is printed as written in the first record of its name in the section
	// (the rdatalist's owner case is taken from that dns_name_t).
	owner := head
	if head != &m.tsig && head != &m.sig0 {
		owner = &m.recs[head.owner]
	}
	r.dst = appendName(r.dst, m.buf[owner.name:owner.name+owner.nlen])
	col := len(r.dst) - start
	r.indentTo(&col, 24)
	n := len(r.dst)
	r.dst = strconv.AppendUint(r.dst, uint64(head.ttl), 10)
	col += len(r.dst) - n
	r.indentTo(&col, 32)
	n = len(r.dst)
	r.dst = appendClass(r.dst, rec.class)
	col += len(r.dst) - n
	r.indentTo(&col, 40)
	n = len(r.dst)
	r.dst = r.appendType(r.dst, rec.typ)
	col += len(r.dst) - n
	r.indentTo(&col, 48)
	if !rec.update {
		var err error
		r.dst, err = r.rdata(r.dst, rec)
		if err != nil {
			return err
		}
	}
	if quote {
		r.dst = yamlStringify(r.dst, start)
		r.dst = append(r.dst, '\'')
	}
	r.dst = append(r.dst, '\n')
	return nil
}

// yamlStringify doubles each single quote written since start.
func yamlStringify(dst []byte, start int) []byte {
	n := 0
	for _, c := range dst[start:] {
		if c == '\'' {
			n++
		}
	}
	if n == 0 {
		return dst
	}
	end := len(dst)
	for i := 0; i < n; i++ {
		dst = append(dst, 0)
	}
	w := len(dst)
	for i := end - 1; i >= start; i-- {
		w--
		dst[w] = dst[i]
		if dst[i] == '\'' {
			w--
			dst[w] = '\''
		}
	}
	return dst
}

func (r *renderer) pseudoRR(has bool, rec *record, what string) error {
	if !has {
		return nil
	}
	r.ind()
	if r.yaml {
		r.dst = append(r.dst, what...)
		r.dst = append(r.dst, "_PSEUDOSECTION:\n"...)
	} else {
		r.dst = append(r.dst, ";; "...)
		r.dst = append(r.dst, what...)
		r.dst = append(r.dst, " PSEUDOSECTION:\n"...)
	}
	// dns_master_rdatasettotext with &msg->indent: the same indentation count.
	if err := r.rr(rec, rec); err != nil {
		return err
	}
	r.dst = append(r.dst, '\n')
	return nil
}

func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

func (r *renderer) optSection() {
	m := r.m
	if !m.hasOPT {
		return
	}
	saved := r.indent
	defer func() { r.indent = saved }()
	ttl := m.opt.ttl
	mbz := ttl & 0xffff &^ 0x8000 &^ 0x4000
	if r.f == Format914 {
		mbz = ttl & 0xffff &^ 0x8000 // 9.14 knows DO only, not CO
	}
	if r.yaml {
		r.ind()
		r.dst = append(r.dst, "OPT_PSEUDOSECTION:\n"...)
		r.indent++
		r.ind()
		r.dst = append(r.dst, "EDNS:\n"...)
		r.indent++
		r.ind()
		r.dst = append(r.dst, "version: "...)
		r.dst = strconv.AppendUint(r.dst, uint64(ttl>>16&0xff), 10)
		r.dst = append(r.dst, '\n')
		r.ind()
		r.dst = append(r.dst, "flags:"...)
		r.ednsFlags(ttl)
		r.dst = append(r.dst, '\n')
		if mbz != 0 {
			r.ind()
			r.dst = append(r.dst, "MBZ: "...)
			r.dst = appendHex4(r.dst, mbz)
			r.dst = append(r.dst, '\n')
		}
		r.ind()
		r.dst = append(r.dst, "udp: "...)
		r.dst = strconv.AppendUint(r.dst, uint64(m.opt.class), 10)
		r.dst = append(r.dst, '\n')
	} else {
		r.ind()
		r.dst = append(r.dst, ";; OPT PSEUDOSECTION:\n"...)
		r.ind()
		r.dst = append(r.dst, "; EDNS: version: "...)
		r.dst = strconv.AppendUint(r.dst, uint64(ttl>>16&0xff), 10)
		r.dst = append(r.dst, ", flags:"...)
		r.ednsFlags(ttl)
		if mbz != 0 {
			r.dst = append(r.dst, "; MBZ: "...)
			r.dst = appendHex4(r.dst, mbz)
			r.dst = append(r.dst, ", udp: "...)
		} else {
			r.dst = append(r.dst, "; udp: "...)
		}
		r.dst = strconv.AppendUint(r.dst, uint64(m.opt.class), 10)
		r.dst = append(r.dst, '\n')
	}
	rd := m.buf[m.opt.rd : m.opt.rd+m.opt.rdlen]
	option := r.option // 9.18, text and YAML
	switch {
	case r.f == Format914 && r.yaml:
		option = r.yamlOption914
	case r.f == Format914:
		option = r.textOption914
	case r.f == Format920 && r.yaml:
		option = r.yamlOption920
	case r.f == Format920:
		option = r.textOption920
	}
	optIndent := r.indent
	for len(rd) >= 4 {
		r.indent = optIndent // a YAML option may nest its keys deeper
		code, n := be16(rd), int(be16(rd[2:]))
		option(code, rd[4:4+n])
		rd = rd[4+n:]
	}
}

func (r *renderer) ednsFlags(ttl uint32) {
	if ttl&0x8000 != 0 {
		r.dst = append(r.dst, " do"...)
	}
	if ttl&0x4000 != 0 && r.f != Format914 {
		r.dst = append(r.dst, " co"...)
	}
}

const hexDigitsLower = "0123456789abcdef"

// appendHex4 is printf("0x%.4x").
func appendHex4(dst []byte, v uint32) []byte {
	dst = append(dst, "0x"...)
	var b [8]byte
	s := strconv.AppendUint(b[:0], uint64(v), 16)
	for i := len(s); i < 4; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func appendHexByte(dst []byte, c byte) []byte {
	return append(dst, hexDigitsLower[c>>4], hexDigitsLower[c&0xf])
}

// ecs renders a CLIENT-SUBNET option as render_ecs does; ok is false when malformed.
func appendECS(dst []byte, d []byte) ([]byte, bool) {
	if len(d) < 4 {
		return dst, false
	}
	family, addrlen, scopelen := be16(d), int(d[2]), int(d[3])
	nb := (addrlen + 7) / 8
	if len(d)-4 < nb || nb > 16 {
		return dst, false
	}
	var addr [16]byte
	copy(addr[:], d[4:4+nb])
	dst = append(dst, ' ')
	switch family {
	case 0:
		if addrlen != 0 || scopelen != 0 {
			return dst, false
		}
		dst = append(dst, '0')
	case 1:
		if addrlen > 32 || scopelen > 32 {
			return dst, false
		}
		dst = appendIPv4(dst, addr[:4])
	case 2:
		if addrlen > 128 || scopelen > 128 {
			return dst, false
		}
		dst = appendIPv6(dst, addr[:])
	default:
		return dst, false
	}
	dst = append(dst, '/')
	dst = strconv.AppendUint(dst, uint64(addrlen), 10)
	dst = append(dst, '/')
	return strconv.AppendUint(dst, uint64(scopelen), 10), true
}

func (r *renderer) llq(d []byte) {
	r.dst = append(r.dst, " Version: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(be16(d)), 10)
	r.dst = append(r.dst, ", Opcode: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(be16(d[2:])), 10)
	r.dst = append(r.dst, ", Error: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(be16(d[4:])), 10)
	r.dst = append(r.dst, ", Identifier: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(be32(d[6:]))<<32|uint64(be32(d[10:])), 10)
	r.dst = append(r.dst, ", Lifetime: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(be32(d[14:])), 10)
}

// optionNames918 are 9.18's EDNS option names: "; NAME:" in text, "NAME:" in YAML (which
// spells TCP-KEEPALIVE with a dash); others are "OPT=<code>:".
var optionNames918 = [...]string{optLLQ: "LLQ", optNSID: "NSID", optECS: "CLIENT-SUBNET",
	optExpire: "EXPIRE", optCookie: "COOKIE", optKeepalive: "TCP KEEPALIVE", optPad: "PAD",
	optKeyTag: "KEY-TAG", optEDE: "EDE", optClientTag: "CLIENT-TAG", optServerTag: "SERVER-TAG"}

// option renders one EDNS option as 9.18's dns_message_pseudosectiontotext does, or with
// r.yaml its dns_message_pseudosectiontoyaml (the caller resets the indent after each).
func (r *renderer) option(code uint16, d []byte) {
	r.ind()
	if !r.yaml {
		r.dst = append(r.dst, "; "...)
	}
	switch {
	case r.yaml && code == optKeepalive:
		r.dst = append(r.dst, "TCP-KEEPALIVE:"...)
	case int(code) < len(optionNames918) && optionNames918[code] != "":
		r.dst = append(append(r.dst, optionNames918[code]...), ':')
	default:
		r.dst = append(r.dst, "OPT="...)
		r.dst = strconv.AppendUint(r.dst, uint64(code), 10)
		r.dst = append(r.dst, ':')
	}
	text := false // the data after the EDE code is text (shown as such when valid UTF-8)
	switch code {
	case optLLQ:
		if len(d) == 18 {
			r.llq(d)
			r.dst = append(r.dst, '\n')
			return
		}
	case optECS:
		save := len(r.dst)
		var ok bool
		if r.dst, ok = appendECS(r.dst, d); ok {
			r.dst = append(r.dst, '\n')
			return
		}
		r.dst = r.dst[:save]
		if r.yaml {
			r.dst = append(r.dst, '\n')
		}
	case optExpire:
		digits := 10
		if r.yaml {
			digits = 9 // BIND's YAML formats " %u" into 11 bytes: 9 digits show
		}
		if r.optExpire(d, digits) {
			return
		}
	case optKeepalive:
		if r.optKeepalive(d) {
			return
		}
	case optPad:
		if !r.yaml {
			r.optPadText(d)
			return
		}
	case optKeyTag:
		if r.optKeyTags(d) {
			return
		}
	case optEDE:
		if r.yaml {
			d, text = r.yamlEDE(d)
			break
		}
		text = true
		var done bool
		if d, done = r.optEDEText(d); done {
			return
		}
	case optClientTag, optServerTag:
		if r.optNumber(d) {
			return
		}
	}
	r.optionData(code, d, text, false)
}

// The pieces of the option renderings that the formats share. Each writes the rest of the
// option's line, newline included, and reports whether the data had the length it takes
// (when false it wrote nothing, and the option's data is shown as bytes).

// optNumber is CLIENT-TAG and SERVER-TAG: " <n>".
func (r *renderer) optNumber(d []byte) bool {
	if len(d) != 2 {
		return false
	}
	r.dst = append(r.dst, ' ')
	r.dst = strconv.AppendUint(r.dst, uint64(be16(d)), 10)
	r.dst = append(r.dst, '\n')
	return true
}

// optKeyTags is KEY-TAG as a list: " 1, 2".
func (r *renderer) optKeyTags(d []byte) bool {
	if len(d) == 0 || len(d)%2 != 0 {
		return false
	}
	for i := 0; i < len(d); i += 2 {
		if i > 0 {
			r.dst = append(r.dst, ',')
		}
		r.dst = append(r.dst, ' ')
		r.dst = strconv.AppendUint(r.dst, uint64(be16(d[i:])), 10)
	}
	r.dst = append(r.dst, '\n')
	return true
}

// optKeepalive is TCP KEEPALIVE: " 1.5 secs".
func (r *renderer) optKeepalive(d []byte) bool {
	if len(d) != 2 {
		return false
	}
	ds := be16(d)
	r.dst = append(r.dst, ' ')
	r.dst = strconv.AppendUint(r.dst, uint64(ds/10), 10)
	r.dst = append(r.dst, '.')
	r.dst = strconv.AppendUint(r.dst, uint64(ds%10), 10)
	r.dst = append(r.dst, " secs\n"...)
	return true
}

// optExpire is EXPIRE: " <secs> (<secs as a TTL>)", the number cut to digits.
func (r *renderer) optExpire(d []byte, digits int) bool {
	if len(d) != 4 {
		return false
	}
	secs := be32(d)
	num := strconv.AppendUint(make([]byte, 0, 10), uint64(secs), 10)
	r.dst = append(r.dst, ' ')
	r.dst = append(r.dst, num[:min(len(num), digits)]...)
	r.dst = append(r.dst, " ("...)
	r.dst = appendTTLText(r.dst, secs)
	r.dst = append(r.dst, ")\n"...)
	return true
}

// optPadText is PAD in text: " (n bytes)" when it has data; it always applies.
func (r *renderer) optPadText(d []byte) {
	if len(d) > 0 {
		r.dst = append(r.dst, " ("...)
		r.dst = strconv.AppendUint(r.dst, uint64(len(d)), 10)
		r.dst = append(r.dst, " bytes)"...)
	}
	r.dst = append(r.dst, '\n')
}

// optEDEText is the start of EDE in text (9.18, 9.20): " <code> (<name>)", and ":" when
// EXTRA-TEXT follows, which it returns; a one-byte option is written whole (done).
func (r *renderer) optEDEText(d []byte) (rest []byte, done bool) {
	switch {
	case len(d) >= 2:
		ede := be16(d)
		r.dst = append(r.dst, ' ')
		r.dst = strconv.AppendUint(r.dst, uint64(ede), 10)
		if int(ede) < len(edeNames) {
			r.dst = append(r.dst, " ("...)
			r.dst = append(r.dst, edeNames[ede]...)
			r.dst = append(r.dst, ')')
		}
		d = d[2:]
		if len(d) != 0 {
			r.dst = append(r.dst, ':')
		}
	case len(d) == 1:
		r.dst = append(r.dst, ' ')
		r.dst = appendHexByte(r.dst, d[0])
		r.dst = append(r.dst, " (\""...)
		r.dst = append(r.dst, printOrDot(d[0]))
		r.dst = append(r.dst, "\")\n"...)
		return d, true
	}
	return d, false
}

// optionData writes how an option's rendering ends in 9.18 and 9.20, text and YAML alike:
// when there is data, " " and the bytes in hex (each followed by a space, COOKIE's not;
// none when text says they are text, EDE's, and valid UTF-8), then, but for COOKIE and
// CLIENT-SUBNET, the printable bytes: in ("...") or, for text, in (...) in -p and "..." in
// YAML; with escape (9.20's YAML) \ and " get a backslash. Then a newline.
func (r *renderer) optionData(code uint16, d []byte, text, escape bool) {
	if len(d) != 0 {
		r.dst = append(r.dst, ' ')
		utf8ok := text && utf8Valid(d)
		if !utf8ok {
			for _, c := range d {
				r.dst = appendHexByte(r.dst, c)
				if code != optCookie {
					r.dst = append(r.dst, ' ')
				}
			}
		}
		if code == optCookie || code == optECS {
			r.dst = append(r.dst, '\n')
			return
		}
		open, close := "(\"", "\")"
		if text && r.yaml {
			open, close = "\"", "\""
		} else if text {
			open, close = "(", ")"
		}
		r.dst = append(r.dst, open...)
		for _, c := range d {
			switch {
			case !isPrint(c) && !(utf8ok && c > 127):
				r.dst = append(r.dst, '.')
			case escape && (c == '\\' || c == '"'):
				r.dst = append(r.dst, '\\', c)
			default:
				r.dst = append(r.dst, c)
			}
		}
		r.dst = append(r.dst, close...)
	}
	r.dst = append(r.dst, '\n')
}

// yamlEDE writes an EDE option's INFO-CODE key (9.18 and 9.20 alike) when it has one, one
// level deeper, and "EXTRA-TEXT:" when text follows; it returns that text and whether
// there is some.
func (r *renderer) yamlEDE(d []byte) ([]byte, bool) {
	if len(d) < 2 {
		return d, false
	}
	ede := be16(d)
	r.dst = append(r.dst, '\n')
	r.indent++
	r.ind()
	r.dst = append(r.dst, "INFO-CODE: "...)
	r.dst = strconv.AppendUint(r.dst, uint64(ede), 10)
	if int(ede) < len(edeNames) {
		r.dst = append(r.dst, " ("...)
		r.dst = append(r.dst, edeNames[ede]...)
		r.dst = append(r.dst, ')')
	}
	r.dst = append(r.dst, '\n')
	d = d[2:]
	if len(d) == 0 {
		return d, false
	}
	r.ind()
	r.dst = append(r.dst, "EXTRA-TEXT:"...)
	return d, true
}

// utf8Valid is isc_utf8_valid.
func utf8Valid(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c <= 0x7f {
			continue
		}
		switch {
		case i+1 < len(b) && c&0xe0 == 0xc0 && b[i+1]&0xc0 == 0x80:
			w := uint32(c&0x1f)<<6 | uint32(b[i+1]&0x3f)
			i++
			if w < 0x80 {
				return false
			}
		case i+2 < len(b) && c&0xf0 == 0xe0 && b[i+1]&0xc0 == 0x80 && b[i+2]&0xc0 == 0x80:
			w := uint32(c&0x0f)<<12 | uint32(b[i+1]&0x3f)<<6 | uint32(b[i+2]&0x3f)
			i += 2
			if w < 0x800 {
				return false
			}
		case i+3 < len(b) && c&0xf8 == 0xf0 && b[i+1]&0xc0 == 0x80 && b[i+2]&0xc0 == 0x80 && b[i+3]&0xc0 == 0x80:
			w := uint32(c&0x07)<<18 | uint32(b[i+1]&0x3f)<<12 | uint32(b[i+2]&0x3f)<<6 | uint32(b[i+3]&0x3f)
			i += 3
			if w < 0x10000 || w > 0x10ffff {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// appendTTLText is dns_ttl_totext(secs, verbose=true, upcase=true).
func appendTTLText(dst []byte, src uint32) []byte {
	secs := src % 60
	src /= 60
	mins := src % 60
	src /= 60
	hours := src % 24
	src /= 24
	days := src % 7
	weeks := src / 7
	x := 0
	unit := func(v uint32, name string) {
		if x > 0 {
			dst = append(dst, ' ')
		}
		dst = strconv.AppendUint(dst, uint64(v), 10)
		dst = append(dst, ' ')
		dst = append(dst, name...)
		if v != 1 {
			dst = append(dst, 's')
		}
		x++
	}
	if weeks != 0 {
		unit(weeks, "week")
	}
	if days != 0 {
		unit(days, "day")
	}
	if hours != 0 {
		unit(hours, "hour")
	}
	if mins != 0 {
		unit(mins, "minute")
	}
	if secs != 0 || x == 0 {
		unit(secs, "second")
	}
	return dst
}
