package stats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/dnstapkit/dnstapkit/reader"
)

// Progress counts what Feed has read, for a progress line; safe to read from another
// goroutine.
type Progress struct {
	Messages atomic.Uint64
	Bytes    atomic.Int64 // decoder offset in the current input
	Input    atomic.Value // string: the input being read
}

// progressEvery is how many messages Feed reads between updates of Progress and checks of
// ctx: rare enough to cost nothing, often enough for a once-a-second progress line.
const progressEvery = 4096

// Feed reads every message of d, keeps those that f matches (f may be nil) and passes them
// to add. It returns nil at the end of the input; the decoder's error otherwise, once every
// message before it has been added. Frames the decoder skips (Recoverable errors) are
// counted in skipped and reading goes on. p may be nil.
func Feed(ctx context.Context, d *reader.Decoder, f *reader.Filter, add func(*Record), p *Progress) (skipped int, err error) {
	var rec Record
	if p != nil {
		p.Input.Store(d.Name())
	}
	for n := 1; ; n++ {
		if n%progressEvery == 0 {
			if p != nil {
				p.Messages.Add(progressEvery)
				p.Bytes.Store(d.Offset())
			}
			if err := ctx.Err(); err != nil {
				return skipped, err
			}
		}
		m, err := d.Next()
		if err != nil {
			if p != nil {
				p.Messages.Add(uint64(n % progressEvery))
			}
			if errors.Is(err, io.EOF) {
				return skipped, nil
			}
			if reader.Recoverable(err) {
				skipped++
				continue
			}
			return skipped, err
		}
		if !m.HasMessage || (f != nil && !f.Match(m)) {
			continue
		}
		FromMessage(&rec, m)
		add(&rec)
	}
}

// ProgressLine formats one progress line: messages read, rate since start, the input.
func ProgressLine(p *Progress, elapsed time.Duration) string {
	n := p.Messages.Load()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	in, _ := p.Input.Load().(string)
	return fmt.Sprintf("%d messages, %.0f/s, %s at %d MiB", n, rate, in, p.Bytes.Load()>>20)
}
