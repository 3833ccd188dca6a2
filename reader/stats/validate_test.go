package stats

import (
	"errors"
	"testing"
	"time"
)

// TestConfigValidate holds Validate to the flag each field comes from, negative values
// included (New would take them as defaults).
func TestConfigValidate(t *testing.T) {
	good := Config{TopN: 10, Capacity: 10000, Thresholds: DefaultThresholds}
	for _, c := range []struct {
		name string
		edit func(*Config)
		flag string // "" for valid
		msg  string
	}{
		{"defaults", func(*Config) {}, "", ""},
		{"exact interval", func(c *Config) { c.Interval = time.Second }, "", ""},
		{"top negative", func(c *Config) { c.TopN = -1 }, "top", "invalid --top -1: must be between 1 and 100000"},
		{"top zero", func(c *Config) { c.TopN = 0 }, "top", "invalid --top 0: must be between 1 and 100000"},
		{"capacity below top", func(c *Config) { c.Capacity = 5 }, "capacity", "invalid --capacity 5: must be at least --top (10)"},
		{"capacity negative", func(c *Config) { c.Capacity = -3 }, "capacity", "invalid --capacity -3: must be at least 1"},
		{"interval short", func(c *Config) { c.Interval = time.Millisecond }, "interval", "invalid --interval 1ms: must be at least 1s"},
		{"interval negative", func(c *Config) { c.Interval = -time.Second }, "interval", "invalid --interval -1s: must be at least 1s"},
		{"long label", func(c *Config) { c.Thresholds.LongLabel = 64 }, "long-label", "invalid --long-label 64: must be between 1 and 63 (bytes)"},
		{"entropy negative", func(c *Config) { c.Thresholds.EntropyBits = -1 }, "entropy", "invalid --entropy -1: must be above 0 and at most 8 (bits/char)"},
		{"nx ratio", func(c *Config) { c.Thresholds.NXRatio = 1.5 }, "nx-ratio", "invalid --nx-ratio 1.5: must be above 0 and at most 1"},
		{"burst factor", func(c *Config) { c.Thresholds.BurstFactor = 1 }, "burst-factor", "invalid --burst-factor 1: must be above 1"},
		{"burst qps negative", func(c *Config) { c.Thresholds.BurstMinQPS = -5 }, "burst-min-qps", "invalid --burst-min-qps -5: must be above 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			err := cfg.Validate()
			if c.flag == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			var fe *FlagError
			if !errors.As(err, &fe) || fe.Flag != c.flag || err.Error() != c.msg {
				t.Fatalf("Validate: %v, want --%s: %q", err, c.flag, c.msg)
			}
		})
	}
}
