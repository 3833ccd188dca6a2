package collector

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Names of the file descriptors FDStore keeps in systemd's store: the connection
// ("dnstap-conn-<id>", "-bidi" appended when the handshake was bidirectional) and, when bytes
// past the last whole frame were read, a memfd holding them ("dnstap-left-<id>").
const (
	fdConnPrefix = "dnstap-conn-"
	fdLeftPrefix = "dnstap-left-"
	fdBidi       = "-bidi"
)

// FDStore keeps sender connections in systemd's file descriptor store while the service
// restarts (FileDescriptorStoreMax= in the unit; systemd 219 on, so Ubuntu 18.04's 237 too):
// its Store is a Config.HandOver, and Adopt gives the next collector its Config.Adopt. Only
// a unit with FileDescriptorStoreMax= may use it: systemd silently closes what a unit without
// one sends.
type FDStore struct {
	socket string // NOTIFY_SOCKET
	seq    atomic.Uint64
}

// NewFDStore returns the store behind the notification socket path (NOTIFY_SOCKET), or an
// error when there is none (not started by systemd).
func NewFDStore(notifySocket string) (*FDStore, error) {
	if notifySocket == "" {
		return nil, errors.New("fd store: NOTIFY_SOCKET is not set: not started by systemd as a notify service")
	}
	return &FDStore{socket: notifySocket}, nil
}

// Store sends h's connection (and its leftover bytes, in a memfd) to systemd's store and
// closes this process's copy. It returns once systemd has taken them (BARRIER=1).
func (s *FDStore) Store(h Handover) error {
	uc, ok := h.Conn.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("fd store: a %T cannot be stored, only unix connections", h.Conn)
	}
	f, err := uc.File() // a duplicate, in blocking mode; h.Conn is closed below
	if err != nil {
		return fmt.Errorf("fd store: %w", err)
	}
	defer f.Close()
	id := fmt.Sprintf("%d-%d", os.Getpid(), s.seq.Add(1))
	if len(h.Leftover) > 0 {
		mfd, err := unix.MemfdCreate("dnstap-leftover", unix.MFD_CLOEXEC)
		if err != nil {
			return fmt.Errorf("fd store: memfd: %w", err)
		}
		mf := os.NewFile(uintptr(mfd), "dnstap-leftover")
		defer mf.Close()
		if _, err := mf.Write(h.Leftover); err != nil {
			return fmt.Errorf("fd store: memfd: %w", err)
		}
		if err := s.notify("FDSTORE=1\nFDNAME="+fdLeftPrefix+id, int(mf.Fd())); err != nil {
			return err
		}
	}
	name := fdConnPrefix + id
	if h.Bidirectional {
		name += fdBidi
	}
	if err := s.notify("FDSTORE=1\nFDNAME="+name, int(f.Fd())); err != nil {
		if len(h.Leftover) > 0 {
			_ = s.Remove(fdLeftPrefix + id)
		}
		return err
	}
	if err := s.barrier(5 * time.Second); err != nil {
		return err
	}
	return h.Conn.Close()
}

// Remove takes the named file descriptors out of systemd's store (FDSTOREREMOVE, systemd
// 236 on): the adopting collector does it, so that the next restart does not hand the same
// connection over twice.
func (s *FDStore) Remove(names ...string) error {
	for _, n := range names {
		if err := s.notify("FDSTOREREMOVE=1\nFDNAME=" + n); err != nil {
			return err
		}
	}
	return nil
}

// notify sends one sd_notify datagram with fds attached (a socket of its own, unconnected:
// sendmsg with the address, as libsystemd does; "@" starts an abstract address).
func (s *FDStore) notify(state string, fds ...int) error {
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fd store: socket: %w", err)
	}
	defer unix.Close(sock)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(sock, []byte(state), oob, &unix.SockaddrUnix{Name: s.socket}, 0); err != nil {
		return fmt.Errorf("fd store: send %q to %s: %w", strings.ReplaceAll(state, "\n", " "), s.socket, err)
	}
	return nil
}

// barrier waits until systemd has handled every message sent before it (sd_notify_barrier:
// BARRIER=1 with the write end of a pipe, which the manager closes). A systemd older than 246
// does not know BARRIER=1 but closes the descriptor it did not expect all the same.
func (s *FDStore) barrier(timeout time.Duration) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("fd store: barrier: %w", err)
	}
	r := os.NewFile(uintptr(p[0]), "barrier")
	defer r.Close()
	err := s.notify("BARRIER=1", p[1])
	unix.Close(p[1])
	if err != nil {
		return err
	}
	_ = r.SetReadDeadline(time.Now().Add(timeout)) // pipes are pollable
	if _, err := r.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("fd store: systemd did not answer BARRIER=1: %w", err)
	}
	return nil
}

// Adopt sorts the files systemd passed (LISTEN_FDS, named by LISTEN_FDNAMES) into the
// connections an earlier collector stored, ready for Config.Adopt, their names (for Remove),
// and the rest (the listening sockets). Each file it adopts it closes; a stored connection
// whose leftover cannot be read is an error.
func Adopt(files []*os.File) (adopted []Handover, names []string, rest []*os.File, err error) {
	left := map[string][]byte{}
	var conns []*os.File
	for _, f := range files {
		switch n := f.Name(); {
		case strings.HasPrefix(n, fdLeftPrefix):
			b, rerr := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
			f.Close()
			if rerr != nil {
				return nil, nil, nil, fmt.Errorf("fd store: %s: %w", n, rerr)
			}
			left[strings.TrimPrefix(n, fdLeftPrefix)] = b
			names = append(names, n)
		case strings.HasPrefix(n, fdConnPrefix):
			conns = append(conns, f)
		default:
			rest = append(rest, f)
		}
	}
	for _, f := range conns {
		n := f.Name()
		id := strings.TrimSuffix(strings.TrimPrefix(n, fdConnPrefix), fdBidi)
		nc, cerr := net.FileConn(f) // dups it
		f.Close()
		if cerr != nil {
			return nil, nil, nil, fmt.Errorf("fd store: %s is not a connection: %w", n, cerr)
		}
		adopted = append(adopted, Handover{Conn: nc, Leftover: left[id], Bidirectional: strings.HasSuffix(n, fdBidi)})
		names = append(names, n)
	}
	return adopted, names, rest, nil
}
