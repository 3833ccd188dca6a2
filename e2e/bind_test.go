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
	"strings"
	"testing"
	"time"

	tap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"github.com/testcontainers/testcontainers-go"
	"google.golang.org/protobuf/proto"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/e2e/internal/bindcontainer"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestBind builds each BIND of bindTargets (9.14 on bullseye with the classic configure
// line, 9.18 on bookworm, 9.20 on bookworm; BIND_VERSION and DISTRO choose others) from
// source with dnstap, and installs its .deb on a fresh systemd of that distro after the
// toolkit's collector and reader packages, as on a router: the collector's socket first,
// then bind9-dnstap, whose postinst starts named.service. named must run with the default
// config, answer, send dnstap through the socket-activated collector, and BIND's own
// dnstap-read and dnstap-reader --format <version> must print the capture alike.
func TestBind(t *testing.T) {
	testenv.Docker(t)
	t.Parallel() // after the sequential tests, while BIND compiles in the background
	bindSerial.Lock()
	defer bindSerial.Unlock()
	targets, err := bindTargets()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		t.Run(tg.Version.Series, func(t *testing.T) { testBind(t, tg) })
	}
}

func testBind(t *testing.T, tg bindTarget) {
	ctx := context.Background()
	done := chainPhase(t, "bind:build "+tg.Version.Release+" for "+tg.Distro)
	res, log, err := bindBuild(tg)
	if log != "" {
		t.Logf("build:\n%s", log)
	}
	if err != nil {
		t.Fatalf("build BIND %s for %s: %v", tg.Version.Release, tg.Distro, err)
	}
	done()
	toolkit, err := chainToolkitDebs()
	if err != nil {
		t.Fatalf("build the toolkit's packages: %v", err)
	}
	done = chainPhase(t, "image "+tg.Distro+" with the package's dependencies")
	img, err := bindcontainer.Image(ctx, tg.Distro, res.Depends, bindLogWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	done()
	done = chainPhase(t, "boot, install the packages")
	ctr, err := bindcontainer.Run(ctx, img, bindcontainer.WithDeb(toolkit...), bindcontainer.WithDeb(res.Deb))
	testcontainers.CleanupContainer(t, ctr, testcontainers.StopTimeout(10*time.Second))
	bindKeepArtifacts(t, ctr)
	if err != nil {
		t.Fatal(err)
	}
	done()
	sh := func(t *testing.T, script string) string {
		t.Helper()
		out, err := ctr.Sh(ctx, script)
		if err != nil {
			t.Fatalf("%v\n%s", err, ctr.Journal(ctx))
		}
		return strings.TrimSpace(out)
	}
	bin := "/usr/local/bin/"
	if _, err := os.Stat(filepath.Join(res.Staging, "usr/local/bin/dnstap-read")); err != nil {
		bin = "/usr/local/sbin/" // 9.16 and older put the tools in sbin
	}

	t.Run("named -V", func(t *testing.T) {
		out := sh(t, "/usr/local/sbin/named -V")
		if !strings.Contains(out, "BIND "+tg.Version.Release) {
			t.Errorf("named -V is not BIND %s:\n%s", tg.Version.Release, out)
		}
		// The configure line exactly as the version table has it (9.14: the classic line).
		if line := "'" + strings.Join(tg.Version.Configure, "' '") + "'"; !strings.Contains(out, line) {
			t.Errorf("named -V does not show the configure line %s:\n%s", line, out)
		}
	})
	t.Run("installed under systemd", func(t *testing.T) {
		for script, want := range map[string]string{
			"systemctl is-enabled named; systemctl is-active named":                                     "enabled\nactive",
			"systemctl is-enabled dnstap-collector.socket; systemctl is-active dnstap-collector.socket": "enabled\nactive",
			// The drop-in of the collector package: named after the socket.
			"systemctl show -p After named.service | tr ' =' '\\n\\n' | grep -cx dnstap-collector.socket": "1",
			"stat -c '%F %a %U %G' " + bindcontainer.SocketPath:                                           "socket 660 dnstap bind",
			"stat -c '%U:%G %a' /etc/bind/rndc.key":                                                       "root:bind 640",
			"stat -c %U /proc/$(systemctl show -p MainPID --value named)":                                 "bind",
		} {
			if got := sh(t, script); got != want {
				t.Errorf("%s:\n got %q\nwant %q", script, got, want)
			}
		}
		for _, p := range []string{"sbin/named", "sbin/rndc", "sbin/rndc-confgen", "bin/named-checkconf", "bin/named-checkzone",
			"bin/dnstap-read", "bin/dig", "bin/delv", "bin/host", "bin/nsupdate"} {
			if _, err := ctr.Sh(ctx, "test -x /usr/local/"+p+" || test -x /usr/local/sbin/"+filepath.Base(p)); err != nil {
				t.Errorf("%s is not installed", p)
			}
		}
		sh(t, "/usr/local/sbin/rndc status")
		sh(t, "PATH=/usr/local/sbin:/usr/local/bin:$PATH named-checkconf -z /etc/bind/named.conf")
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
	var capture string
	t.Run("dnstap reaches the collector", func(t *testing.T) {
		// named connected at start: systemd started the collector on that connection.
		if _, err := ctr.Eventually(ctx, "systemctl is-active dnstap-collector.service", time.Minute); err != nil {
			t.Fatalf("%v\n%s", err, ctr.Journal(ctx))
		}
		if capture, err = ctr.Rotate(ctx); err != nil {
			t.Fatalf("%v\n%s", err, ctr.Journal(ctx))
		}
		b, err := ctr.ReadFile(ctx, capture)
		if err != nil {
			t.Fatal(err)
		}
		bindSaveOnFailure(t, "capture.fstrm", b)
		seen, err := bindTapTypes(b, "localhost.")
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
	t.Run("dnstap-reader equals dnstap-read", func(t *testing.T) {
		if capture == "" {
			t.Skip("no capture")
		}
		compareDnstapRead(t, ctr.Output, bin+"dnstap-read", []string{"--format", tg.Version.Series}, []string{capture})
	})
	t.Run("restart and stop", func(t *testing.T) {
		sh(t, "systemctl restart named")
		if _, err := ctr.Eventually(ctx, "systemctl is-active named", time.Minute); err != nil {
			t.Fatalf("%v\n%s", err, ctr.Journal(ctx))
		}
		// ExecStop is rndc stop: the key the postinst made must work.
		sh(t, "systemctl stop named")
		if got, _ := ctr.Sh(ctx, "systemctl is-active named"); strings.TrimSpace(got) != "inactive" {
			t.Errorf("after systemctl stop, named is %q\n%s", got, ctr.Journal(ctx))
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

// bindKeepArtifacts saves the journal of named and the collector, named.conf and every
// capture under artifacts/<test name>/ when the test fails.
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
		bindSaveOnFailure(t, "journal.txt", []byte(ctr.Journal(ctx)))
		out, _ := ctr.Sh(ctx, "ls "+bindcontainer.CaptureDir+"/* /etc/bind/named.conf 2>/dev/null")
		for _, p := range strings.Fields(out) {
			if b, err := ctr.ReadFile(ctx, p); err == nil {
				bindSaveOnFailure(t, filepath.Base(p), b)
			}
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
