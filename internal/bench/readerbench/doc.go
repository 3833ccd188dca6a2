// Package readerbench times dnstap-reader against the programs it replaces (BIND's
// dnstap-read, dnstap-ldns and golang-dnstap's dnstap) on one capture of real BIND frames
// repeated to a million messages or more, and prints messages per second, CPU time, peak
// memory (bench.Measure) and the ratios. `go tool mage bench:reader` runs it.
package readerbench
