//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/certs"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestPackagesFleetUnits boots systemd with Debian's named and the dnstap-collector package,
// and runs a fleet of one on one machine with the packaged units, as an operator would: the
// central collector from dnstap-collector-central.service and its shipped settings (with
// certificates from internal/certs), the router's collector from the socket-activated unit
// with the DNSTAP_FORWARD settings of /etc/default/dnstap-collector and the forward.conf
// drop-in from the examples. Queries to named reach the central files under the router's
// certificate name, through the hardened units; reload keeps them working.
func TestPackagesFleetUnits(t *testing.T) {
	testenv.Docker(t)
	c := runPkgContainer(t, namedImage(t, "debian:bookworm"), true)
	c.sh("dpkg -i /debs/dnstap-collector_" + pkgNew + "_amd64.deb /debs/dnstap-reader_" + pkgNew + "_amd64.deb")
	c.want("systemctl is-enabled dnstap-collector-central.service", "disabled")

	pki, err := certs.Generate(certs.Options{Dir: filepath.Join(t.TempDir(), "pki"), Central: []string{"localhost", "127.0.0.1"}, Routers: []string{"router1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.sh("mkdir -p /etc/dnstap-collector/tls")
	for name, host := range map[string]string{"ca.pem": pki.CA, "central.pem": pki.CentralCert, "central-key.pem": pki.CentralKey,
		"router.pem": pki.Routers["router1"][0], "router-key.pem": pki.Routers["router1"][1]} {
		b, err := os.ReadFile(host)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CopyToContainer(ctx, b, "/etc/dnstap-collector/tls/"+name, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	c.sh("chown root:dnstap /etc/dnstap-collector/tls/*")

	// The centre, with the settings as shipped (they name the files above).
	c.sh("systemctl enable --now dnstap-collector-central.service")
	c.eventually("systemctl is-active dnstap-collector-central.service")
	c.eventually("journalctl -u dnstap-collector-central.service | grep -q 'msg=listening'")

	// The router: the forwarding settings of its defaults file, and the drop-in.
	c.sh(`sed -i -e 's|^#DNSTAP_FORWARD=.*|DNSTAP_FORWARD=fstrm+tls://localhost:6000|' -e 's|^#\(DNSTAP_FORWARD_[A-Z]*=\)|\1|' /etc/default/dnstap-collector
mkdir -p /etc/systemd/system/dnstap-collector.service.d
sed 's|^IPAddressAllow=192.0.2.10$|IPAddressAllow=127.0.0.1|' /usr/share/doc/dnstap-collector/examples/forward.conf > /etc/systemd/system/dnstap-collector.service.d/forward.conf
systemctl daemon-reload`)
	c.sh("cat > /etc/bind/named.conf.options <<'EOF'\n" + strings.Replace(namedDnstap, `"pkgtest"`, `"router1"`, 1) + "EOF\nnamed-checkconf && systemctl restart named")
	query := "for i in $(seq 1 50); do dig +short @127.0.0.1 localhost. A >/dev/null; done"
	c.sh(query)
	c.eventually("systemctl is-active dnstap-collector.service")

	// 50 queries, 100 messages: all of them in the router's spool and at the centre.
	count := func(glob string) string {
		return "n=$(dnstap-reader " + glob + " 2>/dev/null | wc -l); echo $n; [ $n -ge 100 ]"
	}
	c.eventually(count("/var/log/dnstap/dnstap-*"))
	got := c.eventually(count("/var/log/dnstap/router1/*"))
	t.Logf("%s messages at the centre from router1", got)
	c.want("journalctl -u dnstap-collector.service | grep -c 'send failed' || true", "0")

	t.Run("reload and stop", func(t *testing.T) {
		c := &pkgContainer{c.DockerContainer, t}
		c.sh("systemctl reload dnstap-collector-central.service")
		c.eventually("journalctl -u dnstap-collector-central.service | grep -q 'TLS certificate and client CA reloaded'")
		c.sh(query)
		c.eventually(count("/var/log/dnstap/router1/*") + " && [ $n -ge 200 ]")
		c.sh("systemctl stop named dnstap-collector.service dnstap-collector-central.service")
		c.want("systemctl is-active dnstap-collector-central.service", "inactive")
		if st := c.sh("cat /var/log/dnstap/.dnstap-forward.state"); !strings.Contains(st, `"clean": true`) {
			t.Errorf("the router's forwarder did not stop cleanly:\n%s", st)
		}
	})
}
