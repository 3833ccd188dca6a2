package reader

import "strconv"

// rrTypeNames are BIND 9.18's type mnemonics (lib/dns/rdata/*/*_<n>.c and the meta types
// gen.c adds), as dns_rdatatype_format prints them.
var rrTypeNames = map[uint16]string{
	1:     "A",
	2:     "NS",
	3:     "MD",
	4:     "MF",
	5:     "CNAME",
	6:     "SOA",
	7:     "MB",
	8:     "MG",
	9:     "MR",
	10:    "NULL",
	11:    "WKS",
	12:    "PTR",
	13:    "HINFO",
	14:    "MINFO",
	15:    "MX",
	16:    "TXT",
	17:    "RP",
	18:    "AFSDB",
	19:    "X25",
	20:    "ISDN",
	21:    "RT",
	22:    "NSAP",
	23:    "NSAP-PTR",
	24:    "SIG",
	25:    "KEY",
	26:    "PX",
	27:    "GPOS",
	28:    "AAAA",
	29:    "LOC",
	30:    "NXT",
	31:    "EID",
	32:    "NIMLOC",
	33:    "SRV",
	34:    "ATMA",
	35:    "NAPTR",
	36:    "KX",
	37:    "CERT",
	38:    "A6",
	39:    "DNAME",
	40:    "SINK",
	41:    "OPT",
	42:    "APL",
	43:    "DS",
	44:    "SSHFP",
	45:    "IPSECKEY",
	46:    "RRSIG",
	47:    "NSEC",
	48:    "DNSKEY",
	49:    "DHCID",
	50:    "NSEC3",
	51:    "NSEC3PARAM",
	52:    "TLSA",
	53:    "SMIMEA",
	55:    "HIP",
	56:    "NINFO",
	57:    "RKEY",
	58:    "TALINK",
	59:    "CDS",
	60:    "CDNSKEY",
	61:    "OPENPGPKEY",
	62:    "CSYNC",
	63:    "ZONEMD",
	64:    "SVCB",
	65:    "HTTPS",
	66:    "DSYNC",
	67:    "HHIT",
	68:    "BRID",
	99:    "SPF",
	104:   "NID",
	105:   "L32",
	106:   "L64",
	107:   "LP",
	108:   "EUI48",
	109:   "EUI64",
	249:   "TKEY",
	250:   "TSIG",
	256:   "URI",
	257:   "CAA",
	258:   "AVC",
	259:   "DOA",
	260:   "AMTRELAY",
	261:   "RESINFO",
	262:   "WALLET",
	32768: "TA",
	32769: "DLV",
	65533: "KEYDATA",
	100:   "UINFO",
	101:   "UID",
	102:   "GID",
	103:   "UNSPEC",
	251:   "IXFR",
	252:   "AXFR",
	253:   "MAILB",
	254:   "MAILA",
	255:   "ANY",
}

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

// AppendType appends BIND's text for an RR type ("AAAA", or "TYPE65000" when unknown).
func AppendType(dst []byte, t uint16) []byte {
	if int(t) < len(typeText) && typeText[t] != "" {
		return append(dst, typeText[t]...)
	}
	if s, ok := rrTypeNames[t]; ok {
		return append(dst, s...)
	}
	return strconv.AppendUint(append(dst, "TYPE"...), uint64(t), 10)
}

// TypeString returns BIND's text for an RR type.
func TypeString(t uint16) string { return string(AppendType(nil, t)) }

// ParseType accepts a mnemonic ("aaaa", any case) or "TYPEn" or a decimal number.
func ParseType(s string) (uint16, bool) {
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

// AppendClass appends BIND's text for a class ("IN", or "CLASS42").
func AppendClass(dst []byte, c uint16) []byte {
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
	return strconv.AppendUint(append(dst, "CLASS"...), uint64(c), 10)
}

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

// RcodeString returns BIND's name of an rcode ("NXDOMAIN", "BADVERS", or "RCODE<n>").
func RcodeString(r uint16) string {
	if int(r) < len(rcodeNames) {
		return rcodeNames[r]
	}
	if r == 16 {
		return "BADVERS"
	}
	if r == 23 {
		return "BADCOOKIE"
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// ParseRcode accepts a name ("nxdomain", any case) or a decimal number.
func ParseRcode(s string) (uint16, bool) {
	u := upper(s)
	for i, n := range rcodeNames {
		if n == u {
			return uint16(i), true
		}
	}
	switch u {
	case "BADVERS":
		return 16, true
	case "BADCOOKIE":
		return 23, true
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
