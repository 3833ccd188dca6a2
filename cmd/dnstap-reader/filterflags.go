package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
)

// filterFlags are the message filters that dnstap-reader and its stats subcommand share
// (--type --qname --qtype --rcode --client --since --until).
type filterFlags struct {
	types, qnames, qtypes, rcodes, clients, since, until string
}

// register adds the filter flags to fs.
func (f *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.types, "type", "", "")
	fs.StringVar(&f.qnames, "qname", "", "")
	fs.StringVar(&f.qtypes, "qtype", "", "")
	fs.StringVar(&f.rcodes, "rcode", "", "")
	fs.StringVar(&f.clients, "client", "", "")
	fs.StringVar(&f.since, "since", "", "")
	fs.StringVar(&f.until, "until", "", "")
}

// filter parses the flags into a reader.Filter; --since and --until given as a duration
// count back from now.
func (f *filterFlags) filter(now time.Time) (reader.Filter, error) {
	var flt reader.Filter
	var err error
	if flt.Types, err = reader.ParseTypes(f.types); err != nil {
		return flt, err
	}
	flt.QNames = reader.SplitList(f.qnames)
	if flt.QTypes, err = reader.ParseQTypes(f.qtypes); err != nil {
		return flt, err
	}
	if flt.Rcodes, err = reader.ParseRcodes(f.rcodes); err != nil {
		return flt, err
	}
	if flt.Clients, err = reader.ParsePrefixes(f.clients); err != nil {
		return flt, err
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
