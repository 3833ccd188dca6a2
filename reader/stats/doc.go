// Package stats summarises dnstap messages for `dnstap-reader stats`: totals by message type,
// transport and family; the rate over time; qtype, rcode and response-size distributions; top
// names, registered domains and clients by queries, NXDOMAIN and SERVFAIL; query-to-response
// latency; and abnormal signals (long or high-entropy labels, many unique subdomains, high
// NXDOMAIN ratios, TXT/NULL/ANY-heavy clients, bursts, domains absent from a baseline).
//
// Memory is bounded whatever the input: top tables are space-saving sketches whose error
// bound is reported, latency quantiles come from a log-bucket sketch with 1% relative error,
// and unique names are told apart by a Bloom filter. Config.Exact counts exactly instead.
//
//	s := stats.New(stats.Config{TopN: 10})
//	d, err := reader.Open("dnstap.fstrm")
//	...
//	var rec stats.Record
//	for {
//		m, err := d.Next()
//		if err == io.EOF {
//			break
//		}
//		...
//		stats.FromMessage(&rec, m)
//		s.Add(&rec)
//	}
//	rep := s.Report()
//	stats.WriteText(os.Stdout, rep)
package stats
