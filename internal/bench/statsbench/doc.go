// Package statsbench is behind `go tool mage bench:stats`: it builds a large Frame Streams file from real
// BIND captures (their frames repeated, each copy shifted in time), then times dnstap-reader
// stats against the seed's approach (a short python3 Frame Streams + protobuf script that
// counts qtypes and top names) and `dnstap-read | sort | uniq -c`, reporting messages per
// second and peak memory of each.
package statsbench
