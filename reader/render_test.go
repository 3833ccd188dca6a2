package reader

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestRenderParallelEqualsSerial renders a stream of several batches, with a corrupt frame
// and a filter, serially and with workers: output and reported errors must be identical.
func TestRenderParallelEqualsSerial(t *testing.T) {
	frames := framesOf(t, readFile(t, "testdata/golden/resolver.fstrm"))
	var all [][]byte
	for len(all) < 3*batchFrames {
		all = append(all, frames...)
	}
	all[700] = []byte{0xff} // not a protobuf
	stream := writeStream(t, all...)
	stream = stream[:len(stream)-12-3] // and cut inside the last frame: ErrTruncated at the end
	filters := map[string]*Filter{"all": nil, "CR only": {Types: []MessageType{ClientResponse}}}
	for _, mode := range []Mode{ModeText, ModeHex, ModeYAML, ModeJSON} {
		for fname, f := range filters {
			t.Run(modeName(mode)+"/"+fname, func(t *testing.T) {
				render := func(workers int) (string, []error) {
					var out bytes.Buffer
					var errs []error
					err := Render(NewDecoder(bytes.NewReader(stream), "s"), &out, RenderOptions{
						Mode: mode, Location: time.UTC, Filter: f, Workers: workers,
						OnError: func(err error) bool { errs = append(errs, err); return Recoverable(err) },
					})
					if !errors.Is(err, ErrTruncated) {
						t.Fatalf("workers=%d: Render returned %v, want ErrTruncated", workers, err)
					}
					return out.String(), errs
				}
				serial, serr := render(1)
				par, perr := render(3)
				if serial == "" || serial != par {
					t.Fatalf("parallel output (%d bytes) differs from serial (%d bytes)", len(par), len(serial))
				}
				if len(serr) != 2 || len(perr) != 2 || serr[0].Error() != perr[0].Error() || serr[1].Error() != perr[1].Error() {
					t.Fatalf("errors differ: serial %v, parallel %v", serr, perr)
				}
				if !errors.Is(serr[0], ErrBadProtobuf) {
					t.Fatalf("first error %v, want ErrBadProtobuf", serr[0])
				}
			})
		}
	}
}
