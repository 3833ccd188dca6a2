package bindtext

import (
	"fmt"
	"strconv"
	"strings"
)

// Format is the BIND release whose dnstap-read output is reproduced. The zero value is
// BIND 9.18's, which the rest of this package documents; the others differ from it only
// where the Format methods say.
type Format uint8

const (
	Format918 Format = iota // BIND 9.18 (Debian 12's bind9-dnsutils 9.18.49): the default
	Format914               // BIND 9.14.12
	Format920               // BIND 9.20.27
)

var formatNames = [...]string{Format918: "9.18", Format914: "9.14", Format920: "9.20"}

// Formats returns the names ParseFormat accepts, oldest first.
func Formats() []string { return []string{"9.14", "9.18", "9.20"} }

// ParseFormat returns the Format of a BIND series ("9.14") or release ("9.14.12").
func ParseFormat(s string) (Format, error) {
	series := s
	if parts := strings.Split(s, "."); len(parts) == 3 {
		series = parts[0] + "." + parts[1]
	}
	for f, n := range formatNames {
		if n == series {
			return Format(f), nil
		}
	}
	return Format918, fmt.Errorf("unknown dnstap-read format %q: known are %s", s, strings.Join(Formats(), ", "))
}

// String returns the BIND series of f: "9.18".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// AppendMessage is the package's AppendMessage as the dnstap-read of f prints it.
func (f Format) AppendMessage(dst, wire []byte, style Style) ([]byte, error) {
	if style > StyleIndent {
		return dst, fmt.Errorf("bindtext: unknown style %d: %w", style, ErrNotRendered)
	}
	m := pool.Get().(*message)
	defer release(m)
	if err := m.parse(wire); err != nil {
		return dst, err
	}
	out, err := m.render(dst, style, f)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// AppendYAML is the package's AppendYAML as the dnstap-read of f prints it.
func (f Format) AppendYAML(dst, wire []byte, query bool) ([]byte, error) {
	m := pool.Get().(*message)
	defer release(m)
	if err := m.parse(wire); err != nil {
		return dst, err
	}
	return m.appendYAML(dst, query, f)
}

// PrintsQueryZone reports whether -y prints query_zone. 9.14's dnstap-read never does: it
// reads the name from a buffer whose active region it never set (isc_buffer_setactive came
// later), so dns_name_fromwire sees no data and fails.
func (f Format) PrintsQueryZone() bool { return f != Format914 }

// keepsDup reports whether a repeated identical singleton (a second SOA, CNAME, DNAME or
// RESINFO equal to the first) is printed: Debian's 9.18 build prints it once, the upstream
// 9.14 and 9.20 twice.
func (f Format) keepsDup() bool { return f != Format918 }

// QuotesYAMLAddresses reports whether -y prints query_address and response_address in
// double quotes (9.18 and later: "192.0.2.1"; 9.14: 192.0.2.1).
func (f Format) QuotesYAMLAddresses() bool { return f != Format914 }

// notIn914 are the types BIND 9.14.12 has no rdata code for (lib/dns/rdata/): it names
// them TYPEnnn and prints their data as unknown (\# length hex).
var notIn914 = map[uint16]bool{64: true, 65: true, 66: true, 67: true, 68: true, 261: true, 262: true}

// Lacks reports whether type t, which BIND 9.18 knows, is one the dnstap-read of f does
// not: it names it TYPEnnn and prints its data as unknown. SVCB, HTTPS, DSYNC, HHIT, BRID,
// RESINFO and WALLET are newer than 9.14.
func (f Format) Lacks(t uint16) bool { return f == Format914 && notIn914[t] }

// KnowsType reports whether the dnstap-read of f names type t in message text and prints
// its data in its own format.
func (f Format) KnowsType(t uint16) bool { return knownType(t) && !f.Lacks(t) }

// AppendType appends the type's name as the dnstap-read of f prints it in message text:
// the mnemonic, or TYPEnnn.
func (f Format) AppendType(dst []byte, t uint16) []byte {
	if f.Lacks(t) {
		return strconv.AppendUint(append(dst, "TYPE"...), uint64(t), 10)
	}
	return appendType(dst, t)
}

func (r *renderer) knownType(t uint16) bool                { return r.f.KnowsType(t) }
func (r *renderer) appendType(dst []byte, t uint16) []byte { return r.f.AppendType(dst, t) }
