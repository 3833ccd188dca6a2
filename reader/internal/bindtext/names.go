package bindtext

import "strconv"

// The DNS mnemonic tables of the module, one home each: RR types (dns_rdatatype_totext)
// and rcodes (dns_rcode_totext). The reader's summary line, filters and stats use these
// through TypeNames and RcodeName.

var typeNames = func() map[uint16]string {
	names := map[uint16]string{
		1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
		10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT",
		17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR",
		24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
		31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT",
		38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP",
		45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3",
		51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY",
		58: "TALINK", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD",
		64: "SVCB", 65: "HTTPS", 66: "DSYNC", 67: "HHIT", 68: "BRID", 99: "SPF",
		100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32",
		106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG",
		251: "IXFR", 252: "AXFR", 253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI",
		257: "CAA", 258: "AVC", 259: "DOA", 260: "AMTRELAY", 261: "RESINFO", 262: "WALLET",
		32768: "TA", 32769: "DLV", // KEYDATA (65533) prints as TYPE65533 in messages
	}
	return names
}()

var typeNameArr = func() (a [263]string) {
	for t, n := range typeNames {
		if int(t) < len(a) {
			a[t] = n
		}
	}
	return a
}()

// TypeNames returns a copy of the type mnemonics BIND 9.18 prints in message text
// (dns_rdatatype_totext), keyed by type number. Types not in it print as TYPEnnn.
func TypeNames() map[uint16]string {
	m := make(map[uint16]string, len(typeNames))
	for t, n := range typeNames {
		m[t] = n
	}
	return m
}

// The RR types of typeNames, named as their mnemonics (dash dropped: typeNSAPPTR).
const (
	typeA          = 1
	typeNS         = 2
	typeMD         = 3
	typeMF         = 4
	typeCNAME      = 5
	typeSOA        = 6
	typeMB         = 7
	typeMG         = 8
	typeMR         = 9
	typeNULL       = 10
	typeWKS        = 11
	typePTR        = 12
	typeHINFO      = 13
	typeMINFO      = 14
	typeMX         = 15
	typeTXT        = 16
	typeRP         = 17
	typeAFSDB      = 18
	typeX25        = 19
	typeISDN       = 20
	typeRT         = 21
	typeNSAP       = 22
	typeNSAPPTR    = 23
	typeSIG        = 24
	typeKEY        = 25
	typePX         = 26
	typeGPOS       = 27
	typeAAAA       = 28
	typeLOC        = 29
	typeNXT        = 30
	typeEID        = 31
	typeNIMLOC     = 32
	typeSRV        = 33
	typeATMA       = 34
	typeNAPTR      = 35
	typeKX         = 36
	typeCERT       = 37
	typeA6         = 38
	typeDNAME      = 39
	typeSINK       = 40
	typeOPT        = 41
	typeAPL        = 42
	typeDS         = 43
	typeSSHFP      = 44
	typeIPSECKEY   = 45
	typeRRSIG      = 46
	typeNSEC       = 47
	typeDNSKEY     = 48
	typeDHCID      = 49
	typeNSEC3      = 50
	typeNSEC3PARAM = 51
	typeTLSA       = 52
	typeSMIMEA     = 53
	typeHIP        = 55
	typeNINFO      = 56
	typeRKEY       = 57
	typeTALINK     = 58
	typeCDS        = 59
	typeCDNSKEY    = 60
	typeOPENPGPKEY = 61
	typeCSYNC      = 62
	typeZONEMD     = 63
	typeSVCB       = 64
	typeHTTPS      = 65
	typeDSYNC      = 66
	typeHHIT       = 67
	typeBRID       = 68
	typeSPF        = 99
	typeUINFO      = 100
	typeUID        = 101
	typeGID        = 102
	typeUNSPEC     = 103
	typeNID        = 104
	typeL32        = 105
	typeL64        = 106
	typeLP         = 107
	typeEUI48      = 108
	typeEUI64      = 109
	typeTKEY       = 249
	typeTSIG       = 250
	typeIXFR       = 251
	typeAXFR       = 252
	typeMAILB      = 253
	typeMAILA      = 254
	typeANY        = 255
	typeURI        = 256
	typeCAA        = 257
	typeAVC        = 258
	typeDOA        = 259
	typeAMTRELAY   = 260
	typeRESINFO    = 261
	typeWALLET     = 262
	typeTA         = 32768
	typeDLV        = 32769

	typeKEYDATA = 65533 // not in typeNames: message text prints TYPE65533
)

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RESERVED11", "RESERVED12",
	"RESERVED13", "RESERVED14", "RESERVED15", "BADVERS"}

// rcodeBadCookie is the one rcode above BADVERS that dns_rcode_totext names.
const rcodeBadCookie = 23

// RcodeName returns BIND's mnemonic of an rcode as message text prints it
// (dns_rcode_totext: NOERROR ... NOTZONE, RESERVED11 ... RESERVED15, BADVERS, BADCOOKIE),
// or "" for one without.
func RcodeName(rc uint16) string {
	switch {
	case int(rc) < len(rcodeNames):
		return rcodeNames[rc]
	case rc == rcodeBadCookie:
		return "BADCOOKIE"
	}
	return ""
}

// appendRcode is dns_rcode_totext: the mnemonic, or the number.
func appendRcode(dst []byte, rc uint16) []byte {
	if n := RcodeName(rc); n != "" {
		return append(dst, n...)
	}
	return strconv.AppendUint(dst, uint64(rc), 10)
}

// appendType is dns_rdatatype_totext: the mnemonic, or TYPEnnn.
func appendType(dst []byte, t uint16) []byte {
	if int(t) < len(typeNameArr) {
		if n := typeNameArr[t]; n != "" {
			return append(dst, n...)
		}
	} else if n, ok := typeNames[t]; ok {
		return append(dst, n...)
	}
	dst = append(dst, "TYPE"...)
	return strconv.AppendUint(dst, uint64(t), 10)
}
