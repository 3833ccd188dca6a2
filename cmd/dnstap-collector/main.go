// Command dnstap-collector receives dnstap over Frame Streams and writes rotated files.
// A drop-in for fstrm_capture; see docs/collector.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/dnstapkit/dnstapkit/collector"
	"github.com/dnstapkit/dnstapkit/collector/forward"
	"github.com/dnstapkit/dnstapkit/collector/input"
)

// Set by `go tool mage build` with -ldflags -X.
var version, commit string

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // runtime failure, or frames lost at shutdown
	exitUsage  = 2 // bad flags, environment or config
)

func main() {
	os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// exitStatus is an exit status whose reason is already printed (or logged).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exitCode maps run's error to the exit status, printing an error not printed yet.
func exitCode(err error, stderr io.Writer) int {
	var st exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &st):
		return int(st)
	}
	fmt.Fprintf(stderr, "dnstap-collector: %v\n", err)
	return exitFailed
}

// run is the command, the same shape as dnstap-reader's; it ends when ctx is done or on
// SIGTERM or SIGINT.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, os.Getenv, stdout, stderr)
}

// runEnv is run with the environment read through getenv (tests give their own).
func runEnv(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := resolve(args, getenv, stdout)
	if s.help {
		usage(stdout, options())
		return nil
	}
	if s.version {
		fmt.Fprintf(stdout, "dnstap-collector %s (commit %s, %s)\n", orDev(version), orDev(commit), runtime.Version())
		return nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "dnstap-collector: %v\n", err)
		return exitStatus(exitUsage)
	}
	hopts := &slog.HandlerOptions{Level: s.logLevel}
	var log *slog.Logger
	if s.logJSON {
		log = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		log = slog.New(slog.NewTextHandler(stderr, hopts))
	}
	procs := setProcs(getenv, s.cfg.Compress != collector.CompressNone)
	log.Info("dnstap-collector starting", "version", orDev(version), "commit", orDev(commit), "gomaxprocs", procs, "config", s.effective)

	fw, err := newForwarder(s, log)
	if err != nil {
		log.Error("forward", "error", err)
		return exitStatus(exitFailed)
	}
	if fw != nil {
		s.cfg.Spool = fw
	}
	c, err := collector.New(s.cfg, log)
	if err != nil {
		log.Error("config", "error", err)
		return exitStatus(exitUsage)
	}
	if err := c.CheckOutput(); err != nil {
		log.Error("output", "error", err, "hint", outputHint(err, getenv))
		return exitStatus(exitFailed)
	}
	// A reader of -w - that goes away must not kill the process with SIGPIPE: the write fails
	// with EPIPE instead, and the collector counts what it loses, cleans up and exits 1.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	in, err := newInput(ctx, s, log)
	if err != nil {
		log.Error("input", "error", err)
		return exitStatus(exitFailed)
	}
	lns, adopted, err := listeners(s, getenv, in != nil)
	if err == nil && (s.fdstore || (adopted != nil && len(adopted.conns) > 0)) {
		// The handover and the adopted connections are part of the collector's config: it is
		// made again with them (New only validates; nothing was opened).
		if err = useFDStore(&s, adopted, getenv, log); err == nil {
			c, err = collector.New(s.cfg, log)
		}
	}
	if err == nil {
		var tlns []*collector.TLSListener
		if lns, tlns, err = withTLS(s, lns); err == nil {
			reloadTLS = func() {
				for _, tl := range tlns {
					if err := tl.Reload(); err != nil {
						log.Error("TLS reload failed; keeping the previous certificate", "error", err)
					} else {
						log.Info("TLS certificate and client CA reloaded", "addr", tl.Addr().String())
					}
				}
			}
		}
	}
	if err != nil {
		log.Error("listen", "error", err)
		return exitStatus(exitFailed)
	}
	defer closeAll(lns) // on an early return; Serve closes them otherwise (closing twice is harmless)
	for _, ln := range lns {
		log.Info("listening", "addr", ln.Addr().String(), "net", ln.Addr().Network())
	}
	if in != nil {
		lns = append(lns, in.Listener())
		log.Info("reading", "input", s.input.url, "group", s.input.group)
	}
	rot := make(chan os.Signal, 1)
	signal.Notify(rot, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(rot)
	go func() {
		for sig := range rot {
			log.Info("rotation requested", "signal", sig.String())
			c.Rotate()
			if sig == syscall.SIGHUP {
				reloadTLS()
			}
		}
	}()
	if s.metrics != "" {
		mln, err := net.Listen("tcp", s.metrics)
		if err != nil {
			log.Error("metrics listener", "error", err)
			return exitStatus(exitFailed)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", metricsHandler(c, fw, in))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(mln) }() // ends when closed below
		defer srv.Close()
		log.Info("metrics", "addr", mln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, lns...) }()
	inErr := make(chan error, 1) // the input's failure for good (it logged it); it stops the collector
	if in != nil {
		go func() { // ends with ctx; Serve then drains its connections
			if err := in.Run(ctx); err != nil {
				inErr <- err
				stop()
			}
		}()
	}
	fwDone := make(chan error, 1)
	if fw != nil {
		go func() { fwDone <- fw.Run(ctx) }()
	} else {
		fwDone <- nil
	}
	notify(log, daemon.SdNotifyReady)
	status := time.NewTicker(s.statusEvery)
	defer status.Stop()
	statusLine := func() string {
		line := c.Stats().String()
		if fw != nil {
			line += " " + fw.Status()
		}
		return line
	}
	for {
		select {
		case <-ctx.Done():
			notify(log, daemon.SdNotifyStopping)
			notify(log, "STATUS=draining "+statusLine())
			err := <-done
			if ferr := <-fwDone; ferr != nil {
				log.Error("forwarder", "error", ferr)
			}
			if err != nil {
				log.Error("stopped with loss", "error", err)
				return exitStatus(exitFailed)
			}
			select {
			case <-inErr:
				return exitStatus(exitFailed)
			default:
			}
			return nil
		case err := <-done: // the output failed for good, or Serve could not start
			log.Error("stopped", "error", err)
			return exitStatus(exitFailed)
		case <-status.C:
			notify(log, "STATUS="+statusLine())
		}
	}
}

// reloadTLS reloads the TLS listeners' files (SIGHUP); set once they exist.
var reloadTLS = func() {}

// metricsHandler serves the collector's metrics, and the forwarder's when there is one.
func metricsHandler(c *collector.Collector, fw *forward.Forwarder, in *input.Input) http.Handler {
	ch := collector.MetricsHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ch.ServeHTTP(w, r)
		if fw != nil {
			_ = fw.Stats().WritePrometheus(w) // the client went away; nothing to do
		}
		if in != nil {
			_ = in.Stats().WritePrometheus(w)
		}
	})
}

// setProcs runs the collector on one OS thread at a time (two with compression, which then
// has a core of its own) unless GOMAXPROCS is set: the work is I/O bound, and with idle
// processors the Go scheduler spends CPU looking for work on every wakeup (measured: about
// 20% less CPU per frame with one; see docs/collector.md).
func setProcs(getenv func(string) string, compress bool) int {
	if getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	n := 1
	if compress {
		n = 2
	}
	runtime.GOMAXPROCS(min(n, runtime.NumCPU()))
	return runtime.GOMAXPROCS(0)
}

func notify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify", "state", state, "error", err)
	}
}

func orDev(s string) string {
	if s == "" {
		return "dev"
	}
	return s
}

// outputHint tells what to change when the output directory is not writable at start.
// Under systemd (INVOCATION_ID is set) the directory must also be in the unit's
// ReadWritePaths=: ProtectSystem=strict makes everything else read-only, and a directory the
// service's user may not write gives EACCES before EROFS.
func outputHint(err error, getenv func(string) string) string {
	var why string
	switch {
	case errors.Is(err, syscall.EROFS):
		why = "the directory is read-only for this process"
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		why = fmt.Sprintf("uid %d may not create files there", os.Geteuid())
	default:
		return "check -w/DNSTAP_WRITE"
	}
	if getenv("INVOCATION_ID") != "" {
		return why + "; dnstap-collector.service may write only below its ReadWritePaths= (/var/log/dnstap as shipped): " +
			"add the directory there (systemctl edit dnstap-collector.service: [Service] ReadWritePaths=DIR) and let the service's user write it, " +
			"or point DNSTAP_WRITE below /var/log/dnstap"
	}
	return why + ": give the directory to this user, or choose another -w/DNSTAP_WRITE"
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

// listeners opens the -u sockets, the TCP address and the sockets systemd passed. Activation is
// used when asked (--systemd-socket) or when LISTEN_PID names this process; then at least one
// socket must have been passed. Connections a previous collector kept in systemd's file
// descriptor store (--systemd-fdstore) come back among those files: they are returned apart.
func listeners(s settings, getenv func(string) string, hasInput bool) ([]net.Listener, *adoption, error) {
	var lns []net.Listener
	var adopted *adoption
	if s.systemd || getenv("LISTEN_PID") == fmt.Sprint(os.Getpid()) {
		files := activation.Files(true)
		if len(files) == 0 {
			return nil, nil, errors.New("socket activation: no file descriptors passed (LISTEN_PID/LISTEN_FDS unset or for another process)")
		}
		conns, names, rest, err := collector.Adopt(files)
		if err != nil {
			return nil, nil, err
		}
		adopted, files = &adoption{conns: conns, names: names}, rest
		if len(files) == 0 {
			return nil, nil, errors.New("socket activation: only stored connections passed, no listening socket")
		}
		for _, f := range files {
			ln, err := net.FileListener(f)
			_ = f.Close() // net.FileListener dups it
			if err != nil {
				closeAll(lns)
				return nil, nil, fmt.Errorf("socket activation: fd %d (%s) is not a listening stream socket: %w", f.Fd(), f.Name(), err)
			}
			lns = append(lns, ln)
		}
	}
	for _, u := range s.units {
		ln, err := collector.ListenUnix(u, s.socket)
		if err != nil {
			closeAll(lns)
			return nil, nil, err
		}
		lns = append(lns, ln)
	}
	if s.tcp != "" {
		ln, err := collector.ListenTCP(s.tcp)
		if err != nil {
			closeAll(lns)
			return nil, nil, err
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 && !hasInput {
		return nil, nil, errors.New("nothing to listen on: give -u, -a and -p, --systemd-socket, or --input")
	}
	return lns, adopted, nil
}

// adoption is what a previous collector left in systemd's file descriptor store.
type adoption struct {
	conns []collector.Handover
	names []string // their names in the store
}

// useFDStore makes the collector hand its connections to systemd's file descriptor store when
// it stops (--systemd-fdstore), and adopt the ones a previous collector left there, which it
// then takes out of the store (so that the next restart does not pass them twice). Stored
// connections are adopted even without --systemd-fdstore: they are live senders.
func useFDStore(s *settings, adopted *adoption, getenv func(string) string, log *slog.Logger) error {
	store, err := collector.NewFDStore(getenv("NOTIFY_SOCKET"))
	if err != nil {
		return fmt.Errorf("--systemd-fdstore: %w", err)
	}
	if s.fdstore {
		s.cfg.HandOver = store.Store
	}
	if adopted != nil && len(adopted.conns) > 0 {
		s.cfg.Adopt = adopted.conns
		if err := store.Remove(adopted.names...); err != nil {
			return fmt.Errorf("--systemd-fdstore: %w", err)
		}
		log.Info("connections taken over from the previous collector", "count", len(adopted.conns))
	}
	return nil
}
