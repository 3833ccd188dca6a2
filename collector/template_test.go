package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

func TestTemplateNextAndMatch(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	nm, err := NewTemplate(filepath.Join(dir, "dnstap-%Y%m%d.fstrm"), NamesUTC)
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
		if _, got := nm.Match(name); got != match {
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
		{"buffer smaller than a frame", Config{Output: "/x", BufferBytes: 1 << 20, MaxFrameSize: 2 << 20}, "buffer: 1048576 bytes, must be at least 2097156 (two batches, one read buffer and one frame)"},
		{"buffer smaller than a read", Config{Output: "/x", BufferBytes: 2 << 20, ReadBufferSize: 4 << 20}, "buffer: 2097152 bytes, must be at least 4194304 (two batches, one read buffer and one frame)"},
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

// TestTemplateMatchStrict: each conversion matches only what it can produce, so retention
// never takes a file being written or an unrelated file for one of the collector's.
func TestTemplateMatchStrict(t *testing.T) {
	tests := []struct {
		template string
		names    TimeNames
		match    map[string]string // name -> compression ("-" for no match)
	}{
		{"/d/%s", NamesUTC, map[string]string{
			"1764547200": "", "1764547200.3": "", "1764547200.gz": "gzip", "1764547200.1.zst": "zstd",
			"1764547200.part": "-", "1764547200.gz.part": "-", "important.txt": "-", "zones.db": "-", "": "-", "12ab": "-",
		}},
		{"/d/cap-%Y%m%d-%H%M%S", NamesUTC, map[string]string{
			"cap-20261201-000000": "", "cap-20261201-000000.12": "", "cap-20261201-000000.gz": "gzip",
			"cap-20261201-000000.part": "-", "cap-20261201-000000.1.part": "-", "cap-2026121-000000": "-", "cap-20261201-000000x": "-",
		}},
		{"/d/dnstap-%Y%m%dT%H%M%SZ.fstrm", NamesUTC, map[string]string{
			"dnstap-20261201T000000Z.fstrm": "", "dnstap-20261201T000000Z.2.fstrm.zst": "zstd", "dnstap-20261201T000000Z.fstrm.2": "-",
			"dnstap-20261201T000000Z.fstrm.part": "-", "dnstap-20261201T0000Z.fstrm": "-",
		}},
		{"/d/%F_%T.%b.%a.%p.fstrm", NamesLocal, map[string]string{
			"2026-12-01_04:05:06.Dec.Tue.AM.fstrm": "", "2026-12-01_04:05:06.Dez.Tue.AM.fstrm": "-", "2026-12-01_04:05:06.Dec.Tue.XM.fstrm": "-",
		}},
		{"/d/%Y%m%d.fstrm", NamesLiteral, map[string]string{
			"%Y%m%d.fstrm": "", "%Y%m%d.1.fstrm.gz": "gzip", "20261201.fstrm": "-",
		}},
		{"/d/100%%-%y.fstrm", NamesUTC, map[string]string{"100%-26.fstrm": "", "100%%-26.fstrm": "-"}},
	}
	for _, tc := range tests {
		tmpl, err := NewTemplate(tc.template, tc.names)
		if err != nil {
			t.Fatalf("%s: %v", tc.template, err)
		}
		for name, want := range tc.match {
			comp, ok := tmpl.Match(name)
			got := comp
			if !ok {
				got = "-"
			}
			if got != want {
				t.Errorf("%s: Match(%q) = %q, want %q", tc.template, name, got, want)
			}
		}
	}
}

// TestTemplateNamesMatch: every name the template gives (expanded at many times, numbered,
// compressed) is recognised as its own.
func TestTemplateNamesMatch(t *testing.T) {
	layouts := []string{"%Y%m%d-%H%M%S.fstrm", "%s", "%F_%T", "%y%C%j%e%I%p%u%w", "%a%A%b%B%h%R%z%Z.x", "cap", "a.b.c"}
	for _, l := range layouts {
		tmpl, err := NewTemplate("/d/"+l, NamesUTC)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		for at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() == 2026; at = at.Add(97*time.Hour + 13*time.Minute + 7*time.Second) {
			name := filepath.Base(tmpl.next(at))
			for _, suffix := range []string{"", ".gz", ".zst"} {
				if _, ok := tmpl.Match(name + suffix); !ok {
					t.Fatalf("%s: own name %q does not match", l, name+suffix)
				}
			}
			if _, ok := tmpl.Match(name + partSuffix); ok {
				t.Fatalf("%s: %q matches", l, name+partSuffix)
			}
		}
	}
}

func TestTemplateClosedFiles(t *testing.T) {
	dir := t.TempDir()
	tmpl, err := NewTemplate(filepath.Join(dir, "c-%Y.fstrm"), NamesUTC)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"c-2026.2.fstrm.gz", "c-2026.fstrm", "c-2026.1.fstrm.zst", "c-2026.3.fstrm.part", "c-x.fstrm", "c-2025.fstrm"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, i), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, base, base.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("c-2026.fstrm", filepath.Join(dir, "c-2024.fstrm")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "c-2023.fstrm"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := tmpl.ClosedFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, fmt.Sprintf("%s %d %s", filepath.Base(f.Path), f.Size, f.Compression))
	}
	want := []string{"c-2026.2.fstrm.gz 0 gzip", "c-2026.fstrm 1 ", "c-2026.1.fstrm.zst 2 zstd", "c-2025.fstrm 5 "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ClosedFiles:\n got %q\nwant %q", got, want)
	}
	if files, err := tmpl.ClosedFiles(filepath.Join(dir, "missing")); err != nil || len(files) != 0 {
		t.Errorf("missing directory: %v, %v", files, err)
	}
}

func TestNewTemplateErrors(t *testing.T) {
	tests := []struct{ template, wantErr string }{
		{"/d/", `output "/d/": names a directory, not a file`},
		{"/d/%D.fstrm", `output "/d/%D.fstrm": a conversion in the file name makes a "/" (use it in the directory part)`},
		{"/d/x.part", `output "/d/x.part": a name ending in .part is reserved for files being written`},
		{"/d/%Q", `output "/d/%Q": strftime: unsupported conversion %Q`},
	}
	for _, tc := range tests {
		if _, err := NewTemplate(tc.template, NamesUTC); err == nil || err.Error() != tc.wantErr {
			t.Errorf("NewTemplate(%q) = %v, want %q", tc.template, err, tc.wantErr)
		}
	}
	if tmpl, err := NewTemplate("/var/log/%Y/%m/%D/x", NamesUTC); err != nil || tmpl.Dir(time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)) != "/var/log/2026/03/03/07/26" {
		t.Errorf("conversions in the directory part: %v", err)
	}
}
