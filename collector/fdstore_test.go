package collector

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeManager is the manager's end of NOTIFY_SOCKET: it keeps what FDSTORE=1 sends, by name,
// drops what FDSTOREREMOVE=1 names, and answers BARRIER=1 by closing its descriptor, as
// systemd does.
type fakeManager struct {
	conn   *net.UnixConn
	stored map[string]*os.File
	log    []string
}

func newFakeManager(t *testing.T) (*fakeManager, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "nfy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakeManager{conn: conn, stored: map[string]*os.File{}}, p
}

// serve handles datagrams until a BARRIER=1 (returned true) or an error.
func (m *fakeManager) serveUntilBarrier(t *testing.T) {
	t.Helper()
	for {
		buf, oob := make([]byte, 4096), make([]byte, 4096)
		n, oobn, _, _, err := m.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			t.Errorf("fake manager: %v", err)
			return
		}
		var fds []int
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, msg := range msgs {
				if r, err := unix.ParseUnixRights(&msg); err == nil {
					fds = append(fds, r...)
				}
			}
		}
		state := string(buf[:n])
		m.log = append(m.log, strings.ReplaceAll(state, "\n", " "))
		fields := map[string]string{}
		for _, l := range strings.Split(state, "\n") {
			k, v, _ := strings.Cut(l, "=")
			fields[k] = v
		}
		switch {
		case fields["BARRIER"] == "1":
			for _, fd := range fds {
				unix.Close(fd)
			}
			return
		case fields["FDSTORE"] == "1":
			for _, fd := range fds {
				m.stored[fields["FDNAME"]] = os.NewFile(uintptr(fd), fields["FDNAME"])
			}
		case fields["FDSTOREREMOVE"] == "1":
			if f := m.stored[fields["FDNAME"]]; f != nil {
				f.Close()
				delete(m.stored, fields["FDNAME"])
			}
		}
	}
}

// TestFDStoreRoundTrip stores a live connection with its leftover bytes through a fake
// NOTIFY_SOCKET, gives the stored descriptors back to Adopt as systemd passes them to the
// next process, and checks that the adopted connection reads the leftover, then what the
// peer sends, and that the old process's copy was closed.
func TestFDStoreRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name     string
		leftover []byte
		bidi     bool
	}{
		{"leftover, bidirectional", []byte{0, 0, 1, 0, 'a', 'b'}, true},
		{"no leftover, unidirectional", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, sock := newFakeManager(t)
			store, err := NewFDStore(sock)
			if err != nil {
				t.Fatal(err)
			}
			peer, ours, err := unixPair()
			if err != nil {
				t.Fatal(err)
			}
			defer peer.Close()
			done := make(chan struct{})
			go func() { defer close(done); m.serveUntilBarrier(t) }()
			if err := store.Store(Handover{Conn: ours, Leftover: tc.leftover, Bidirectional: tc.bidi}); err != nil {
				t.Fatal(err)
			}
			<-done
			if _, err := ours.Write([]byte("x")); err == nil {
				t.Error("Store left this process's copy of the connection open")
			}
			want := 1
			if len(tc.leftover) > 0 {
				want = 2
			}
			if len(m.stored) != want {
				t.Fatalf("stored %d descriptors, want %d: %v", len(m.stored), want, m.log)
			}

			var files []*os.File
			for _, f := range m.stored {
				files = append(files, f)
			}
			listener, err := os.Open(os.DevNull) // stands for the socket unit's descriptor
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, os.NewFile(listener.Fd(), "dnstap-collector.socket"))
			adopted, names, rest, err := Adopt(files)
			if err != nil {
				t.Fatal(err)
			}
			if len(adopted) != 1 || len(rest) != 1 || rest[0].Name() != "dnstap-collector.socket" || len(names) != want {
				t.Fatalf("Adopt: %d adopted, rest %v, names %v", len(adopted), rest, names)
			}
			h := adopted[0]
			defer h.Conn.Close()
			if h.Bidirectional != tc.bidi || !bytes.Equal(h.Leftover, tc.leftover) {
				t.Errorf("adopted Bidirectional %v Leftover %q, want %v %q", h.Bidirectional, h.Leftover, tc.bidi, tc.leftover)
			}
			if _, err := peer.Write([]byte("after")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 5)
			if _, err := h.Conn.Read(got); err != nil || string(got) != "after" {
				t.Errorf("adopted connection read %q, %v; want what the peer sent", got, err)
			}
			go func() { m.serveUntilBarrier(t) }()
			if err := store.Remove(names...); err != nil {
				t.Fatal(err)
			}
			if err := store.barrier(5e9); err != nil {
				t.Fatal(err)
			}
			if len(m.stored) != 0 {
				t.Errorf("after Remove the store holds %d descriptors", len(m.stored))
			}
		})
	}
}

func TestNewFDStoreNeedsSystemd(t *testing.T) {
	if _, err := NewFDStore(""); err == nil || !strings.Contains(err.Error(), "NOTIFY_SOCKET") {
		t.Errorf("NewFDStore(\"\"): %v, want an error naming NOTIFY_SOCKET", err)
	}
}

// unixPair returns the two ends of a connected unix stream socket pair as net.Conns.
func unixPair() (net.Conn, net.Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		conns[i] = c
	}
	return conns[0], conns[1], nil
}
