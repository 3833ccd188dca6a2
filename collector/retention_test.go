package collector

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// bystander is a file retention must never touch: a regular file with content, a directory
// (name ending in "/"), or a symlink (content "-> target", relative to the output directory).
type bystander struct{ name, content string }

func (b bystander) create(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, strings.TrimSuffix(b.name, "/"))
	var err error
	switch {
	case strings.HasSuffix(b.name, "/"):
		err = os.Mkdir(p, 0o755)
	case strings.HasPrefix(b.content, "-> "):
		err = os.Symlink(strings.TrimPrefix(b.content, "-> "), p)
	default:
		err = os.WriteFile(p, []byte(b.content), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (b bystander) check(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, strings.TrimSuffix(b.name, "/"))
	fi, err := os.Lstat(p)
	if err != nil {
		t.Errorf("%s: %v (retention must never touch it)", b.name, err)
		return
	}
	switch {
	case strings.HasSuffix(b.name, "/"):
		if !fi.IsDir() {
			t.Errorf("%s: no longer a directory", b.name)
		}
	case strings.HasPrefix(b.content, "-> "):
		if target, err := os.Readlink(p); err != nil || "-> "+target != b.content {
			t.Errorf("%s: symlink changed: %q, %v", b.name, target, err)
		}
	default:
		if got, err := os.ReadFile(p); err != nil || string(got) != b.content {
			t.Errorf("%s: content changed: %q, %v", b.name, got, err)
		}
	}
}

// readClosed returns the Frame Streams bytes of a closed output file, decompressed.
func readClosed(t *testing.T, p string) []byte {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var zr io.Reader
	switch {
	case strings.HasSuffix(p, ".gz"):
		if zr, err = gzip.NewReader(bytes.NewReader(raw)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	case strings.HasSuffix(p, ".zst"):
		d, err := zstd.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		defer d.Close()
		zr = d
	default:
		return raw
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return out
}

// TestRetentionOnlyItsOwnClosedFiles replays a capture with Debian's fstrm_replay into a
// collector that rotates by size and applies retention, in a directory that also holds files
// the collector did not write: other files, files being written (.part), a directory and a
// symlink named like its files. Retention must delete only closed files of the template,
// never the newest (even when it alone exceeds the size limit, with a warning), and every file
// kept must be read by BIND's dnstap-read.
func TestRetentionOnlyItsOwnClosedFiles(t *testing.T) {
	work := t.TempDir()
	capture := filepath.Join(work, "in.fstrm")
	const n = 3000
	frames := makeCapture(t, capture, n)
	outside := filepath.Join(work, "outside.fstrm")
	if err := os.WriteFile(outside, []byte("a file the symlink points to"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		template  string
		names     TimeNames
		keepFiles int
		keepBytes int64
		compress  string
		others    []bystander
		wantFiles int    // closed files of the template left
		wantLog   string // a warning retention must log
	}{
		{
			name: "-w DIR/(seconds) with other files", template: "%s", names: NamesUTC, keepFiles: 2,
			others:    []bystander{{"important.txt", "keep me"}, {"zones.db", "$ORIGIN example."}, {"notes", "x"}, {"1764547200.part", "a capture being written"}, {"1764547200.gz.part", "a compression being written"}},
			wantFiles: 2,
		},
		{
			name: "template without extension", template: "cap-%Y%m%d-%H%M%S", names: NamesUTC, keepFiles: 1,
			others: []bystander{
				{"cap-20261201-000000.part", "being written"}, {"cap-20261201-000001.part", "being written"},
				{"cap-20261201-000002.1.part", "being written"}, {"cap-20261201-000003.gz.part", "being compressed"},
				{"cap-20261201-000004.part", "being written"},
			},
			wantFiles: 1,
		},
		{
			name: "a directory of unrelated files", template: "dnstap-%Y%m%d.fstrm", names: NamesUTC, keepFiles: 1,
			others: []bystander{
				{"dnstap-notadate.fstrm", "x"}, {"dnstap-20261201.fstrm.bak", "x"}, {"other.fstrm", "x"},
				{"dnstap-2026120.fstrm", "x"}, {"DNSTAP-20261201.fstrm", "x"}, {"dnstap-20261201.fstrm.gz.part", "x"},
				{"dnstap-20261201.fstrm.part", "x"}, {"dnstap-20261201.x.fstrm", "x"}, {"dnstap-20261201.fstrm.xz", "x"},
				{"dnstap-20251202.fstrm/", ""}, {"dnstap-20251201.fstrm", "-> " + outside}, {"dnstap-20251203.fstrm.gz", "-> " + outside},
			},
			wantFiles: 1,
		},
		{
			name: "literal template", template: "cap.fstrm", names: NamesLiteral, keepFiles: 3,
			others:    []bystander{{"cap.fstrm.old", "x"}, {"cap.fstrm.1", "x"}, {"cap.x.fstrm", "x"}, {"xcap.fstrm", "x"}},
			wantFiles: 3,
		},
		{
			name: "--keep-size smaller than one file", template: "d-%Y%m%d.fstrm", names: NamesUTC, keepBytes: 10 << 10,
			others:    []bystander{{"d-20261201.fstrm.part", "being written"}},
			wantFiles: 1, wantLog: "the newest closed file alone exceeds the size limit",
		},
		{
			name: "gzip and --keep-size smaller than one file", template: "d-%Y%m%d-%H%M%S.fstrm", names: NamesUTC, keepBytes: 512, compress: CompressGzip,
			others:    []bystander{{"unrelated.gz", "x"}},
			wantFiles: 1, wantLog: "the newest closed file alone exceeds the size limit",
		},
		{
			name: "zstd and --keep-size smaller than one file", template: "%s.fstrm", names: NamesUTC, keepBytes: 512, compress: CompressZstd,
			wantFiles: 1, wantLog: "the newest closed file alone exceeds the size limit",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, o := range tc.others {
				o.create(t, dir)
			}
			sock, ln := unixListener(t)
			r := start(t, Config{Output: filepath.Join(dir, tc.template), TimeNames: tc.names, RotateBytes: 20000,
				KeepFiles: tc.keepFiles, KeepBytes: tc.keepBytes, Compress: tc.compress}, ln)
			fstrmReplay(t, sock, capture)
			waitFor(t, "every frame written", func() bool { return r.c.Stats().FramesWritten == n })
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			for _, o := range tc.others {
				o.check(t, dir)
			}
			st := r.c.Stats()
			if st.FilesClosed < 10 {
				t.Fatalf("only %d files closed; the test needs rotations", st.FilesClosed)
			}
			isOther := map[string]bool{}
			for _, o := range tc.others {
				isOther[strings.TrimSuffix(o.name, "/")] = true
			}
			var kept []string
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if !isOther[e.Name()] {
					kept = append(kept, filepath.Join(dir, e.Name()))
				}
			}
			if len(kept) != tc.wantFiles || st.FilesDeleted != st.FilesClosed-uint64(tc.wantFiles) {
				t.Fatalf("%d files kept (want %d), %d closed, %d deleted: %v\n%s", len(kept), tc.wantFiles, st.FilesClosed, st.FilesDeleted, kept, r.log)
			}
			// The newest file is kept: the last frame sent is in it. Every file kept is whole,
			// and BIND's dnstap-read reads it.
			last := false
			for _, p := range kept {
				raw := readClosed(t, p)
				got, err := parseFile(raw)
				if err != nil || len(got) == 0 {
					t.Fatalf("%s: %d frames, %v", p, len(got), err)
				}
				last = last || bytes.Equal(got[len(got)-1], frames[n-1])
				plain := filepath.Join(t.TempDir(), "plain.fstrm")
				if err := os.WriteFile(plain, raw, 0o644); err != nil {
					t.Fatal(err)
				}
				checkWithPeers(t, plain, len(got))
			}
			if !last {
				t.Errorf("the newest file (with the last frame) was deleted")
			}
			if tc.wantLog != "" && !strings.Contains(r.log.String(), tc.wantLog) {
				t.Errorf("log lacks %q", tc.wantLog)
			}
		})
	}
}

func TestPlanRetention(t *testing.T) {
	files := func(sizes ...int64) []ClosedFile {
		var fs []ClosedFile
		for i, s := range sizes {
			fs = append(fs, ClosedFile{Path: fmt.Sprintf("f%d", i), Size: s})
		}
		return fs
	}
	tests := []struct {
		name      string
		files     []ClosedFile
		newest    string
		keepFiles int
		keepBytes int64
		remove    string
		overBy    int64
	}{
		{"under the limits", files(10, 10), "f1", 2, 100, "", 0},
		{"keep files", files(10, 10, 10, 10), "f3", 2, 0, "f0 f1", 0},
		{"keep bytes", files(10, 20, 30), "f2", 0, 50, "f0", 0},
		{"newest alone too big", files(10, 20, 300), "f2", 0, 100, "f0 f1", 200},
		{"newest alone too big, with keep files", files(300), "f0", 1, 100, "", 200},
		{"newest not last by time", files(10, 10, 10), "f1", 1, 0, "f0 f2", 0},
		{"newest gone: the last is kept", files(50, 50), "gone", 0, 10, "f0", 40},
		{"no limits", files(10, 10), "f1", 0, 0, "", 0},
		{"nothing listed", nil, "f0", 1, 1, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := planRetention(tc.files, tc.newest, tc.keepFiles, tc.keepBytes)
			var got []string
			for _, f := range plan.remove {
				got = append(got, f.Path)
			}
			if strings.Join(got, " ") != tc.remove || plan.overBy != tc.overBy {
				t.Errorf("remove %q over by %d, want %q over by %d", got, plan.overBy, tc.remove, tc.overBy)
			}
		})
	}
}
