package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/collector"
)

// option is one setting: its flags (fstrm_capture's short and long names first), its
// environment variable and its default. Precedence: flag > environment > default.
type option struct {
	names  []string
	env    string
	def    string
	usage  string
	isBool bool
	list   bool // may be given several times (flags) or space-separated (env)

	vals []string // from the command line
}

func (o *option) String() string { return strings.Join(o.vals, " ") }
func (o *option) Set(v string) error {
	if o.list {
		o.vals = append(o.vals, v)
	} else {
		o.vals = []string{v}
	}
	return nil
}
func (o *option) IsBoolFlag() bool { return o.isBool }

// settings is the resolved command line.
type settings struct {
	cfg         collector.Config
	units       []string
	socket      collector.SocketOptions
	tcp         string
	systemd     bool
	fdstore     bool // --systemd-fdstore
	metrics     string
	statusEvery time.Duration
	logLevel    slog.Level
	logJSON     bool
	version     bool
	help        bool
	effective   []string // "name=value (source)" lines for the startup log
	tls         collector.TLSFiles
	forward     forwardSettings
	input       inputSettings
}

func options() []*option {
	return withFleet([]*option{
		{names: []string{"t", "type"}, env: "DNSTAP_CONTENT_TYPE", def: collector.DefaultContentType, usage: "Frame Streams content type accepted and written"},
		{names: []string{"u", "unix"}, env: "DNSTAP_UNIX", list: true, usage: "unix socket path to read from (repeatable; env: space-separated)"},
		{names: []string{"a", "tcp"}, env: "DNSTAP_TCP", usage: "TCP address to read from (with -p)"},
		{names: []string{"p", "port"}, env: "DNSTAP_PORT", usage: "TCP port to read from (with -a)"},
		{names: []string{"b", "buffersize"}, env: "DNSTAP_BUFFER_SIZE", def: "262144", usage: "read buffer size of each connection, in bytes"},
		{names: []string{"c", "maxconns"}, env: "DNSTAP_MAX_CONNS", def: "64", usage: "maximum concurrent connections of each listener; more are closed at once"},
		{names: []string{"w", "write"}, env: "DNSTAP_WRITE", usage: "output file path (strftime with --gmtime/--localtime); - is stdout"},
		{names: []string{"s", "split"}, env: "DNSTAP_SPLIT", def: "0", usage: "seconds between rotations, aligned to the clock; 0: never"},
		{names: []string{"gmtime"}, env: "DNSTAP_GMTIME", isBool: true, def: "false", usage: "filter -w path with strftime (UTC)"},
		{names: []string{"localtime"}, env: "DNSTAP_LOCALTIME", isBool: true, def: "false", usage: "filter -w path with strftime (local time)"},
		{names: []string{"d", "debug"}, env: "DNSTAP_DEBUG", isBool: true, def: "false", usage: "log at debug level"},
		{names: []string{"socket-mode"}, env: "DNSTAP_SOCKET_MODE", def: "0660", usage: "permissions of the -u sockets (octal)"},
		{names: []string{"socket-owner"}, env: "DNSTAP_SOCKET_OWNER", usage: "owner (user name or uid) of the -u sockets"},
		{names: []string{"socket-group"}, env: "DNSTAP_SOCKET_GROUP", usage: "group (name or gid) of the -u sockets, e.g. bind"},
		{names: []string{"systemd-socket"}, env: "DNSTAP_SYSTEMD_SOCKET", isBool: true, def: "false", usage: "listen on the sockets systemd passes (LISTEN_FDS); also used when LISTEN_PID is this process"},
		{names: []string{"systemd-fdstore"}, env: "DNSTAP_SYSTEMD_FDSTORE", isBool: true, def: "false", usage: "on SIGTERM, hand the live connections to systemd's file descriptor store instead of closing them, and take them back at start, so a restart loses no frame (the unit needs FileDescriptorStoreMax=)"},
		{names: []string{"rotate-size"}, env: "DNSTAP_ROTATE_SIZE", def: "0", usage: "rotate when the file reaches this size (bytes, or with K, M, G suffix); 0: never"},
		{names: []string{"keep-files"}, env: "DNSTAP_KEEP_FILES", def: "0", usage: "keep at most this many closed files, deleting the oldest; 0: all"},
		{names: []string{"keep-size"}, env: "DNSTAP_KEEP_SIZE", def: "0", usage: "keep at most this many bytes of closed files (K, M, G suffix); 0: no limit"},
		{names: []string{"compress"}, env: "DNSTAP_COMPRESS", def: "none", usage: "compress closed files: none, gzip or zstd"},
		{names: []string{"max-frame-size"}, env: "DNSTAP_MAX_FRAME_SIZE", def: "1M", usage: "largest data frame accepted (bytes, K, M suffix)"},
		{names: []string{"handshake-timeout"}, env: "DNSTAP_HANDSHAKE_TIMEOUT", def: "5s", usage: "time a sender has to complete the handshake"},
		{names: []string{"frame-timeout"}, env: "DNSTAP_FRAME_TIMEOUT", def: "5s", usage: "time a sender has to finish a frame it has started"},
		{names: []string{"idle-timeout"}, env: "DNSTAP_IDLE_TIMEOUT", def: "1h", usage: "close a connection that sends nothing for this long (named reconnects); 0: never"},
		{names: []string{"drain-timeout"}, env: "DNSTAP_DRAIN_TIMEOUT", def: "5s", usage: "on SIGTERM, longest wait for senders and for a failing output"},
		{names: []string{"drain-quiet"}, env: "DNSTAP_DRAIN_QUIET", def: "1s", usage: "on SIGTERM, close a connection silent for this long"},
		{names: []string{"buffer"}, env: "DNSTAP_BUFFER", def: "16M", usage: "memory for frames read but not yet written; when full, reading stops"},
		{names: []string{"flush-interval"}, env: "DNSTAP_FLUSH_INTERVAL", def: "100ms", usage: "longest time a frame read waits before it is written to the file"},
		{names: []string{"retry-interval"}, env: "DNSTAP_RETRY_INTERVAL", def: "1s", usage: "wait between attempts when the output fails"},
		{names: []string{"metrics"}, env: "DNSTAP_METRICS", usage: "address for a Prometheus /metrics listener, e.g. 127.0.0.1:9553; empty: none"},
		{names: []string{"status-interval"}, env: "DNSTAP_STATUS_INTERVAL", def: "10s", usage: "how often the sd_notify STATUS line is updated"},
		{names: []string{"log-format"}, env: "DNSTAP_LOG_FORMAT", def: "text", usage: "log format on stderr: text or json"},
		{names: []string{"version"}, isBool: true, def: "false", usage: "print the version and exit"},
		{names: []string{"h", "help"}, isBool: true, def: "false", usage: "print this help and exit"},
	})
}

func usage(w io.Writer, opts []*option) {
	fmt.Fprintf(w, "Usage: dnstap-collector [flags]\n\n"+
		"Receives Frame Streams (dnstap) on unix or TCP sockets and writes rotated Frame Streams files.\n"+
		"Accepts fstrm_capture's flags. Precedence: flag, then environment variable, then default.\n\n")
	for _, o := range opts {
		var fl []string
		for _, n := range o.names {
			dash := "--"
			if len(n) == 1 {
				dash = "-"
			}
			fl = append(fl, dash+n)
		}
		arg := " VALUE"
		if o.isBool {
			arg = ""
		}
		fmt.Fprintf(w, "  %s%s\n      %s", strings.Join(fl, ", "), arg, o.usage)
		if o.def != "" && o.def != "false" {
			fmt.Fprintf(w, " (default %s)", o.def)
		}
		if o.env != "" {
			fmt.Fprintf(w, " [env %s]", o.env)
		}
		fmt.Fprintln(w)
	}
}

// resolve turns the command line and the environment into settings, validated; the one place
// where flags, environment and defaults meet.
func resolve(args []string, getenv func(string) string, stdout io.Writer) (settings, error) {
	opts := options()
	fset := flag.NewFlagSet("dnstap-collector", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	byName := map[string]*option{}
	for _, o := range opts {
		for _, n := range o.names {
			fset.Var(o, n, o.usage)
		}
		byName[o.names[len(o.names)-1]] = o
	}
	if err := fset.Parse(args); err != nil {
		return settings{}, fmt.Errorf("%w (see --help)", err)
	}
	if fset.NArg() > 0 {
		return settings{}, fmt.Errorf("unexpected argument %q (see --help)", fset.Arg(0))
	}
	var s settings
	get := func(name string) []string {
		o := byName[name]
		src, vals := "flag", o.vals
		if len(vals) == 0 && o.env != "" && getenv(o.env) != "" {
			src = "env " + o.env
			if o.list {
				vals = strings.Fields(getenv(o.env))
			} else {
				vals = []string{getenv(o.env)}
			}
		}
		if len(vals) == 0 && o.def != "" {
			src, vals = "default", []string{o.def}
		}
		if len(vals) > 0 && name != "help" && name != "version" {
			s.effective = append(s.effective, fmt.Sprintf("%s=%s (%s)", name, strings.Join(vals, " "), src))
		}
		return vals
	}
	one := func(name string) string {
		if v := get(name); len(v) > 0 {
			return v[len(v)-1]
		}
		return ""
	}
	var errs []error
	boolean := func(name string) bool {
		v := one(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %q is not a boolean", name, v))
		}
		return b
	}
	size := func(name string) int64 {
		n, err := parseSize(one(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", name, err))
		}
		return n
	}
	duration := func(name string) time.Duration {
		d, err := time.ParseDuration(one(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", name, err))
		}
		return d
	}
	s.help = boolean("help")
	s.version = boolean("version")
	if s.help || s.version {
		return s, nil
	}
	c := &s.cfg
	c.ContentType = one("type")
	s.units = get("unix")
	if a, p := one("tcp"), one("port"); a != "" || p != "" {
		if a == "" || p == "" {
			errs = append(errs, errors.New("-a and -p go together (TCP address and port)"))
		} else {
			s.tcp = net.JoinHostPort(a, p)
		}
	}
	c.ReadBufferSize = int(size("buffersize"))
	c.MaxConns = int(size("maxconns"))
	c.Output = one("write")
	if c.Output == "-" {
		c.Stream = stdout
	}
	split, err := strconv.ParseUint(one("split"), 10, 32)
	if err != nil {
		errs = append(errs, fmt.Errorf("-s: %q is not a number of seconds", one("split")))
	}
	c.RotateEvery = time.Duration(split) * time.Second
	gm, local := boolean("gmtime"), boolean("localtime")
	switch {
	case gm && local:
		errs = append(errs, errors.New("--gmtime and --localtime exclude each other"))
	case gm:
		c.TimeNames = collector.NamesUTC
	case local:
		c.TimeNames = collector.NamesLocal
	}
	if boolean("debug") {
		s.logLevel = slog.LevelDebug
	}
	if m := one("socket-mode"); m != "" {
		mode, err := strconv.ParseUint(m, 8, 32)
		if err != nil || mode > 0o777 {
			errs = append(errs, fmt.Errorf("--socket-mode: %q is not an octal mode", m))
		}
		s.socket.Mode = fs.FileMode(mode)
	}
	s.socket.Owner, s.socket.Group = one("socket-owner"), one("socket-group")
	if err := s.socket.Check(); err != nil {
		errs = append(errs, fmt.Errorf("--socket-owner/--socket-group: %w", err))
	}
	s.systemd = boolean("systemd-socket")
	s.fdstore = boolean("systemd-fdstore")
	c.RotateBytes = size("rotate-size")
	c.KeepFiles = int(size("keep-files"))
	c.KeepBytes = size("keep-size")
	switch v := one("compress"); v {
	case "none", "":
	case "gzip", "zstd":
		c.Compress = v
	default:
		errs = append(errs, fmt.Errorf("--compress: %q, want none, gzip or zstd", v))
	}
	c.MaxFrameSize = int(size("max-frame-size"))
	c.HandshakeTimeout = duration("handshake-timeout")
	c.FrameTimeout = duration("frame-timeout")
	switch c.IdleTimeout = duration("idle-timeout"); {
	case c.IdleTimeout == 0:
		c.IdleTimeout = -1 // never
	case c.IdleTimeout < 0:
		errs = append(errs, fmt.Errorf("--idle-timeout: %v, must not be negative", c.IdleTimeout))
	}
	c.DrainTimeout = duration("drain-timeout")
	c.DrainQuiet = duration("drain-quiet")
	c.BufferBytes = size("buffer")
	c.RetryInterval = duration("retry-interval")
	c.FlushInterval = duration("flush-interval")
	s.metrics = one("metrics")
	s.statusEvery = duration("status-interval")
	switch f := one("log-format"); f {
	case "text":
	case "json":
		s.logJSON = true
	default:
		errs = append(errs, fmt.Errorf("--log-format: %q, want text or json", f))
	}
	errs = append(errs, resolveFleet(&s, one, boolean, duration)...)
	errs = append(errs, resolveInput(&s, one, boolean)...)
	if len(errs) == 0 {
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
		}
		if c.HandshakeTimeout <= 0 || c.FrameTimeout <= 0 || c.DrainTimeout <= 0 || c.DrainQuiet <= 0 || c.RetryInterval <= 0 || c.FlushInterval <= 0 || s.statusEvery <= 0 {
			errs = append(errs, errors.New("timeouts and intervals must be positive"))
		}
	}
	return s, errors.Join(errs...)
}

// parseSize reads "262144", "64K", "16M", "2G" (powers of 1024).
func parseSize(v string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(v, "K"):
		mult, v = 1<<10, strings.TrimSuffix(v, "K")
	case strings.HasSuffix(v, "M"):
		mult, v = 1<<20, strings.TrimSuffix(v, "M")
	case strings.HasSuffix(v, "G"):
		mult, v = 1<<30, strings.TrimSuffix(v, "G")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (a number, optionally with K, M or G)", v)
	}
	return n * mult, nil
}
