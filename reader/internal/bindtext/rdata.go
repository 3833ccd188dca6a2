package bindtext

import "strconv"

// Per-type fromwire (checks, and names uncompressed into m.buf) and totext, after
// lib/dns/rdata/*/*.c of BIND 9.18. Outside the master-file multiline style, tctx->width is
// 60 and tctx->linebreak is " ", so base64 and hex fields break into words of 56
// characters separated by one space.

const (
	wordWidth = 60 - 2
	lineBreak = " "
)

// rdr walks one record's rdata on the wire while fromwire copies it into m.buf.
type rdr struct {
	m        *message
	off, end int
}

func (r *rdr) left() int { return r.end - r.off }

func (r *rdr) fail(what string) error { return r.m.fail(what, r.off) }

func (r *rdr) fixed(n int) error {
	if r.left() < n {
		return r.fail("rdata too short")
	}
	r.m.buf = append(r.m.buf, r.m.wire[r.off:r.off+n]...)
	r.off += n
	return nil
}

func (r *rdr) rest() {
	r.m.buf = append(r.m.buf, r.m.wire[r.off:r.end]...)
	r.off = r.end
}

func (r *rdr) name() error {
	if r.off >= r.end {
		return r.fail("rdata too short for a name")
	}
	off, err := r.m.name(r.off, r.end)
	if err != nil {
		return err
	}
	if off > r.end {
		return r.fail("name runs past the rdata")
	}
	r.off = off
	return nil
}

// txt is txt_fromwire: one <character-string>.
func (r *rdr) txt() error {
	if r.left() < 1 || int(r.m.wire[r.off])+1 > r.left() {
		return r.fail("character-string runs past the rdata")
	}
	return r.fixed(int(r.m.wire[r.off]) + 1)
}

func (r *rdr) peek(i int) byte { return r.m.wire[r.off+i] }

// classSpecific reports types that BIND implements only for class IN (in_1/), so that
// in other classes they are unknown rdata.
func classSpecific(t uint16) bool {
	switch t {
	case typeA, typeWKS, typeNSAP, typeNSAPPTR, typePX, typeAAAA, typeEID, typeNIMLOC, typeSRV,
		typeATMA, typeKX, typeA6, typeAPL, typeDHCID, typeSVCB, typeHTTPS:
		return true
	}
	return false
}

// rdataFromWire applies BIND's fromwire checks for type t in class to the rdata at
// wire[off:end]: the type's own checks where BIND has code for it in that class, none
// (unknown data) otherwise; the rdata must be used up exactly.
func (m *message) rdataFromWire(t, class uint16, off, end int) error {
	r := &m.rd
	*r = rdr{m: m, off: off, end: end}
	if t == 0 {
		return r.fail("record type 0")
	}
	generic := !classSpecific(t) || class == classIN
	if t == typeA && (class == classCH || class == classHS) {
		generic = true
	}
	var err error
	if generic {
		err = r.fromWire(t, class)
	} else {
		r.rest()
	}
	if err != nil {
		return err
	}
	if r.off != r.end {
		return r.fail("extra data after rdata")
	}
	return nil
}

func (r *rdr) fromWire(t, class uint16) error {
	if f := rrTable(t).fromWire; f != nil {
		return f(r, t, class)
	}
	return r.generic(t)
}

// generic is fromwire for a type without checks of its own here (or one whose checks pass
// it on): an error for a type BIND renders that this package does not, else any content.
func (r *rdr) generic(t uint16) error {
	if known, ok := unsupported[t]; ok && known {
		return &parseError{what: "record type " + typeNames[t], offset: r.off, err: ErrUnsupported}
	}
	// Types BIND does not know: generic rdata, any content.
	r.rest()
	return nil
}

// unsupported lists the types BIND 9.18 implements that this package does not render.
var unsupported = map[uint16]bool{}

func (r *renderer) rdata(dst []byte, rec *record) ([]byte, error) {
	m := r.m
	rd := m.buf[rec.rd : rec.rd+rec.rdlen]
	t, class := rec.typ, rec.class
	if classSpecific(t) && class != classIN && !(t == typeA && (class == classCH || class == classHS)) {
		return appendUnknown(dst, rd), nil
	}
	if r.f.Lacks(t) {
		return appendUnknown(dst, rd), nil
	}
	if f := rrTable(t).text; f != nil {
		return f(r, dst, rd, t, class)
	}
	return appendUnknown(dst, rd), nil
}

// appendUnknown is unknown_totext: \# length hex.
func appendUnknown(dst, rd []byte) []byte {
	dst = append(dst, "\\# "...)
	dst = strconv.AppendUint(dst, uint64(len(rd)), 10)
	if len(rd) != 0 {
		dst = append(dst, ' ')
		dst = appendHex(dst, rd, wordWidth, lineBreak)
	}
	return dst
}

// appendIPv6 is inet_totext(AF_INET6): in YAML an address ending in "::" gets a "0".
func (r *renderer) appendIPv6(dst, a []byte) []byte {
	dst = appendIPv6(dst, a)
	if r.yaml && r.f != Format914 && dst[len(dst)-1] == ':' { // 9.14's inet_totext adds no "0"
		dst = append(dst, '0')
	}
	return dst
}

// knownType is dns_rdatatype_isknown.
func knownType(t uint16) bool {
	_, ok := typeNames[t]
	return ok
}

// countLabels is the number of labels of an uncompressed name, the root not counted.
func countLabels(name []byte) int {
	n := 0
	for i := 0; i < len(name) && name[i] != 0; i += int(name[i]) + 1 {
		n++
	}
	return n
}

// rrType is what this package reproduces of one RR type: BIND's fromwire checks and its
// totext. The rdata_<family>.go files register theirs (onWire, onText); a type with neither
// is checked and printed as unknown rdata.
type rrType struct {
	fromWire func(r *rdr, t, class uint16) error
	text     func(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error)
}

var (
	rrDense  [263]rrType // types 0 to 262, looked up per record
	rrSparse = map[uint16]*rrType{}
)

func rrTable(t uint16) *rrType {
	if int(t) < len(rrDense) {
		return &rrDense[t]
	}
	if e := rrSparse[t]; e != nil {
		return e
	}
	return &rrType{}
}

func rrEntry(t uint16) *rrType {
	if int(t) < len(rrDense) {
		return &rrDense[t]
	}
	if rrSparse[t] == nil {
		rrSparse[t] = &rrType{}
	}
	return rrSparse[t]
}

func onWire(f func(r *rdr, t, class uint16) error, types ...uint16) {
	for _, t := range types {
		rrEntry(t).fromWire = f
	}
}

func onText(f func(r *renderer, dst, rd []byte, t, class uint16) ([]byte, error), types ...uint16) {
	for _, t := range types {
		rrEntry(t).text = f
	}
}
