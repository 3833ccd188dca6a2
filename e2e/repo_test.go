//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/e2e/internal/chain"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// repoKeys are the repository's key and another one, made once per test binary.
var repoKeys = sync.OnceValues(func() ([2]*aptrepo.Key, error) {
	var ks [2]*aptrepo.Key
	for i, name := range []string{"dnstapkit e2e repository", "dnstapkit e2e impostor"} {
		k, err := aptrepo.GenerateKey(name, "e2e@example.org")
		if err != nil {
			return ks, err
		}
		ks[i] = k
	}
	return ks, nil
})

// repoDebs returns the .debs a repository of distros holds: the toolkit's packages in the
// given versions (built by debsOnce) and bind9-dnstap of every BIND target built for one
// of distros (bindTargets; compiled once, then cached).
func repoDebs(t *testing.T, distros []string, versions ...string) []*aptrepo.Deb {
	t.Helper()
	built, err := debsOnce()
	if err != nil {
		t.Fatalf("build packages: %v", err)
	}
	var paths []string
	for _, v := range versions {
		for _, name := range packaging.Names {
			paths = append(paths, built[name+"_"+v])
		}
	}
	targets, err := bindTargets()
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if !slices.Contains(distros, tg.Distro) {
			continue
		}
		res, log, err := bindBuild(tg)
		if err != nil {
			t.Fatalf("build BIND %s for %s: %v\n%s", tg.Version.Release, tg.Distro, err, tail(log, 40))
		}
		paths = append(paths, res.Deb)
	}
	var debs []*aptrepo.Deb
	for _, p := range paths {
		d, err := aptrepo.ReadDeb(p)
		if err != nil {
			t.Fatal(err)
		}
		debs = append(debs, d)
	}
	return debs
}

// buildRepo writes the repository of debs for distros to dir, signed by key, as `go tool
// mage repo` does (packaging.RepoSuites, then aptrepo.Build).
func buildRepo(t *testing.T, dir string, key *aptrepo.Key, debs []*aptrepo.Deb, distros []string) {
	t.Helper()
	suites, err := packaging.RepoSuites(debs, distros)
	if err != nil {
		t.Fatal(err)
	}
	if err := aptrepo.Build(aptrepo.Options{Dir: dir, Suites: suites, Key: key}); err != nil {
		t.Fatal(err)
	}
}

// serveRepos serves each directory of roots under /<name>/ on every address of the host,
// and returns the port. Containers on the default bridge reach it at their gateway.
func serveRepos(t *testing.T, roots map[string]string) int {
	t.Helper()
	mux := http.NewServeMux()
	for name, dir := range roots {
		mux.Handle("/"+name+"/", http.StripPrefix("/"+name, http.FileServer(http.Dir(dir))))
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return ln.Addr().(*net.TCPAddr).Port
}

// gateway returns the address of the container's default gateway (the Docker host on the
// bridge), read from /proc/net/route: no tool needed in a minimal image.
func (c *pkgContainer) gateway() string {
	c.t.Helper()
	out := c.sh("cat /proc/net/route")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "00000000" {
			b, err := hex.DecodeString(f[2])
			if err != nil || len(b) != 4 {
				break
			}
			ip := make(net.IP, 4)
			binary.LittleEndian.PutUint32(ip, binary.BigEndian.Uint32(b))
			return ip.String()
		}
	}
	c.t.Fatalf("no default route in the container:\n%s", out)
	return ""
}

// addRepo does what README tells a router to do: copies the public key in and runs
// packaging.RouterLines for the repository at url, up to the apt-get update (the installs
// are the test's). Every apt-get after it says yes by itself.
func (c *pkgContainer) addRepo(key *aptrepo.Key, url string) {
	c.t.Helper()
	pub, err := key.PublicKeyring()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.CopyToContainer(context.Background(), pub, "/root/"+aptrepo.KeyringName, 0o644); err != nil {
		c.t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(packaging.RouterLines(url)), "\n")
	// One line each, as a router's admin pastes them (the first ends in a comment).
	c.sh("set -e\necho 'APT::Get::Assume-Yes \"true\";' > /etc/apt/apt.conf.d/90e2e\ncd /root\n" + lines[0] + "\n" + lines[1])
	c.want("ls /usr/share/keyrings/"+aptrepo.KeyringName+" && grep -c '^deb \\[signed-by=' /etc/apt/sources.list.d/dnstapkit.list",
		"/usr/share/keyrings/"+aptrepo.KeyringName+"\n1")
	c.sh("apt-get update 2>&1")
}

// tamper rewrites the Packages files of suite in the repository at dir as an attacker on the
// path would: dnstap-reader's 1.0.1 stanza offered as 9.9.9, Packages.gz made to match, the
// signed Release left as it was.
func tamper(t *testing.T, dir, suite string) {
	t.Helper()
	p := filepath.Join(dir, "dists", suite, "main/binary-amd64/Packages")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(data, []byte("Package: dnstap-reader\nVersion: "+pkgNew+"\n"), []byte("Package: dnstap-reader\nVersion: 9.9.9\n"), 1)
	if bytes.Equal(bad, data) {
		t.Fatalf("no dnstap-reader %s stanza to tamper with in %s", pkgNew, p)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bad)
	zw.Close()
	for name, b := range map[string][]byte{"Packages": bad, "Packages.gz": gz.Bytes()} {
		f := filepath.Join(filepath.Dir(p), name)
		os.Remove(f) // the pool and indexes may be hard links shared with the good repository
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// repoDistros are the distros whose containers TestAptRepository boots: the Debian releases
// this machine has a mirror for. (Ubuntu 18.04 is checked statically: packaging/aptrepo.)
var repoDistros = []string{"debian:bullseye", "debian:bookworm", "debian:trixie"}

// TestAptRepository publishes the toolkit's packages and the bind9-dnstap builds as a signed
// repository served over HTTP by the test, and on each distro boots systemd in a container,
// adds the repository with the lines README gives, installs the three packages with apt-get
// (Debian's own bind9 where no bind9-dnstap was built for the distro) and checks the chain:
// named's queries land in the collector's files. On bookworm, a repository whose Packages
// was changed on the way and one signed by another key are refused by apt.
func TestAptRepository(t *testing.T) {
	testenv.Docker(t)
	ks, err := repoKeys()
	if err != nil {
		t.Fatal(err)
	}
	key, impostor := ks[0], ks[1]
	debs := repoDebs(t, repoDistros, pkgOld, pkgNew)
	root := t.TempDir()
	good, other, tampered := filepath.Join(root, "good"), filepath.Join(root, "other"), filepath.Join(root, "tampered")
	buildRepo(t, good, key, debs, repoDistros)
	buildRepo(t, other, impostor, debs, repoDistros)
	buildRepo(t, tampered, key, debs, repoDistros)
	tamper(t, tampered, "bookworm")
	port := serveRepos(t, map[string]string{"good": good, "other": other, "tampered": tampered})

	for _, distro := range repoDistros {
		t.Run(distro, func(t *testing.T) {
			t.Parallel() // a container each; the repositories and their server are only read
			var bindVersions []string
			for _, d := range debs {
				if d.Name() == "bind9-dnstap" {
					if dd, _ := bind.DebDistro(d.Version()); dd == distro {
						bindVersions = append(bindVersions, d.Version())
					}
				}
			}
			c := runPkgContainer(t, pkgImage(t, distro), true)
			base := fmt.Sprintf("http://%s:%d", c.gateway(), port)
			c.addRepo(key, base+"/good")

			// Each version built for the distro is there, side by side, and no other distro's.
			madison := c.sh("apt-cache madison bind9-dnstap | awk '{print $3}' | sort")
			if want := strings.Join(slices.Sorted(slices.Values(bindVersions)), "\n"); madison != want {
				t.Errorf("bind9-dnstap versions in the %s suite:\n%s\nwant\n%s", distro, madison, want)
			}
			c.want("apt-cache madison dnstap-collector | awk '{print $3}' | sort", pkgOld+"\n"+pkgNew)

			if len(bindVersions) > 0 {
				c.sh("apt-get install dnstap-collector dnstap-reader bind9-dnstap 2>&1")
				newest := slices.Max(bindVersions) // these versions sort as strings as dpkg sorts them
				c.want("dpkg-query -W -f '${Version}' bind9-dnstap", newest)
				c.want("apt-cache policy | grep -c 'release o=dnstapkit,a="+strings.TrimPrefix(distro, "debian:")+",n="+strings.TrimPrefix(distro, "debian:")+",l=dnstapkit,c=main,b=amd64'", "1") // the suite, as apt read its Release
			} else {
				// No bind9-dnstap for this distro here: Debian's bind9, with dnstap turned on.
				c.sh("apt-get install dnstap-collector dnstap-reader bind9 bind9-dnsutils 2>&1")
				c.sh("cat > /etc/bind/named.conf.options <<'EOF'\n" + namedDnstap + "EOF\nnamed-checkconf && systemctl restart named")
			}
			c.want("dpkg-query -W -f '${Version}' dnstap-collector dnstap-reader", pkgNew+pkgNew)
			c.eventually("systemctl is-active named")
			c.want("systemctl is-active dnstap-collector.socket", "active")
			c.sh("for i in 1 2 3; do dig +short @127.0.0.1 localhost. A; done") // bind9-dnstap's dig is in /usr/local/bin
			c.eventually("systemctl is-active dnstap-collector.service")
			part := c.eventually("f=$(ls /var/log/dnstap/*.fstrm.part) && [ -s \"$f\" ] && echo $f")
			c.sh("systemctl reload dnstap-collector.service")
			closed := strings.TrimSuffix(part, ".part")
			c.eventually("test -f " + closed)
			if out := c.sh("dnstap-reader " + closed); !strings.Contains(out, "localhost/IN/A") {
				t.Errorf("dnstap-reader %s shows no query for localhost/IN/A:\n%s", closed, out)
			}

			if distro != "debian:bookworm" {
				return
			}
			// A repository apt must refuse, alone in its own sources list, and what it must say.
			refused := func(t *testing.T, name, url string, why ...string) {
				c := &pkgContainer{c.DockerContainer, t}
				only := "-o Dir::Etc::SourceList=/root/" + name + ".list -o Dir::Etc::SourceParts=/root/no-parts"
				c.sh("mkdir -p /root/no-parts && echo 'deb [signed-by=/usr/share/keyrings/" + aptrepo.KeyringName + "] " + url +
					" bookworm main' > /root/" + name + ".list")
				code, out := c.exec("apt-get " + only + " update 2>&1")
				if code == 0 {
					t.Errorf("apt-get update accepted the %s repository:\n%s", name, out)
				}
				found := false
				for _, w := range why {
					found = found || strings.Contains(out, w)
				}
				if !found {
					t.Errorf("apt-get update on the %s repository does not say %q:\n%s", name, why, out)
				}
				// Nothing of it reached apt's cache: no version of dnstap-reader from there.
				c.want("apt-cache "+only+" madison dnstap-reader | wc -l", "0")
			}
			t.Run("the good repository alone", func(t *testing.T) {
				c := &pkgContainer{c.DockerContainer, t}
				only := "-o Dir::Etc::SourceList=/root/good.list -o Dir::Etc::SourceParts=/root/no-parts"
				c.sh("mkdir -p /root/no-parts && cp /etc/apt/sources.list.d/dnstapkit.list /root/good.list")
				c.sh("apt-get " + only + " update 2>&1")
				c.want("apt-cache "+only+" madison dnstap-reader | awk '{print $3}' | sort", pkgOld+"\n"+pkgNew)
			})
			t.Run("tampered Packages", func(t *testing.T) {
				refused(t, "tampered", base+"/tampered", "Hash Sum mismatch", "unexpected size")
			})
			t.Run("signed by another key", func(t *testing.T) {
				refused(t, "other", base+"/other", "NO_PUBKEY", "not signed")
			})
			c.want("dpkg-query -W -f '${Version}' dnstap-reader", pkgNew)
		})
	}
}

// upgradeTraffic is how long dnsperf sends queries around each package change, and at what
// rate: enough that named writes to the collector throughout the restart.
const (
	upgradeTraffic = 25 * time.Second
	upgradeQPS     = 300
)

// TestUpgrade installs version N-1 of the collector and the reader (and the oldest
// bind9-dnstap built for the distro) from the repository, on bookworm and bullseye under
// systemd, then, each while dnsperf sends queries to named, upgrades to version N with
// apt-get (the repository republished with both) and downgrades back to N-1. After each,
// every frame named counted as sent (DNSTAPsuccess on its statistics channel) must be in the
// collector's files, counted with dnstap-reader; the socket must be the same one systemd held
// before; the old collector must have handed named's connection over (systemd's file
// descriptor store) and closed its file, and the new one taken the connection and written the
// next file. A control restart without the handover must show a loss. Last, bind9-dnstap is
// upgraded to the newer series beside it (9.18 to 9.20 on bookworm): named runs the new one
// with the operator's named.conf kept.
func TestUpgrade(t *testing.T) {
	testenv.Docker(t)
	for _, distro := range []string{"debian:bookworm", "debian:bullseye"} { // systemd 252 and 247
		t.Run(distro, func(t *testing.T) {
			t.Parallel() // a container, a repository and a server each: nothing shared but the builds
			testUpgrade(t, distro)
		})
	}
}

func testUpgrade(t *testing.T, distro string) {
	dnsperf := testenv.LookPath(t, "dnsperf", "dnsperf")
	ctx := context.Background()
	ks, err := repoKeys()
	if err != nil {
		t.Fatal(err)
	}
	key := ks[0]
	all := repoDebs(t, []string{distro}, pkgOld, pkgNew)
	var old []*aptrepo.Deb
	var bindVersions []string
	for _, d := range all {
		if d.Version() != pkgNew {
			old = append(old, d)
		}
		if d.Name() == "bind9-dnstap" {
			bindVersions = append(bindVersions, d.Version())
		}
	}
	slices.Sort(bindVersions)
	if len(bindVersions) == 0 {
		t.Skipf("no bind9-dnstap built for %s (BIND_VERSION)", distro)
	}
	firstBind := bindVersions[0]
	repo := filepath.Join(t.TempDir(), "repo")
	buildRepo(t, repo, key, old, []string{distro})
	port := serveRepos(t, map[string]string{"repo": repo})

	c := runPkgContainer(t, pkgImage(t, distro), true)
	c.addRepo(key, fmt.Sprintf("http://%s:%d/repo", c.gateway(), port))
	c.sh("apt-get install dnstap-collector=" + pkgOld + " dnstap-reader=" + pkgOld + " bind9-dnstap=" + firstBind + " 2>&1")
	// The operator's change to a conffile: named's statistics channel, for its dnstap counters.
	c.sh(`sed -i 's|^options {|statistics-channels { inet 0.0.0.0 port 8053 allow { any; }; };\n\noptions {|' /etc/bind/named.conf && named-checkconf`)
	ip, err := c.ContainerIP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sockInode := c.sh("stat -c %i /var/cache/bind/dnstap.sock")
	sockSince := c.sh("systemctl show -p ActiveEnterTimestampMonotonic --value dnstap-collector.socket")

	for _, step := range []struct {
		name, cmd, want    string
		republish, control bool
	}{
		{"upgrade to " + pkgNew, "apt-get update 2>&1 && apt-get install dnstap-collector dnstap-reader 2>&1", pkgNew, true, false},
		{"downgrade to " + pkgOld, "apt-get install --allow-downgrades dnstap-collector=" + pkgOld + " dnstap-reader=" + pkgOld + " 2>&1", pkgOld, false, false},
		// The control: the same restart by a unit without --systemd-fdstore. named loses what
		// it sends while it reconnects, and the count must see it, or it proves nothing above.
		{"restart without the handover (control)", "systemctl restart dnstap-collector.service", pkgOld, false, true},
	} {
		t.Run(step.name, func(t *testing.T) {
			c := &pkgContainer{c.DockerContainer, t}
			if step.republish {
				buildRepo(t, repo, key, all, []string{distro}) // what `go tool mage repo` does with N in dist/
			}
			if step.control {
				c.sh("mkdir -p /etc/systemd/system/dnstap-collector.service.d && printf '[Service]\\nExecStart=\\nExecStart=/usr/bin/dnstap-collector --systemd-socket $DNSTAP_OPTIONS\\n' " +
					"> /etc/systemd/system/dnstap-collector.service.d/no-fdstore.conf && systemctl daemon-reload")
				defer c.sh("rm -r /etc/systemd/system/dnstap-collector.service.d && systemctl daemon-reload")
			}
			// A clean start: named's counters and the capture directory both from zero.
			c.sh("systemctl stop named && systemctl stop dnstap-collector.service && rm -f /var/log/dnstap/* && systemctl start named")
			c.eventually("dig +short @127.0.0.1 localhost. A && systemctl is-active dnstap-collector.service")
			pid := c.sh("systemctl show -p MainPID --value dnstap-collector.service")
			since := c.sh("date '+%Y-%m-%d %H:%M:%S'")

			perf, report := dnsperfRun(t, dnsperf, ip, "localhost", strings.Fields(step.name)[0], upgradeQPS, upgradeTraffic)
			started := time.Now()
			time.Sleep(upgradeTraffic / 3) // named is writing to the collector
			c.sh(step.cmd)
			if took := time.Since(started); took > upgradeTraffic-2*time.Second {
				t.Errorf("the package change ended %v after the traffic began, too close to its end (%v): not proven under traffic", took.Round(time.Second), upgradeTraffic)
			}
			if err := perf.Wait(); err != nil {
				t.Errorf("dnsperf: %v\n%s", err, report)
			}
			t.Logf("dnsperf: %s", dnsperfSummary(report.String()))
			c.want("dpkg-query -W -f '${Version} ' dnstap-collector dnstap-reader", step.want+" "+step.want)
			if p := c.sh("systemctl show -p MainPID --value dnstap-collector.service"); p == pid || p == "0" {
				t.Errorf("the collector's pid is %s, before the change %s: it was not restarted", p, pid)
			}
			// systemd held the socket all along: the same one, never restarted.
			c.want("stat -c %i /var/cache/bind/dnstap.sock", sockInode)
			c.want("systemctl show -p ActiveEnterTimestampMonotonic --value dnstap-collector.socket", sockSince)
			journal := c.sh("journalctl --no-pager -o cat -u dnstap-collector.service --since '" + since + "'")
			for _, want := range []string{"connection handed over to the next collector", "handed over by the previous collector"} {
				if strings.Contains(journal, want) == step.control {
					t.Errorf("the collectors' journal: %q there: %v, want %v:\n%s", want, step.control, !step.control, tail(journal, 30))
				}
			}

			// named flushes its queue within a second (fstrm-set-flush-timeout 1); its counters
			// are read, then it stops (STOP, FINISH), then the collector, which closes its file.
			time.Sleep(3 * time.Second)
			success, dropped, err := chain.DnstapStatsAt(ctx, ip)
			if err != nil {
				t.Fatal(err)
			}
			c.sh("systemctl stop named && systemctl stop dnstap-collector.service")
			c.want("ls /var/log/dnstap/*.part 2>/dev/null | wc -l", "0")
			frames, _ := strconv.ParseUint(c.sh("for f in /var/log/dnstap/*.fstrm; do dnstap-reader \"$f\"; done | wc -l"), 10, 64)
			files, _ := strconv.Atoi(c.sh("ls /var/log/dnstap | grep -c '\\.fstrm$'"))
			t.Logf("named: DNSTAPsuccess %d, DNSTAPdropped %d; the files: %d frames in %d files", success, dropped, frames, files)
			switch lost := int64(success) - int64(frames); {
			case success == 0:
				t.Errorf("named counted no dnstap frame")
			case step.control && lost <= 0:
				t.Errorf("without the handover the files hold %d frames of named's %d: the count cannot see a restart's loss", frames, success)
			case step.control:
				t.Logf("without the handover: %d frames lost across the restart (named reconnects after fstrm-set-reopen-interval)", lost)
			case lost != 0:
				t.Errorf("the files hold %d frames, named sent %d: %d lost across the %s", frames, success, lost, step.name)
			}
			// The collector the change stopped closed its file; the one it started wrote the next.
			if files < 2 {
				t.Errorf("%d capture files: want the old collector's and the new one's", files)
			}
		})
	}
	c.sh("systemctl start named")

	t.Run("bind9-dnstap upgrade keeps named.conf", func(t *testing.T) {
		c := &pkgContainer{c.DockerContainer, t}
		if len(bindVersions) < 2 {
			t.Skipf("one bind9-dnstap for %s (%s): nothing to upgrade to", distro, firstBind)
		}
		newest := bindVersions[len(bindVersions)-1]
		pid := c.sh("systemctl show -p MainPID --value named")
		c.sh("apt-get install bind9-dnstap 2>&1")
		c.want("dpkg-query -W -f '${Version}' bind9-dnstap", newest)
		c.want("grep -c '^statistics-channels' /etc/bind/named.conf", "1")
		c.want("ls /etc/bind/named.conf.dpkg-* 2>/dev/null | wc -l", "0")
		c.eventually("p=$(systemctl show -p MainPID --value named); [ \"$p\" != 0 ] && [ \"$p\" != " + pid + " ]")
		upstream, _, _ := strings.Cut(newest, "-")
		c.eventually("named -v | grep -F " + upstream)
		c.sh("systemctl stop dnstap-collector.service && rm -f /var/log/dnstap/*")
		c.eventually("dig +short @127.0.0.1 localhost. A && systemctl is-active dnstap-collector.service")
		part := c.eventually("f=$(ls /var/log/dnstap/*.fstrm.part) && [ -s \"$f\" ] && echo $f")
		c.sh("systemctl reload dnstap-collector.service")
		closed := strings.TrimSuffix(part, ".part")
		c.eventually("test -f " + closed)
		if out := c.sh("dnstap-reader " + closed); !strings.Contains(out, "localhost/IN/A") {
			t.Errorf("after the upgrade to %s, dnstap-reader %s shows no query for localhost/IN/A:\n%s", newest, closed, out)
		}
	})
}

// dnsperfSummary picks the lines of a dnsperf report that say what was sent and answered.
func dnsperfSummary(report string) string {
	var out []string
	for _, line := range strings.Split(report, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "Queries sent") || strings.HasPrefix(l, "Queries completed") ||
			strings.HasPrefix(l, "Queries lost") || strings.HasPrefix(l, "Queries per second") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}
