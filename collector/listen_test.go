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
