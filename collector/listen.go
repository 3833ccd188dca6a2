package collector

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"time"
)

// SocketOptions sets who may connect to a unix socket.
type SocketOptions struct {
	Mode  fs.FileMode // permission bits; 0 keeps what the umask gives
	Owner string      // user name or uid; "" keeps the current user
	Group string      // group name or gid; "" keeps the current group
}

// ListenUnix listens on a unix socket at path. A stale socket there (nothing accepts on it)
// is replaced; a live one, or any other kind of file, is refused. The socket file is removed
// when the listener is closed.
func ListenUnix(path string, opt SocketOptions) (net.Listener, error) {
	uid, gid, err := lookupOwner(opt)
	if err != nil {
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("unix socket %s: a %s is there, refusing to replace it", path, kind(fi.Mode()))
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("unix socket %s: another process is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("unix socket %s: remove stale socket: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("unix socket %s: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("unix socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if opt.Mode != 0 {
		if err := os.Chmod(path, opt.Mode); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("unix socket %s: chmod %o: %w", path, opt.Mode, err)
		}
	}
	if uid >= 0 || gid >= 0 {
		if err := os.Lchown(path, uid, gid); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("unix socket %s: chown %s:%s: %w", path, opt.Owner, opt.Group, err)
		}
	}
	return ln, nil
}

// ListenTCP listens on a TCP address ("127.0.0.1:6000", "[::1]:6000").
func ListenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp listener: %w", err)
	}
	return ln, nil
}

func lookupOwner(opt SocketOptions) (int, int, error) {
	uid, gid := -1, -1
	if opt.Owner != "" {
		if n, err := strconv.Atoi(opt.Owner); err == nil {
			uid = n
		} else if u, err := user.Lookup(opt.Owner); err == nil {
			uid, _ = strconv.Atoi(u.Uid)
		} else {
			return 0, 0, fmt.Errorf("owner %q: %w", opt.Owner, err)
		}
	}
	if opt.Group != "" {
		if n, err := strconv.Atoi(opt.Group); err == nil {
			gid = n
		} else if g, err := user.LookupGroup(opt.Group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else {
			return 0, 0, fmt.Errorf("group %q: %w", opt.Group, err)
		}
	}
	return uid, gid, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "file of type " + m.Type().String()
	}
}
