//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"
	"google.golang.org/protobuf/proto"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/e2e/internal/bindcontainer"
	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestBind builds BIND_VERSION (default 9.18) for DISTRO (default debian:bookworm) from
// source with dnstap, installs the .deb into a fresh container of that distro, and checks
// that named runs with the default config, answers, and sends dnstap to a collector.
// BIND_VERSION=9.16 DISTRO=debian:bullseye runs the same for 9.16.
func TestBind(t *testing.T) {
	testenv.Docker(t)
	ctx := context.Background()
	version, distro := bindEnv("BIND_VERSION", "9.18"), bindEnv("DISTRO", "debian:bookworm")

	res, err := bind.Build(ctx, bind.BuildOptions{
		Version: version, Distro: distro, Tarball: os.Getenv("BIND_TARBALL"),
		DistDir: "../dist", CacheDir: "../.cache/bind", Progress: bindLogWriter{t},
	})
	if err != nil {
		t.Fatalf("build BIND %s for %s: %v", version, distro, err)
	}
	if !strings.Contains(res.NamedV, "--enable-dnstap") {
		t.Errorf("named -V of the build lacks --enable-dnstap:\n%s", res.NamedV)
	}

	img, err := baseimage.Ensure(ctx, distro)
	if err != nil {
		t.Fatal(err)
	}
	opts := []testcontainers.ContainerCustomizer{bindcontainer.WithDeb(res.Deb)}
	// E2E_COLLECTOR=fstrm_capture tests against fstrm_capture even where
	// dist/dnstap-collector exists.
	if _, err := os.Stat("../dist/dnstap-collector"); err == nil && os.Getenv("E2E_COLLECTOR") != "fstrm_capture" {
		t.Log("collector: dist/dnstap-collector")
		opts = append(opts, bindcontainer.WithCollector("../dist/dnstap-collector"))
	} else {
		t.Log("collector: fstrm_capture")
	}
	ctr, err := bindcontainer.Run(ctx, img, opts...)
	testcontainers.CleanupContainer(t, ctr)
	bindKeepArtifacts(t, ctr)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("named -V", func(t *testing.T) {
		out, err := ctr.Output(ctx, "/usr/local/sbin/named", "-V")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "--enable-dnstap") || !strings.Contains(out, "BIND "+version) {
			t.Errorf("named -V does not show a %s build with --enable-dnstap:\n%s", version, out)
		}
	})
	t.Run("tools installed", func(t *testing.T) {
		for _, p := range []string{"sbin/named", "sbin/rndc", "bin/named-checkconf", "bin/dnstap-read", "bin/dig",
			"sbin/rndc-confgen", "bin/named-checkzone", "bin/delv", "bin/host", "bin/nsupdate"} {
			if _, err := ctr.Output(ctx, "test", "-x", "/usr/local/"+p); err != nil {
				// 9.16 and older put the tools in sbin.
				if _, err2 := ctr.Output(ctx, "test", "-x", "/usr/local/sbin/"+filepath.Base(p)); err2 != nil {
					t.Errorf("%s is not installed", p)
				}
			}
		}
		if out, err := ctr.Output(ctx, "sh", "-c", "stat -c '%U:%G %a' /etc/bind/rndc.key && id bind"); err != nil ||
			!strings.HasPrefix(out, "root:bind 640") {
			t.Errorf("rndc.key or the bind user not made at install: %v\n%s", err, out)
		}
	})
	t.Run("named-checkconf", func(t *testing.T) {
		if out, err := ctr.Output(ctx, "sh", "-c", "PATH=/usr/local/sbin:/usr/local/bin:$PATH; named-checkconf -z /etc/bind/named.conf"); err != nil {
			t.Errorf("named-checkconf refuses the default config: %v\n%s", err, out)
		}
	})
	t.Run("query", func(t *testing.T) {
		for _, network := range []string{"udp", "tcp"} {
			r, err := ctr.QueryNet(ctx, network, "localhost.", dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
				t.Fatalf("over %s: want one authoritative answer, got\n%s", network, r)
			}
			if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != "127.0.0.1" {
				t.Errorf("over %s: answer %s, want localhost. A 127.0.0.1", network, r.Answer[0])
			}
		}
	})

	capture, err := ctr.StopCapture(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bindSaveOnFailure(t, "capture.fstrm", capture)
	t.Run("dnstap reaches the collector", func(t *testing.T) {
		seen, err := bindTapTypes(capture, "localhost.")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("dnstap messages for localhost.: %v", seen)
		q := seen[tap.Message_CLIENT_QUERY] + seen[tap.Message_AUTH_QUERY]
		r := seen[tap.Message_CLIENT_RESPONSE] + seen[tap.Message_AUTH_RESPONSE]
		if q < 2 || r < 2 {
			t.Errorf("want the UDP and TCP queries and responses for localhost. (CQ/CR or AQ/AR) in the capture, got %v", seen)
		}
	})
	t.Run("dnstap-read reads the capture", func(t *testing.T) {
		out, err := ctr.Output(ctx, "sh", "-c", "PATH=/usr/local/bin:/usr/local/sbin:$PATH; dnstap-read "+bindcontainer.CapturePath)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`(?m) (CQ|AQ) .*localhost/IN/A`).MatchString(out) {
			t.Errorf("dnstap-read shows no query for localhost/IN/A:\n%s", out)
		}
	})
}

// bindTapTypes decodes a Frame Streams capture and counts the dnstap messages about qname
// by message type.
func bindTapTypes(capture []byte, qname string) (map[tap.Message_Type]int, error) {
	r, err := tap.NewReader(bytes.NewReader(capture), nil)
	if err != nil {
		return nil, err
	}
	seen := map[tap.Message_Type]int{}
	buf := make([]byte, 1<<16)
	for {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			return seen, nil
		}
		if err != nil {
			return seen, err
		}
		var d tap.Dnstap
		if err := proto.Unmarshal(buf[:n], &d); err != nil {
			return seen, err
		}
		m := d.GetMessage()
		if m == nil {
			continue
		}
		wire := m.GetQueryMessage()
		if len(wire) == 0 {
			wire = m.GetResponseMessage()
		}
		var msg dns.Msg
		if err := msg.Unpack(wire); err != nil || len(msg.Question) == 0 {
			continue
		}
		if strings.EqualFold(msg.Question[0].Name, qname) {
			seen[m.GetType()]++
		}
	}
}

// bindKeepArtifacts saves named's log, the collector's log and the container log under
// artifacts/<test name>/ when the test fails.
func bindKeepArtifacts(t *testing.T, ctr *bindcontainer.Container) {
	t.Helper()
	if ctr == nil {
		return
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, p := range []string{bindcontainer.NamedLogPath, bindcontainer.CollectorLog, bindcontainer.CapturePath} {
			if b, err := ctr.ReadFile(ctx, p); err == nil {
				bindSaveOnFailure(t, filepath.Base(p), b)
			}
		}
		if rc, err := ctr.Logs(ctx); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			bindSaveOnFailure(t, "container.log", b)
		}
	})
}

// bindSaveOnFailure writes b to artifacts/<test name>/<name> at the end of a failed test.
func bindSaveOnFailure(t *testing.T, name string, b []byte) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		dir := filepath.Join("artifacts", strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(dir, 0o755); err == nil && os.WriteFile(p, b, 0o644) == nil {
			t.Logf("kept %s", p)
		}
	})
}

func bindEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// bindLogWriter sends build progress to the test log.
type bindLogWriter struct{ t *testing.T }

func (w bindLogWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBindCompileFailure builds a source tarball whose configure fails, and wants the
// error to show the last lines of the build log and its path.
func TestBindCompileFailure(t *testing.T) {
	testenv.Docker(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "bind-9.18.0")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	configure := "#!/bin/sh\necho 'checking for a compiler... yes'\necho 'configure: error: broken on purpose by TestBindCompileFailure' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(src, "configure"), []byte(configure), 0o755); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(dir, "bind-9.18.0.tar.gz")
	if out, err := exec.Command("tar", "-C", dir, "-czf", tarball, "bind-9.18.0").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	cache := filepath.Join(dir, "cache")
	_, err := bind.Build(context.Background(), bind.BuildOptions{
		Version: "9.18", Distro: bindEnv("DISTRO", "debian:bookworm"), Tarball: tarball,
		DistDir: filepath.Join(dir, "dist"), CacheDir: cache, Progress: bindLogWriter{t},
	})
	if err == nil {
		t.Fatal("a configure that fails built a package")
	}
	msg := err.Error()
	t.Logf("the error as a user sees it:\n%s", msg)
	logs, _ := filepath.Glob(filepath.Join(cache, "*", "build.log"))
	if len(logs) != 1 {
		t.Fatalf("want one build.log under %s, got %v", cache, logs)
	}
	for _, want := range []string{"compile BIND 9.18.0 failed", "configure: error: broken on purpose", "full log: " + logs[0]} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}
