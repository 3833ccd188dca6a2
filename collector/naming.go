package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// strftime expands the conversions of C's strftime(3) that make sense in a file name.
// Unknown conversions are an error (reported by Validate, before anything listens).
func strftime(layout string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		ch := layout[i]
		if ch != '%' {
			b.WriteByte(ch)
			continue
		}
		i++
		if i == len(layout) {
			return "", errors.New("strftime: trailing %")
		}
		switch layout[i] {
		case 'Y':
			b.WriteString(pad(t.Year(), 4))
		case 'y':
			b.WriteString(pad(t.Year()%100, 2))
		case 'C':
			b.WriteString(pad(t.Year()/100, 2))
		case 'm':
			b.WriteString(pad(int(t.Month()), 2))
		case 'd':
			b.WriteString(pad(t.Day(), 2))
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			b.WriteString(pad(t.Hour(), 2))
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, 2))
		case 'M':
			b.WriteString(pad(t.Minute(), 2))
		case 'S':
			b.WriteString(pad(t.Second(), 2))
		case 'j':
			b.WriteString(pad(t.YearDay(), 3))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b.WriteString(strconv.Itoa(wd))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'R':
			b.WriteString(t.Format("15:04"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("strftime: unsupported conversion %%%c", layout[i])
		}
	}
	return b.String(), nil
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// namer turns the output template into file names, never reusing a name in use, and
// recognises the closed files that belong to the template (for retention).
type namer struct {
	template string
	names    TimeNames
	dir      string // directory template
	stem     string // base name template without ext
	ext      string // literal extension of the template, "" when it has none
	match    *regexp.Regexp
}

var compressExt = map[string]string{CompressGzip: ".gz", CompressZstd: ".zst"}

func newNamer(template string, names TimeNames) (*namer, error) {
	n := &namer{template: template, names: names}
	n.dir, n.stem = filepath.Split(template)
	if n.stem == "" {
		return nil, fmt.Errorf("output %q: names a directory, not a file", template)
	}
	if ext := filepath.Ext(n.stem); ext != "" && !strings.Contains(ext, "%") && ext != n.stem {
		n.ext, n.stem = ext, strings.TrimSuffix(n.stem, ext)
	}
	if names != NamesLiteral {
		if _, err := strftime(template, time.Unix(0, 0)); err != nil {
			return nil, fmt.Errorf("output %q: %w", template, err)
		}
	}
	re := "^" + n.toRegexp(n.stem) + `(\.[0-9]+)?` + regexp.QuoteMeta(n.ext) + `(\.gz|\.zst)?$`
	var err error
	if n.match, err = regexp.Compile(re); err != nil {
		return nil, fmt.Errorf("output %q: %w", template, err)
	}
	return n, nil
}

// toRegexp turns a template into a pattern: literal text quoted, each conversion any text.
func (n *namer) toRegexp(s string) string {
	if n.names == NamesLiteral {
		return regexp.QuoteMeta(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) {
			i++
			if s[i] == '%' {
				b.WriteString("%")
			} else {
				b.WriteString(".+?")
			}
			continue
		}
		b.WriteString(regexp.QuoteMeta(s[i : i+1]))
	}
	return b.String()
}

func (n *namer) expand(s string, t time.Time) string {
	switch n.names {
	case NamesUTC:
		t = t.UTC()
	case NamesLocal:
		t = t.Local()
	default:
		return s
	}
	out, err := strftime(s, t)
	if err != nil { // validated in newNamer; keep the template rather than fail
		return s
	}
	return out
}

// next returns a file name for a file opened at t that no existing file (finished, still
// being written, or compressed) uses: the template expanded, then with .1, .2, ... before the
// extension.
func (n *namer) next(t time.Time) string {
	dir, stem := n.expand(n.dir, t), n.expand(n.stem, t)
	for i := 0; ; i++ {
		name := stem + n.ext
		if i > 0 {
			name = stem + "." + strconv.Itoa(i) + n.ext
		}
		p := filepath.Join(dir, name)
		if !taken(p) {
			return p
		}
	}
}

func taken(p string) bool {
	for _, suffix := range []string{"", partSuffix, ".gz", ".zst", ".gz" + partSuffix, ".zst" + partSuffix} {
		if _, err := os.Lstat(p + suffix); !errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

// partSuffix marks a file still being written (or compressed).
const partSuffix = ".part"

// alignedNext returns the next multiple of every after now, on the clock of names
// (local midnight for 24h with NamesLocal, UTC otherwise).
func alignedNext(now time.Time, every time.Duration, names TimeNames) time.Time {
	var offset int64
	if names == NamesLocal {
		_, off := now.Local().Zone()
		offset = int64(off) * int64(time.Second)
	}
	ns := now.UnixNano() + offset
	step := int64(every)
	next := (ns/step + 1) * step
	return time.Unix(0, next-offset)
}
