package statsbench

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/dnstapkit/dnstapkit/internal/tapct"
)

const contentType = tapct.ContentType

// ReadFrames returns the data frames of an uncompressed Frame Streams file.
func ReadFrames(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read frames: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var frames [][]byte
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return frames, nil
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 { // control frame: length, then skip
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return nil, fmt.Errorf("%s: control frame: %w", path, err)
			}
			if _, err := br.Discard(int(binary.BigEndian.Uint32(hdr[:]))); err != nil {
				return nil, fmt.Errorf("%s: control frame: %w", path, err)
			}
			continue
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, fmt.Errorf("%s: data frame: %w", path, err)
		}
		frames = append(frames, b)
	}
}

// timeFields finds the offsets of the varints of query_time_sec (8) and response_time_sec
// (12) inside a Dnstap frame's message (14), for shifting them in place.
func timeFields(frame []byte) []int {
	var offs []int
	b := frame
	base := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return offs
		}
		vn := protowire.ConsumeFieldValue(num, typ, b[n:])
		if vn < 0 {
			return offs
		}
		if num == 14 && typ == protowire.BytesType {
			_, ln := protowire.ConsumeVarint(b[n:])
			msgStart := base + n + ln
			m := frame[msgStart : base+n+vn]
			off := 0
			for off < len(m) {
				mnum, mtyp, mn := protowire.ConsumeTag(m[off:])
				if mn < 0 {
					return offs
				}
				mvn := protowire.ConsumeFieldValue(mnum, mtyp, m[off+mn:])
				if mvn < 0 {
					return offs
				}
				if (mnum == 8 || mnum == 12) && mtyp == protowire.VarintType {
					offs = append(offs, msgStart+off+mn)
				}
				off += mn + mvn
			}
		}
		b = b[n+vn:]
		base += n + vn
	}
	return offs
}

// shiftVarint adds delta to the varint at b[off:], keeping its encoded length (seconds since
// 1970 take 5 bytes until 2059); it reports false when the length would change.
func shiftVarint(b []byte, off int, delta uint64) bool {
	v, n := protowire.ConsumeVarint(b[off:])
	if n < 0 {
		return false
	}
	nv := protowire.AppendVarint(nil, v+delta)
	if len(nv) != n {
		return false
	}
	copy(b[off:], nv)
	return true
}

// Generate writes a Frame Streams file of n data frames: frames repeated in order, each
// repetition's times shifted by period seconds after the previous one, so the file spans
// n/len(frames)*period seconds of traffic.
func Generate(w io.Writer, frames [][]byte, n int, period uint64) error {
	if len(frames) == 0 {
		return errors.New("generate: no frames")
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	ctl := func(typ uint32, ct bool) {
		body := binary.BigEndian.AppendUint32(nil, typ)
		if ct {
			body = binary.BigEndian.AppendUint32(body, 1)
			body = binary.BigEndian.AppendUint32(body, uint32(len(contentType)))
			body = append(body, contentType...)
		}
		var h [8]byte
		binary.BigEndian.PutUint32(h[4:], uint32(len(body)))
		bw.Write(h[:])
		bw.Write(body)
	}
	ctl(2, true) // START
	offs := make([][]int, len(frames))
	for i, f := range frames {
		offs[i] = timeFields(f)
	}
	buf := make([]byte, 0, 4096)
	var hdr [4]byte
	for i := range n {
		k := i % len(frames)
		rep := uint64(i / len(frames))
		buf = append(buf[:0], frames[k]...)
		for _, off := range offs[k] {
			shiftVarint(buf, off, rep*period)
		}
		binary.BigEndian.PutUint32(hdr[:], uint32(len(buf)))
		bw.Write(hdr[:])
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	ctl(3, false) // STOP
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}
