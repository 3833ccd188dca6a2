package collector

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	at := time.Date(2026, 3, 7, 4, 5, 6, 0, time.UTC)
	tests := []struct {
		layout, want, wantErr string
	}{
		{"/var/log/dnstap/%Y%m%d-%H%M%S.fstrm", "/var/log/dnstap/20260307-040506.fstrm", ""},
		{"%F_%T", "2026-03-07_04:05:06", ""},
		{"%y %C %j %e %I %p %s %%", "26 20 066  7 04 AM 1772856306 %", ""},
		{"%a %A %b %B %u %w %R %D %z %Z", "Sat Saturday Mar March 6 6 04:05 03/07/26 +0000 UTC", ""},
		{"no conversions", "no conversions", ""},
		{"bad %Q", "", "strftime: unsupported conversion %Q"},
		{"trailing %", "", "strftime: trailing %"},
	}
	for _, tc := range tests {
		t.Run(tc.layout, func(t *testing.T) {
			got, err := strftime(tc.layout, at)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNamerNextAndMatch(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	nm, err := newNamer(filepath.Join(dir, "dnstap-%Y%m%d.fstrm"), NamesUTC)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"dnstap-20261201.fstrm", "dnstap-20261201.1.fstrm", "dnstap-20261201.2.fstrm", "dnstap-20261201.3.fstrm"}
	for i, suffix := range []string{"", ".part", ".gz", ""} {
		got := nm.next(at)
		if filepath.Base(got) != want[i] {
			t.Fatalf("next #%d = %s, want %s", i, got, want[i])
		}
		if err := os.WriteFile(got+suffix, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, match := range map[string]bool{
		"dnstap-20261201.fstrm": true, "dnstap-20261201.12.fstrm": true, "dnstap-20261201.fstrm.zst": true,
		"dnstap-20261201.fstrm.gz": true, "dnstap-20261201.fstrm.part": false, "dnstap-.fstrm": false,
		"other-20261201.fstrm": false, "dnstap-20261201.fstrm.gz.part": false,
	} {
		if got := nm.match.MatchString(name); got != match {
			t.Errorf("match(%q) = %v, want %v", name, got, match)
		}
	}
}

func TestAlignedNext(t *testing.T) {
	tests := []struct {
		now   time.Time
		every time.Duration
		want  time.Time
	}{
		{time.Date(2026, 12, 1, 23, 59, 59, 5, time.UTC), 24 * time.Hour, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 1, 10, 7, 0, 0, time.UTC), 5 * time.Minute, time.Date(2026, 12, 1, 10, 10, 0, 0, time.UTC)},
		{time.Date(2026, 12, 1, 10, 10, 0, 0, time.UTC), 5 * time.Minute, time.Date(2026, 12, 1, 10, 15, 0, 0, time.UTC)},
		{time.Date(2026, 12, 1, 10, 10, 0, 999, time.UTC), time.Second, time.Date(2026, 12, 1, 10, 10, 1, 0, time.UTC)},
	}
	for _, tc := range tests {
		if got := alignedNext(tc.now, tc.every, NamesUTC); !got.Equal(tc.want) {
			t.Errorf("alignedNext(%v, %v) = %v, want %v", tc.now, tc.every, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Output: "/tmp/x.fstrm"}, ""},
		{"no output", Config{}, "output: no output path (fstrm_capture -w)"},
		{"stdout without stream", Config{Output: "-"}, `output: "-" needs a stream`},
		{"bad strftime", Config{Output: "/tmp/%Q", TimeNames: NamesUTC}, `output "/tmp/%Q": strftime: unsupported conversion %Q`},
		{"literal percent ok", Config{Output: "/tmp/%Q"}, ""},
		{"split too short", Config{Output: "/x", RotateEvery: time.Millisecond}, "rotate every: 1ms, must be 0 or at least 1s"},
		{"compress", Config{Output: "/x", Compress: "xz"}, `compress: "xz", want gzip, zstd or nothing`},
		{"small buffer", Config{Output: "/x", ReadBufferSize: 10}, "read buffer size: 10, must be between 4096 and 67108864 bytes"},
		{"directory", Config{Output: "/tmp/"}, `output "/tmp/": names a directory, not a file`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && err.Error() != tc.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
