// Package tail keeps the end of a long command output (a build, debootstrap) for the error
// message when the command fails.
package tail

import (
	"strings"
	"sync"
)

// Size is how much of the output a Buffer keeps.
const Size = 4 << 10

// Buffer is an io.Writer that keeps the last Size bytes written to it. It is safe for
// concurrent use (a command's stdout and stderr may be copied to it at once).
type Buffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *Buffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > Size {
		t.b = t.b[len(t.b)-Size:]
	}
	return len(p), nil
}

// String returns the bytes kept.
func (t *Buffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// LastLine returns the last line that is not blank, trimmed.
func (t *Buffer) LastLine() string {
	s := strings.TrimSpace(t.String())
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
