package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
)

// listFlag is a comma-separated list that may be given more than once; the values add up
// (--type CQ --type CR is --type CQ,CR). An empty list or item is refused.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			if strings.TrimSpace(s) == "" {
				return errors.New("empty list")
			}
			return fmt.Errorf("empty item in %q", s)
		}
		*l = append(*l, f)
	}
	return nil
}

func (l listFlag) joined() string { return strings.Join(l, ",") }

// filterFlags are the message filters that dnstap-reader and its stats subcommand share
// (--type --qname --qtype --rcode --client --since --until).
type filterFlags struct {
	types, qnames, qtypes, rcodes, clients listFlag
	since, until                           string
}

// register adds the filter flags to fs.
func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.types, "type", "")
	fs.Var(&f.qnames, "qname", "")
	fs.Var(&f.qtypes, "qtype", "")
	fs.Var(&f.rcodes, "rcode", "")
	fs.Var(&f.clients, "client", "")
	for name, dst := range map[string]*string{"since": &f.since, "until": &f.until} {
		fs.Func(name, "", func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("empty time")
			}
			*dst = s
			return nil
		})
	}
}

// filter parses the flags into a reader.Filter; --since and --until given as a duration
// count back from now. Errors name the flag.
func (f *filterFlags) filter(now time.Time) (reader.Filter, error) {
	var flt reader.Filter
	var err error
	if flt.Types, err = reader.ParseTypes(f.types.joined()); err != nil {
		return flt, fmt.Errorf("--type: %w", err)
	}
	if flt.QNames, err = reader.ParseQNames(f.qnames.joined()); err != nil {
		return flt, fmt.Errorf("--qname: %w", err)
	}
	if flt.QTypes, err = reader.ParseQTypes(f.qtypes.joined()); err != nil {
		return flt, fmt.Errorf("--qtype: %w", err)
	}
	if flt.Rcodes, err = reader.ParseRcodes(f.rcodes.joined()); err != nil {
		return flt, fmt.Errorf("--rcode: %w", err)
	}
	if flt.Clients, err = reader.ParsePrefixes(f.clients.joined()); err != nil {
		return flt, fmt.Errorf("--client: %w", err)
	}
	if f.since != "" {
		if flt.Since, err = reader.ParseTime(f.since, now); err != nil {
			return flt, fmt.Errorf("--since: %w", err)
		}
	}
	if f.until != "" {
		if flt.Until, err = reader.ParseTime(f.until, now); err != nil {
			return flt, fmt.Errorf("--until: %w", err)
		}
	}
	return flt, nil
}
