// Command dnstap-reader prints dnstap files (Frame Streams, protobuf:dnstap.Dnstap) the way
// BIND's dnstap-read does, byte for byte, and as JSON, with filters and live follow.
// See docs/reader.md.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/dnstapkit/dnstapkit/engine"
	"github.com/dnstapkit/dnstapkit/reader"
)

// subcommands run instead of the reader when the first argument names them. Other files of
// this package register theirs from init (stats.go registers "stats").
var subcommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{}

// Exit statuses (documented in docs/reader.md).
const (
	exitOK        = 0
	exitError     = 1 // corrupt input, wrong content type, I/O error
	exitUsage     = 2 // bad flags or arguments
	exitTruncated = 3 // an input ended mid-frame or before STOP; all complete messages were printed
)

// statusError carries an exit status; err is nil when the messages are already printed.
// A usage error also prints hint, a line that says where the usage is.
type statusError struct {
	code int
	err  error
	hint string
}

// usageError is a bad flag or argument of the command cmd ("dnstap-reader",
// "dnstap-reader stats"): exit status 2, and a pointer to --help.
func usageError(cmd string, err error) error {
	return &statusError{code: exitUsage, err: err, hint: fmt.Sprintf("run '%s --help' for the flags", cmd)}
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err (when it has not been printed) and maps it to an exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var se *statusError
	if errors.As(err, &se) {
		if se.err != nil {
			fmt.Fprintf(stderr, "dnstap-reader: %v\n", se.err)
		}
		if se.hint != "" {
			fmt.Fprintf(stderr, "dnstap-reader: %s\n", se.hint)
		}
		return se.code
	}
	fmt.Fprintf(stderr, "dnstap-reader: %v\n", err)
	return exitError
}

const usageText = `usage: dnstap-reader [flags] [file ...]
       dnstap-reader SUBCOMMAND [flags] ...

Prints dnstap files (Frame Streams of protobuf:dnstap.Dnstap, plain, gzip or zstd) the way
BIND 9.18's dnstap-read does, byte for byte; "-" or no file reads standard input. Flags may
come before or after the files; "--" ends them.

Output (default: one line per message, as dnstap-read):
  -x            also print each DNS message in hex (dnstap-read -x)
  -p            also print each DNS message as text (dnstap-read -p)
  -y            print YAML (dnstap-read -y)
  --json        print one JSON object per message (NDJSON)
  --format V    print as the dnstap-read of BIND V does: 9.18 (default), 9.14, 9.20
Filters (combine with AND; comma lists are OR; a filter given twice adds to its list):
  --type LIST   message types: CQ,CR,AQ,AR,RQ,RR,FQ,FR,SQ,SR,TQ,TR,UQ,UR
  --qname LIST  qname suffixes: example.com matches example.com and every name below it;
                *.example.com only the names below it
  --qtype LIST  question types: A,AAAA,TYPE65
  --rcode LIST  response codes: NXDOMAIN,SERVFAIL,5
  --client LIST query address within these prefixes: 192.0.2.0/24,2001:db8::/32
  --since T     messages at or after T (RFC 3339, or a duration ago: 15m)
  --until T     messages before T
Input:
  -f, --follow  follow a file, or the files written into a directory (dnstap-collector's,
                fstrm_capture's), across rotation, compression and rewrites (like tail -F);
                "-f -" prints standard input as it arrives; stop with Ctrl-C
  kafka://BROKER[,BROKER...]/TOPIC and nats://SERVER[,SERVER...]/SUBJECT in place of a file
                read the frames routers published there (dnstap-collector --forward), from
                the oldest kept (or --since) to the newest, or with -f live; a frame held
                twice is printed once (docs/fleet.md)
  --engine-tls  TLS to kafka:// or nats:// (implied by --engine-ca or --engine-cert)
  --engine-ca F, --engine-cert F, --engine-key F
                the servers' CA, a client certificate and its key (PEM)
  --nats-creds F                 NATS credentials file (user JWT and NKey seed)
  --kafka-sasl-user U, --kafka-sasl-password-file F, --kafka-sasl-sha256
                Kafka SASL SCRAM (SHA-512 unless --kafka-sasl-sha256)
  -m            accepted for compatibility with dnstap-read (ignored)
  -h, --help    print this help and exit
  --version     print the version and exit
Single-letter flags combine as in dnstap-read: -py is -p -y.
Exit status: 0 ok, 1 corrupt input or error, 2 usage, 3 an input ended mid-frame or before
STOP (every complete message was printed).
`

// printUsage prints the usage and the registered subcommands.
func printUsage(w io.Writer) {
	fmt.Fprint(w, usageText)
	if len(subcommands) > 0 {
		names := make([]string, 0, len(subcommands))
		for n := range subcommands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "Subcommands: %s (dnstap-reader SUBCOMMAND -h for its flags)\n", strings.Join(names, ", "))
	}
}

type options struct {
	engine engineFlags
	mode   reader.Mode
	format reader.Format
	filter reader.Filter
	follow bool
	files  []string
}

// errHelp asks for the usage on standard output.
var errHelp = errors.New("help requested")

// errVersion asks for the version on standard output.
var errVersion = errors.New("version requested")

// stdinTerminal reports whether standard input is a terminal (a test seam).
var stdinTerminal = func() bool {
	fi, err := os.Stdin.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("dnstap-reader", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		x, p, y, js, follow, showVersion, help bool
		format                                 string
		ff                                     filterFlags
		ef                                     engineFlags
	)
	fs.BoolVar(&x, "x", false, "")
	fs.BoolVar(&p, "p", false, "")
	fs.BoolVar(&y, "y", false, "")
	fs.BoolVar(&js, "json", false, "")
	fs.StringVar(&format, "format", "9.18", "")
	fs.BoolVar(&follow, "f", false, "")
	fs.BoolVar(&follow, "follow", false, "")
	fs.BoolVar(&showVersion, "version", false, "")
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&help, "help", false, "")
	fs.Bool("m", false, "") // dnstap-read's memory tracing: accepted and ignored
	ff.register(fs)
	ef.register(fs)
	usage := func(err error) error { return usageError("dnstap-reader", err) }
	files, err := parseArgs(fs, args)
	switch {
	case err != nil:
		return nil, usage(err)
	case help:
		return nil, errHelp
	case showVersion:
		return nil, errVersion
	}
	if err := ef.check(); err != nil {
		return nil, usage(err)
	}
	o := &options{follow: follow, files: files, engine: ef}
	// dnstap-read: -y wins over -x, which wins over -p.
	switch {
	case js:
		if x || p || y {
			return nil, usage(errors.New("--json cannot be combined with -x, -p or -y"))
		}
		o.mode = reader.ModeJSON
	case y:
		o.mode = reader.ModeYAML
	case x:
		o.mode = reader.ModeHex
	case p:
		o.mode = reader.ModePrint
	}
	if o.format, err = reader.ParseFormat(format); err != nil {
		return nil, usage(fmt.Errorf("--format: %w", err))
	}
	if o.filter, err = ff.filter(time.Now()); err != nil {
		return nil, usage(err)
	}
	if o.follow && len(o.files) > 1 {
		return nil, usage(fmt.Errorf("--follow takes one file or directory, not %d", len(o.files)))
	}
	if len(o.files) == 0 {
		o.files = []string{"-"}
	}
	return o, nil
}

// checkStdin refuses to wait on a terminal: standard input ("-", or no file named) must be
// a pipe or a file. It prints the usage.
func checkStdin(cmd string, files []string, usage func(io.Writer), stderr io.Writer) error {
	for _, f := range files {
		if f == "-" && stdinTerminal() {
			usage(stderr)
			return &statusError{code: exitUsage, err: errors.New("standard input is a terminal: name a file, or pipe a capture in")}
		}
	}
	return nil
}

// unknownSubcommand returns a usage error when the first argument is no file and looks like
// a misspelt subcommand.
func unknownSubcommand(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return nil
	}
	if _, err := os.Stat(args[0]); err == nil {
		return nil
	}
	names := make([]string, 0, len(subcommands))
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	if c := closest(args[0], names); c != "" {
		return usageError("dnstap-reader", fmt.Errorf("unknown subcommand %q, did you mean %s?", args[0], c))
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(ctx, args[1:], stdout, stderr)
		}
	}
	if err := unknownSubcommand(args); err != nil {
		return err
	}
	o, err := parseFlags(args)
	switch {
	case errors.Is(err, errHelp):
		printUsage(stdout)
		return nil
	case errors.Is(err, errVersion):
		fmt.Fprintf(stdout, "dnstap-reader %s\n", versionString())
		return nil
	case err != nil:
		return err
	}
	if err := checkStdin("dnstap-reader", o.files, printUsage, stderr); err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 256<<10)
	out := &output{w: w, mode: o.mode, format: o.format, filter: &o.filter, stderr: stderr, engine: &o.engine}
	switch {
	case o.follow && o.files[0] == "-":
		if err := out.stdin(ctx); err != nil {
			return nil // stopped by a signal; the goroutine reading the input owns w
		}
	case o.follow && reader.IsURL(o.files[0]):
		out.url(ctx, o.files[0], true)
	case o.follow:
		err = out.follow(ctx, o.files[0])
	default:
		for _, f := range o.files {
			if ctx.Err() != nil {
				break
			}
			if reader.IsURL(f) {
				out.url(ctx, f, false)
				continue
			}
			out.file(f)
		}
	}
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return out.status()
}

type output struct {
	engine    *engineFlags
	w         *bufio.Writer
	mode      reader.Mode
	format    reader.Format
	filter    *reader.Filter
	stderr    io.Writer
	corrupt   bool
	truncated bool
	werr      error
}

func (o *output) status() error {
	switch {
	case o.werr != nil:
		return o.werr
	case o.corrupt:
		return &statusError{code: exitError}
	case o.truncated:
		return &statusError{code: exitTruncated}
	}
	return nil
}

func (o *output) file(path string) {
	d, err := reader.Open(path)
	if err != nil {
		fmt.Fprintf(o.stderr, "dnstap-reader: %v\n", err)
		o.corrupt = true
		return
	}
	defer d.Close()
	o.decode(d, runtime.GOMAXPROCS(0))
}

// url prints the frames of a Kafka topic or NATS subject: from the oldest kept, or from
// --since; to the newest stored at the start, or with follow until ctx ends. A frame the
// engine holds twice (sent again by a router after a failure) is printed once; the copies
// are counted on stderr.
func (o *output) url(ctx context.Context, raw string, follow bool) {
	uo, err := o.engine.urlOptions(engine.ConsumeOptions{Since: o.filter.Since, Follow: follow})
	var s *reader.URLStream
	if err == nil {
		s, err = reader.OpenURL(ctx, raw, uo)
	}
	if err != nil {
		fmt.Fprintf(o.stderr, "dnstap-reader: %v\n", err)
		o.corrupt = true
		return
	}
	defer s.Close()
	if follow {
		o.decode(reader.NewDecoder(&flushReader{r: s, flush: o.w.Flush}, s.Name()), 1)
	} else {
		o.decode(reader.NewDecoder(s, s.Name()), runtime.GOMAXPROCS(0))
	}
	if _, dups, _ := s.Counts(); dups > 0 {
		fmt.Fprintf(o.stderr, "dnstap-reader: %s: %d duplicate frames dropped (the same router, spool file and offset, sent again)\n", s.Name(), dups)
	}
}

// stdin prints standard input as it arrives (--follow -): one message at a time, the output
// flushed whenever the input has to be waited for, so a pipe from a live capture shows at
// once. It returns ctx's error when ctx ends first; the reading goroutine then still owns
// o.w and o's status.
func (o *output) stdin(ctx context.Context) error {
	d := reader.NewDecoder(&flushReader{r: os.Stdin, flush: o.w.Flush}, "-")
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.decode(d, 1)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushReader flushes the output before each read of its input, which may block.
type flushReader struct {
	r     io.Reader
	flush func() error
}

func (f *flushReader) Read(p []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}

// decode prints every message of d and reports errors on stderr.
func (o *output) decode(d *reader.Decoder, workers int) {
	err := reader.Render(d, o.w, reader.RenderOptions{
		Mode: o.mode, Format: o.format, Filter: o.filter, Workers: workers, Flush: o.w.Flush,
		OnError: func(err error) bool {
			switch {
			case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
				// --follow stopped
			case errors.Is(err, reader.ErrTruncated):
				fmt.Fprintf(o.stderr, "dnstap-reader: warning: %v\n", err)
				o.truncated = true
			case reader.Recoverable(err):
				fmt.Fprintf(o.stderr, "dnstap-reader: %v (frame skipped)\n", err)
				o.corrupt = true
				return true
			default:
				fmt.Fprintf(o.stderr, "dnstap-reader: %v\n", err)
				o.corrupt = true
			}
			return false
		},
	})
	var fe *reader.FrameError
	if err != nil && !errors.As(err, &fe) && !errors.Is(err, context.Canceled) && o.werr == nil {
		o.werr = err // a write error
	}
}

func (o *output) follow(ctx context.Context, path string) error {
	f, err := reader.NewFollower(path)
	if err != nil {
		return err
	}
	defer f.Close()
	f.Idle = func() { o.w.Flush() }
	f.Notify = func(msg string) { fmt.Fprintf(o.stderr, "dnstap-reader: %s\n", msg) }
	for {
		r, name, err := f.Next(ctx)
		if err != nil {
			return err
		}
		o.decode(reader.NewDecoder(r, name), 1)
		if o.werr != nil || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
