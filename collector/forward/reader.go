package forward

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// Variants of a spool file on disk, in the order they are looked for: finished, being
// written (or left by a crash), compressed.
var variants = []string{"", ".part", ".zst", ".gz"}

// keyOf returns the spool key of a file path: the path without .part, .zst or .gz.
func keyOf(p string) string {
	p = strings.TrimSuffix(p, ".part")
	for _, s := range []string{".zst", ".gz"} {
		if k, ok := strings.CutSuffix(p, s); ok {
			return k
		}
	}
	return p
}

// errVanished: no variant of a spool file exists.
var errVanished = errors.New("no such spool file (finished, .part or compressed)")

// fileReader reads the frames of one spool file, from an offset, without decoding them.
type fileReader struct {
	path string // the variant opened
	f    *os.File
	zr   io.ReadCloser // decompressor, or nil
	r    io.Reader
	buf  []byte
	lo   int   // buf[lo:hi] is read but not consumed
	hi   int   //
	off  int64 // offset in the uncompressed file of buf[lo]
	eof  bool  // the underlying reader returned EOF (for a live file: for now)
	read int64 // bytes taken from r so far, plus the start offset
}

// openSpoolFile opens the variant of key that exists and positions the reader at off (a
// frame boundary, or 0 for the start, where the START control frame is). A file renamed
// between the lookups (.part to finished, finished to compressed) is looked for again.
func openSpoolFile(key string, off int64, bufSize int) (*fileReader, error) {
	var err error
	for range 5 {
		for _, v := range variants {
			var r *fileReader
			if r, err = openPath(key+v, off, bufSize); err == nil || !errors.Is(err, os.ErrNotExist) {
				return r, err
			}
		}
	}
	return nil, fmt.Errorf("%s: %w", key, errVanished)
}

// openPath opens one variant of a spool file (decompressing .zst and .gz) at offset off.
func openPath(path string, off int64, bufSize int) (*fileReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fr := &fileReader{path: path, f: f, r: f, buf: make([]byte, bufSize)}
	switch {
	case strings.HasSuffix(path, ".zst"):
		d, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		fr.zr, fr.r = d.IOReadCloser(), d
	case strings.HasSuffix(path, ".gz"):
		g, err := gzip.NewReader(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		fr.zr, fr.r = g, g
	}
	if off > 0 {
		if fr.zr == nil {
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				fr.close()
				return nil, fmt.Errorf("%s: seek to %d: %w", path, off, err)
			}
		} else if n, err := io.CopyN(io.Discard, fr.r, off); errors.Is(err, io.EOF) {
			fr.eof = true // shorter than the cursor (a power loss cut it): nothing left to read
		} else if err != nil {
			fr.close()
			return nil, fmt.Errorf("%s: skip to offset %d (%d bytes there): %w", path, off, n, err)
		}
	}
	fr.off, fr.read = off, off
	return fr, nil
}

func (r *fileReader) close() {
	if r.zr != nil {
		_ = r.zr.Close()
	}
	_ = r.f.Close()
}

// Outcomes of fileReader.next besides a frame.
var (
	errNeedMore = errors.New("no complete frame yet")       // wait for the writer (live file)
	errFileEnd  = errors.New("end of the spool file")       // STOP, or the end of a file not being written
	errPartial  = errors.New("file ends inside a frame")    // a finished file, cut off (crash)
	errTooLarge = errors.New("frame larger than the limit") // corrupt length
)

// next returns the next data frame (length prefix and payload, valid until the next call)
// and its offset. Control frames (START) are skipped. limit is how many bytes of the file
// may be read (the size the writer reported for a live file), or -1 for all.
func (r *fileReader) next(limit int64, maxFrame int) ([]byte, int64, error) {
	for {
		if r.hi-r.lo >= 4 {
			n := int(binary.BigEndian.Uint32(r.buf[r.lo:]))
			if n == 0 { // control frame: escape, length, body
				if r.hi-r.lo >= 8 {
					cl := int(binary.BigEndian.Uint32(r.buf[r.lo+4:]))
					if cl < 4 || cl > 512 {
						return nil, r.off, fmt.Errorf("%s: offset %d: control frame of %d bytes: %w", r.path, r.off, cl, errTooLarge)
					}
					if r.hi-r.lo >= 8+cl {
						ctype := binary.BigEndian.Uint32(r.buf[r.lo+8:])
						r.consume(8 + cl)
						if ctype == 3 { // STOP
							return nil, r.off, errFileEnd
						}
						continue // START (or anything else before data)
					}
				}
			} else {
				if n > maxFrame {
					return nil, r.off, fmt.Errorf("%s: offset %d: data frame of %d bytes: %w", r.path, r.off, n, errTooLarge)
				}
				if r.hi-r.lo >= 4+n {
					off := r.off
					fr := r.buf[r.lo : r.lo+4+n]
					r.consume(4 + n)
					return fr, off, nil
				}
				if 4+n > len(r.buf) {
					r.grow(4 + n)
				}
			}
		}
		got, err := r.fill(limit)
		if got > 0 {
			continue
		}
		if err != nil {
			return nil, r.off, fmt.Errorf("%s: %w", r.path, err)
		}
		if limit >= 0 {
			return nil, r.off, errNeedMore
		}
		if r.hi == r.lo {
			return nil, r.off, errFileEnd
		}
		return nil, r.off, errPartial
	}
}

func (r *fileReader) consume(n int) {
	r.lo += n
	r.off += int64(n)
}

func (r *fileReader) grow(n int) {
	nb := make([]byte, max(n, 2*len(r.buf)))
	r.hi = copy(nb, r.buf[r.lo:r.hi])
	r.lo, r.buf = 0, nb
}

// fill reads more bytes (at most up to limit, when limit >= 0) and returns how many. 0 and
// a nil error: nothing more for now (EOF, or the limit reached).
func (r *fileReader) fill(limit int64) (int, error) {
	if r.lo > 0 && (r.lo == r.hi || r.hi == len(r.buf)) {
		r.hi = copy(r.buf, r.buf[r.lo:r.hi])
		r.lo = 0
	}
	room := len(r.buf) - r.hi
	if limit >= 0 {
		if left := limit - r.read; left < int64(room) {
			room = int(max(left, 0))
		}
	}
	if room == 0 {
		return 0, nil
	}
	n, err := r.r.Read(r.buf[r.hi : r.hi+room])
	r.hi += n
	r.read += int64(n)
	if errors.Is(err, io.EOF) {
		r.eof = true
		err = nil
	}
	return n, err
}

// countFrames counts the data frames of the spool file at path (any variant) from offset
// off; a cut-off last frame is not counted.
func countFrames(path string, off int64, maxFrame int) (int64, error) {
	r, err := openPath(path, off, 1<<20)
	if err != nil {
		return 0, err
	}
	defer r.close()
	var n int64
	for {
		_, _, err := r.next(-1, maxFrame)
		switch {
		case err == nil:
			n++
		case errors.Is(err, errFileEnd), errors.Is(err, errPartial):
			return n, nil
		default:
			return n, err
		}
	}
}
