package statsbench

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/dnstapkit/dnstapkit/reader"
)

// TestGenerate: the generated file decodes with the reader; frames repeat in order and
// each repetition is shifted by the period.
func TestGenerate(t *testing.T) {
	frames, err := ReadFrames("../../../reader/stats/testdata/normal.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	const period = 1000
	n := 2*len(frames) + 5
	var b bytes.Buffer
	if err := Generate(&b, frames, n, period); err != nil {
		t.Fatal(err)
	}
	d := reader.NewDecoder(&b, "generated")
	var first []int64
	i := 0
	for ; ; i++ {
		m, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		ts := m.Time().Unix()
		if i < len(frames) {
			first = append(first, ts)
		} else if want := first[i%len(frames)] + int64(i/len(frames))*period; ts != want {
			t.Fatalf("message %d: time %d, want %d", i, ts, want)
		}
	}
	if i != n {
		t.Errorf("decoded %d messages, want %d", i, n)
	}
}
