// Package loadtest measures what query logging costs BIND: it runs named (Debian's, or any
// binary given) on a private loopback address in each logging mode (none, querylog, dnstap into
// dnstap-collector, dnstap into fstrm_capture, dnstap with nothing listening), drives it with
// dnsperf at the highest rate it sustains, and reports queries/s, latency, lost queries, frames
// captured against queries answered, BIND's own dnstap counters, and the CPU and memory of named
// and of the collector. Results are written as Markdown, JSON and an SVG chart.
//
// The mage target `loadtest` is a thin wrapper around Run; see docs/loadtest.md for the knobs.
package loadtest
