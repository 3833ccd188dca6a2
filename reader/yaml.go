package reader

import (
	"bytes"
	"strconv"
	"time"
)

// appendYAML is dnstap-read -y's print_yaml for one message (skipsFrame already checked).
func (p *Printer) appendYAML(dst []byte, m *Message) []byte {
	if p.notFirst {
		dst = append(dst, "---\n"...)
	}
	p.notFirst = true
	dst = append(dst, "type: MESSAGE\n"...)
	if m.Identity != nil {
		dst = append(append(dst, "identity: "...), cString(m.Identity)...)
		dst = append(dst, '\n')
	}
	if m.Version != nil {
		dst = append(append(dst, "version: "...), cString(m.Version)...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "message:\n  type: "...)
	dst = append(dst, m.Type.String()...)
	dst = append(dst, '\n')
	if m.Type.IsQuery() {
		if sec, nsec, ok := m.QueryTimeSec, m.QueryTimeNsec, m.HasQueryTimeSec && m.HasQueryTimeNsec; ok && (uint32(sec) != 0 || nsec != 0) {
			dst = appendISO8601(append(dst, "  query_time: !!timestamp "...), int64(uint32(sec)))
		}
	} else if sec, nsec, ok := m.ResponseTimeSec, m.ResponseTimeNsec, m.HasResponseTimeSec && m.HasResponseTimeNsec; ok && (uint32(sec) != 0 || nsec != 0) {
		dst = appendISO8601(append(dst, "  response_time: !!timestamp "...), int64(uint32(sec)))
	}
	dst = append(dst, "  message_size: "...)
	dst = strconv.AppendUint(dst, uint64(len(m.Wire())), 10)
	dst = append(dst, "b\n"...)
	if s := m.SocketFamily.String(); s != "" {
		dst = append(append(append(dst, "  socket_family: "...), s...), '\n')
	}
	if m.SocketProtocol == ProtoTCP {
		dst = append(dst, "  socket_protocol: TCP\n"...)
	} else {
		dst = append(dst, "  socket_protocol: UDP\n"...)
	}
	quote := ""
	if p.Format.QuotesYAMLAddresses() {
		quote = "\""
	}
	if m.QueryAddress != nil {
		dst = append(appendIP(append(append(dst, "  query_address: "...), quote...), yamlAddr(m.QueryAddress)), quote+"\n"...)
	}
	if m.ResponseAddress != nil {
		dst = append(appendIP(append(append(dst, "  response_address: "...), quote...), yamlAddr(m.ResponseAddress)), quote+"\n"...)
	}
	if m.HasQueryPort {
		dst = append(strconv.AppendUint(append(dst, "  query_port: "...), uint64(m.QueryPort), 10), '\n')
	}
	if m.HasResponsePort {
		dst = append(strconv.AppendUint(append(dst, "  response_port: "...), uint64(m.ResponsePort), 10), '\n')
	}
	if m.QueryZone != nil && p.Format.PrintsQueryZone() {
		if end, ok := skipName(m.QueryZone, 0); ok && end > 0 && !hasPointer(m.QueryZone) {
			dst = append(dst, "  query_zone: "...)
			dst = appendName(dst, m.QueryZone, 0)
			if len(m.QueryZone) > 1 {
				dst = append(dst, '.')
			}
			dst = append(dst, '\n')
		}
	}
	if ok, _ := m.BINDParses(); ok {
		dst, _ = p.msg.AppendYAML(dst, m.Type.IsQuery()) // parsed in Append
	}
	return dst
}

// hasPointer reports whether a valid wire name uses compression (BIND reads query_zone
// with DNS_DECOMPRESS_NONE and rejects it then).
func hasPointer(b []byte) bool {
	for off := 0; off < len(b); {
		c := int(b[off])
		if c&0xc0 != 0 {
			return true
		}
		if c == 0 {
			return false
		}
		off += c + 1
	}
	return false
}

// yamlAddr mirrors print_yaml's inet_ntop(len == 4 ? AF_INET : AF_INET6, ...), which reads
// 16 bytes for any other length; missing bytes are taken as zero.
func yamlAddr(a []byte) []byte {
	if len(a) == 4 || len(a) == 16 {
		return a
	}
	var b [16]byte
	copy(b[:], a)
	return b[:]
}

// cString is printf("%.*s"): the bytes up to the first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// appendISO8601 is isc_time_formatISO8601: "%Y-%m-%dT%H:%M:%SZ" in UTC, and a newline.
func appendISO8601(dst []byte, sec int64) []byte {
	dst = time.Unix(sec, 0).UTC().AppendFormat(dst, "2006-01-02T15:04:05Z")
	return append(dst, '\n')
}
