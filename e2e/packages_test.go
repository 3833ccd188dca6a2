//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/docker"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging"
)

// The two versions of each package the tests install, the second as an upgrade.
const (
	pkgOld = "1.0.0"
	pkgNew = "1.0.1"
)

// debs are the .deb files of both packages in both versions, built once per test binary
// from the real cmd/ programs: debs[name+"_"+version] is the host path.
var debsOnce = sync.OnceValues(func() (map[string]string, error) {
	dir, err := os.MkdirTemp("", "dnstapkit-pkgtest-")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	for _, name := range packaging.Names {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=e2e",
			"-o", filepath.Join(dir, name), "../cmd/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", name, err, out)
		}
	}
	t, err := packaging.CommitTime(ctx, "..")
	if err != nil {
		return nil, err
	}
	debs := map[string]string{}
	for _, v := range []string{pkgOld, pkgNew} {
		for _, name := range packaging.Names {
			p, err := packaging.BuildDeb(ctx, packaging.Spec{Name: name, Version: v, Arch: "amd64",
				Root: "..", BinDir: dir, OutDir: filepath.Join(dir, "debs"), Time: t})
			if err != nil {
				return nil, err
			}
			debs[name+"_"+v] = p
		}
	}
	return debs, nil
})

// pkgContainer is a container the packages are installed into.
type pkgContainer struct {
	*testcontainers.DockerContainer
	t *testing.T
}

// runPkgContainer starts img with the .debs in /debs. With boot, systemd runs as PID 1
// (without --privileged, see DESIGN.md); without it a shell idles as PID 1, which is how
// the maintainer scripts meet a chroot or a plain container.
func runPkgContainer(t *testing.T, img string, boot bool) *pkgContainer {
	t.Helper()
	debs, err := debsOnce()
	if err != nil {
		t.Fatalf("build packages: %v", err)
	}
	var files []testcontainers.ContainerFile
	for _, p := range debs {
		files = append(files, testcontainers.ContainerFile{HostFilePath: p, ContainerFilePath: "/debs/" + filepath.Base(p), FileMode: 0o644})
	}
	opts := []testcontainers.ContainerCustomizer{testcontainers.WithFiles(files...)}
	if boot {
		opts = append(opts,
			testcontainers.WithEntrypoint("/sbin/init"),
			testcontainers.WithTmpfs(baseimage.SystemdTmpfs),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				hc.Binds = append(hc.Binds, baseimage.SystemdMounts...)
			}))
	} else {
		opts = append(opts, testcontainers.WithEntrypoint("/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"))
	}
	ctr, err := testcontainers.Run(context.Background(), img, opts...)
	testcontainers.CleanupContainer(t, ctr, testcontainers.StopTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("run %s: %v", img, err)
	}
	c := &pkgContainer{ctr, t}
	if boot {
		c.waitBooted()
	}
	return c
}

// exec runs a shell script in the container and returns its exit code and output.
func (c *pkgContainer) exec(script string) (int, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code, r, err := c.Exec(ctx, []string{"/bin/sh", "-c", script}, tcexec.Multiplexed())
	if err != nil {
		c.t.Fatalf("exec %q: %v", script, err)
	}
	out, _ := io.ReadAll(r)
	return code, strings.TrimSpace(string(out))
}

// sh runs script and fails the test when it exits non-zero.
func (c *pkgContainer) sh(script string) string {
	c.t.Helper()
	code, out := c.exec(script)
	if code != 0 {
		c.t.Fatalf("%s: exit %d\n%s", script, code, out)
	}
	return out
}

// want runs script and checks its output.
func (c *pkgContainer) want(script, want string) {
	c.t.Helper()
	if _, got := c.exec(script); got != want {
		c.t.Errorf("%s:\n got %q\nwant %q", script, got, want)
	}
}

// eventually runs script until it exits 0, up to a minute (named sends frames about a second
// after a query; units start in the background).
func (c *pkgContainer) eventually(script string) string {
	c.t.Helper()
	var out string
	for i := 0; i < 60; i++ {
		var code int
		if code, out = c.exec(script); code == 0 {
			return out
		}
		time.Sleep(time.Second)
	}
	c.t.Fatalf("%s: still failing after a minute:\n%s\n%s", script, out, c.journal())
	return ""
}

func (c *pkgContainer) journal() string {
	_, out := c.exec("journalctl --no-pager -n 60 -u dnstap-collector.socket -u dnstap-collector.service -u named 2>&1 | tail -60")
	return out
}

func (c *pkgContainer) waitBooted() {
	c.t.Helper()
	state := c.eventually("s=$(systemctl is-system-running); echo $s; [ \"$s\" = running ] || [ \"$s\" = degraded ]")
	if state == "degraded" {
		_, failed := c.exec("systemctl --failed --no-legend --plain")
		c.t.Logf("systemd is degraded (units that cannot run in a container): %s", failed)
	}
}

// pkgImage returns the systemd base image of distro. ubuntu:18.04 needs an Ubuntu mirror
// (UBUNTU_MIRROR): without one it is skipped, as DESIGN.md allows for images that cannot be had.
func pkgImage(t *testing.T, distro string) string {
	t.Helper()
	img, err := baseimage.Ensure(context.Background(), distro, baseimage.WithSystemd())
	if err != nil {
		if strings.HasPrefix(distro, "ubuntu:") {
			t.Skipf("no %s image here: %v", distro, err)
		}
		t.Fatalf("base image %s: %v", distro, err)
	}
	return img
}

// TestPackagesLifecycle installs, upgrades, removes and purges both packages in a fresh
// container of each distro, with no systemd running (as in a chroot or a plain container).
func TestPackagesLifecycle(t *testing.T) {
	testenv.Docker(t)
	for _, distro := range []string{"debian:bullseye", "debian:bookworm", "debian:trixie", "ubuntu:18.04"} {
		t.Run(distro, func(t *testing.T) {
			c := runPkgContainer(t, pkgImage(t, distro), false)
			c.sh("dpkg -i /debs/dnstap-collector_" + pkgOld + "_amd64.deb /debs/dnstap-reader_" + pkgOld + "_amd64.deb")

			t.Run("installed", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				for path, want := range map[string]string{
					"/usr/bin/dnstap-collector":                                        "755 root root",
					"/usr/bin/dnstap-reader":                                           "755 root root",
					"/etc/default/dnstap-collector":                                    "644 root root",
					"/usr/lib/systemd/system/dnstap-collector.socket":                  "644 root root",
					"/usr/lib/systemd/system/dnstap-collector.service":                 "644 root root",
					"/usr/lib/systemd/system/named.service.d/dnstap-collector.conf":    "644 root root",
					"/usr/lib/systemd/system/bind9.service.d/dnstap-collector.conf":    "644 root root",
					"/usr/lib/sysusers.d/dnstap-collector.conf":                        "644 root root",
					"/usr/lib/tmpfiles.d/dnstap-collector.conf":                        "644 root root",
					"/usr/share/man/man8/dnstap-collector.8.gz":                        "644 root root",
					"/usr/share/man/man1/dnstap-reader.1.gz":                           "644 root root",
					"/var/log/dnstap":                                                  "750 dnstap dnstap",
					"/etc/systemd/system/sockets.target.wants/dnstap-collector.socket": "777 root root",
				} {
					c.want("stat -c '%a %U %G' "+path, want)
				}
				c.want("getent passwd dnstap | cut -d: -f6,7", "/nonexistent:/usr/sbin/nologin")
				// In no other group: systemd makes the socket (group bind) and passes it in;
				// group bind would let the collector read /etc/bind/rndc.key.
				c.want("id -nG dnstap", "dnstap")
				c.want("getent group bind >/dev/null && echo bind", "bind")
				c.want("cat /var/lib/dnstap-collector/created", "user:dnstap\ngroup:dnstap\ngroup:bind")
				c.want("dpkg-query -W -f '${Conffiles}' dnstap-collector | awk '{print $1}'", "/etc/default/dnstap-collector\n/etc/default/dnstap-collector-central")
				c.sh("dnstap-collector --version && dnstap-reader --version")
			})

			t.Run("upgrade keeps config", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("echo DNSTAP_KEEP_FILES=7 >> /etc/default/dnstap-collector")
				c.sh("dpkg -i /debs/dnstap-collector_" + pkgNew + "_amd64.deb /debs/dnstap-reader_" + pkgNew + "_amd64.deb")
				c.want("dpkg-query -W -f '${Version} ${Status}' dnstap-collector", pkgNew+" install ok installed")
				c.want("tail -n1 /etc/default/dnstap-collector", "DNSTAP_KEEP_FILES=7")
				c.want("id -u dnstap >/dev/null && echo ok", "ok")
			})

			t.Run("remove keeps config and user", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("dpkg -r dnstap-collector dnstap-reader")
				c.want("ls /usr/bin/dnstap-collector /usr/bin/dnstap-reader 2>/dev/null | wc -l", "0")
				c.want("tail -n1 /etc/default/dnstap-collector", "DNSTAP_KEEP_FILES=7")
				c.want("getent passwd dnstap >/dev/null && echo user", "user")
			})

			t.Run("purge keeps captures", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("echo frames > /var/log/dnstap/dnstap-1.fstrm && chown dnstap:dnstap /var/log/dnstap/dnstap-1.fstrm")
				c.sh("dpkg -P dnstap-collector dnstap-reader")
				c.want("dpkg-query -W -f '${Status}' dnstap-collector 2>&1 | grep -c 'not-installed\\|no packages'", "1")
				c.want("test -e /etc/default/dnstap-collector || echo gone", "gone")
				c.want("getent passwd dnstap || getent group dnstap || getent group bind || echo gone", "gone")
				c.want("test -e /var/lib/dnstap-collector || echo gone", "gone")
				c.want("test -e /etc/systemd/system/sockets.target.wants/dnstap-collector.socket || echo gone", "gone")
				c.want("stat -c '%a %U %G' /var/log/dnstap && cat /var/log/dnstap/dnstap-1.fstrm", "700 root root\nframes")
			})

			t.Run("purge with DNSTAP_PURGE_LOGS=yes", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("dpkg -i /debs/dnstap-collector_" + pkgNew + "_amd64.deb")
				c.want("stat -c '%a %U %G' /var/log/dnstap", "750 dnstap dnstap")
				c.sh("DNSTAP_PURGE_LOGS=yes dpkg -P dnstap-collector")
				c.want("test -e /var/log/dnstap || echo gone", "gone")
			})

			t.Run("accounts that existed before are neither changed nor removed", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("getent group bind >/dev/null || groupadd --system bind; groupadd --system dnstap && useradd --system -g dnstap -d /srv/dnstap -s /bin/sh -c admin dnstap")
				before := c.sh("getent passwd dnstap; getent group dnstap bind")
				c.sh("dpkg -i /debs/dnstap-collector_" + pkgNew + "_amd64.deb")
				c.want("id -nG dnstap", "dnstap")
				c.want("getent passwd dnstap; getent group dnstap bind", before)
				c.want("cat /var/lib/dnstap-collector/created 2>/dev/null | wc -l", "0")
				c.sh("dpkg -P dnstap-collector")
				c.want("getent passwd dnstap; getent group dnstap bind", before)
				c.sh("userdel dnstap; groupdel bind; getent group dnstap && groupdel dnstap || true")
			})

			t.Run("group bind adopted by BIND is kept", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("dpkg -i /debs/dnstap-collector_" + pkgNew + "_amd64.deb")
				c.want("cat /var/lib/dnstap-collector/created", "user:dnstap\ngroup:dnstap\ngroup:bind")
				// What bind9's postinst does with an existing group bind.
				c.sh("useradd --system -g bind -d /var/cache/bind -s /usr/sbin/nologin bind")
				c.sh("dpkg -P dnstap-collector")
				c.want("getent passwd dnstap || getent group dnstap || echo gone", "gone")
				c.want("getent group bind | cut -d: -f1; id -gn bind", "bind\nbind")
			})
		})
	}
}

// namedImage is the systemd image of distro with Debian's bind9 (built with dnstap) and dig.
func namedImage(t *testing.T, distro string) string {
	t.Helper()
	base := pkgImage(t, distro)
	ref := base + "-named"
	dockerfile := "FROM " + base + "\n" +
		"RUN apt-get update && apt-get install -y bind9 bind9-dnsutils || apt-get install -y bind9 dnsutils; " +
		"rm -rf /var/lib/apt/lists/*\n"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var log bytes.Buffer
	if err := docker.RunStdin(ctx, strings.NewReader(dockerfile), &log, "build", "-t", ref, "-"); err != nil {
		t.Fatalf("build %s: %v\n%s", ref, err, log.String())
	}
	return ref
}

// namedDnstap is the options of the test's named: authoritative only, dnstap to the
// collector's socket, flushed every second.
const namedDnstap = `options {
	directory "/var/cache/bind";
	recursion no;
	listen-on { 127.0.0.1; };
	listen-on-v6 { none; };
	dnstap { client; auth; };
	dnstap-output unix "/var/cache/bind/dnstap.sock";
	dnstap-identity "pkgtest";
	fstrm-set-flush-timeout 1;
	fstrm-set-reopen-interval 1;
};
`

// TestPackagesSystemd boots systemd in a container with Debian's named, installs the
// collector and checks the whole chain: socket before named, activation on the first
// connection, frames in /var/log/dnstap, rotation on reload, and the same after a restart.
func TestPackagesSystemd(t *testing.T) {
	testenv.Docker(t)
	for _, distro := range []string{"debian:bookworm", "debian:bullseye"} {
		t.Run(distro, func(t *testing.T) {
			c := runPkgContainer(t, namedImage(t, distro), true)
			c.sh("dpkg -i /debs/dnstap-collector_" + pkgOld + "_amd64.deb /debs/dnstap-reader_" + pkgOld + "_amd64.deb")

			c.want("systemctl is-enabled dnstap-collector.socket; systemctl is-active dnstap-collector.socket", "enabled\nactive")
			c.want("stat -c '%F %a %U %G' /var/cache/bind/dnstap.sock", "socket 660 dnstap bind")
			// named's default config has no dnstap: nothing has connected yet.
			c.want("systemctl is-active dnstap-collector.service", "inactive")
			c.want("systemctl show -p After named.service | tr ' ' '\\n' | grep -c '^After=dnstap-collector.socket$\\|^dnstap-collector.socket$'", "1")
			c.want("systemctl show -p Wants named.service | grep -o dnstap-collector.socket", "dnstap-collector.socket")

			c.sh("cat > /etc/bind/named.conf.options <<'EOF'\n" + namedDnstap + "EOF\nnamed-checkconf && systemctl restart named")
			query := "for i in 1 2 3; do dig +short @127.0.0.1 localhost. A; done"
			c.sh(query)
			c.eventually("systemctl is-active dnstap-collector.service")
			c.want("stat -c %U /proc/$(systemctl show -p MainPID --value dnstap-collector.service)", "dnstap")
			// The socket works without dnstap in group bind, which could read rndc.key.
			c.want("id -nG dnstap", "dnstap")
			c.want("test -f /etc/bind/rndc.key && ! runuser -u dnstap -- cat /etc/bind/rndc.key 2>/dev/null && echo unreadable", "unreadable")
			part := c.eventually("f=$(ls /var/log/dnstap/*.fstrm.part) && [ -s \"$f\" ] && echo $f")

			t.Run("reload rotates", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("systemctl reload dnstap-collector.service")
				closed := strings.TrimSuffix(part, ".part")
				c.eventually("test -f " + closed + " && ! test -e " + part)
				out := c.sh("dnstap-reader " + closed)
				if !strings.Contains(out, "localhost/IN/A") {
					t.Errorf("dnstap-reader %s shows no query for localhost/IN/A:\n%s", closed, out)
				}
			})

			t.Run("restart keeps it working", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				ctx := context.Background()
				stop := 20 * time.Second
				if err := c.Stop(ctx, &stop); err != nil {
					t.Fatalf("stop: %v", err)
				}
				if err := c.Start(ctx); err != nil {
					t.Fatalf("start: %v", err)
				}
				c.waitBooted()
				// A clean shutdown closed every file: no .part is left behind.
				c.want("ls /var/log/dnstap/*.part 2>/dev/null | wc -l", "0")
				c.want("stat -c '%F %a %U %G' /var/cache/bind/dnstap.sock", "socket 660 dnstap bind")
				c.eventually("systemctl is-active named")
				before := c.sh("ls /var/log/dnstap | wc -l")
				c.sh(query)
				c.eventually("systemctl is-active dnstap-collector.service")
				c.eventually("ls /var/log/dnstap/*.fstrm.part")
				c.sh("systemctl reload dnstap-collector.service")
				c.eventually("[ $(ls /var/log/dnstap/*.fstrm | wc -l) -gt " + before + " ] && ! ls /var/log/dnstap/*.part")
				out := c.sh("dnstap-reader $(ls /var/log/dnstap/*.fstrm | tail -n1)")
				if !strings.Contains(out, "localhost/IN/A") {
					t.Errorf("the file written after the restart shows no query for localhost/IN/A:\n%s", out)
				}
			})

			t.Run("starting named starts the socket", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				c.sh("systemctl stop named dnstap-collector.socket dnstap-collector.service")
				c.want("systemctl is-active dnstap-collector.socket", "inactive")
				c.sh("systemctl start named")
				c.want("systemctl is-active dnstap-collector.socket", "active")
				c.sh(query)
				c.eventually("systemctl is-active dnstap-collector.service")
			})

			t.Run("an output it cannot write fails the start, naming ReadWritePaths=", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				// /srv/dnstap, made by root as an admin would: outside ReadWritePaths= and not
				// writable by dnstap. (Where systemd can make mount namespaces, the sandbox makes it
				// read-only too; in this container it cannot, and the unit runs without it.)
				c.sh("cp /etc/default/dnstap-collector /root/dnstap-collector.default && mkdir -p /srv/dnstap && " +
					"sed -i 's|^DNSTAP_WRITE=.*|DNSTAP_WRITE=/srv/dnstap/x-%Y%m%d.fstrm|' /etc/default/dnstap-collector && systemctl stop dnstap-collector.service")
				if code, out := c.exec("systemctl start dnstap-collector.service"); code == 0 {
					t.Errorf("the service started with an output it cannot write:\n%s", out)
				}
				c.eventually("journalctl --no-pager -u dnstap-collector.service | grep -F 'output directory /srv/dnstap is not writable' | grep -F 'ReadWritePaths='")
				c.want("ls -A /srv/dnstap | wc -l", "0")
				c.sh("cp /root/dnstap-collector.default /etc/default/dnstap-collector && systemctl stop dnstap-collector.service; " +
					"systemctl reset-failed dnstap-collector.service dnstap-collector.socket; systemctl restart dnstap-collector.socket")
				c.sh(query)
				c.eventually("systemctl is-active dnstap-collector.service")
			})

			t.Run("upgrade restarts, remove stops", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				pid := c.sh("systemctl show -p MainPID --value dnstap-collector.service")
				c.sh("dpkg -i /debs/dnstap-collector_" + pkgNew + "_amd64.deb")
				c.eventually("p=$(systemctl show -p MainPID --value dnstap-collector.service); [ \"$p\" != 0 ] && [ \"$p\" != " + pid + " ]")
				c.sh("dpkg -r dnstap-collector")
				c.want("systemctl is-active dnstap-collector.socket dnstap-collector.service", "inactive\ninactive")
				c.want("test -e /var/cache/bind/dnstap.sock || echo gone", "gone")
				c.want("ls /var/log/dnstap/*.part 2>/dev/null | wc -l", "0")
			})
		})
	}
}
