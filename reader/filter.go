package reader

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Filter selects messages. Every criterion that is set must match (AND); within one
// criterion any listed value may match (OR). The zero Filter matches everything.
type Filter struct {
	Types   []MessageType  // message types (CQ, CR, ...)
	QNames  []string       // qname suffixes on label boundaries, any case: "example.com" matches it and "www.Example.com"; "*.example.com" only names below it
	QTypes  []uint16       // question types
	Rcodes  []uint16       // response codes (extended by EDNS); a message without a DNS header never matches
	Clients []netip.Prefix // query_address (the client of a CQ/CR, the server itself for RQ/RR) within one of these
	Since   time.Time      // Time() at or after Since (zero: no lower bound)
	Until   time.Time      // Time() before Until (zero: no upper bound)

	suffixes []suffix
}

type suffix struct {
	name  []byte // lower case, without the final dot; empty for the root
	below bool   // "*.name": only names below name, not name itself
}

// Match reports whether m passes the filter.
func (f *Filter) Match(m *Message) bool {
	if len(f.Types) > 0 && !contains(f.Types, m.Type) {
		return false
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		t := m.Time()
		if t.IsZero() || (!f.Since.IsZero() && t.Before(f.Since)) || (!f.Until.IsZero() && !t.Before(f.Until)) {
			return false
		}
	}
	if len(f.Clients) > 0 {
		a, ok := netip.AddrFromSlice(m.QueryAddress)
		if !ok {
			return false
		}
		in := false
		for _, p := range f.Clients {
			if p.Contains(a) || (a.Is4In6() && p.Contains(a.Unmap())) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if len(f.QNames) == 0 && len(f.QTypes) == 0 && len(f.Rcodes) == 0 {
		return true
	}
	d := m.DNS()
	if len(f.Rcodes) > 0 && (len(m.Wire()) < 12 || !contains(f.Rcodes, d.Rcode())) {
		return false
	}
	if len(f.QTypes) > 0 && (!d.HasQuestion || !contains(f.QTypes, d.QType)) {
		return false
	}
	if len(f.QNames) > 0 {
		if !d.HasQuestion {
			return false
		}
		if f.suffixes == nil {
			for _, s := range f.QNames {
				s = strings.ToLower(s)
				rest, below := strings.CutPrefix(s, "*.")
				if s == "*" {
					rest, below = "", true
				}
				f.suffixes = append(f.suffixes, suffix{[]byte(strings.TrimSuffix(rest, ".")), below})
			}
		}
		ok := false
		for _, s := range f.suffixes {
			if nameHasSuffix(d.QName, s.name) && !(s.below && isName(d.QName, s.name)) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// isName reports whether the presentation name is suffix itself (any case, with or without
// its final dot; the root is "." and the empty suffix).
func isName(name, suffix []byte) bool {
	n := bytes.TrimSuffix(name, []byte("."))
	return len(n) == len(suffix) && bytes.EqualFold(n, suffix)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// nameHasSuffix reports whether the presentation name equals suffix or ends with
// "."+suffix, ignoring ASCII case. The empty suffix (from ".") matches every name.
func nameHasSuffix(name, suffix []byte) bool {
	if len(suffix) == 0 {
		return true
	}
	if len(name) < len(suffix) {
		return false
	}
	tail := name[len(name)-len(suffix):]
	for i := range tail {
		c := tail[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != suffix[i] {
			return false
		}
	}
	if len(name) == len(suffix) {
		return true
	}
	// The byte before must be an unescaped dot.
	i := len(name) - len(suffix) - 1
	if name[i] != '.' {
		return false
	}
	bs := 0
	for j := i - 1; j >= 0 && name[j] == '\\'; j-- {
		bs++
	}
	return bs%2 == 0
}

// ParseQNames checks a comma-separated list of qname suffixes ("example.com,*.example.net"):
// a wildcard may only be the whole first label, and no label may be empty.
func ParseQNames(s string) ([]string, error) {
	var out []string
	for _, f := range splitList(s) {
		rest := strings.TrimPrefix(f, "*.")
		if f == "*" || f == "." {
			rest = ""
		}
		switch {
		case strings.Contains(rest, "*"):
			return nil, fmt.Errorf("invalid qname %q: a wildcard must be the whole first label, as in *.example.com", f)
		case rest != "" && strings.Contains("."+strings.TrimSuffix(rest, ".")+".", ".."):
			return nil, fmt.Errorf("invalid qname %q: empty label", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseTypes parses a comma-separated list of message types ("CQ,CR" or "CLIENT_QUERY").
func ParseTypes(s string) ([]MessageType, error) {
	var out []MessageType
	for _, f := range splitList(s) {
		t, ok := parseMessageType(f)
		if !ok {
			return nil, fmt.Errorf("invalid message type %q: must be one of AQ AR RQ RR CQ CR FQ FR SQ SR TQ TR UQ UR", f)
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseQTypes parses a comma-separated list of RR types ("A,AAAA,TYPE65").
func ParseQTypes(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range splitList(s) {
		t, ok := parseType(f)
		if !ok {
			return nil, fmt.Errorf("invalid qtype %q: must be a type name, TYPEn or a number 0-65535", f)
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseRcodes parses a comma-separated list of rcodes ("NXDOMAIN,SERVFAIL,5").
func ParseRcodes(s string) ([]uint16, error) {
	var out []uint16
	for _, f := range splitList(s) {
		r, ok := parseRcode(f)
		if !ok {
			return nil, fmt.Errorf("invalid rcode %q: must be a name such as NXDOMAIN or a number 0-4095", f)
		}
		out = append(out, r)
	}
	return out, nil
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes or addresses.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitList(s) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("invalid client %q: must be an address or CIDR prefix such as 192.0.2.0/24", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ParseTime parses a time bound: RFC 3339 ("2026-12-01T10:00:00Z", with or without
// fractional seconds), or a duration before now ("15m" means 15 minutes ago).
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("invalid time %q: must be RFC 3339 (2026-12-01T10:00:00Z) or a duration before now (15m)", s)
}

// splitList splits a comma-separated flag value ("CQ, CR,") into its non-blank items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
