//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite reader/testdata/golden/*.<version>.<mode>.txt from the real dnstap-read")

// formatGoldens are, per BIND series whose dnstap-read output differs from 9.18's, the
// captures that have goldens of that dnstap-read's output: reader/testdata/golden (real
// traffic of named 9.18 as resolver and as authority) and bindtext's capture.fstrm (every
// record type a zone can serve) for both, and bindtext's crafted.fstrm (hand-made edge cases)
// for 9.20 only: 9.14's parser accepts or refuses 7 of those malformed messages otherwise
// than 9.18's, which --format 9.14 does not copy (docs/reader.md).
var formatGoldens = map[string][]string{
	"9.14": {"../reader/testdata/golden/*.fstrm", "../reader/internal/bindtext/testdata/capture.fstrm"},
	"9.20": {"../reader/testdata/golden/*.fstrm", "../reader/internal/bindtext/testdata/capture.fstrm",
		"../reader/internal/bindtext/testdata/crafted.fstrm"},
}

// TestDnstapReadGoldens runs the dnstap-read of each BIND in formatGoldenVersions (from its
// bind9-dnstap .deb, in a container of its distro, TZ=UTC) on every golden capture in the
// four modes, and requires the committed reader/testdata/golden/<capture>.<series>.<mode>.txt
// to be exactly what it prints; with -update it writes them. The reader's unit tests hold
// dnstap-reader --format <series> to these files.
func TestDnstapReadGoldens(t *testing.T) {
	testenv.Docker(t)
	t.Parallel()
	bindSerial.Lock()
	defer bindSerial.Unlock()
	for _, series := range []string{"9.14", "9.20"} {
		t.Run(series, func(t *testing.T) {
			var captures []string
			for _, pattern := range formatGoldens[series] {
				m, err := filepath.Glob(pattern)
				if err != nil || len(m) == 0 {
					t.Fatalf("no captures %s: %v", pattern, err)
				}
				captures = append(captures, m...)
			}
			v, err := bind.Lookup(series)
			if err != nil {
				t.Fatal(err)
			}
			tg := bindTarget{Version: v, Distro: v.Distro}
			res, log, err := bindBuild(tg)
			if err != nil {
				t.Fatalf("build BIND %s for %s: %v\n%s", v.Release, tg.Distro, err, log)
			}
			ctx := context.Background()
			base, err := baseimage.Ensure(ctx, tg.Distro)
			if err != nil {
				t.Fatal(err)
			}
			dnstapRead := "/usr/local/bin/dnstap-read"
			if _, err := os.Stat(filepath.Join(res.Staging, "usr/local/bin/dnstap-read")); err != nil {
				dnstapRead = "/usr/local/sbin/dnstap-read"
			}
			var blog bytes.Buffer
			img, err := chain.Image(ctx, base, chain.DnstapBIND(series, res.Deb, dnstapRead, false), &blog)
			if err != nil {
				t.Fatalf("%v\n%s", err, tail(blog.String(), 30))
			}
			outputs, err := runDnstapRead(ctx, img, dnstapRead, series, captures)
			if err != nil {
				t.Fatal(err)
			}
			for path, got := range outputs {
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("wrote %s", path)
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%v (go test -tags e2e -run TestDnstapReadGoldens ./e2e -update writes it)", err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s is not what BIND %s's dnstap-read prints: %s", path, v.Release, firstDiff(got, want))
				}
			}
		})
	}
}

// runDnstapRead runs dnstapRead on each capture in a container of img, in the four modes
// with TZ=UTC, and returns the outputs by golden file path: <capture>.<series>.<mode>.txt
// beside the capture.
func runDnstapRead(ctx context.Context, img, dnstapRead, series string, captures []string) (map[string][]byte, error) {
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	dirOf := map[string]string{}
	for _, c := range captures {
		b, err := os.ReadFile(c)
		if err != nil {
			return nil, err
		}
		if _, dup := dirOf[filepath.Base(c)]; dup {
			return nil, fmt.Errorf("two captures named %s", filepath.Base(c))
		}
		dirOf[filepath.Base(c)] = filepath.Dir(c)
		if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(c), Mode: 0o644, Size: int64(len(b))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	script := `set -e
mkdir /g && cd /g && tar xf - >&2
for f in *.fstrm; do
	TZ=UTC ` + dnstapRead + `    "$f" > "$f.` + series + `.default.txt"
	TZ=UTC ` + dnstapRead + ` -x "$f" > "$f.` + series + `.x.txt"
	TZ=UTC ` + dnstapRead + ` -p "$f" > "$f.` + series + `.p.txt"
	TZ=UTC ` + dnstapRead + ` -y "$f" > "$f.` + series + `.y.txt"
done
tar cf - *.txt`
	cmd := exec.CommandContext(ctx, "docker", "run", "-i", "--rm", "--network", "none", img, "sh", "-c", script)
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("dnstap-read in %s: %v\n%s", img, err, stderr.String())
	}
	outputs := map[string][]byte{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		capture, _, _ := strings.Cut(h.Name, ".fstrm.")
		dir, ok := dirOf[capture+".fstrm"]
		if !ok || !strings.HasSuffix(h.Name, ".txt") {
			continue
		}
		outputs[filepath.Join(dir, h.Name)] = b
	}
	if len(outputs) != 4*len(captures) {
		return nil, fmt.Errorf("dnstap-read made %d outputs for %d captures", len(outputs), len(captures))
	}
	return outputs, nil
}
