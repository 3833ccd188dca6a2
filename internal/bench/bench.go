// Package bench holds what the benchmark harnesses (bench:collector, bench:reader,
// bench:stats) share: the pinned peer tools, building this module's commands, and timing one
// program run (wall, CPU, peak memory).
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Peers are the Go peer tools the benchmarks install and time, by name, pinned:
// golang-dnstap's command at the version go.mod requires (the reference the reader and
// collector replace).
var Peers = map[string]string{
	"golang-dnstap": "github.com/dnstap/golang-dnstap/dnstap@v0.4.0",
}

// Build builds this module's command cmd ("dnstap-reader") from the module root dir into out.
func Build(ctx context.Context, dir, cmd, out string) error {
	c := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/"+cmd)
	c.Dir = dir
	if b, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w: %s", cmd, err, b)
	}
	return nil
}

// Install installs the peer tool name (a key of Peers) into the directory gobin and returns
// the program's path.
func Install(ctx context.Context, name, gobin string) (string, error) {
	mod, ok := Peers[name]
	if !ok {
		return "", fmt.Errorf("install %s: not a pinned peer tool", name)
	}
	c := exec.CommandContext(ctx, "go", "install", mod)
	c.Env = append(os.Environ(), "GOBIN="+gobin)
	if b, err := c.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w: %s", mod, err, b)
	}
	return filepath.Join(gobin, filepath.Base(strings.SplitN(mod, "@", 2)[0])), nil
}

// Measurement is what Measure saw of one run.
type Measurement struct {
	Wall   time.Duration
	CPU    time.Duration // user + system, of the program and the children it waited for
	MaxRSS int64         // bytes: the largest resident set of the program or a waited-for child
}

// Measure runs argv once, with env added to ours and its output to stdout, and measures it.
// Memory comes from GNU time's %M when /usr/bin/time is installed: wait4's ru_maxrss of a
// child this Go process forks also counts the Go process before exec, so it is only the
// fallback. An error carries the program's standard error.
func Measure(ctx context.Context, argv, env []string, stdout io.Writer) (Measurement, error) {
	var timeOut string
	if gnuTime, err := exec.LookPath("/usr/bin/time"); err == nil {
		if f, err := os.CreateTemp("", "bench-time-"); err == nil {
			timeOut = f.Name()
			f.Close()
			defer os.Remove(timeOut)
			argv = append([]string{gnuTime, "-f", "%U %S %M", "-o", timeOut}, argv...)
		}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	err := cmd.Run()
	m := Measurement{Wall: time.Since(start)}
	if err != nil {
		return m, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.MaxRSS = ru.Maxrss * 1024
		m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if timeOut != "" {
		b, err := os.ReadFile(timeOut)
		if err != nil {
			return m, err
		}
		// The last line: GNU time writes "Command exited ..." lines before it on failure.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var user, sys float64
		var kib int64
		if _, err := fmt.Sscanf(lines[len(lines)-1], "%f %f %d", &user, &sys, &kib); err != nil {
			return m, fmt.Errorf("parse GNU time output %q: %w", b, err)
		}
		m.CPU = time.Duration((user + sys) * float64(time.Second))
		m.MaxRSS = kib * 1024
	}
	return m, nil
}
