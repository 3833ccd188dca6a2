// Package collectortest holds what the collector's tests and benchmark share: a private BIND
// named on a loopback address that sends dnstap to a unix socket, and a writer of dnstap
// captures that BIND's dnstap-read can print.
package collectortest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// Zone is the zone named serves; names under it answer NOERROR.
const Zone = "example.org"

// Named is a running named.
type Named struct {
	Addr string // ip:port it answers on (udp and tcp)
	Dir  string
	cmd  *exec.Cmd
	out  *testenv.SyncBuffer
	done chan error
}

// FreePort returns a port free for both udp and tcp on ip.
func FreePort(ip string) (int, error) {
	for range 50 {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, fmt.Errorf("find free port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		_ = ln.Close()
		if err == nil {
			_ = pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("find free port: none free for udp and tcp")
}

// Start runs named (the binary at path) in dir, answering on ip and sending client and auth
// dnstap to sock, reconnecting every second when the socket goes away.
func Start(path, dir, ip, sock string) (*Named, error) {
	port, err := FreePort(ip)
	if err != nil {
		return nil, err
	}
	zone := "$TTL 300\n@ IN SOA ns.example.org. host.example.org. 1 3600 600 86400 300\n@ IN NS ns\nns IN A 192.0.2.1\n* IN A 192.0.2.2\n"
	if err := os.WriteFile(filepath.Join(dir, "example.org.zone"), []byte(zone), 0o644); err != nil {
		return nil, fmt.Errorf("write zone: %w", err)
	}
	conf := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[2]d { %[3]s; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	dnstap { client; auth; };
	dnstap-output unix "%[4]s";
	fstrm-set-reopen-interval 1;
};
controls { };
zone "example.org" { type primary; file "%[1]s/example.org.zone"; };
`, dir, port, ip, sock)
	cf := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write named.conf: %w", err)
	}
	n := &Named{Addr: net.JoinHostPort(ip, strconv.Itoa(port)), Dir: dir, out: &testenv.SyncBuffer{}, done: make(chan error, 1)}
	n.cmd = exec.Command(path, "-g", "-n", "1", "-c", cf)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start named: %w", err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(n.out.String(), "running") || !answersTCP(n.Addr) {
		select {
		case err := <-n.done:
			return nil, fmt.Errorf("named exited (%v):\n%s", err, n.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = n.Stop()
			return nil, fmt.Errorf("named not running after 20s:\n%s", n.out.String())
		}
	}
	return n, nil
}

// Log returns what named printed.
func (n *Named) Log() string { return n.out.String() }

// Stop stops named (SIGTERM, then SIGKILL after 10s).
func (n *Named) Stop() error {
	_ = n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
		return errors.New("named did not stop in 10s; killed")
	}
}

// Query asks named for name/A with dig (the path given) and reports an error unless it answers.
func (n *Named) Query(ctx context.Context, dig, name string) error {
	host, port, _ := net.SplitHostPort(n.Addr)
	out, err := exec.CommandContext(ctx, dig, "@"+host, "-p", port, "+tries=1", "+time=2", "+short", name, "A").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "192.0.2.") {
		return fmt.Errorf("dig %s: %v: %s", name, err, out)
	}
	return nil
}

// LoopbackIP returns ip when it is (or can be made, as root, with `ip addr add`) an address of
// the loopback interface, which named needs to listen on it; otherwise 127.0.0.1.
func LoopbackIP(ip string) string {
	if hasAddr(ip) {
		return ip
	}
	if err := exec.Command("ip", "addr", "add", ip+"/32", "dev", "lo").Run(); err == nil && hasAddr(ip) {
		return ip
	}
	return "127.0.0.1"
}

func hasAddr(ip string) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.String() == ip {
			return true
		}
	}
	return false
}

func answersTCP(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
