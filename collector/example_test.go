package collector_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	fs "github.com/farsightsec/golang-framestream"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/readertest"
)

// Run a collector on a unix socket, send it three dnstap messages over Frame Streams (as
// named's dnstap-output unix does), stop it and read its file back.
func Example() {
	dir, err := os.MkdirTemp("", "collector-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	c, err := collector.New(collector.Config{Output: filepath.Join(dir, "dnstap.fstrm")}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	sock := filepath.Join(dir, "dnstap.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- c.Serve(ctx, ln) }()

	// The sender: a bidirectional Frame Streams writer, as BIND's.
	frames, err := readertest.Frames([]string{"a.example.", "b.example.", "c.example."}, time.Unix(1764555000, 0))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sendFrames(sock, frames); err != nil {
		fmt.Println(err)
		return
	}
	stop() // drains: what the sender sent is written, the file closed
	if err := <-served; err != nil {
		fmt.Println(err)
		return
	}

	d, err := reader.Open(filepath.Join(dir, "dnstap.fstrm"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	for {
		m, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(m.Type.Mnemonic(), string(m.DNS().QName))
	}
	fmt.Println(c.Stats().FramesWritten, "frames written")
	// Output:
	// CQ a.example
	// CQ b.example
	// CQ c.example
	// 3 frames written
}

func sendFrames(sock string, frames [][]byte) error {
	nc, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer nc.Close()
	w, err := fs.NewWriter(nc, &fs.WriterOptions{ContentTypes: [][]byte{[]byte(collector.DefaultContentType)},
		Bidirectional: true, Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	for _, f := range frames {
		if _, err := w.WriteFrame(f); err != nil {
			return err
		}
	}
	return w.Close()
}
