package collector

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// SocketOptions sets who may connect to a unix socket.
type SocketOptions struct {
	Mode  fs.FileMode // permission bits; 0 keeps what the umask gives
	Owner string      // user name or uid; "" keeps the current user
	Group string      // group name or gid; "" keeps the current group
}

// Check reports an owner or group that does not exist (a configuration error), before
// anything listens.
func (o SocketOptions) Check() error {
	_, _, err := o.ids()
	return err
}

// ids returns the uid and gid to give the socket, -1 for "keep".
func (o SocketOptions) ids() (int, int, error) {
	uid, gid := -1, -1
	if o.Owner != "" {
		if n, err := strconv.Atoi(o.Owner); err == nil {
			uid = n
		} else if u, err := user.Lookup(o.Owner); err == nil {
			uid, _ = strconv.Atoi(u.Uid)
		} else {
			return 0, 0, fmt.Errorf("socket owner %q: %w", o.Owner, err)
		}
	}
	if o.Group != "" {
		if n, err := strconv.Atoi(o.Group); err == nil {
			gid = n
		} else if g, err := user.LookupGroup(o.Group); err == nil {
			gid, _ = strconv.Atoi(g.Gid)
		} else {
			return 0, 0, fmt.Errorf("socket group %q: %w", o.Group, err)
		}
	}
	return uid, gid, nil
}

// umaskMu serializes the umask changes of ListenUnix: the umask belongs to the process.
var umaskMu sync.Mutex

// afterBind is a test seam: it runs between bind(2) and setting the socket's owner, the
// moment someone who can write the directory could swap the socket for a symlink.
var afterBind = func(path string) {}

// ListenUnix listens on a unix socket at path. A stale socket there (nothing accepts on it)
// is replaced; a live one, or any other kind of file, is refused. The socket file is removed
// when the listener is closed.
//
// The socket is created with its final mode (the umask is set to match opt.Mode around
// bind(2), so it is never more open, not even for an instant), and its owner and group are
// set on the socket file itself, opened without following symlinks, after checking it is the
// socket this process made. Because the umask is the process's, call ListenUnix before
// other goroutines create files.
func ListenUnix(path string, opt SocketOptions) (net.Listener, error) {
	uid, gid, err := opt.ids()
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
	ln, err := bindUnix(path, opt.Mode)
	if err != nil {
		return nil, fmt.Errorf("unix socket: %w", err)
	}
	afterBind(path)
	if uid >= 0 || gid >= 0 {
		if err := chownSocket(path, uid, gid); err != nil {
			_ = ln.Close()
			return nil, fmt.Errorf("unix socket %s: set owner %s and group %s: %w", path, opt.Owner, opt.Group, err)
		}
	}
	return ln, nil
}

// bindUnix binds and listens with the umask that gives the socket file mode (when not 0).
func bindUnix(path string, mode fs.FileMode) (*net.UnixListener, error) {
	umaskMu.Lock()
	defer umaskMu.Unlock()
	if mode != 0 {
		old := syscall.Umask(int(0o777 &^ mode.Perm()))
		defer syscall.Umask(old)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	return ln, nil
}

// chownSocket sets the owner and group of the socket file at path, never through a symlink,
// and only if path is still a socket made by this process's user.
func chownSocket(path string, uid, gid int) error {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open without following links: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("the path no longer names the socket just made (a %s of uid %d is there); refusing", kind(modeType(st.Mode)), st.Uid)
	}
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

// modeType turns the S_IFMT bits of a stat mode into an fs.FileMode type.
func modeType(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	}
	return 0
}

// ListenTCP listens on a TCP address ("127.0.0.1:6000", "[::1]:6000").
func ListenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp listener: %w", err)
	}
	return ln, nil
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
