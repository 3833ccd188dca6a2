package reader

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// MessageType is dnstap's Message.Type (1 AUTH_QUERY ... 14 UPDATE_RESPONSE).
type MessageType uint32

// The dnstap message types.
const (
	AuthQuery         MessageType = 1
	AuthResponse      MessageType = 2
	ResolverQuery     MessageType = 3
	ResolverResponse  MessageType = 4
	ClientQuery       MessageType = 5
	ClientResponse    MessageType = 6
	ForwarderQuery    MessageType = 7
	ForwarderResponse MessageType = 8
	StubQuery         MessageType = 9
	StubResponse      MessageType = 10
	ToolQuery         MessageType = 11
	ToolResponse      MessageType = 12
	UpdateQuery       MessageType = 13
	UpdateResponse    MessageType = 14
)

var typeMnemonics = [...]string{"", "AQ", "AR", "RQ", "RR", "CQ", "CR", "FQ", "FR", "SQ", "SR", "TQ", "TR", "UQ", "UR"}

var typeNames = [...]string{"", "AUTH_QUERY", "AUTH_RESPONSE", "RESOLVER_QUERY", "RESOLVER_RESPONSE",
	"CLIENT_QUERY", "CLIENT_RESPONSE", "FORWARDER_QUERY", "FORWARDER_RESPONSE", "STUB_QUERY",
	"STUB_RESPONSE", "TOOL_QUERY", "TOOL_RESPONSE", "UPDATE_QUERY", "UPDATE_RESPONSE"}

// Valid reports whether t is one of the 14 types BIND knows.
func (t MessageType) Valid() bool { return t >= AuthQuery && t <= UpdateResponse }

// IsQuery reports whether t is a query type (AQ, RQ, CQ, FQ, SQ, TQ, UQ).
func (t MessageType) IsQuery() bool { return t.Valid() && t%2 == 1 }

// Mnemonic returns the two-letter form dnstap-read prints ("CQ"), or "" for an unknown type.
func (t MessageType) Mnemonic() string {
	if !t.Valid() {
		return ""
	}
	return typeMnemonics[t]
}

// String returns the protobuf enum name ("CLIENT_QUERY"), or "TYPE<n>".
func (t MessageType) String() string {
	if !t.Valid() {
		return fmt.Sprintf("TYPE%d", uint32(t))
	}
	return typeNames[t]
}

// parseMessageType accepts a mnemonic ("CQ") or an enum name ("CLIENT_QUERY"), any case.
func parseMessageType(s string) (MessageType, bool) {
	for i := 1; i < len(typeNames); i++ {
		if equalFold(s, typeMnemonics[i]) || equalFold(s, typeNames[i]) {
			return MessageType(i), true
		}
	}
	return 0, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// SocketFamily is dnstap's SocketFamily: 1 INET, 2 INET6; 0 when absent.
type SocketFamily uint32

// SocketProtocol is dnstap's SocketProtocol: 1 UDP, 2 TCP, 3 DOT, 4 DOH, 5 DNSCryptUDP,
// 6 DNSCryptTCP, 7 DOQ; 0 when absent.
type SocketProtocol uint32

// Socket families and protocols.
const (
	FamilyINET  SocketFamily   = 1
	FamilyINET6 SocketFamily   = 2
	ProtoUDP    SocketProtocol = 1
	ProtoTCP    SocketProtocol = 2
	ProtoDOT    SocketProtocol = 3
	ProtoDOH    SocketProtocol = 4
)

var protoNames = [...]string{"", "UDP", "TCP", "DOT", "DOH", "DNSCryptUDP", "DNSCryptTCP", "DOQ"}

// String returns the enum name ("INET6"), or "" when absent or unknown.
func (f SocketFamily) String() string {
	switch f {
	case FamilyINET:
		return "INET"
	case FamilyINET6:
		return "INET6"
	}
	return ""
}

// String returns the enum name ("TCP"), or "" when absent or unknown.
func (p SocketProtocol) String() string {
	if int(p) < len(protoNames) {
		return protoNames[p]
	}
	return ""
}

// DnstapTypeMessage is the only Dnstap.type value: the frame carries a Message.
const DnstapTypeMessage = 1

// Message is one decoded dnstap frame (the Dnstap envelope and its Message), flattened.
// Byte slices point into the decoder's buffer: they are valid until the next call to Next.
// A slice is nil when its field is absent, and non-nil (possibly empty) when present.
type Message struct {
	Identity []byte // Dnstap.identity (server name)
	Version  []byte // Dnstap.version (server software)
	Extra    []byte // Dnstap.extra

	DnstapType uint32 // Dnstap.type; 1 (DnstapTypeMessage) for every frame that carries a message
	HasMessage bool   // Dnstap.message is present; the fields below are meaningful only then

	Type           MessageType
	SocketFamily   SocketFamily   // 0 when absent
	SocketProtocol SocketProtocol // 0 when absent

	QueryAddress    []byte // 4 or 16 bytes for IPv4/IPv6
	ResponseAddress []byte
	QueryPort       uint32
	ResponsePort    uint32
	HasQueryPort    bool
	HasResponsePort bool

	QueryTimeSec        uint64
	QueryTimeNsec       uint32
	HasQueryTimeSec     bool
	HasQueryTimeNsec    bool
	ResponseTimeSec     uint64
	ResponseTimeNsec    uint32
	HasResponseTimeSec  bool
	HasResponseTimeNsec bool

	QueryMessage    []byte // DNS wire format
	ResponseMessage []byte // DNS wire format
	QueryZone       []byte // DNS wire-format name

	dns         DNS
	dnsDone     bool
	name        []byte
	checkDone   bool
	checkParses bool
	checkSkip   bool
}

func (m *Message) reset() {
	name := m.name
	*m = Message{name: name[:0]}
}

// IsQuery reports whether the message type is a query type.
func (m *Message) IsQuery() bool { return m.Type.IsQuery() }

// Wire returns the DNS message that BIND's dnstap-read shows: query_message for a query type,
// response_message for a response type; nil when that field is absent.
func (m *Message) Wire() []byte {
	if m.Type.IsQuery() {
		return m.QueryMessage
	}
	return m.ResponseMessage
}

// QueryTime returns query_time, or the zero time.Time when either half is absent.
func (m *Message) QueryTime() time.Time {
	if !m.HasQueryTimeSec || !m.HasQueryTimeNsec {
		return time.Time{}
	}
	return time.Unix(int64(m.QueryTimeSec), int64(m.QueryTimeNsec))
}

// ResponseTime returns response_time, or the zero time.Time when either half is absent.
func (m *Message) ResponseTime() time.Time {
	if !m.HasResponseTimeSec || !m.HasResponseTimeNsec {
		return time.Time{}
	}
	return time.Unix(int64(m.ResponseTimeSec), int64(m.ResponseTimeNsec))
}

// Time returns the time dnstap-read shows: query_time for a query type, response_time for a
// response type (the zero time when absent).
func (m *Message) Time() time.Time {
	if m.Type.IsQuery() {
		return m.QueryTime()
	}
	return m.ResponseTime()
}

// timeParts is Time without building a time.Time: seconds, nanoseconds and presence.
func (m *Message) timeParts() (uint64, uint32, bool) {
	if m.Type.IsQuery() {
		return m.QueryTimeSec, m.QueryTimeNsec, m.HasQueryTimeSec && m.HasQueryTimeNsec
	}
	return m.ResponseTimeSec, m.ResponseTimeNsec, m.HasResponseTimeSec && m.HasResponseTimeNsec
}

var (
	errWireType = errors.New("wrong wire type")
	errRequired = errors.New("missing required field")
)

// Field numbers of dnstap.proto.
const (
	fIdentity = 1
	fVersion  = 2
	fExtra    = 3
	fMessage  = 14
	fType     = 15

	fmType            = 1
	fmSocketFamily    = 2
	fmSocketProtocol  = 3
	fmQueryAddress    = 4
	fmResponseAddress = 5
	fmQueryPort       = 6
	fmResponsePort    = 7
	fmQueryTimeSec    = 8
	fmQueryTimeNsec   = 9
	fmQueryMessage    = 10
	fmQueryZone       = 11
	fmResponseTimeSec = 12
	fmResponseTimeNs  = 13
	fmResponseMessage = 14
)

// Unmarshal decodes one dnstap frame (the protobuf message of a Frame Streams data frame,
// without its length) into m, which then refers to frame's bytes. Errors name the field.
func (m *Message) Unmarshal(frame []byte) error { return m.unmarshal(frame) }

// unmarshal decodes a Dnstap protobuf. Like protobuf-c (which BIND uses) it rejects a known
// field with the wrong wire type and a missing required field; unknown fields are skipped.
func (m *Message) unmarshal(b []byte) error {
	m.reset()
	hasType := false
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return fmt.Errorf("tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch num {
		case fIdentity, fVersion, fExtra, fMessage:
			if typ != protowire.BytesType {
				return fmt.Errorf("field %d: %w", num, errWireType)
			}
			v, n := consumeBytes(b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case fIdentity:
				m.Identity = v
			case fVersion:
				m.Version = v
			case fExtra:
				m.Extra = v
			case fMessage:
				if err := m.unmarshalMessage(v); err != nil {
					return fmt.Errorf("message: %w", err)
				}
			}
		case fType:
			if typ != protowire.VarintType {
				return fmt.Errorf("field %d: %w", num, errWireType)
			}
			v, n := consumeVarint(b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			m.DnstapType = uint32(v)
			hasType = true
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	if !hasType {
		return fmt.Errorf("type: %w", errRequired)
	}
	return nil
}

func (m *Message) unmarshalMessage(b []byte) error {
	hasType := m.HasMessage && m.Type != 0 // a repeated message field merges
	m.HasMessage = true
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return fmt.Errorf("tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		switch num {
		case fmType, fmSocketFamily, fmSocketProtocol, fmQueryPort, fmResponsePort, fmQueryTimeSec, fmResponseTimeSec:
			if typ != protowire.VarintType {
				return fmt.Errorf("field %d: %w", num, errWireType)
			}
			v, n := consumeVarint(b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case fmType:
				m.Type = MessageType(v)
				hasType = true
			case fmSocketFamily:
				m.SocketFamily = SocketFamily(v)
			case fmSocketProtocol:
				m.SocketProtocol = SocketProtocol(v)
			case fmQueryPort:
				m.QueryPort, m.HasQueryPort = uint32(v), true
			case fmResponsePort:
				m.ResponsePort, m.HasResponsePort = uint32(v), true
			case fmQueryTimeSec:
				m.QueryTimeSec, m.HasQueryTimeSec = v, true
			case fmResponseTimeSec:
				m.ResponseTimeSec, m.HasResponseTimeSec = v, true
			}
		case fmQueryTimeNsec, fmResponseTimeNs:
			if typ != protowire.Fixed32Type {
				return fmt.Errorf("field %d: %w", num, errWireType)
			}
			v, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			if num == fmQueryTimeNsec {
				m.QueryTimeNsec, m.HasQueryTimeNsec = v, true
			} else {
				m.ResponseTimeNsec, m.HasResponseTimeNsec = v, true
			}
		case fmQueryAddress, fmResponseAddress, fmQueryMessage, fmQueryZone, fmResponseMessage:
			if typ != protowire.BytesType {
				return fmt.Errorf("field %d: %w", num, errWireType)
			}
			v, n := consumeBytes(b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
			switch num {
			case fmQueryAddress:
				m.QueryAddress = v
			case fmResponseAddress:
				m.ResponseAddress = v
			case fmQueryMessage:
				m.QueryMessage = v
			case fmQueryZone:
				m.QueryZone = v
			case fmResponseMessage:
				m.ResponseMessage = v
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	if !hasType {
		return fmt.Errorf("type: %w", errRequired)
	}
	return nil
}

// consumeTag is protowire.ConsumeTag with an inlinable fast path for one-byte tags.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 && b[0]>>3 != 0 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return protowire.ConsumeTag(b)
}

// consumeVarint is protowire.ConsumeVarint with a fast path for one and two bytes.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	if len(b) > 1 && b[1] < 0x80 {
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, 2
	}
	return protowire.ConsumeVarint(b)
}

// consumeBytes is protowire.ConsumeBytes with a fast path for lengths below 16384.
func consumeBytes(b []byte) ([]byte, int) {
	l, n := consumeVarint(b)
	if n < 0 {
		return nil, n
	}
	if l > uint64(len(b)-n) {
		return nil, -1 // protowire: truncated (io.ErrUnexpectedEOF)
	}
	return b[n : n+int(l) : n+int(l)], n + int(l)
}
