package collector

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/collector/collectortest"
)

// TestInterruptedCompressionRecovered starts in a directory that an earlier run left after a
// kill -9: a compression cut short (NAME.gz.part beside NAME), a compression finished but the
// original not yet removed (NAME.gz beside NAME, or also NAME.gz.part linked to NAME.gz), and a
// capture cut short (NAME.part). The first are finished (compressed again, or the original
// removed), the last is reported as a different kind and left alone.
func TestInterruptedCompressionRecovered(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	capture := func(name string, n int) []byte {
		t.Helper()
		if _, err := collectortest.WriteCapture(at(name), n); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(at(name))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	gz := func(raw []byte) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		return b.Bytes()
	}
	write := func(name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(at(name), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	cut := capture("c-20261201.fstrm", 1000)
	write("c-20261201.fstrm.gz.part", gz(cut)[:100])
	done := capture("c-20261202.fstrm", 200)
	write("c-20261202.fstrm.gz", gz(done))
	linked := capture("c-20261203.fstrm", 300)
	write("c-20261203.fstrm.gz", gz(linked))
	if err := os.Link(at("c-20261203.fstrm.gz"), at("c-20261203.fstrm.gz.part")); err != nil {
		t.Fatal(err)
	}
	capture("c-20261204.fstrm", 100)
	partial := capture("c-20261205.fstrm.part", 50)
	partial = partial[:len(partial)-30] // no STOP, a frame cut short
	write("c-20261205.fstrm.part", partial)

	_, ln := unixListener(t)
	r := start(t, Config{Output: at("c-%Y%m%d.fstrm"), TimeNames: NamesUTC, Compress: CompressGzip}, ln)
	waitFor(t, "the interrupted compression to be done again", func() bool { return r.c.Stats().FilesCompressed == 1 })
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := "c-20261201.fstrm.gz c-20261202.fstrm.gz c-20261203.fstrm.gz c-20261204.fstrm c-20261205.fstrm.part"
	if strings.Join(names, " ") != want {
		t.Errorf("files left:\n %s\nwant\n %s", strings.Join(names, " "), want)
	}
	for name, raw := range map[string][]byte{"c-20261201.fstrm.gz": cut, "c-20261202.fstrm.gz": done, "c-20261203.fstrm.gz": linked} {
		got := readClosed(t, at(name))
		if !bytes.Equal(got, raw) {
			t.Errorf("%s does not hold the original capture", name)
			continue
		}
		plain := filepath.Join(t.TempDir(), "plain.fstrm")
		if err := os.WriteFile(plain, got, 0o644); err != nil {
			t.Fatal(err)
		}
		frames, err := parseFile(got)
		if err != nil {
			t.Fatal(err)
		}
		checkWithPeers(t, plain, len(frames))
	}
	if b, _ := os.ReadFile(at("c-20261205.fstrm.part")); !bytes.Equal(b, partial) {
		t.Errorf("the capture cut short was touched")
	}
	logs := r.log.String()
	for _, want := range []string{
		`msg="interrupted compression from an earlier run discarded; compressing the original again" file=` + at("c-20261201.fstrm"),
		`msg="earlier run stopped after compressing a file and before removing the original; original removed" file=` + at("c-20261202.fstrm"),
		`file=` + at("c-20261203.fstrm"),
		`msg="unfinished capture from an earlier run (complete frames, no STOP); left as is" file=` + at("c-20261205.fstrm.part"),
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "unfinished capture from an earlier run (complete frames, no STOP); left as is\" file="+at("c-20261201.fstrm.gz.part")) {
		t.Errorf("an interrupted compression reported as an unfinished capture")
	}
}
