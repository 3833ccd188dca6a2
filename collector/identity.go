package collector

import (
	"crypto/tls"
	"encoding/binary"
	"strings"
)

// IdentityVar in the output template (-w) is replaced by the sender's identity, so that a
// central collector writes one stream of files per sender:
// /var/log/dnstap/%{identity}/%Y%m%d-%H%M.fstrm.
const IdentityVar = "%{identity}"

// Identity limits and fallbacks.
const (
	maxIdentityLen = 64
	// unknownIdentity names senders with no usable identity (no TLS client certificate and
	// no dnstap identity field in their first frame).
	unknownIdentity = "unknown"
	// overflowIdentity takes the frames of new identities once maxIdentities exist: they are
	// kept, never dropped, and a warning names the identity refused.
	overflowIdentity = "_overflow"
	maxIdentities    = 1024
)

// hasIdentity reports whether an output template names files per sender identity.
func hasIdentity(template string) bool { return strings.Contains(template, IdentityVar) }

// withIdentity returns the template with the (sanitised) identity in place of %{identity}.
func withIdentity(template, identity string) string {
	return strings.ReplaceAll(template, IdentityVar, identity)
}

// SanitizeIdentity turns a sender's identity (a certificate CN, a dnstap identity field, any
// bytes) into a safe path element: letters, digits, '-', '_' and '.' are kept, every other
// byte (a '/', a control character, a byte of a multi-byte character) becomes '_'; leading
// dots become '_' (no ".", "..", or hidden names); at most 64 bytes; empty gives "unknown".
func SanitizeIdentity(id []byte) string {
	if len(id) > maxIdentityLen {
		id = id[:maxIdentityLen]
	}
	b := make([]byte, 0, len(id))
	leading := true
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok || (leading && c == '.') {
			c = '_'
		}
		leading = leading && c == '_'
		b = append(b, c)
	}
	if len(b) == 0 {
		return unknownIdentity
	}
	return string(b)
}

// tlsIdentity returns the identity of a TLS client: the CN of its certificate, else its
// first DNS name; "" when it sent no certificate.
func tlsIdentity(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	cert := cs.PeerCertificates[0]
	if cert.Subject.CommonName != "" {
		return SanitizeIdentity([]byte(cert.Subject.CommonName))
	}
	if len(cert.DNSNames) > 0 {
		return SanitizeIdentity([]byte(cert.DNSNames[0]))
	}
	return ""
}

// dnstapIdentity returns the identity field (field 1, bytes) of a protobuf dnstap.Dnstap
// message, or nil when it has none or the message is malformed. It is the one place the
// collector looks inside a frame, once per connection, and only when the output template
// has %{identity} and the sender has no TLS certificate. Nothing here allocates.
func dnstapIdentity(msg []byte) []byte {
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return nil
		}
		msg = msg[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0: // varint
			_, n := binary.Uvarint(msg)
			if n <= 0 {
				return nil
			}
			msg = msg[n:]
		case 1: // fixed64
			if len(msg) < 8 {
				return nil
			}
			msg = msg[8:]
		case 5: // fixed32
			if len(msg) < 4 {
				return nil
			}
			msg = msg[4:]
		case 2: // length-delimited
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return nil
			}
			if field == 1 {
				return msg[n : n+int(l)]
			}
			msg = msg[n+int(l):]
		default: // groups (3, 4) are not in dnstap.proto; 6, 7 do not exist
			return nil
		}
	}
	return nil
}

// frameIdentity returns the sanitised dnstap identity of the first data frame of frames
// (whole frames as on the wire: 4-byte length, payload).
func frameIdentity(frames []byte) string {
	if len(frames) < 4 {
		return unknownIdentity
	}
	n := int(binary.BigEndian.Uint32(frames))
	if n > len(frames)-4 {
		return unknownIdentity
	}
	return SanitizeIdentity(dnstapIdentity(frames[4 : 4+n]))
}
