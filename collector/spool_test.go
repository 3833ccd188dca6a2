package collector

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// fakeSpool records the writer's calls and answers retention by the order in which files
// were closed: file i is the i-th file closed (names are reused once retention frees them).
type fakeSpool struct {
	mu      sync.Mutex
	events  []string
	frames  map[string]int
	byName  map[string]int // final name (base, without .gz/.zst) -> index of the file now there
	shipped map[int]bool
	evicted []int
	closed  int
	t       *testing.T
}

func newFakeSpool(t *testing.T) *fakeSpool {
	return &fakeSpool{frames: map[string]int{}, byName: map[string]int{}, shipped: map[int]bool{}, t: t}
}

func (s *fakeSpool) FileOpened(part string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Nothing but START may be in the file yet.
	fi, err := os.Stat(part)
	if err != nil || fi.Size() != int64(len(controlBytes(startFrame()))) {
		s.t.Errorf("FileOpened(%s): the file is not there with START alone: %v", part, err)
	}
	s.events = append(s.events, "open "+filepath.Base(part))
}

func (s *fakeSpool) FileWritten(part string, size int64, frames int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames[part] += frames
	if fi, err := os.Stat(part); err != nil || fi.Size() < size {
		s.t.Errorf("FileWritten(%s, %d): file is smaller: %v", part, size, err)
	}
}

func (s *fakeSpool) FileClosed(part, final string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, "close "+filepath.Base(part)+" "+filepath.Base(final))
	s.byName[filepath.Base(final)] = s.closed
	s.closed++
}

func (s *fakeSpool) index(p string) int {
	i, ok := s.byName[strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".gz"), ".zst")]
	if !ok {
		s.t.Errorf("retention asks about %s, never closed", p)
	}
	return i
}

func (s *fakeSpool) Unshipped(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.shipped[s.index(p)]
}

func (s *fakeSpool) Evict(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(p); err != nil {
		s.t.Errorf("Evict(%s) after the file is gone: %v", p, err)
	}
	s.evicted = append(s.evicted, s.index(p))
}

// TestSpoolHooks: the writer reports each file's opening (before any frame), every frame
// written, and its closing with the final name.
func TestSpoolHooks(t *testing.T) {
	sp := newFakeSpool(t)
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm"), Spool: sp}, ln)
	if err := send("unix", sock, true, 1, 3000); err != nil {
		t.Fatal(err)
	}
	r.c.Rotate()
	waitFor(t, "the rotation", func() bool { return r.c.Stats().FilesClosed == 1 })
	if err := send("unix", sock, true, 2, 1000); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	want := "open cap.fstrm.part|close cap.fstrm.part cap.fstrm|open cap.1.fstrm.part|close cap.1.fstrm.part cap.1.fstrm"
	if got := strings.Join(sp.events, "|"); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	if a, b := sp.frames[filepath.Join(dir, "cap.fstrm.part")], sp.frames[filepath.Join(dir, "cap.1.fstrm.part")]; a != 3000 || b != 1000 {
		t.Errorf("FileWritten counted %d and %d frames, want 3000 and 1000", a, b)
	}
}

// TestRetentionKeepsUnshipped: retention keeps files the spool has not shipped past
// --keep-files; past --keep-size it deletes shipped files first, then evicts unshipped ones,
// oldest first, telling the spool before each deletion. File i holds sender i's frames.
func TestRetentionKeepsUnshipped(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cfg         Config
		shipped     []int
		wantLeft    []int // senders whose file is left
		wantEvicted []int
	}{
		{"keep-files keeps unshipped", Config{KeepFiles: 1}, []int{0}, []int{1, 2, 3}, nil},
		{"keep-files deletes shipped", Config{KeepFiles: 1}, []int{0, 1, 2}, []int{3}, nil},
		// Each file is about 800 bytes: 1650 bytes keep two.
		{"keep-size evicts the oldest unshipped", Config{KeepBytes: 1650}, []int{1}, []int{2, 3}, []int{0}},
		// Retention never deletes the newest closed file, shipped or not.
		{"keep-size with compression", Config{KeepBytes: 1, Compress: CompressZstd}, nil, []int{3}, []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := newFakeSpool(t)
			for _, i := range tc.shipped {
				sp.shipped[i] = true
			}
			sock, ln := unixListener(t)
			dir := t.TempDir()
			cfg := tc.cfg
			cfg.Output, cfg.Spool = filepath.Join(dir, "cap.fstrm"), sp
			r := start(t, cfg, ln)
			for i := range 4 {
				if err := send("unix", sock, true, i, 20); err != nil {
					t.Fatal(err)
				}
				r.c.Rotate()
				waitFor(t, "the rotation", func() bool { return r.c.Stats().FilesClosed == uint64(i+1) })
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			var left []int
			for _, p := range finished(t, dir) {
				frames := readMaybeCompressed(t, p)
				var s int
				if _, err := fmt.Sscanf(string(frames[0]), "sender %d", &s); err != nil {
					t.Fatal(err)
				}
				left = append(left, s)
			}
			sort.Ints(left)
			if fmt.Sprint(left) != fmt.Sprint(tc.wantLeft) {
				t.Errorf("files of senders %v left, want %v", left, tc.wantLeft)
			}
			sp.mu.Lock()
			defer sp.mu.Unlock()
			if fmt.Sprint(sp.evicted) != fmt.Sprint(tc.wantEvicted) {
				t.Errorf("evicted %v, want %v", sp.evicted, tc.wantEvicted)
			}
		})
	}
}

// readMaybeCompressed returns the frames of a file, gzip or zstd or plain.
func readMaybeCompressed(t *testing.T, p string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(p, ".zst") {
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if raw, err = d.DecodeAll(raw, nil); err != nil {
			t.Fatal(err)
		}
	}
	frames, err := parseFile(raw)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return frames
}

// TestCompressionKeepsTime: a compressed file has the modification time of the file it
// replaces, so that files keep their order.
func TestCompressionKeepsTime(t *testing.T) {
	sock, ln := unixListener(t)
	dir := t.TempDir()
	r := start(t, Config{Output: filepath.Join(dir, "cap.fstrm"), Compress: CompressGzip}, ln)
	if err := send("unix", sock, true, 1, 10); err != nil {
		t.Fatal(err)
	}
	r.c.Rotate()
	var closedAt time.Time
	waitFor(t, "the closed file", func() bool {
		fi, err := os.Stat(filepath.Join(dir, "cap.fstrm"))
		if err == nil {
			closedAt = fi.ModTime()
		}
		return err == nil || r.c.Stats().FilesCompressed == 1
	})
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "cap.fstrm.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if !closedAt.IsZero() && !fi.ModTime().Equal(closedAt) {
		t.Errorf("cap.fstrm.gz has time %v, the original had %v", fi.ModTime(), closedAt)
	}
	if time.Since(fi.ModTime()) > time.Minute {
		t.Errorf("cap.fstrm.gz has time %v", fi.ModTime())
	}
}

// TestListSpool lists the files of the template, oldest first, with .part and compressed
// files but without compression temporaries and foreign files.
func TestListSpool(t *testing.T) {
	dir := t.TempDir()
	base := time.Now().Add(-time.Hour)
	for i, name := range []string{"d-2.fstrm.zst", "d-1.fstrm", "d-3.fstrm.part", "d-4.fstrm.gz.part", "other.txt", "d-0.fstrm.gz"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
		order := map[string]int{"d-0.fstrm.gz": 0, "d-1.fstrm": 1, "d-2.fstrm.zst": 2, "d-3.fstrm.part": 3}[name]
		_ = i
		if err := os.Chtimes(p, time.Time{}, base.Add(time.Duration(order)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ListSpool(Config{Output: filepath.Join(dir, "d-%s.fstrm"), TimeNames: NamesUTC})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		names = append(names, filepath.Base(p))
	}
	if want := "d-0.fstrm.gz d-1.fstrm d-2.fstrm.zst d-3.fstrm.part"; strings.Join(names, " ") != want {
		t.Errorf("ListSpool = %v, want %s", names, want)
	}
}

// TestPlanRetentionShipped: unshipped files survive --keep-files; --keep-size takes shipped
// files first, then unshipped ones oldest first (evict), never the newest.
func TestPlanRetentionShipped(t *testing.T) {
	files := func(n int) []ClosedFile {
		var fs []ClosedFile
		for i := range n {
			fs = append(fs, ClosedFile{Path: fmt.Sprint("f", i), Size: 100})
		}
		return fs
	}
	names := func(fs []ClosedFile) string {
		var s []string
		for _, f := range fs {
			s = append(s, f.Path)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name          string
		keepFiles     int
		keepBytes     int64
		unshipped     string // space-separated
		remove, evict string
	}{
		{"files: unshipped kept", 1, 0, "f0 f1", "f2 f3", ""},
		{"files: all unshipped", 2, 0, "f0 f1 f2 f3 f4", "", ""},
		{"bytes: shipped first", 0, 250, "f0", "f1 f2 f3", ""},
		{"bytes: then unshipped", 0, 150, "f0", "f1 f2 f3", "f0"},
		{"bytes: enough without evicting", 0, 300, "f0 f1", "f2 f3", ""},
		{"bytes: never the newest", 0, 50, "f0 f1 f2 f3 f4", "", "f0 f1 f2 f3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			un := map[string]bool{}
			for _, f := range strings.Fields(tc.unshipped) {
				un[f] = true
			}
			plan := planRetentionShipped(files(5), "f4", tc.keepFiles, tc.keepBytes, func(p string) bool { return un[p] })
			if names(plan.remove) != tc.remove || names(plan.evict) != tc.evict {
				t.Errorf("remove %q evict %q, want %q and %q", names(plan.remove), names(plan.evict), tc.remove, tc.evict)
			}
		})
	}
}
