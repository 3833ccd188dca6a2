package reader

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the goldens use Asia/Kolkata

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/reader/internal/bindtext"
)

var modeSuffix = map[Mode]string{ModeText: "default", ModeHex: "x", ModePrint: "p", ModeYAML: "y"}

// render prints every message of data in mode, the way cmd/dnstap-reader does.
func render(t testing.TB, data []byte, mode Mode, loc *time.Location) []byte {
	t.Helper()
	return renderFormat(t, data, mode, Format918, loc)
}

// renderFormat is render as the dnstap-read of format prints.
func renderFormat(t testing.TB, data []byte, mode Mode, format Format, loc *time.Location) []byte {
	t.Helper()
	d := NewDecoder(bytes.NewReader(data), "golden")
	p := &Printer{Mode: mode, Location: loc, Format: format}
	var out []byte
	for {
		m, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil && !Recoverable(err) {
			t.Fatal(err)
		}
		if err == nil {
			out = p.Append(out, m)
		}
	}
}

// bindtextReady reports whether reader/internal/bindtext renders messages yet: until it
// does, the -p and -y goldens cannot match and are skipped with that reason.
func bindtextReady() bool {
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	_, err := bindtext.AppendMessage(nil, q, bindtext.StylePrint)
	return !errors.Is(err, bindtext.ErrNotRendered)
}

func goldenFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/golden/*.fstrm")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden captures (%v); run reader/testdata/mkgolden.sh", err)
	}
	return files
}

func TestGoldenDnstapRead(t *testing.T) {
	utc := time.UTC
	for _, f := range goldenFiles(t) {
		data := readFile(t, f)
		for _, mode := range []Mode{ModeText, ModeHex, ModePrint, ModeYAML} {
			t.Run(filepath.Base(f)+"/"+modeSuffix[mode], func(t *testing.T) {
				if (mode == ModePrint || mode == ModeYAML) && !bindtextReady() {
					t.Skip("reader/internal/bindtext does not render messages yet")
				}
				want := readFile(t, f+"."+modeSuffix[mode]+".txt")
				got := render(t, data, mode, utc)
				diffLines(t, got, want)
			})
		}
	}
	t.Run("time zone", func(t *testing.T) {
		loc, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatal(err)
		}
		got := render(t, readFile(t, "testdata/golden/resolver.fstrm"), ModeText, loc)
		diffLines(t, got, readFile(t, "testdata/golden/resolver.fstrm.default.tz-Asia_Kolkata.txt"))
	})
}

// TestGoldenFormats holds --format to the output of the dnstap-read of each other BIND
// release on the same captures: testdata/golden/<capture>.<version>.<mode>.txt, recorded
// from the real program in its bind9-dnstap package by the e2e test TestDnstapReadGoldens
// (go test -tags e2e -run TestDnstapReadGoldens ./e2e -update).
func TestGoldenFormats(t *testing.T) {
	// bindtext's crafted.fstrm has 9.14 goldens too, but its parser takes 7 of those
	// malformed messages otherwise than 9.18's, which --format 9.14 does not copy.
	extra := map[string][]string{
		"9.14": {"internal/bindtext/testdata/capture.fstrm"},
		"9.20": {"internal/bindtext/testdata/capture.fstrm", "internal/bindtext/testdata/crafted.fstrm"},
	}
	for _, name := range []string{"9.14", "9.20"} {
		format, err := ParseFormat(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(goldenFiles(t), extra[name]...) {
			data := readFile(t, f)
			for _, mode := range []Mode{ModeText, ModeHex, ModePrint, ModeYAML} {
				t.Run(name+"/"+filepath.Base(f)+"/"+modeSuffix[mode], func(t *testing.T) {
					want := readFile(t, f+"."+name+"."+modeSuffix[mode]+".txt")
					diffLines(t, renderFormat(t, data, mode, format, time.UTC), want)
				})
			}
		}
	}
}

// TestLiveDnstapRead runs the installed dnstap-read on the goldens and compares.
func TestLiveDnstapRead(t *testing.T) {
	bin := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	// bindtext's capture (many record types) is read live too.
	extra, _ := filepath.Glob("internal/bindtext/testdata/*.fstrm")
	for _, f := range append(goldenFiles(t), extra...) {
		for flag, mode := range map[string]Mode{"": ModeText, "-x": ModeHex, "-p": ModePrint, "-y": ModeYAML} {
			t.Run(filepath.Base(f)+"/"+modeSuffix[mode], func(t *testing.T) {
				if (mode == ModePrint || mode == ModeYAML) && !bindtextReady() {
					t.Skip("reader/internal/bindtext does not render messages yet")
				}
				args := []string{f}
				if flag != "" {
					args = []string{flag, f}
				}
				cmd := exec.Command(bin, args...)
				cmd.Env = append(os.Environ(), "TZ=UTC")
				want, err := cmd.Output()
				if err != nil {
					t.Fatalf("dnstap-read: %v", err)
				}
				diffLines(t, render(t, readFile(t, f), mode, time.UTC), want)
			})
		}
	}
}

func diffLines(t *testing.T, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("output differs at line %d (got %d lines, want %d):\n got %q\nwant %q", i+1, len(g), len(w), gl, wl)
		}
	}
	t.Fatalf("output differs")
}

func TestAppendIP(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{[]byte{192, 0, 2, 1}, "192.0.2.1"},
		{make([]byte, 16), "::"},
		{append(make([]byte, 15), 1), "::1"},
		{[]byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "2001:db8::1"},
		{[]byte{0x20, 1, 0xd, 0xb8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, "2001:db8:1:0:1::1"},
		{[]byte{0x20, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1}, "2001::1:0:0:1:1"},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1}, "::ffff:192.0.2.1"},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1}, "::192.0.2.1"},
		{[]byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "fe80::"},
		{[]byte{1, 2, 3}, "010203"},
	}
	for _, tt := range tests {
		if got := string(appendIP(nil, tt.in)); got != tt.want {
			t.Errorf("appendIP(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// stripYAMLBodies removes the lines bindtext writes (from "  query_message_data:" or
// "  response_message_data:" to the end of the document), leaving the dnstap fields.
func stripYAMLBodies(b []byte) string {
	var out []string
	skip := false
	for _, l := range strings.SplitAfter(string(b), "\n") {
		switch {
		case l == "---\n":
			skip = false
		case l == "  query_message_data:\n" || l == "  response_message_data:\n":
			skip = true
		}
		if !skip {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// TestGoldenYAMLFields checks the dnstap part of -y, which this package writes itself.
func TestGoldenYAMLFields(t *testing.T) {
	for _, f := range goldenFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := stripYAMLBodies(render(t, readFile(t, f), ModeYAML, time.UTC))
			want := stripYAMLBodies(readFile(t, f+".y.txt"))
			diffLines(t, []byte(got), []byte(want))
		})
	}
}
