package loadtest

import (
	"fmt"
	"strings"
)

// Fstrm holds BIND's fstrm-set-* options (named.conf, options block). A zero field leaves
// BIND's default in place.
type Fstrm struct {
	BufferHint            int    // fstrm-set-buffer-hint, bytes (BIND default 8192, max 65536)
	FlushTimeout          int    // fstrm-set-flush-timeout, seconds (default 1)
	InputQueueSize        int    // fstrm-set-input-queue-size, entries per worker, power of 2 (default 512, max 16384)
	OutputNotifyThreshold int    // fstrm-set-output-notify-threshold, entries (default 32)
	OutputQueueModel      string // fstrm-set-output-queue-model, "mpsc" or "spsc" (default mpsc)
	OutputQueueSize       int    // fstrm-set-output-queue-size, entries (default 64, max 1024 = IOV_MAX)
	ReopenInterval        int    // fstrm-set-reopen-interval, seconds (default 5)
}

// TunedFstrm is the set of fstrm-set-* options the load test found to bring BIND's dnstap
// drops to zero at the highest rate it sustains; the reasons are in docs/loadtest.md and in
// the comments that Conf writes next to each option.
var TunedFstrm = Fstrm{
	BufferHint:            65536,
	FlushTimeout:          1,
	InputQueueSize:        16384,
	OutputNotifyThreshold: 32,
	OutputQueueModel:      "mpsc",
	OutputQueueSize:       1024,
	ReopenInterval:        1,
}

// Conf renders the options as named.conf lines (inside options { }), each with its reason.
func (f Fstrm) Conf() string {
	var b strings.Builder
	line := func(reason, format string, v any) {
		fmt.Fprintf(&b, "\t// %s\n\t"+format+"\n", reason, v)
	}
	if f.BufferHint > 0 {
		line("Send up to 64 KiB per write: fewer syscalls per frame for the fstrm I/O thread, which competes with the workers for CPU.",
			"fstrm-set-buffer-hint %d;", f.BufferHint)
	}
	if f.FlushTimeout > 0 {
		line("Flush a partly filled buffer after this many seconds, so a quiet server still delivers frames promptly.",
			"fstrm-set-flush-timeout %d;", f.FlushTimeout)
	}
	if f.InputQueueSize > 0 {
		line("Each worker thread queues frames here; with the default 512 a burst of ~6 ms at 90k qps (2 frames a query) fills it while the I/O thread waits for a core, and BIND drops (DNSTAPdropped). 16384 (the maximum) rides out ~180 ms.",
			"fstrm-set-input-queue-size %d;", f.InputQueueSize)
	}
	if f.OutputNotifyThreshold > 0 {
		line("Wake the I/O thread once this many frames wait: low enough to keep the queues short.",
			"fstrm-set-output-notify-threshold %d;", f.OutputNotifyThreshold)
	}
	if f.OutputQueueModel != "" {
		line("Several worker threads feed one I/O thread: multi-producer queue.",
			"fstrm-set-output-queue-model %s;", f.OutputQueueModel)
	}
	if f.OutputQueueSize > 0 {
		line("Frames the I/O thread may batch into one writev (IOV_MAX = 1024): bigger batches drain the input queues faster.",
			"fstrm-set-output-queue-size %d;", f.OutputQueueSize)
	}
	if f.ReopenInterval > 0 {
		line("Retry a missing collector socket every second instead of 5, so fewer frames are lost after the collector (re)starts.",
			"fstrm-set-reopen-interval %d;", f.ReopenInterval)
	}
	return b.String()
}
