package bindtext

import (
	"bytes"
	"errors"
	"math/rand"
	"os"
	"os/exec"
	"testing"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestLiveMutations is a differential test against the installed dnstap-read: messages of
// both captures with a few bytes changed (a fixed pseudo-random sequence) must be rendered,
// refused or skipped exactly as dnstap-read does.
func TestLiveMutations(t *testing.T) {
	bin := testenv.LookPath(t, "dnstap-read", "bind9-dnsutils")
	rng := rand.New(rand.NewSource(20261201))
	var wires [][]byte
	for _, path := range []string{"testdata/capture.fstrm", "testdata/crafted.fstrm"} {
		for _, fr := range readFrames(t, path) {
			if len(fr.wire) > 12 {
				wires = append(wires, fr.wire)
			}
		}
	}
	n := 5000
	if testing.Short() {
		n = 500
	}
	var buf bytes.Buffer
	w, err := fs.NewWriter(&buf, &fs.WriterOptions{ContentTypes: [][]byte{[]byte("protobuf:dnstap.Dnstap")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		m := append([]byte(nil), wires[rng.Intn(len(wires))]...)
		switch rng.Intn(6) {
		case 0: // cut the message short
			m = m[:12+rng.Intn(len(m)-12)]
		case 1: // drop a byte
			i := 2 + rng.Intn(len(m)-2)
			m = append(m[:i], m[i+1:]...)
		case 2: // insert a byte
			i := 2 + rng.Intn(len(m)-2)
			m = append(m[:i], append([]byte{byte(rng.Intn(256))}, m[i:]...)...)
		default: // change one to three bytes (flags, counts and sections)
			for k := rng.Intn(3); k >= 0; k-- {
				m[2+rng.Intn(len(m)-2)] = byte(rng.Intn(256))
			}
		}
		if _, err := w.WriteFrame(craftedFrame(t, m)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/mutated.fstrm"
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(flag string) []byte {
		cmd := exec.Command(bin, flag, path)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("dnstap-read %s: %v", flag, err)
		}
		return out
	}
	compareCapture(t, path, run("-p"), run("-y"))
	var ok, bad, skip int
	for _, fr := range readFrames(t, path) {
		switch err := Check(fr.wire); {
		case err == nil:
			ok++
		case errors.Is(err, ErrSkipFrame):
			skip++
		default:
			bad++
		}
	}
	t.Logf("%d mutated messages: %d rendered, %d refused, %d frames skipped", n, ok, bad, skip)
}
