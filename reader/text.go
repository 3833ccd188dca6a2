package reader

import (
	"strconv"
	"time"

	"github.com/dnstapkit/dnstapkit/reader/internal/bindtext"
)

// Mode selects an output format.
type Mode int

// The output modes. The first four are dnstap-read's.
const (
	ModeText  Mode = iota // dnstap-read: one line per message
	ModeHex               // dnstap-read -x: the line, then the DNS message in hex
	ModePrint             // dnstap-read -p: the line, then the DNS message as text
	ModeYAML              // dnstap-read -y
	ModeJSON              // one JSON object per line (NDJSON)
)

// Format is the BIND release whose dnstap-read the text, -x, -p and -y output follows; the
// zero value is BIND 9.18's. ParseFormat reads one ("9.14").
type Format = bindtext.Format

// The formats: BIND 9.18's dnstap-read is the default; 9.14's differs in -p and -y, 9.20's
// nowhere seen (see docs/reader.md).
const (
	Format918 = bindtext.Format918
	Format914 = bindtext.Format914
	Format920 = bindtext.Format920
)

// ParseFormat returns the Format of a BIND series ("9.14") or release ("9.14.12").
func ParseFormat(s string) (Format, error) { return bindtext.ParseFormat(s) }

// Printer renders messages in one Mode. Its zero value prints ModeText in the local time zone.
// It keeps state between messages (the YAML document separator, a timestamp cache), so use
// one Printer per output stream. It is not safe for concurrent use.
type Printer struct {
	Mode     Mode
	Location *time.Location // time zone of the text timestamps; nil means time.Local
	Format   Format         // whose dnstap-read the output follows (default 9.18)

	notFirst bool
	lastSec  int64
	lastLoc  *time.Location
	stamp    []byte           // "01-Dec-2026 02:18:41" for lastSec
	msg      bindtext.Message // -p and -y: the message parsed once, for the verdict and the text
}

// skipsFrame reports whether BIND's dnstap-read prints nothing for m: a frame without a message,
// a message type it does not know, or a DNS message that parses but has no question.
func skipsFrame(m *Message) bool {
	if m.DnstapType != DnstapTypeMessage || !m.HasMessage || !m.Type.Valid() {
		return true
	}
	_, skip := m.BINDParses()
	return skip
}

// Append appends m's rendering to dst. It appends nothing where dnstap-read prints nothing
// (see skipsFrame), except in ModeJSON, which renders every frame that carries a message.
func (p *Printer) Append(dst []byte, m *Message) []byte {
	if p.Mode == ModeJSON {
		if !m.HasMessage {
			return dst
		}
		return AppendJSON(dst, m)
	}
	if (p.Mode == ModePrint || p.Mode == ModeYAML) && m.DnstapType == DnstapTypeMessage && m.HasMessage && m.Type.Valid() {
		p.msg.Format = p.Format
		m.check(&p.msg) // the one parse: BINDParses's verdict and the text below
	}
	if skipsFrame(m) {
		return dst
	}
	switch p.Mode {
	case ModeYAML:
		return p.appendYAML(dst, m)
	case ModeHex:
		dst = p.appendLine(dst, m)
		if ok, _ := m.BINDParses(); ok {
			dst = appendHexUpper(dst, m.Wire())
			dst = append(dst, '\n')
		}
		return dst
	case ModePrint:
		dst = p.appendLine(dst, m)
		if ok, _ := m.BINDParses(); ok {
			dst, _ = p.msg.Append(dst, bindtext.StylePrint)
		}
		return dst
	}
	return p.appendLine(dst, m)
}

// appendLine is BIND's dns_dt_datatotext plus the newline dnstap-read adds. When an address
// has a length other than 4 or 16 BIND fails (and prints no line); so does this.
func (p *Printer) appendLine(dst []byte, m *Message) []byte {
	if !addrOK(m.QueryAddress) || !addrOK(m.ResponseAddress) {
		return dst
	}
	sec, nsec, ok := m.timeParts()
	sec = uint64(uint32(sec)) // isc_time_set takes an unsigned int
	if !ok || (sec == 0 && nsec == 0) {
		dst = append(dst, "???\x3f-?\x3f-?? ??:??:??.??? "...)
	} else {
		dst = p.appendStamp(dst, int64(sec))
		ms := nsec / 1e6
		dst = append(dst, '.', byte('0'+ms/100%10), byte('0'+ms/10%10), byte('0'+ms%10), ' ')
		if ms >= 1000 { // BIND would abort on nsec >= 1e9; print the digits it would format
			dst = strconv.AppendUint(dst[:len(dst)-4], uint64(ms), 10)
			dst = append(dst, ' ')
		}
	}
	dst = append(dst, typeMnemonics[m.Type]...)
	dst = append(dst, ' ')
	dst = appendAddrPort(dst, m.QueryAddress, m.QueryPort)
	if m.Type.IsQuery() {
		dst = append(dst, " -> "...)
	} else {
		dst = append(dst, " <- "...)
	}
	dst = appendAddrPort(dst, m.ResponseAddress, m.ResponsePort)
	if m.SocketProtocol == ProtoTCP {
		dst = append(dst, " TCP "...)
	} else {
		dst = append(dst, " UDP "...)
	}
	dst = strconv.AppendUint(dst, uint64(len(m.Wire())), 10)
	dst = append(dst, "b "...)
	if ok, _ := m.BINDParses(); ok {
		d := m.DNS()
		dst = append(dst, d.QName...)
		dst = append(dst, '/')
		dst = appendClass(dst, d.QClass)
		dst = append(dst, '/')
		if p.Format.Lacks(d.QType) {
			dst = strconv.AppendUint(append(dst, "TYPE"...), uint64(d.QType), 10)
		} else {
			dst = appendType(dst, d.QType)
		}
	} else {
		dst = append(dst, "?/?/?"...)
	}
	return append(dst, '\n')
}

func addrOK(a []byte) bool { return len(a) == 0 || len(a) == 4 || len(a) == 16 }

func appendAddrPort(dst, a []byte, port uint32) []byte {
	if len(a) == 0 {
		return append(dst, '?')
	}
	dst = appendIP(dst, a)
	dst = append(dst, ':')
	return strconv.AppendUint(dst, uint64(port), 10)
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendStamp appends strftime("%d-%b-%Y %X") in the C locale for sec, cached per second.
func (p *Printer) appendStamp(dst []byte, sec int64) []byte {
	loc := p.Location
	if loc == nil {
		loc = time.Local
	}
	if sec != p.lastSec || loc != p.lastLoc || p.stamp == nil {
		t := time.Unix(sec, 0).In(loc)
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		b := p.stamp[:0]
		b = append(b, byte('0'+d/10), byte('0'+d%10), '-')
		b = append(b, months[mo-1]...)
		b = append(b, '-')
		if y >= 0 && y < 10000 {
			b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
		} else {
			b = strconv.AppendInt(b, int64(y), 10)
		}
		b = append(b, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10),
			':', byte('0'+s/10), byte('0'+s%10))
		p.stamp, p.lastSec, p.lastLoc = b, sec, loc
	}
	return append(dst, p.stamp...)
}

const hexUpper = "0123456789ABCDEF"

func appendHexUpper(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexUpper[c>>4], hexUpper[c&0xf])
	}
	return dst
}

// appendIP appends the address as glibc's inet_ntop prints it (bindtext.AppendIP).
func appendIP(dst, a []byte) []byte { return bindtext.AppendIP(dst, a) }

const hexLower = "0123456789abcdef"

func appendHexLower(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexLower[c>>4], hexLower[c&0xf])
	}
	return dst
}
