package collector

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"testing"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
)

// benchStream is a Frame Stream (START, n dnstap frames, STOP) as a sender puts it on a socket.
func benchStream(b *testing.B, n int) []byte {
	b.Helper()
	p := filepath.Join(b.TempDir(), "c.fstrm")
	if _, err := collectortest.WriteCapture(p, n); err != nil {
		b.Fatal(err)
	}
	raw, err := readAll(p)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkFrameLoop is the collector's reader: frames are copied, not decoded, and nothing is
// allocated per frame.
func BenchmarkFrameLoop(b *testing.B) {
	raw := benchStream(b, 10000)
	hdr := len(controlBytes(startFrame()))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	sink := make([]byte, 0, batchSize)
	frames := 0
	put := func(p []byte, n int) { // what the collector does: one copy into the shared batch
		if len(sink)+len(p) > cap(sink) {
			sink = sink[:0]
		}
		sink = append(sink, p...)
		frames += n
	}
	for b.Loop() {
		br := bufio.NewReaderSize(bytes.NewReader(raw[hdr:]), defaultReadBuffer)
		if _, err := frameLoop(br, defaultMaxFrame, put, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

// BenchmarkFramestreamReader is golang-framestream's Reader on the same stream, for comparison:
// it is what the collector would use had it not its own loop.
func BenchmarkFramestreamReader(b *testing.B) {
	raw := benchStream(b, 10000)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	buf := make([]byte, defaultMaxFrame)
	frames := 0
	for b.Loop() {
		r, err := fs.NewReader(bytes.NewReader(raw), &fs.ReaderOptions{ContentTypes: [][]byte{ctDnstap}})
		if err != nil {
			b.Fatal(err)
		}
		for {
			n, err := r.ReadFrame(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			// the collector must keep the frame: a copy is part of the cost
			_ = append([]byte(nil), buf[:n]...)
			frames++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

// BenchmarkCollectorFstrmReplay runs the whole collector in-process with Debian's fstrm_replay
// as the sender (go test -bench CollectorFstrmReplay -cpuprofile shows where the time goes).
func BenchmarkCollectorFstrmReplay(b *testing.B) {
	replay, err := exec.LookPath("fstrm_replay")
	if err != nil {
		b.Skip("fstrm_replay not installed (fstrm-bin)")
	}
	in := filepath.Join(b.TempDir(), "in.fstrm")
	const n = 200000
	if _, err := collectortest.WriteCapture(in, n); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sock, ln := unixListener(b)
		r := start(b, Config{Output: filepath.Join(b.TempDir(), "o.fstrm")}, ln)
		if out, err := exec.Command(replay, "-t", DefaultContentType, "-u", sock, "-r", in).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		if err := r.stop(); err != nil {
			b.Fatal(err)
		}
		if got := r.c.Stats().FramesWritten; got != n {
			b.Fatalf("%d frames written, sent %d", got, n)
		}
	}
}
