package collector

import (
	"bytes"
	"encoding/binary"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	fs "github.com/farsightsec/golang-framestream"
)

// TestHandOverUnderTraffic stops a collector while its sender writes without pause (frames
// split across writes, so a read ends inside a frame) and gives the live connection to a
// second collector, as systemd's file descriptor store does across a restart: the sender
// never sees the connection end, and the two collectors' files hold every frame once, the
// first one's a prefix of the stream.
func TestHandOverUnderTraffic(t *testing.T) {
	for _, tc := range []struct {
		name string
		bidi bool
	}{
		{"unidirectional, frames split across writes", false},
		{"bidirectional (golang-framestream Writer), FINISH from the second", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock, ln := unixListener(t)
			dirA, dirB := t.TempDir(), t.TempDir()
			handed := make(chan Handover, 1)
			a := start(t, Config{Output: filepath.Join(dirA, "a.fstrm"), HandOver: func(h Handover) error {
				handed <- h
				return nil
			}}, ln)

			nc, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			var sent atomic.Int64
			stopSending := make(chan struct{})
			senderDone := make(chan error, 1)
			go func() { senderDone <- sendUntil(nc, tc.bidi, stopSending, &sent) }()

			waitFor(t, "the first collector to read frames", func() bool { return a.c.Stats().FramesRead > 500 })
			if err := a.stop(); err != nil {
				t.Fatalf("the first collector: %v", err)
			}
			var h Handover
			select {
			case h = <-handed:
			default:
				t.Fatalf("the connection was not handed over:\n%s", a.log.String())
			}
			if h.Bidirectional != tc.bidi {
				t.Errorf("Handover.Bidirectional = %v, want %v", h.Bidirectional, tc.bidi)
			}
			if len(h.Leftover) >= 4 && int(binary.BigEndian.Uint32(h.Leftover)) <= len(h.Leftover)-4 {
				t.Errorf("the leftover (%d bytes) holds a whole frame: the first collector should have taken it", len(h.Leftover))
			}
			readByA := a.c.Stats().FramesRead

			_, ln2 := unixListener(t)
			b := start(t, Config{Output: filepath.Join(dirB, "b.fstrm"), Adopt: []Handover{h}}, ln2)
			waitFor(t, "the second collector to read frames", func() bool { return b.c.Stats().FramesRead > 500 })
			close(stopSending)
			if err := <-senderDone; err != nil {
				t.Fatalf("the sender saw: %v", err)
			}
			waitFor(t, "the second collector to read the rest", func() bool { return uint64(sent.Load()) == readByA+b.c.Stats().FramesRead })
			if err := b.stop(); err != nil {
				t.Fatalf("the second collector: %v", err)
			}

			first, second := allFrames(t, dirA), allFrames(t, dirB)
			checkFrames(t, append(append([][]byte(nil), first...), second...), map[int]int{7: int(sent.Load())})
			for i, f := range first {
				if !bytes.Equal(f, payload(7, i)) {
					t.Fatalf("frame %d of the first collector's file is %q, want frame %d", i, f[:20], i)
				}
			}
			for i, f := range second {
				if !bytes.Equal(f, payload(7, len(first)+i)) {
					t.Fatalf("frame %d of the second collector's file is %q, want frame %d", i, f[:20], len(first)+i)
				}
			}
			t.Logf("%d frames: %d before the handover, %d after; leftover %d bytes", sent.Load(), len(first), len(second), len(h.Leftover))
			if !strings.Contains(a.log.String(), "handed over to the next collector") || !strings.Contains(b.log.String(), "handed over by the previous collector") {
				t.Errorf("logs do not tell the handover:\n%s\n%s", a.log.String(), b.log.String())
			}
		})
	}
}

// sendUntil writes frames of sender 7 to nc until stop is closed, then STOP (and, when
// bidirectional, waits for FINISH). Unidirectional writes end inside a frame on purpose.
func sendUntil(nc net.Conn, bidi bool, stop <-chan struct{}, sent *atomic.Int64) error {
	if bidi {
		w, err := fs.NewWriter(nc, &fs.WriterOptions{ContentTypes: [][]byte{ctDnstap}, Bidirectional: true, Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return w.Close()
			default:
			}
			if _, err := w.WriteFrame(payload(7, i)); err != nil {
				return err
			}
			sent.Add(1)
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	var b bytes.Buffer
	b.Write(controlBytes(startFrame()))
	var tail []byte
	for i := 0; ; {
		select {
		case <-stop:
			b.Write(tail)
			b.Write(controlBytes(stopFrame()))
			_, err := nc.Write(b.Bytes())
			return err
		default:
		}
		b.Write(tail)
		for range 20 {
			writeFrame(&b, payload(7, i))
			i++
			sent.Add(1)
		}
		var next bytes.Buffer
		writeFrame(&next, payload(7, i))
		i++
		sent.Add(1)
		b.Write(next.Bytes()[:7]) // ends inside the frame
		tail = next.Bytes()[7:]
		if _, err := nc.Write(b.Bytes()); err != nil {
			return err
		}
		b.Reset()
		time.Sleep(time.Millisecond)
	}
}
