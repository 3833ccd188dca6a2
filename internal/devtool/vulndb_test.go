package devtool

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixtureModified is the commit time given to the fixture entries whose "modified" is unset.
var fixtureModified = time.Date(2098, 12, 31, 0, 0, 0, 0, time.UTC)

// TestWriteVulnDB builds the index of testdata/vulndb/osv and compares it with
// testdata/vulndb/want: the modules sorted, each entry once per module it affects, the fixed
// version of a range fixed twice, none for a vulnerability introduced again after its fix,
// the newest "modified" in db.json; the entries copied byte for byte.
func TestWriteVulnDB(t *testing.T) {
	out := t.TempDir()
	src := filepath.Join("testdata", "vulndb", "osv")
	if err := WriteVulnDB(src, out, fixtureModified); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"db.json", "modules.json"} {
		got, err := os.ReadFile(filepath.Join(out, "index", name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", "vulndb", "want", "index", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("index/%s:\n got %s\nwant %s", name, got, want)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(src, "*.json"))
	for _, e := range entries {
		want, _ := os.ReadFile(e)
		got, err := os.ReadFile(filepath.Join(out, "ID", filepath.Base(e)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("ID/%s is not a copy of %s (%v)", filepath.Base(e), e, err)
		}
	}
}

func TestWriteVulnDBErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no entries", map[string]string{"README.md": "x"}, "no OSV entries"},
		{"name and id differ", map[string]string{"GO-2099-0001.json": `{"id":"GO-2099-0002"}`}, `GO-2099-0001.json: entry id "GO-2099-0002" does not match`},
		{"no id", map[string]string{"GO-2099-0001.json": `{}`}, `entry id ""`},
		{"not JSON", map[string]string{"GO-2099-0001.json": `{"id":`}, "GO-2099-0001.json: unexpected end of JSON"},
		{"bad time", map[string]string{"GO-2099-0001.json": `{"id":"GO-2099-0001","modified":"yesterday"}`}, "GO-2099-0001.json: parsing time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteVulnDB(dir, t.TempDir(), fixtureModified)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("WriteVulnDB: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLatestFix(t *testing.T) {
	semverRange := func(events ...[2]string) osvRange {
		r := osvRange{Type: "SEMVER"}
		for _, e := range events {
			r.Events = append(r.Events, struct {
				Introduced string `json:"introduced"`
				Fixed      string `json:"fixed"`
			}{e[0], e[1]})
		}
		return r
	}
	in, fix := func(v string) [2]string { return [2]string{v, ""} }, func(v string) [2]string { return [2]string{"", v} }
	tests := []struct {
		name   string
		ranges []osvRange
		want   string
	}{
		{"one fix", []osvRange{semverRange(in("0"), fix("1.2.3"))}, "1.2.3"},
		{"no fix", []osvRange{semverRange(in("0"))}, ""},
		{"the later of two fixes", []osvRange{semverRange(in("0"), fix("1.2.0"), in("1.3.0"), fix("1.3.4"))}, "1.3.4"},
		{"semver order, not string order", []osvRange{semverRange(in("0"), fix("1.9.0"), in("1.10.0"), fix("1.10.2"))}, "1.10.2"},
		{"introduced again after the fix", []osvRange{semverRange(in("0"), fix("1.20.1"), in("1.21.0-0"))}, ""},
		{"prerelease fix", []osvRange{semverRange(in("0"), fix("0.0.0-20260101000000-abcdefabcdef"))}, "0.0.0-20260101000000-abcdefabcdef"},
		{"a non-SEMVER range is ignored", []osvRange{{Type: "GIT"}, semverRange(in("0"), fix("2.0.0"))}, "2.0.0"},
		{"across ranges", []osvRange{semverRange(in("0"), fix("1.0.0")), semverRange(in("2.0.0"), fix("2.0.5"))}, "2.0.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := latestFix(tt.ranges); got != tt.want {
				t.Errorf("latestFix = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSetVulnDB(t *testing.T) {
	const next = "v0.0.0-20991231235959-0123456789ab"
	tests := []struct {
		name, src, version string
		want, old, err     string
	}{
		{"rewrites the pin", "package x\n\nconst VulnDB = \"v0.0.0-1\"\n\nvar y = 1\n", next,
			"package x\n\nconst VulnDB = \"" + next + "\"\n\nvar y = 1\n", "v0.0.0-1", ""},
		{"no pin", "package x\n", next, "", "", "found 0"},
		{"two pins", "const VulnDB = \"a\"\nconst VulnDB = \"b\"\n", next, "", "", "found 2"},
		{"not a version", "const VulnDB = \"a\"\n", "latest", "", "", `invalid module version "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, old, err := setVulnDB([]byte(tt.src), tt.version)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("setVulnDB: %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil || string(out) != tt.want || old != tt.old {
				t.Errorf("setVulnDB = %q, %q, %v; want %q, %q", out, old, err, tt.want, tt.old)
			}
		})
	}
}

// TestVulnDBPinIsUpdatable checks that vulndb.go has the one line `vulndb:update` rewrites.
func TestVulnDBPinIsUpdatable(t *testing.T) {
	src, err := os.ReadFile("vulndb.go")
	if err != nil {
		t.Fatal(err)
	}
	out, old, err := setVulnDB(src, VulnDB)
	if err != nil || old != VulnDB || !bytes.Equal(out, src) {
		t.Errorf("setVulnDB(vulndb.go) = %q, %v; want the pin %q found and kept", old, err, VulnDB)
	}
}
