package loadtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// perfEvents are what `perf stat --per-thread` counts in each of named's threads with
// LOAD_PERF: software events and system call tracepoints, which work where hardware counters
// do not (a VM). fstrm's unix writer sends with sendmsg; BIND 9.18's workers read UDP with
// recvmmsg.
const perfEvents = "task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvmmsg"

// ThreadCounts is what perf counted in one thread of named during dnsperf's run.
type ThreadCounts struct {
	Thread   string        `json:"thread"` // perf's name: comm-tid
	CPU      time.Duration `json:"cpu_ns"` // task-clock
	Switches int64         `json:"context_switches"`
	Syscalls int64         `json:"syscalls"`
	Sendmsg  int64         `json:"sendmsg"`
	Recvmmsg int64         `json:"recvmmsg"`
}

// NamedProfile splits named's work during dnsperf's run by thread: fstrm's I/O thread (the
// thread that calls sendmsg and never recvmmsg: it writes the dnstap socket) and the workers
// (the threads that call recvmmsg: they read the queries).
type NamedProfile struct {
	IOThreadCPU    time.Duration  `json:"io_thread_cpu_ns"`
	IOSendmsg      int64          `json:"io_thread_sendmsg"`
	IOSyscalls     int64          `json:"io_thread_syscalls"`
	WorkerCPU      time.Duration  `json:"worker_cpu_ns"`
	WorkerRecvmmsg int64          `json:"worker_recvmmsg"`
	Switches       int64          `json:"context_switches"` // all threads
	Threads        []ThreadCounts `json:"threads"`
}

// parsePerfStat reads the CSV of `perf stat --per-thread -x,` (thread,value,unit,event,...);
// a thread perf did not count ("<not counted>") is left out.
func parsePerfStat(r io.Reader) ([]ThreadCounts, error) {
	byThread := map[string]*ThreadCounts{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 4 {
			return nil, fmt.Errorf("perf stat: %q: want thread,value,unit,event", line)
		}
		if strings.HasPrefix(f[1], "<") { // <not counted>, <not supported>
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, fmt.Errorf("perf stat: %q: %w", line, err)
		}
		t := byThread[f[0]]
		if t == nil {
			t = &ThreadCounts{Thread: f[0]}
			byThread[f[0]] = t
			order = append(order, f[0])
		}
		switch f[3] {
		case "task-clock":
			if f[2] != "msec" {
				return nil, fmt.Errorf("perf stat: %q: task-clock in %q, want msec", line, f[2])
			}
			t.CPU = time.Duration(v * float64(time.Millisecond))
		case "context-switches":
			t.Switches = int64(v)
		case "raw_syscalls:sys_enter":
			t.Syscalls = int64(v)
		case "syscalls:sys_enter_sendmsg":
			t.Sendmsg = int64(v)
		case "syscalls:sys_enter_recvmmsg":
			t.Recvmmsg = int64(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("perf stat: %w", err)
	}
	out := make([]ThreadCounts, 0, len(order))
	for _, n := range order {
		out = append(out, *byThread[n])
	}
	slices.SortFunc(out, func(a, b ThreadCounts) int { return strings.Compare(a.Thread, b.Thread) })
	return out, nil
}

// profileOf sums the threads into fstrm's I/O thread and the workers.
func profileOf(threads []ThreadCounts) NamedProfile {
	p := NamedProfile{Threads: threads}
	for _, t := range threads {
		p.Switches += t.Switches
		switch {
		case t.Recvmmsg > 0:
			p.WorkerCPU += t.CPU
			p.WorkerRecvmmsg += t.Recvmmsg
		case t.Sendmsg > 0:
			p.IOThreadCPU += t.CPU
			p.IOSendmsg += t.Sendmsg
			p.IOSyscalls += t.Syscalls
		}
	}
	return p
}

// startPerf counts perfEvents in every thread of pid until stopPerf.
func startPerf(dir string, pid int) (*proc, string, error) {
	out := filepath.Join(dir, "perf-named.csv")
	p, err := start("perf", filepath.Join(dir, "perf.log"), "",
		"perf", "stat", "--per-thread", "-x,", "-e", perfEvents, "-p", strconv.Itoa(pid), "-o", out)
	return p, out, err
}

// stopPerf stops perf (SIGINT: it writes its counts and exits) and reads what it counted.
func stopPerf(p *proc, out string) (NamedProfile, error) {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
	if _, err := p.stop(time.Second); err != nil && !p.exited() {
		return NamedProfile{}, err
	}
	f, err := os.Open(out)
	if err != nil {
		return NamedProfile{}, fmt.Errorf("perf stat: %w (log: %s)", err, readTail(p.log.Name()))
	}
	defer f.Close()
	threads, err := parsePerfStat(f)
	if err != nil {
		return NamedProfile{}, err
	}
	if len(threads) == 0 {
		return NamedProfile{}, fmt.Errorf("perf stat counted no thread of named (log: %s)", readTail(p.log.Name()))
	}
	return profileOf(threads), nil
}
