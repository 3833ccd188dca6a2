package docker

import (
	"fmt"
	"testing"
)

func TestInputHash(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		same bool
	}{
		{"same parts", []string{"debian:bookworm", "recipe"}, []string{"debian:bookworm", "recipe"}, true},
		{"boundaries count", []string{"ab", "c"}, []string{"a", "bc"}, false},
		{"order counts", []string{"a", "b"}, []string{"b", "a"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ha, hb := InputHash(tc.a...), InputHash(tc.b...)
			if len(ha) != 16 {
				t.Errorf("InputHash(%q) = %q, want 16 hex digits", tc.a, ha)
			}
			if (ha == hb) != tc.same {
				t.Errorf("InputHash(%q) = %s, InputHash(%q) = %s, same = %v, want %v", tc.a, ha, tc.b, hb, ha == hb, tc.same)
			}
		})
	}
}

func TestLockExcludes(t *testing.T) {
	name := fmt.Sprintf("dnstapkit-locktest-%s.lock", t.Name())
	unlock, err := Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := Lock(name) // a second flock on a new descriptor waits for the first
		if err == nil {
			u()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("second Lock returned while the first was held")
	default:
	}
	unlock()
	<-got
}
