// Package forwardtest makes forward.Batches from Frame Streams files, for tests and
// benchmarks that drive a destination without a forwarder.
package forwardtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/internal/tapct"
	"github.com/dnstapkit/dnstapkit/reader"
)

// Batches reads the data frames of the Frame Streams file at path and returns them as
// batches of at most per frames, each frame with File = path, FileID = path + "@test" and
// Offset = its offset in a file holding only the data frames (unique within the file).
func Batches(path string, per int) ([]*forward.Batch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := fs.NewReader(f, &fs.ReaderOptions{ContentTypes: [][]byte{[]byte(tapct.ContentType)}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []*forward.Batch
	var off int64
	buf := make([]byte, 1<<20)
	for {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(out) == 0 || out[len(out)-1].Len() == per {
			out = append(out, &forward.Batch{Seq: uint64(len(out) + 1), Attempt: 1})
		}
		b := out[len(out)-1]
		b.Wire = binary.BigEndian.AppendUint32(b.Wire, uint32(n))
		start := len(b.Wire)
		b.Wire = append(b.Wire, buf[:n]...)
		b.Frames = append(b.Frames, forward.Frame{Start: start, End: len(b.Wire), File: path, FileID: path + "@test", Offset: off})
		off += 4 + int64(n)
	}
}

// ReaderJSON returns what dnstap-reader --json prints for the file at path: the lines a
// destination's --forward-format json values must equal, one per message.
func ReaderJSON(path string) ([]byte, error) {
	d, err := reader.Open(path)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var b bytes.Buffer
	if err := reader.Render(d, &b, reader.RenderOptions{Mode: reader.ModeJSON}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b.Bytes(), nil
}
