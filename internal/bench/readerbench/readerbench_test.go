package readerbench

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/reader"
)

const source = "../../../reader/testdata/golden/resolver.fstrm"

func count(t *testing.T, path string) int {
	t.Helper()
	d, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n := 0
	for {
		_, err := d.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func TestMakeCapture(t *testing.T) {
	per := count(t, source)
	for _, want := range []int{1, per, per + 1, 3 * per} {
		p := filepath.Join(t.TempDir(), "c.fstrm")
		n, err := MakeCapture(p, source, want)
		if err != nil {
			t.Fatal(err)
		}
		// Whole repetitions of the source: the first multiple of per at or above want.
		if exp := (want + per - 1) / per * per; n != exp {
			t.Fatalf("MakeCapture(%d) wrote %d frames, want %d", want, n, exp)
		}
		if got := count(t, p); got != n {
			t.Fatalf("file holds %d messages, MakeCapture said %d", got, n)
		}
	}
}

func TestTimeRealProgram(t *testing.T) {
	bin := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	r := Time(t.Context(), "dnstap-read", "default", bin, []string{source}, 1)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.MaxRSS <= 0 || r.Wall <= 0 {
		t.Fatalf("no measurement: %+v", r)
	}
	bad := Time(t.Context(), "dnstap-read", "default", bin, []string{"-Z", source}, 1)
	if bad.Err == nil {
		t.Fatal("a failing run reported no error")
	}
}
