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

	"github.com/dnstapkit/dnstapkit/reader"
)

// Set by the build (-ldflags "-X main.version=... -X main.commit=...").
var version, commit string

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
type statusError struct {
	code int
	err  error
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
		return se.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "dnstap-reader: %v\n", err)
	return exitError
}

const usageText = `usage: dnstap-reader [flags] [file ...]
       dnstap-reader SUBCOMMAND [flags] ...

Prints dnstap files (Frame Streams of protobuf:dnstap.Dnstap, plain, gzip or zstd) the way
BIND 9.18's dnstap-read does, byte for byte; "-" or no file reads standard input.

Output (default: one line per message, as dnstap-read):
  -x            also print each DNS message in hex (dnstap-read -x)
  -p            also print each DNS message as text (dnstap-read -p)
  -y            print YAML (dnstap-read -y)
  --json        print one JSON object per message (NDJSON)
Filters (combine with AND; comma lists are OR):
  --type LIST   message types: CQ,CR,AQ,AR,RQ,RR,FQ,FR,SQ,SR,TQ,TR,UQ,UR
  --qname LIST  qname suffixes: example.com matches example.com and *.example.com
  --qtype LIST  question types: A,AAAA,TYPE65
  --rcode LIST  response codes: NXDOMAIN,SERVFAIL,5
  --client LIST query address within these prefixes: 192.0.2.0/24,2001:db8::/32
  --since T     messages at or after T (RFC 3339, or a duration ago: 15m)
  --until T     messages before T
Input:
  -f, --follow  follow a file, or the file dnstap-collector is writing in a directory,
                across rotation (like tail -F); stop with Ctrl-C
  -m            accepted for compatibility with dnstap-read (ignored)
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
	mode   reader.Mode
	filter reader.Filter
	follow bool
	files  []string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("dnstap-reader", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		x, p, y, js, follow, showVersion bool
		ff                               filterFlags
	)
	fs.BoolVar(&x, "x", false, "")
	fs.BoolVar(&p, "p", false, "")
	fs.BoolVar(&y, "y", false, "")
	fs.BoolVar(&js, "json", false, "")
	fs.BoolVar(&follow, "f", false, "")
	fs.BoolVar(&follow, "follow", false, "")
	fs.BoolVar(&showVersion, "version", false, "")
	fs.Bool("m", false, "") // dnstap-read's memory tracing: accepted and ignored
	ff.register(fs)
	if err := fs.Parse(expandShort(args)); err != nil {
		printUsage(stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil, &statusError{code: exitOK}
		}
		return nil, &statusError{code: exitUsage, err: err}
	}
	if showVersion {
		return nil, errVersion
	}
	o := &options{follow: follow, files: fs.Args()}
	// dnstap-read: -y wins over -x, which wins over -p.
	switch {
	case js:
		if x || p || y {
			return nil, &statusError{code: exitUsage, err: errors.New("--json cannot be combined with -x, -p or -y")}
		}
		o.mode = reader.ModeJSON
	case y:
		o.mode = reader.ModeYAML
	case x:
		o.mode = reader.ModeHex
	case p:
		o.mode = reader.ModePrint
	}
	var err error
	usage := func(e error) error { return &statusError{code: exitUsage, err: e} }
	if o.filter, err = ff.filter(time.Now()); err != nil {
		return nil, usage(err)
	}
	if len(o.files) == 0 {
		o.files = []string{"-"}
	}
	if o.follow && (len(o.files) != 1 || o.files[0] == "-") {
		return nil, usage(errors.New("--follow takes exactly one file or directory"))
	}
	return o, nil
}

var errVersion = errors.New("version requested")

// expandShort splits dnstap-read style combined flags ("-py", "-xf") into separate ones, up
// to the first argument that is not a flag or "--".
func expandShort(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[1] != '-' && strings.Trim(a[1:], "mpxyf") == "" {
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(ctx, args[1:], stdout, stderr)
		}
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, errVersion) {
		fmt.Fprintf(stdout, "dnstap-reader %s (%s, %s)\n", orUnknown(version), orUnknown(commit), runtime.Version())
		return nil
	}
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 256<<10)
	out := &output{w: w, mode: o.mode, filter: &o.filter, stderr: stderr}
	if o.follow {
		err = out.follow(ctx, o.files[0])
	} else {
		for _, f := range o.files {
			if ctx.Err() != nil {
				break
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

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

type output struct {
	w         *bufio.Writer
	mode      reader.Mode
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

// decode prints every message of d and reports errors on stderr.
func (o *output) decode(d *reader.Decoder, workers int) {
	err := reader.Render(d, o.w, reader.RenderOptions{
		Mode: o.mode, Filter: o.filter, Workers: workers, Flush: o.w.Flush,
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
