package reader

import (
	"bytes"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// seedFrames adds every data frame of the golden captures to f.
func seedFrames(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.fstrm")
	for _, p := range files {
		for _, fr := range framesOf(f, readFile(f, p)) {
			f.Add(fr)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x78, 0x01})
}

// FuzzDecode feeds arbitrary bytes to the decoder (seeded with the golden files whole, cut
// short and compressed): it must never panic, and must make progress to EOF or an error.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.fstrm")
	for _, p := range files {
		b := readFile(f, p)
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(gz(f, b[:len(b)/3]))
		f.Add(zst(f, b[:len(b)/3]))
	}
	f.Add([]byte("\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), "fuzz")
		defer d.Close()
		p := &Printer{Mode: ModeText, Location: time.UTC}
		var out []byte
		for i := 0; ; i++ {
			m, err := d.Next()
			if err == io.EOF {
				return
			}
			if err != nil && !Recoverable(err) {
				return
			}
			if err == nil {
				out = p.Append(out[:0], m)
			}
			if i > len(data) { // each frame takes at least 4 bytes
				t.Fatalf("no progress after %d frames of %d bytes", i, len(data))
			}
		}
	})
}

// fuzzFrame decodes one data frame payload as the decoder would.
func fuzzFrame(t *testing.T, payload []byte) (*Message, bool) {
	t.Helper()
	var m Message
	if err := m.unmarshal(payload); err != nil {
		return nil, false
	}
	return &m, true
}

// FuzzText: dnstap-read's line and -x never panic, and print one line (two with -x and a
// parsed message) or nothing.
func FuzzText(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, ok := fuzzFrame(t, payload)
		if !ok {
			return
		}
		for _, mode := range []Mode{ModeText, ModeHex} {
			p := &Printer{Mode: mode, Location: time.UTC}
			out := p.Append(nil, m)
			if n := bytes.Count(out, []byte("\n")); n > 2 || (len(out) > 0 && out[len(out)-1] != '\n') {
				t.Fatalf("mode %d printed %q", mode, out)
			}
		}
	})
}

// FuzzYAML: -y and -p never panic.
func FuzzYAML(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, ok := fuzzFrame(t, payload)
		if !ok {
			return
		}
		for _, mode := range []Mode{ModeYAML, ModePrint} {
			p := &Printer{Mode: mode, Location: time.UTC}
			p.Append(nil, m)
			p.Append(nil, m)
		}
	})
}

// FuzzJSON: --json always prints one valid JSON object per message.
func FuzzJSON(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, ok := fuzzFrame(t, payload)
		if !ok || !m.HasMessage {
			return
		}
		out := AppendJSON(nil, m)
		if !json.Valid(out) || bytes.Count(out, []byte("\n")) != 1 {
			t.Fatalf("invalid NDJSON line %q", out)
		}
	})
}
