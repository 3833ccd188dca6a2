package reader

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"
)

// RenderOptions configures Render.
type RenderOptions struct {
	Mode     Mode
	Location *time.Location // nil means time.Local
	Format   Format         // whose dnstap-read the output follows (default 9.18)
	Filter   *Filter        // nil matches everything
	// Workers is the number of goroutines that decode and format; 0 or 1 means none (all
	// in the calling goroutine).
	Workers int
	// OnError is called for each error of the decoder, in input order: recoverable ones
	// (one frame skipped) and the final one. With Workers > 1 the errors of a batch of
	// frames come after that batch's output, not between its frames. Render goes on after a recoverable error only
	// when OnError returns true. Nil means stop at the first error.
	OnError func(err error) bool
	// Flush, when set, is called before OnError so that output and error messages appear
	// in order (pass the Flush of a buffered writer).
	Flush func() error
}

// Render decodes every message of d, keeps those that pass the filter and writes them to w
// in the given mode, in input order. It returns nil at the end of the input, the first
// write error, or the decoder's error that OnError declined. With Workers > 1 frames are
// read in batches by one goroutine and decoded and formatted by the workers in parallel;
// memory stays bounded (a fixed number of batches is in flight).
func Render(d *Decoder, w io.Writer, opt RenderOptions) error {
	if opt.Filter == nil {
		opt.Filter = &Filter{}
	}
	if opt.Workers <= 1 {
		return renderSerial(d, w, opt)
	}
	return renderParallel(d, w, opt)
}

func (opt *RenderOptions) report(err error) bool {
	if opt.Flush != nil {
		opt.Flush()
	}
	return opt.OnError != nil && opt.OnError(err)
}

func renderSerial(d *Decoder, w io.Writer, opt RenderOptions) error {
	p := &Printer{Mode: opt.Mode, Location: opt.Location, Format: opt.Format}
	var buf []byte
	for {
		m, err := d.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if Recoverable(err) && opt.report(err) {
				continue
			}
			if !Recoverable(err) {
				opt.report(err)
			}
			return err
		}
		if !opt.Filter.Match(m) {
			continue
		}
		buf = p.Append(buf[:0], m)
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
}

const (
	batchFrames = 512
	batchBytes  = 512 << 10
)

type batch struct {
	data  []byte  // frame payloads back to back
	ends  []int   // end offset of each frame in data
	index []int   // frame numbers
	offs  []int64 // frame offsets
	out   []byte
	errs  []error // per-frame protobuf errors, in order
	tail  error   // the decoder's error after the last frame (io.EOF at the end)
	done  chan struct{}
}

func renderParallel(d *Decoder, w io.Writer, opt RenderOptions) error {
	n := opt.Workers
	free := make(chan *batch, 2*n+2)
	for i := 0; i < cap(free); i++ {
		free <- &batch{done: make(chan struct{}, 1)}
	}
	work := make(chan *batch, cap(free))
	order := make(chan *batch, cap(free))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait() // no goroutine outlives Render
	}()

	// Reader: fills batches with raw frames.
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(order)
		for {
			var b *batch
			select {
			case <-stop:
				return
			default:
			}
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b.data, b.ends, b.index, b.offs, b.errs, b.tail = b.data[:0], b.ends[:0], b.index[:0], b.offs[:0], b.errs[:0], nil
			for len(b.ends) < batchFrames && len(b.data) < batchBytes {
				fr, idx, off, err := d.nextFrame()
				if err != nil {
					if Recoverable(err) {
						b.errs = append(b.errs, err) // frame too large: skipped by the decoder
						continue
					}
					b.tail = err
					break
				}
				b.data = append(b.data, fr...)
				b.ends = append(b.ends, len(b.data))
				b.index = append(b.index, idx)
				b.offs = append(b.offs, off)
			}
			order <- b
			work <- b
			if b.tail != nil {
				return
			}
		}
	}()

	// Workers: decode and format.
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &Printer{Mode: opt.Mode, Location: opt.Location, Format: opt.Format, notFirst: true}
			var m Message
			for b := range work {
				b.out = b.out[:0]
				start := 0
				for j, end := range b.ends {
					fr := b.data[start:end]
					start = end
					if err := m.unmarshal(fr); err != nil {
						b.errs = append(b.errs, &FrameError{Path: d.name, Index: b.index[j], Offset: b.offs[j],
							Err: fmt.Errorf("%w: %w", ErrBadProtobuf, err)})
						continue
					}
					if opt.Filter.Match(&m) {
						b.out = p.Append(b.out, &m)
					}
				}
				b.done <- struct{}{}
			}
		}()
	}

	// Writer: in order.
	first := true
	for b := range order {
		<-b.done
		out := b.out
		if opt.Mode == ModeYAML && first && bytes.HasPrefix(out, []byte("---\n")) {
			out = out[4:]
		}
		if len(out) > 0 {
			first = false
			if _, err := w.Write(out); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		for _, err := range b.errs {
			if !opt.report(err) {
				return err
			}
		}
		tail := b.tail
		free <- b
		if tail == io.EOF {
			return nil
		}
		if tail != nil {
			opt.report(tail)
			return tail
		}
	}
	return nil
}
