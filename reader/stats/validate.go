package stats

import (
	"fmt"
	"time"
)

// FlagError is a Config field out of range, named by the dnstap-reader stats flag that sets
// it: "invalid --top 0: must be between 1 and 100000".
type FlagError struct {
	Flag  string // the flag, without dashes ("top")
	Value any    // the value given
	Want  string // the allowed range, with its unit
}

func (e *FlagError) Error() string {
	return fmt.Sprintf("invalid --%s %v: %s", e.Flag, e.Value, e.Want)
}

// Validate reports, as a *FlagError, the first field of cfg out of range. It judges every
// field as set, zero included (dnstap-reader stats fills them all from its flags); New,
// which Validate does not gate, takes a zero TopN, Capacity or threshold as its default.
func (cfg Config) Validate() error {
	th := cfg.Thresholds
	for _, c := range []struct {
		bad  bool
		flag string
		val  any
		want string
	}{
		{cfg.TopN < 1 || cfg.TopN > 100000, "top", cfg.TopN, "must be between 1 and 100000"},
		{cfg.Capacity < 1, "capacity", cfg.Capacity, "must be at least 1"},
		{cfg.Capacity < cfg.TopN, "capacity", cfg.Capacity, fmt.Sprintf("must be at least --top (%d)", cfg.TopN)},
		{cfg.Interval < 0 || (cfg.Interval > 0 && cfg.Interval < time.Second), "interval", cfg.Interval, "must be at least 1s"},
		{th.LongLabel < 1 || th.LongLabel > 63, "long-label", th.LongLabel, "must be between 1 and 63 (bytes)"},
		{th.EntropyBits <= 0 || th.EntropyBits > 8, "entropy", th.EntropyBits, "must be above 0 and at most 8 (bits/char)"},
		{th.EntropyMinLen < 1 || th.EntropyMinLen > 63, "entropy-min-len", th.EntropyMinLen, "must be between 1 and 63"},
		{th.MinSuspicious < 1, "min-suspicious", th.MinSuspicious, "must be at least 1"},
		{th.MaxSubdomains < 1, "max-subdomains", th.MaxSubdomains, "must be at least 1"},
		{th.NXRatio <= 0 || th.NXRatio > 1, "nx-ratio", th.NXRatio, "must be above 0 and at most 1"},
		{th.TXTRatio <= 0 || th.TXTRatio > 1, "txt-ratio", th.TXTRatio, "must be above 0 and at most 1"},
		{th.MinClientQueries < 1, "min-client-queries", th.MinClientQueries, "must be at least 1"},
		{th.BurstFactor <= 1, "burst-factor", th.BurstFactor, "must be above 1"},
		{th.BurstMinQPS <= 0, "burst-min-qps", th.BurstMinQPS, "must be above 0"},
	} {
		if c.bad {
			return &FlagError{Flag: c.flag, Value: c.val, Want: c.want}
		}
	}
	return nil
}
