package stats

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// The kinds of Signal.
const (
	SignalSuspiciousDomain = "suspicious_names_domain" // many names with long or random-looking labels under one domain
	SignalSuspiciousClient = "suspicious_names_client" // one client asking many such names
	SignalManySubdomains   = "many_subdomains"         // many new subdomains (generated-looking or NXDOMAIN names) under one domain
	SignalNXRatio          = "nxdomain_ratio"          // a client whose queries mostly get NXDOMAIN
	SignalTXTNullAny       = "txt_null_any"            // a client heavy on TXT, NULL or ANY
	SignalBurst            = "burst"                   // a second far above the usual rate
	SignalNewDomain        = "new_domain"              // a domain the baseline never saw
)

// maxBurstSignals caps the burst signals listed (the busiest seconds).
const maxBurstSignals = 5

// Signal is one abnormal observation: what (Kind), about whom (Subject: a domain, a client
// address or a time), the measured Value against its Threshold, and a one-line Reason.
type Signal struct {
	Kind      string  `json:"kind"`
	Subject   string  `json:"subject"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Reason    string  `json:"reason"`
	Sample    string  `json:"sample,omitempty"` // an example query name
	Client    string  `json:"client,omitempty"` // for many_subdomains: the client that asked most of them
}

func (s *Stats) signals(r *Report) []Signal {
	th := s.th
	var out []Signal
	// Each kind lists its TopN strongest; the rest are counted in SignalsOmitted.
	limit := func(sig []Signal) []Signal {
		sig = sortSignals(sig)
		if len(sig) > s.cfg.TopN {
			r.SignalsOmitted += uint64(len(sig) - s.cfg.TopN)
			sig = sig[:s.cfg.TopN]
		}
		return sig
	}
	// Counts are judged by their guaranteed part (Count-Err), so an eviction artefact never
	// raises a signal.
	var sus []Signal
	s.suspicious.All(func(e *entryDomain) {
		if n := e.Count - e.Err; n >= th.MinSuspicious {
			sus = append(sus, Signal{Kind: SignalSuspiciousDomain, Subject: e.Key, Value: float64(n),
				Threshold: float64(th.MinSuspicious), Sample: e.Value.sample,
				Reason: fmt.Sprintf("%d queries for names with a label of %d+ bytes or %.1f+ bits/char of entropy (tunnelling, DGA)",
					n, th.LongLabel, th.EntropyBits)})
		}
	})
	out = append(out, limit(sus)...)

	var cl, nx, txt []Signal
	s.clients.All(func(e *entryClient) {
		c := e.Value
		addr := addrKey(e.Key)
		if c.suspicious >= th.MinSuspicious {
			cl = append(cl, Signal{Kind: SignalSuspiciousClient, Subject: addr, Value: float64(c.suspicious),
				Threshold: float64(th.MinSuspicious), Sample: c.sample,
				Reason: fmt.Sprintf("%d of %d queries for names with long or high-entropy labels (tunnelling, DGA)", c.suspicious, c.queries)})
		}
		if c.queries < th.MinClientQueries {
			return
		}
		if ratio := float64(c.nxdomain) / float64(c.queries); ratio >= th.NXRatio {
			nx = append(nx, Signal{Kind: SignalNXRatio, Subject: addr, Value: round3(ratio), Threshold: th.NXRatio,
				Reason: fmt.Sprintf("%d NXDOMAIN answers to %d queries (DGA, scanning, misconfiguration)", c.nxdomain, c.queries)})
		}
		if ratio := float64(c.txtNullAny) / float64(c.queries); ratio >= th.TXTRatio {
			txt = append(txt, Signal{Kind: SignalTXTNullAny, Subject: addr, Value: round3(ratio), Threshold: th.TXTRatio,
				Reason: fmt.Sprintf("%d of %d queries are TXT, NULL or ANY (tunnelling, amplification)", c.txtNullAny, c.queries)})
		}
	})
	out = append(out, limit(cl)...)

	var sub []Signal
	s.growth.All(func(e *entryPlain) {
		if n := e.Count - e.Err; n >= th.MaxSubdomains {
			sub = append(sub, Signal{Kind: SignalManySubdomains, Subject: e.Key, Value: float64(n),
				Threshold: float64(th.MaxSubdomains)})
		}
	})
	sub = limit(sub)
	s.describeGrowth(sub)
	out = append(out, sub...)
	out = append(out, limit(nx)...)
	out = append(out, limit(txt)...)
	out = append(out, s.bursts(r)...)
	if r.Baseline != nil {
		for _, t := range r.Baseline.Top {
			out = append(out, Signal{Kind: SignalNewDomain, Subject: t.Key, Value: float64(t.Count),
				Reason: fmt.Sprintf("%d queries to a domain never queried in the baseline", t.Count)})
		}
	}
	return out
}

// describeGrowth gives each many_subdomains signal its reason and the client that asked
// most of the new subdomains (by its guaranteed count).
func (s *Stats) describeGrowth(sig []Signal) {
	type asker struct {
		client string
		n      uint64
	}
	best := map[string]asker{}
	for _, sg := range sig {
		best[sg.Subject] = asker{}
	}
	if len(best) > 0 {
		s.growthBy.All(func(e *entryPlain) {
			client, dom := splitGrowthKey(e.Key)
			if b, ok := best[dom]; ok && e.Count-e.Err > b.n {
				best[dom] = asker{client, e.Count - e.Err}
			}
		})
	}
	for i := range sig {
		from := ""
		if b := best[sig[i].Subject]; b.n > 0 {
			sig[i].Client = addrKey(b.client)
			from = fmt.Sprintf("; %d of them from %s", b.n, sig[i].Client)
		}
		sig[i].Reason = fmt.Sprintf("%d new subdomains: distinct names under it with long or high-entropy labels, or answered NXDOMAIN%s (tunnelling, random-subdomain attack)",
			uint64(sig[i].Value), from)
	}
}

func (s *Stats) bursts(r *Report) []Signal {
	th := s.th
	med := r.Rate.MedianQPS
	w := float64(s.rate.width) / 1e9
	var out []Signal
	for k, p := range s.rate.counts {
		qps := float64(*p) / w
		if qps >= th.BurstMinQPS && qps >= th.BurstFactor*med {
			t := time.Unix(0, k*s.rate.width).UTC()
			out = append(out, Signal{Kind: SignalBurst, Subject: t.Format(time.RFC3339), Value: round3(qps),
				Threshold: round3(max(th.BurstMinQPS, th.BurstFactor*med)),
				Reason:    fmt.Sprintf("%.0f queries/s for %gs against a median of %.1f/s", qps, w, med)})
		}
	}
	out = sortSignals(out)
	if len(out) > maxBurstSignals {
		out = out[:maxBurstSignals]
	}
	return out
}

// sortSignals orders by value, highest first, then by subject.
func sortSignals(s []Signal) []Signal {
	slices.SortFunc(s, func(a, b Signal) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		return cmp.Compare(a.Subject, b.Subject)
	})
	return s
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
