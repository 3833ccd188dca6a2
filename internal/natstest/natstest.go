// Package natstest runs Debian's nats-server (apt-get install nats-server) for tests and
// benchmarks: JetStream on, file storage in a directory of the test, loopback only. The
// server can be killed (SIGKILL, no shutdown) and started again on the same port and
// storage, as a crash and a restart of the engine would be.
package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// Server is a nats-server process.
type Server struct {
	Bin, Dir string
	Host     string // the address it listens on (127.0.0.1; a Docker network's gateway for containers)
	Port     int
	cmd      *exec.Cmd
	log      *os.File
	mu       sync.Mutex
}

// Start runs nats-server with JetStream file storage in a new temporary directory of t, and
// stops it when t ends. The test is skipped (failed under CI) without nats-server.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testenv.LookPath(t, "nats-server", "nats-server")
	s, err := StartIn(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Kill() })
	return s
}

// StartIn runs the nats-server binary bin with its storage and log in dir, on 127.0.0.1.
func StartIn(bin, dir string) (*Server, error) { return StartAt(bin, dir, "127.0.0.1") }

// StartAt is StartIn listening on host.
func StartAt(bin, dir, host string) (*Server, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("nats-server: free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s := &Server{Bin: bin, Dir: dir, Host: host, Port: port}
	return s, s.Restart()
}

// URL is nats://HOST:PORT.
func (s *Server) URL() string { return "nats://" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Restart starts the server (again), on the same port and storage, and waits until it
// answers (JetStream recovers its streams before the port opens).
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	log, err := os.OpenFile(filepath.Join(s.Dir, "nats-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("nats-server log: %w", err)
	}
	cmd := exec.Command(s.Bin, "-a", s.Host, "-p", strconv.Itoa(s.Port), "-js", "-sd", filepath.Join(s.Dir, "js"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives a killed test
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start nats-server: %w", err)
	}
	s.cmd, s.log = cmd, log
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		nc, err := natsgo.Connect(s.URL(), natsgo.Timeout(time.Second))
		if err == nil {
			_, err = nc.Request("$JS.API.INFO", nil, 2*time.Second)
			nc.Close()
			if err == nil {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nats-server on port %d does not answer JetStream requests after 30s:\n%s", s.Port, s.Log())
}

// PID is the server process's id (0 when it is not running).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process: no shutdown, no flush beyond what the
// server wrote already.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.log.Close()
	s.cmd = nil
}

// Log returns what the server logged.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "nats-server.log"))
	return string(b)
}

// Stream creates a stream with file storage taking subject (and anything under subject.>),
// with a duplicate window of dupWindow (0: the server's default, 2 minutes).
func (s *Server) Stream(ctx context.Context, name, subject string, dupWindow time.Duration) error {
	nc, err := natsgo.Connect(s.URL())
	if err != nil {
		return fmt.Errorf("connect to nats-server: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	subjects := []string{subject}
	if !strings.HasSuffix(subject, ">") {
		subjects = append(subjects, subject+".>")
	}
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: subjects, Storage: jetstream.FileStorage, Duplicates: dupWindow})
	if err != nil {
		return fmt.Errorf("create stream %s: %w", name, err)
	}
	return nil
}

// Message is a stored message.
type Message struct {
	Seq    uint64
	Data   []byte
	Header natsgo.Header
}

// Messages reads every message of the stream, in order.
func (s *Server) Messages(ctx context.Context, stream string) ([]Message, error) {
	nc, err := natsgo.Connect(s.URL())
	if err != nil {
		return nil, fmt.Errorf("connect to nats-server: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	n := info.State.Msgs
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, n)
	for uint64(len(out)) < n {
		batch, err := cons.Fetch(10000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, err
		}
		got := 0
		for m := range batch.Messages() {
			var seq uint64
			if md, err := m.Metadata(); err == nil {
				seq = md.Sequence.Stream
			}
			out = append(out, Message{Seq: seq, Data: m.Data(), Header: m.Headers()})
			got++
		}
		if err := batch.Error(); err != nil {
			return nil, err
		}
		if got == 0 {
			return out, fmt.Errorf("stream %s: read %d of %d messages, then nothing", stream, len(out), n)
		}
	}
	return out, nil
}
