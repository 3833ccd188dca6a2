package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const userHZ = 100

// proc is a child process: named or a collector. Its output goes to a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	pid  int // the program's pid: cmd's own, or (in a container) what lookupPID found
	// lookupPID finds the program's pid once it runs, when cmd is not the program itself
	// (docker run); nil when it is.
	lookupPID func(ctx context.Context) (int, error)
	cleanup   func() // after it has ended (remove its container); nil for none
	log       *os.File
	done      chan struct{}
	err       error // set when done is closed
}

// command builds the exec.Cmd for argv, under taskset -c cpus when cpus is not empty.
func command(ctx context.Context, cpus string, argv ...string) *exec.Cmd {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// start runs argv (under taskset when cpus is set) with stdout and stderr to logPath.
func start(name, logPath, cpus string, argv ...string) (*proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	cmd := command(context.Background(), cpus, argv...)
	cmd.Stdout, cmd.Stderr = lf, lf
	// taskset execs the program, so the pid is the program's own.
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, log: lf, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// resolvePID sets pid to the program's own when cmd is only its launcher.
func (p *proc) resolvePID(ctx context.Context) error {
	if p.lookupPID == nil {
		return nil
	}
	pid, err := p.lookupPID(ctx)
	if err != nil {
		return fmt.Errorf("pid of %s: %w", p.name, err)
	}
	p.pid = pid
	return nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace, then SIGKILL. It returns the process's resource use.
func (p *proc) stop(grace time.Duration) (*syscall.Rusage, error) {
	defer p.log.Close()
	if cleanup := p.cleanup; cleanup != nil {
		p.cleanup = nil
		defer cleanup()
	}
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
			return rusage(p.cmd), fmt.Errorf("%s did not stop within %s of SIGTERM; killed", p.name, grace)
		}
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		return rusage(p.cmd), fmt.Errorf("%s: %w", p.name, p.err)
	}
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		if ws, ok := st.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			return rusage(p.cmd), fmt.Errorf("%s exited: %s (log: %s)", p.name, st, p.log.Name())
		}
	}
	return rusage(p.cmd), nil
}

func rusage(cmd *exec.Cmd) *syscall.Rusage {
	if cmd.ProcessState == nil {
		return nil
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru
}

// cpuTime returns the user+system CPU time of pid so far (all threads), from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after its closing ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu time of %d: malformed stat %q", pid, b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time of %d: short stat %q", pid, b)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// peakRSS returns VmHWM (peak resident set) of pid in KiB, from /proc/<pid>/status.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak memory of %d: %w", pid, err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("peak memory of %d: no VmHWM in status", pid)
}
