package reader

import (
	"strconv"
	"strings"

	"github.com/dnstapkit/dnstapkit/reader/internal/bindtext"
)

// rrTypeNames are BIND 9.18's type mnemonics as dnstap-read's summary line prints them
// (dns_rdatatype_format): the ones bindtext prints in message text, plus KEYDATA, which the
// summary line names but the message text shows as TYPE65533 (both checked against
// dnstap-read).
var rrTypeNames = func() map[uint16]string {
	m := bindtext.TypeNames()
	m[65533] = "KEYDATA"
	return m
}()

var rrTypeByName = func() map[string]uint16 {
	m := make(map[string]uint16, len(rrTypeNames))
	for k, v := range rrTypeNames {
		m[v] = k
	}
	return m
}()

// typeText is a dense table for the common types, filled from rrTypeNames.
var typeText = func() [300]string {
	var t [300]string
	for i := range t {
		if s, ok := rrTypeNames[uint16(i)]; ok {
			t[i] = s
		}
	}
	return t
}()

// appendType appends BIND's text for an RR type ("AAAA", or "TYPE65000" when unknown).
func appendType(dst []byte, t uint16) []byte {
	if int(t) < len(typeText) && typeText[t] != "" {
		return append(dst, typeText[t]...)
	}
	if s, ok := rrTypeNames[t]; ok {
		return append(dst, s...)
	}
	return strconv.AppendUint(append(dst, "TYPE"...), uint64(t), 10)
}

// TypeString returns BIND's text for an RR type.
func TypeString(t uint16) string { return string(appendType(nil, t)) }

// parseType accepts a mnemonic ("aaaa", any case) or "TYPEn" or a decimal number.
func parseType(s string) (uint16, bool) {
	u := upper(s)
	if t, ok := rrTypeByName[u]; ok {
		return t, true
	}
	if len(u) > 4 && u[:4] == "TYPE" {
		u = u[4:]
	}
	n, err := strconv.ParseUint(u, 10, 16)
	return uint16(n), err == nil
}

// appendClass appends BIND's text for a class ("IN", or "CLASS42").
func appendClass(dst []byte, c uint16) []byte { return bindtext.AppendClass(dst, c) }

// RcodeString returns BIND's name of an rcode ("NXDOMAIN", "BADVERS", or "RCODE<n>"): the
// mnemonic bindtext prints in message text, except that the unassigned 11 to 15 are
// "RCODE<n>" here, not "RESERVED<n>".
func RcodeString(r uint16) string {
	if n := rcodeName(r); n != "" {
		return n
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// rcodeName is bindtext.RcodeName without the RESERVEDn names.
func rcodeName(r uint16) string {
	if n := bindtext.RcodeName(r); !strings.HasPrefix(n, "RESERVED") {
		return n
	}
	return ""
}

// maxNamedRcode is the highest rcode bindtext.RcodeName names (BADCOOKIE).
const maxNamedRcode = 23

// parseRcode accepts a name ("nxdomain", any case) or a decimal number.
func parseRcode(s string) (uint16, bool) {
	u := upper(s)
	for r := uint16(0); r <= maxNamedRcode; r++ {
		if n := rcodeName(r); n != "" && n == u {
			return r, true
		}
	}
	u = trimPrefix(u, "RCODE")
	n, err := strconv.ParseUint(u, 10, 12)
	return uint16(n), err == nil
}

func trimPrefix(s, p string) string {
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
