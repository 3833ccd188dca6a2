package collector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// conversion is one strftime(3) conversion: how it formats a time, and a regular expression
// that matches everything it can format and as little else as possible (retention relies on it
// to recognise the collector's own files).
type conversion struct {
	format  func(t time.Time) string
	pattern string
}

const (
	twoDigits    = `[0-9]{2}`
	monthAbbrevs = `(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)`
	monthNames   = `(?:January|February|March|April|May|June|July|August|September|October|November|December)`
	dayAbbrevs   = `(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)`
	dayNames     = `(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)`
)

// conversions are the strftime conversions that make sense in a file name. Others are refused
// when the template is parsed, before anything listens.
var conversions = map[byte]conversion{
	'Y': {func(t time.Time) string { return pad(t.Year(), 4) }, `[0-9]{4,}`},
	'y': {func(t time.Time) string { return pad(t.Year()%100, 2) }, twoDigits},
	'C': {func(t time.Time) string { return pad(t.Year()/100, 2) }, `[0-9]{2,}`},
	'm': {func(t time.Time) string { return pad(int(t.Month()), 2) }, twoDigits},
	'd': {func(t time.Time) string { return pad(t.Day(), 2) }, twoDigits},
	'e': {func(t time.Time) string { return fmt.Sprintf("%2d", t.Day()) }, `[ 0-9][0-9]`},
	'H': {func(t time.Time) string { return pad(t.Hour(), 2) }, twoDigits},
	'I': {func(t time.Time) string { return pad((t.Hour()+11)%12+1, 2) }, twoDigits},
	'M': {func(t time.Time) string { return pad(t.Minute(), 2) }, twoDigits},
	'S': {func(t time.Time) string { return pad(t.Second(), 2) }, twoDigits},
	'j': {func(t time.Time) string { return pad(t.YearDay(), 3) }, `[0-9]{3}`},
	's': {func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }, `-?[0-9]+`},
	'b': {func(t time.Time) string { return t.Format("Jan") }, monthAbbrevs},
	'h': {func(t time.Time) string { return t.Format("Jan") }, monthAbbrevs},
	'B': {func(t time.Time) string { return t.Format("January") }, monthNames},
	'a': {func(t time.Time) string { return t.Format("Mon") }, dayAbbrevs},
	'A': {func(t time.Time) string { return t.Format("Monday") }, dayNames},
	'p': {func(t time.Time) string { return t.Format("PM") }, `(?:AM|PM)`},
	'u': {func(t time.Time) string { return strconv.Itoa((int(t.Weekday())+6)%7 + 1) }, `[1-7]`},
	'w': {func(t time.Time) string { return strconv.Itoa(int(t.Weekday())) }, `[0-6]`},
	'F': {func(t time.Time) string { return t.Format("2006-01-02") }, `[0-9]{4,}-[0-9]{2}-[0-9]{2}`},
	'T': {func(t time.Time) string { return t.Format("15:04:05") }, `[0-9]{2}:[0-9]{2}:[0-9]{2}`},
	'R': {func(t time.Time) string { return t.Format("15:04") }, `[0-9]{2}:[0-9]{2}`},
	'D': {func(t time.Time) string { return t.Format("01/02/06") }, `[0-9]{2}/[0-9]{2}/[0-9]{2}`},
	'z': {func(t time.Time) string { return t.Format("-0700") }, `[+-][0-9]{4}`},
	'Z': {func(t time.Time) string { return t.Format("MST") }, `[A-Za-z0-9+-]+`},
	'%': {func(time.Time) string { return "%" }, `%`},
}

// strftime expands the conversions of C's strftime(3) that make sense in a file name.
func strftime(layout string, t time.Time) (string, error) {
	var b strings.Builder
	err := walkLayout(layout, func(lit string) { b.WriteString(lit) }, func(c conversion) { b.WriteString(c.format(t)) })
	return b.String(), err
}

// walkLayout calls lit for each run of literal text of layout and conv for each conversion.
func walkLayout(layout string, lit func(string), conv func(conversion)) error {
	for {
		i := strings.IndexByte(layout, '%')
		if i < 0 {
			lit(layout)
			return nil
		}
		lit(layout[:i])
		if i+1 == len(layout) {
			return errors.New("strftime: trailing %")
		}
		c, ok := conversions[layout[i+1]]
		if !ok {
			return fmt.Errorf("strftime: unsupported conversion %%%c", layout[i+1])
		}
		conv(c)
		layout = layout[i+2:]
	}
}

func pad(v, width int) string {
	s := strconv.Itoa(v)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// partSuffix marks a file still being written (or compressed).
const partSuffix = ".part"

// compressExt is the file name suffix of each compression.
var compressExt = map[string]string{CompressGzip: ".gz", CompressZstd: ".zst"}

// Template is the output path template (-w): it names the files the collector opens and
// recognises, strictly, the closed files it named. Retention deletes only files that
// ClosedFiles lists; anything else that must find the collector's finished files (a forwarder,
// say) should use it too.
//
// A closed file's name is the template expanded at the time the file was opened, then an
// optional ".N" before the extension (a name already in use is never reused), then ".gz" or
// ".zst" once compressed. Each strftime conversion matches only what it can produce (%Y four
// digits, %b a month abbreviation, %s digits, ...), so neither a file being written (".part")
// nor an unrelated file in the same directory is ever taken for one.
type Template struct {
	path   string
	names  TimeNames
	dir    string // directory part of the template, with its conversions
	stem   string // file name part without ext
	ext    string // the literal extension of the file name part ("" when it has none)
	closed *regexp.Regexp
}

// NewTemplate parses an output path template; names says whether and how strftime
// conversions in it are expanded.
func NewTemplate(path string, names TimeNames) (*Template, error) {
	t := &Template{path: path, names: names}
	t.dir, t.stem = filepath.Split(path)
	if t.stem == "" || t.stem == "." || t.stem == ".." {
		return nil, fmt.Errorf("output %q: names a directory, not a file", path)
	}
	if strings.HasSuffix(t.stem, partSuffix) {
		return nil, fmt.Errorf("output %q: a name ending in %s is reserved for files being written", path, partSuffix)
	}
	if ext := filepath.Ext(t.stem); ext != "" && !strings.Contains(ext, "%") && ext != t.stem {
		t.ext, t.stem = ext, strings.TrimSuffix(t.stem, ext)
	}
	stem := regexp.QuoteMeta(t.stem)
	if names != NamesLiteral {
		if _, err := strftime(path, time.Unix(0, 0)); err != nil {
			return nil, fmt.Errorf("output %q: %w", path, err)
		}
		var b strings.Builder
		_ = walkLayout(t.stem, func(lit string) { b.WriteString(regexp.QuoteMeta(lit)) }, func(c conversion) { b.WriteString(c.pattern) })
		stem = b.String()
		if strings.Contains(stem, "/") {
			return nil, fmt.Errorf("output %q: a conversion in the file name makes a \"/\" (use it in the directory part)", path)
		}
	}
	t.closed = regexp.MustCompile("^" + stem + `(?:\.[0-9]+)?` + regexp.QuoteMeta(t.ext) + `(\.gz|\.zst)?$`)
	return t, nil
}

// String returns the template as given.
func (t *Template) String() string { return t.path }

func (t *Template) expand(s string, now time.Time) string {
	switch t.names {
	case NamesUTC:
		now = now.UTC()
	case NamesLocal:
		now = now.Local()
	default:
		return s
	}
	out, err := strftime(s, now)
	if err != nil { // validated in NewTemplate
		return s
	}
	return out
}

// Dir returns the directory of the files opened at now.
func (t *Template) Dir(now time.Time) string {
	return filepath.Clean(t.expand(t.dir, now))
}

// next returns a name for a file opened at now that no existing file (finished, being written,
// or compressed) uses: the template expanded, then with .1, .2, ... before the extension.
func (t *Template) next(now time.Time) string {
	dir, stem := t.expand(t.dir, now), t.expand(t.stem, now)
	for i := 0; ; i++ {
		name := stem + t.ext
		if i > 0 {
			name = stem + "." + strconv.Itoa(i) + t.ext
		}
		p := filepath.Join(dir, name)
		if !taken(p) {
			return p
		}
	}
}

// Match reports whether name (a base name, no directory) is a closed file of the template,
// and with which compression (CompressNone, CompressGzip or CompressZstd).
func (t *Template) Match(name string) (compression string, ok bool) {
	m := t.closed.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	switch m[1] {
	case ".gz":
		return CompressGzip, true
	case ".zst":
		return CompressZstd, true
	}
	return CompressNone, true
}

// ClosedFile is a finished output file of a Template.
type ClosedFile struct {
	Path        string
	Size        int64 // bytes
	ModTime     time.Time
	Compression string // CompressNone, CompressGzip or CompressZstd
}

// ClosedFiles lists the closed files of the template in dir, oldest (by modification time)
// first: regular files whose names the template gives, compressed or not; never a ".part"
// file, a symlink, a directory or a file of any other name. A dir that does not exist holds
// none.
func (t *Template) ClosedFiles(dir string) ([]ClosedFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list closed files: %w", err)
	}
	var files []ClosedFile
	for _, e := range entries {
		comp, ok := t.Match(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // deleted meanwhile
		}
		files = append(files, ClosedFile{Path: filepath.Join(dir, e.Name()), Size: info.Size(), ModTime: info.ModTime(), Compression: comp})
	}
	sort.Slice(files, func(i, j int) bool {
		if !files[i].ModTime.Equal(files[j].ModTime) {
			return files[i].ModTime.Before(files[j].ModTime)
		}
		return files[i].Path < files[j].Path
	})
	return files, nil
}

// taken reports whether p is used by a file in any of its forms.
func taken(p string) bool {
	for _, suffix := range []string{"", partSuffix, ".gz", ".zst", ".gz" + partSuffix, ".zst" + partSuffix} {
		if _, err := os.Lstat(p + suffix); !errors.Is(err, os.ErrNotExist) {
			return true
		}
	}
	return false
}

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
