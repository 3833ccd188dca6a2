package collector

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestListenUnix(t *testing.T) {
	dir, err := os.MkdirTemp("", "dcl")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	stale := filepath.Join(dir, "stale")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // leaves a socket file nobody listens on
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(dir, "live")
	liveLn, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer liveLn.Close()

	tests := []struct {
		name, path string
		opt        SocketOptions
		wantErr    string
	}{
		{"new", filepath.Join(dir, "new"), SocketOptions{Mode: 0o660, Group: "0"}, ""},
		{"stale socket replaced", stale, SocketOptions{Mode: 0o600}, ""},
		{"regular file refused", regular, SocketOptions{}, "a regular file is there, refusing to replace it"},
		{"directory refused", dir, SocketOptions{}, "a directory is there"},
		{"live socket refused", live, SocketOptions{}, "another process is listening on it"},
		{"unknown group", filepath.Join(dir, "g"), SocketOptions{Group: "no-such-group-dnstapkit"}, `group "no-such-group-dnstapkit"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := ListenUnix(tc.path, tc.opt)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tc.opt.Mode {
				t.Errorf("mode %o, want %o", fi.Mode().Perm(), tc.opt.Mode)
			}
			if tc.opt.Group == "0" && fi.Sys().(*syscall.Stat_t).Gid != 0 {
				t.Errorf("group not set")
			}
			c, err := net.Dial("unix", tc.path)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.Close()
		})
	}
	if _, err := os.Stat(regular); err != nil {
		t.Errorf("regular file touched: %v", err)
	}
}

// TestListenUnixNeverOpenNorFollowed: with umask 000 the socket must never exist with more
// than its mode (it is created with it), and a symlink swapped in for it between bind(2) and
// setting its owner must not be followed: the file it points to keeps its mode and owner,
// and ListenUnix refuses.
func TestListenUnixNeverOpenNorFollowed(t *testing.T) {
	dir, err := os.MkdirTemp("", "dcu")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	t.Cleanup(func() { afterBind = func(string) {} })

	var atBind os.FileMode
	afterBind = func(p string) {
		if fi, err := os.Lstat(p); err == nil {
			atBind = fi.Mode().Perm()
		}
	}
	ln, err := ListenUnix(filepath.Join(dir, "s"), SocketOptions{Mode: 0o660, Group: "0"})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if atBind != 0o660 {
		t.Errorf("socket mode right after bind %o, want 0660 (never more open)", atBind)
	}

	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(victim, 1, 1); err != nil {
		t.Fatal(err)
	}
	afterBind = func(p string) {
		if err := os.Remove(p); err != nil {
			t.Error(err)
		}
		if err := os.Symlink(victim, p); err != nil {
			t.Error(err)
		}
	}
	ln, err = ListenUnix(filepath.Join(dir, "swapped"), SocketOptions{Mode: 0o666, Owner: "0", Group: "0"})
	if err == nil {
		ln.Close()
		t.Errorf("ListenUnix accepted a socket swapped for a symlink")
	}
	fi, err := os.Stat(victim)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o600 || st.Uid != 1 || st.Gid != 1 {
		t.Errorf("the symlink was followed: the victim is now %o %d:%d", fi.Mode().Perm(), st.Uid, st.Gid)
	}
}
