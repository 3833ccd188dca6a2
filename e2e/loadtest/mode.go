package loadtest

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode is one way of running named: which logging it does and who listens on the dnstap socket.
type Mode int

// The modes of the load test. ModeCollectorDefault is mode 3 with BIND's default fstrm-set-*
// settings, to show what the tuned settings buy.
const (
	ModeNone             Mode = 1 // no query logging
	ModeQuerylog         Mode = 2 // querylog yes, into a file channel
	ModeCollector        Mode = 3 // dnstap client+auth into dnstap-collector
	ModeFstrmCapture     Mode = 4 // dnstap client+auth into fstrm_capture
	ModeNoListener       Mode = 5 // dnstap configured, nothing listening on the socket
	ModeCollectorDefault Mode = 6 // as mode 3, with BIND's default fstrm-set-* settings
)

// AllModes lists every mode in order.
var AllModes = []Mode{ModeNone, ModeQuerylog, ModeCollector, ModeFstrmCapture, ModeNoListener, ModeCollectorDefault}

// String names the mode for tables and logs.
func (m Mode) String() string {
	switch m {
	case ModeNone:
		return "no logging"
	case ModeQuerylog:
		return "querylog to file"
	case ModeCollector:
		return "dnstap -> dnstap-collector"
	case ModeFstrmCapture:
		return "dnstap -> fstrm_capture"
	case ModeNoListener:
		return "dnstap, nothing listening"
	case ModeCollectorDefault:
		return "dnstap -> dnstap-collector, fstrm defaults"
	}
	return fmt.Sprintf("mode %d", int(m))
}

// Dnstap reports whether named sends dnstap in this mode.
func (m Mode) Dnstap() bool { return m >= ModeCollector }

// Collector names the program that listens on the dnstap socket, or "" for none.
func (m Mode) Collector() string {
	switch m {
	case ModeCollector, ModeCollectorDefault:
		return "dnstap-collector"
	case ModeFstrmCapture:
		return "fstrm_capture"
	}
	return ""
}

// ParseModes reads a comma-separated list of mode numbers ("1,2,3").
func ParseModes(s string) ([]Mode, error) {
	var modes []Mode
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < int(ModeNone) || n > int(ModeCollectorDefault) {
			return nil, fmt.Errorf("invalid mode %q: must be a number from 1 to 6", f)
		}
		modes = append(modes, Mode(n))
	}
	if len(modes) == 0 {
		return nil, fmt.Errorf("no mode in %q", s)
	}
	return modes, nil
}
