package tail

import (
	"strings"
	"testing"
)

func TestBuffer(t *testing.T) {
	for _, c := range []struct {
		name   string
		writes []string
		want   string // the whole String
		last   string
	}{
		{"empty", nil, "", ""},
		{"short", []string{"a\n", "b\n\n"}, "a\nb\n\n", "b"},
		{"one line", []string{"  done  "}, "  done  ", "done"},
		{"over the size", []string{strings.Repeat("x", Size), "\nend\n"}, strings.Repeat("x", Size-5) + "\nend\n", "end"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b Buffer
			for _, w := range c.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write: %d, %v", n, err)
				}
			}
			if got := b.String(); got != c.want {
				t.Errorf("String: %d bytes %q..., want %d bytes", len(got), got[:min(len(got), 20)], len(c.want))
			}
			if got := b.LastLine(); got != c.last {
				t.Errorf("LastLine: %q, want %q", got, c.last)
			}
		})
	}
}
