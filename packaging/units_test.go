package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestServiceExposure rates the service units with systemd-analyze security --offline=yes:
// the router's collector must rate 2.0 or less (a plain fstrm_capture unit rates 9.6), the
// central collector, which needs the network, 2.5 or less.
func TestServiceExposure(t *testing.T) {
	sa := testenv.LookPath(t, "systemd-analyze", "systemd")
	for _, tc := range []struct {
		unit string
		max  float64
	}{{"dnstap-collector.service", 2.0}, {"dnstap-collector-central.service", 2.5}} {
		unit, err := filepath.Abs("../systemd/" + tc.unit)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sa, "security", "--offline=yes", "--no-pager", unit).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze security %s: %v\n%s", tc.unit, err, out)
		}
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(tc.unit) + `: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no exposure level in:\n%s", out)
		}
		score, err := strconv.ParseFloat(string(m[1]), 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: exposure %.1f", tc.unit, score)
		if score > tc.max {
			t.Errorf("%s: exposure %.1f, want <= %.1f:\n%s", tc.unit, score, tc.max, out)
		}
	}
}

// unitValues returns the values of key in a unit file.
func unitValues(t *testing.T, path, key string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vals []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.TrimSpace(k) == key {
			vals = append(vals, strings.TrimSpace(v))
		}
	}
	return vals
}

// TestSocketUnit pins what named depends on: one path, group bind, mode 0660.
func TestSocketUnit(t *testing.T) {
	const unit = "../systemd/dnstap-collector.socket"
	for key, want := range map[string]string{
		"ListenStream": "/var/cache/bind/dnstap.sock",
		"SocketGroup":  "bind",
		"SocketMode":   "0660",
		"RemoveOnStop": "yes",
	} {
		if got := unitValues(t, unit, key); len(got) != 1 || got[0] != want {
			t.Errorf("%s=%v, want %s", key, got, want)
		}
	}
}

// TestSocketPathAppArmor checks the socket path against the AppArmor profile of named that
// Debian's bind9 package installs (/etc/apparmor.d/usr.sbin.named): named may connect to a
// unix socket only where the profile grants write access. /run/named/dnstap.sock is not such
// a place, which is why the socket lives in /var/cache/bind.
func TestSocketPathAppArmor(t *testing.T) {
	const profile = "/etc/apparmor.d/usr.sbin.named"
	data, err := os.ReadFile(profile)
	if err != nil {
		testenv.Unavailable(t, "%s: %v (apt-get install bind9)", profile, err)
	}
	rules := parseAppArmorFileRules(string(data))
	if len(rules) == 0 {
		t.Fatalf("no file rules found in %s", profile)
	}
	sock := unitValues(t, "../systemd/dnstap-collector.socket", "ListenStream")
	tests := []struct {
		path string
		want bool
	}{
		{sock[0], true},
		{"/run/named/dnstap.sock", false},
		{"/run/named/named.pid", true}, // the matcher itself works
	}
	for _, tt := range tests {
		if got := appArmorAllowsWrite(rules, tt.path); got != tt.want {
			t.Errorf("named may write %s: %v, want %v", tt.path, got, tt.want)
		}
	}
}

type appArmorRule struct {
	re    *regexp.Regexp
	perms string
}

// parseAppArmorFileRules reads the "path perms," lines of a profile.
func parseAppArmorFileRules(profile string) []appArmorRule {
	var rules []appArmorRule
	line := regexp.MustCompile(`^\s*(?:owner\s+)?(/\S+)\s+([rwlkmix]+),\s*$`)
	for _, l := range strings.Split(profile, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			rules = append(rules, appArmorRule{re: appArmorGlob(m[1]), perms: m[2]})
		}
	}
	return rules
}

// appArmorGlob turns an AppArmor path glob into a regexp: ** crosses "/", * and ? do not,
// {a,b} is an alternation; variables like @{PROC} match one or more path elements.
func appArmorGlob(g string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; {
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case strings.HasPrefix(g[i:], "@{"):
			end := strings.IndexByte(g[i:], '}')
			b.WriteString("[^ ]+")
			i += end
		case c == '{':
			b.WriteString("(?:")
		case c == '}':
			b.WriteString(")")
		case c == ',':
			b.WriteString("|")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func appArmorAllowsWrite(rules []appArmorRule, path string) bool {
	for _, r := range rules {
		if strings.Contains(r.perms, "w") && r.re.MatchString(path) {
			return true
		}
	}
	return false
}
