package reader

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/reader/readertest"
)

// follow runs a Follower on path in the background, decoding each file it returns and
// recording what it saw.
type follow struct {
	mu    sync.Mutex
	seen  map[string]int
	errs  []error
	files []string
	notes []string
	idles atomic.Int64
}

func startFollow(t *testing.T, path string) *follow {
	t.Helper()
	f, err := NewFollower(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &follow{seen: map[string]int{}}
	f.Poll, f.Stale = 10*time.Millisecond, 300*time.Millisecond
	f.Idle = func() { h.idles.Add(1) }
	f.Notify = func(msg string) { h.mu.Lock(); h.notes = append(h.notes, msg); h.mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer f.Close()
		for {
			r, name, err := f.Next(ctx)
			if err != nil {
				return
			}
			h.mu.Lock()
			h.files = append(h.files, filepath.Base(name))
			h.mu.Unlock()
			d := NewDecoder(r, name)
			for {
				m, err := d.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						h.mu.Lock()
						h.errs = append(h.errs, err)
						h.mu.Unlock()
					}
					if Recoverable(err) {
						continue
					}
					break
				}
				h.mu.Lock()
				h.seen[strings.TrimSuffix(string(m.DNS().QName), ".")]++
				h.mu.Unlock()
			}
			d.Close()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func (h *follow) has(names []string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range names {
		if h.seen[n] == 0 {
			return false
		}
	}
	return true
}

func (h *follow) state() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var keys []string
	for k := range h.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "files " + strings.Join(h.files, " ") + "; names " + strings.Join(keys, " ")
}

// wait polls cond; the deadline only bounds a hang.
func (h *follow) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s", what, h.state())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitNames waits until every name was read.
func (h *follow) waitNames(t *testing.T, what string, names []string) {
	t.Helper()
	h.wait(t, what, func() bool { return h.has(names) })
}

// settle lets the follower look at the directory a few more times, so that a file it would
// read again shows.
func (h *follow) settle(t *testing.T) {
	t.Helper()
	n := h.idles.Load()
	h.wait(t, "the follower to poll", func() bool { return h.idles.Load() >= n+20 })
}

// check requires every name exactly once, nothing else, and the errors wanted (by sentinel).
func (h *follow) check(t *testing.T, want []string, wantErrs ...error) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	w := map[string]bool{}
	for _, n := range want {
		w[n] = true
		if c := h.seen[n]; c != 1 {
			t.Errorf("%s read %d times, want once (files %v)", n, c, h.files)
		}
	}
	for n := range h.seen {
		if !w[n] {
			t.Errorf("%s read, but it is not in the files followed (files %v)", n, h.files)
		}
	}
	if len(h.errs) != len(wantErrs) {
		t.Errorf("errors %v, want %v", h.errs, wantErrs)
		return
	}
	for i, e := range wantErrs {
		if !errors.Is(h.errs[i], e) {
			t.Errorf("error %d: %v, want %v", i, h.errs[i], e)
		}
	}
}

var captureTime = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// capture returns a complete file of n queries for prefix0.example.test ...
func capture(t *testing.T, prefix string, n int) ([]byte, []string) {
	t.Helper()
	names := readertest.Names(prefix, n)
	b, err := readertest.Capture(names, captureTime.Add(time.Duration(len(prefix))*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return b, names
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mv(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func rm(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// compress does what dnstap-collector does to a closed file: NAME.zst.part, renamed
// NAME.zst, then NAME removed.
func compress(t *testing.T, path string, gzipped bool) {
	t.Helper()
	b := readFile(t, path)
	ext, z := ".zst", zst(t, b)
	if gzipped {
		ext, z = ".gz", gz(t, b)
	}
	write(t, path+ext+PartSuffix, z)
	mv(t, path+ext+PartSuffix, path+ext)
	rm(t, path)
}

func cat(names ...[]string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n...)
	}
	return out
}

// TestFollowDirectory plays what dnstap-collector (rotation, compression, retention),
// fstrm_capture (time-named files, a fixed name rewritten in place) and a crashed writer do
// to a directory, and requires every message of every new file exactly once.
func TestFollowDirectory(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, dir string)
	}{
		{"compressed and removed, then a new file", func(t *testing.T, dir string) {
			// The reproduction: the new .part file may get the removed file's inode.
			a, an := capture(t, "a", 50)
			b, bn := capture(t, "b", 50)
			write(t, filepath.Join(dir, "a.fstrm.part"), a)
			h := startFollow(t, dir)
			h.waitNames(t, "a", an)
			mv(t, filepath.Join(dir, "a.fstrm.part"), filepath.Join(dir, "a.fstrm"))
			compress(t, filepath.Join(dir, "a.fstrm"), false)
			write(t, filepath.Join(dir, "b.fstrm.part"), b)
			h.waitNames(t, "b", bn)
			h.settle(t)
			h.check(t, cat(an, bn))
		}},
		{"retention removes a name that is used again", func(t *testing.T, dir string) {
			a, an := capture(t, "a", 30)
			b, bn := capture(t, "b", 30)
			c, cn := capture(t, "c", 30)
			write(t, filepath.Join(dir, "cap.fstrm.part"), a)
			h := startFollow(t, dir)
			h.waitNames(t, "a", an)
			mv(t, filepath.Join(dir, "cap.fstrm.part"), filepath.Join(dir, "cap.fstrm"))
			write(t, filepath.Join(dir, "cap.1.fstrm.part"), b)
			h.waitNames(t, "b", bn)
			mv(t, filepath.Join(dir, "cap.1.fstrm.part"), filepath.Join(dir, "cap.1.fstrm"))
			rm(t, filepath.Join(dir, "cap.fstrm")) // --keep-files 1
			write(t, filepath.Join(dir, "cap.fstrm.part"), c)
			h.waitNames(t, "c", cn)
			h.settle(t)
			h.check(t, cat(an, bn, cn))
		}},
		{"a file compressed before it was read", func(t *testing.T, dir string) {
			a, an := capture(t, "a", 30)
			b, bn := capture(t, "b", 30)
			c, cn := capture(t, "c", 30)
			write(t, filepath.Join(dir, "a.fstrm.part"), a)
			h := startFollow(t, dir)
			h.waitNames(t, "a", an)
			// While the follower is still on a.fstrm.part, b is written, closed and compressed.
			write(t, filepath.Join(dir, "b.fstrm.part"), b)
			mv(t, filepath.Join(dir, "b.fstrm.part"), filepath.Join(dir, "b.fstrm"))
			compress(t, filepath.Join(dir, "b.fstrm"), true)
			mv(t, filepath.Join(dir, "a.fstrm.part"), filepath.Join(dir, "a.fstrm"))
			compress(t, filepath.Join(dir, "a.fstrm"), true)
			write(t, filepath.Join(dir, "c.fstrm.part"), c)
			h.waitNames(t, "c", cn)
			h.settle(t)
			h.check(t, cat(an, bn, cn))
		}},
		{"old files are not read", func(t *testing.T, dir string) {
			o, _ := capture(t, "old", 10)
			a, an := capture(t, "a", 10)
			b, bn := capture(t, "b", 10)
			write(t, filepath.Join(dir, "old1.fstrm"), o)
			write(t, filepath.Join(dir, "old2.fstrm.zst"), zst(t, o))
			write(t, filepath.Join(dir, "crashed.fstrm.part"), o[:len(o)-12]) // no STOP
			time.Sleep(20 * time.Millisecond)                                 // a newer mtime
			write(t, filepath.Join(dir, "a.fstrm.part"), a)
			h := startFollow(t, dir)
			h.waitNames(t, "a", an)
			mv(t, filepath.Join(dir, "a.fstrm.part"), filepath.Join(dir, "a.fstrm"))
			compress(t, filepath.Join(dir, "old1.fstrm"), false) // the collector catching up
			write(t, filepath.Join(dir, "b.fstrm.part"), b)
			h.waitNames(t, "b", bn)
			h.settle(t)
			h.check(t, cat(an, bn))
		}},
		{"time-named files without .part (fstrm_capture --gmtime)", func(t *testing.T, dir string) {
			a, an := capture(t, "a", 20)
			b, bn := capture(t, "b", 20)
			write(t, filepath.Join(dir, "dnstap.20261201T100000.fstrm"), a)
			h := startFollow(t, dir)
			h.waitNames(t, "a", an)
			// The next file is open and growing (no STOP yet); the first ended with STOP.
			write(t, filepath.Join(dir, "dnstap.20261201T100100.fstrm"), b[:len(b)-12])
			h.waitNames(t, "b", bn)
			h.settle(t)
			h.check(t, cat(an, bn))
		}},
		{"a .part file abandoned without STOP", func(t *testing.T, dir string) {
			a, an := capture(t, "a", 20)
			b, bn := capture(t, "b", 20)
			write(t, filepath.Join(dir, "a.fstrm.part"), a[:len(a)-12])
			h := startFollow(t, dir)
			h.waitNames(t, "a", an)
			write(t, filepath.Join(dir, "b.fstrm.part"), b)
			h.waitNames(t, "b", bn) // after Stale
			h.settle(t)
			h.check(t, cat(an, bn), ErrTruncated)
		}},
		{"other files are left alone", func(t *testing.T, dir string) {
			a, an := capture(t, "a", 20)
			write(t, filepath.Join(dir, "README"), []byte("notes about this directory\n"))
			write(t, filepath.Join(dir, "named.log"), []byte("01-Dec-2026 10:00:00.000 running\n"))
			h := startFollow(t, dir)
			time.Sleep(50 * time.Millisecond) // newer than the log
			write(t, filepath.Join(dir, "dnstap.fstrm"), a)
			h.waitNames(t, "a", an)
			write(t, filepath.Join(dir, "named.log.1"), []byte("more log\n"))
			h.settle(t)
			h.check(t, an)
			if len(h.notes) != 1 || !strings.Contains(h.notes[0], "waiting for a Frame Streams file in "+dir) {
				t.Errorf("notes %q, want one saying what it waits for", h.notes)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, t.TempDir()) })
	}
}

// TestFollowRewrittenInPlace: a followed file truncated and written again under the same
// name (fstrm_capture -s with a fixed name) is read again from its start, whether the new
// content is shorter or longer than what was read.
func TestFollowRewrittenInPlace(t *testing.T) {
	for _, tc := range []struct {
		name       string
		first, new int // messages
		dir        bool
	}{
		{"shorter", 40, 10, false},
		{"longer", 10, 60, false},
		{"longer, in a directory", 10, 60, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "dnstap.fstrm")
			a, an := capture(t, "a", tc.first)
			b, bn := capture(t, "b", tc.new)
			write(t, path, a)
			follow := path
			if tc.dir {
				follow = dir
			}
			h := startFollow(t, follow)
			h.waitNames(t, "the first content", an)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(b); err != nil {
				t.Fatal(err)
			}
			f.Close()
			h.waitNames(t, "the new content", bn)
			h.settle(t)
			h.check(t, cat(an, bn))
			if want := path + ": truncated or rewritten; reading it again from its start"; len(h.notes) != 1 || h.notes[0] != want {
				t.Errorf("notes %q, want %q", h.notes, want)
			}
		})
	}
}

// TestFollowWaitsForPath: a path that does not exist yet is waited for, and said so once.
func TestFollowWaitsForPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "later", "dnstap.fstrm")
	h := startFollow(t, path)
	h.wait(t, "the note", func() bool { h.mu.Lock(); defer h.mu.Unlock(); return len(h.notes) > 0 })
	a, an := capture(t, "a", 5)
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, path, a)
	h.waitNames(t, "the file", an)
	h.settle(t)
	h.check(t, an)
	if len(h.notes) != 1 || h.notes[0] != "waiting for "+path+" to appear" {
		t.Errorf("notes %q", h.notes)
	}
}
