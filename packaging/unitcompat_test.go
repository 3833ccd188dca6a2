package packaging

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// bionicSystemd is the systemd of Ubuntu 18.04, the oldest system the units must start on.
const bionicSystemd = 237

// since is when systemd introduced a unit setting or a system call group, and the NEWS entry
// that shows it: Quote is a phrase of NEWS's "CHANGES WITH <News>" section (News is Since
// unless said otherwise). Since 0 means older than NEWS's first entry (38, 2012), the unit
// format of the first releases. IfIgnored, for what is newer than bionicSystemd, says why
// systemd 237 ignoring it (with "Unknown lvalue ..., ignoring") is harmless.
type since struct {
	Since     int
	News      int
	Quote     string
	IfIgnored string
}

// unitSettings is every setting the toolkit's unit files use, by name.
var unitSettings = map[string]since{
	// [Unit], [Install] and the basic [Service]/[Socket] settings: older than NEWS.
	"Description": {}, "Requires": {}, "Wants": {}, "After": {}, "Before": {}, "WantedBy": {},
	"Type": {}, "User": {}, "Group": {}, "ExecStart": {}, "ExecStop": {}, "ExecReload": {},
	"Restart": {}, "RestartSec": {}, "UMask": {}, "ListenStream": {}, "SocketMode": {},
	"DirectoryMode": {}, "Accept": {}, "PrivateNetwork": {}, "DevicePolicy": {}, "Also": {},

	"Documentation":         {Since: 183, Quote: "We introduced the Documentation= field for units"},
	"PrivateTmp":            {Since: 183, Quote: "PrivateTmp= now affects both /tmp and /var/tmp"},
	"CapabilityBoundingSet": {Since: 183, Quote: "system-wide CapabilityBoundingSet= option"},
	"SystemCallFilter":      {Since: 187, Quote: "A new setting SystemCallFilters= has been added to services"},
	"TimeoutStopSec":        {Since: 188, Quote: "TimeoutStartSec= and TimeoutStopSec= to allow configuration"},
	"EnvironmentFile":       {Since: 197, Quote: "The EnvironmentFile= setting in unit files now supports file"},
	"PrivateDevices":        {Since: 209, Quote: "A new PrivateDevices= switch has been added to service units"},
	"SystemCallErrorNumber": {Since: 209, Quote: "SystemCallErrorNumber= setting has been introduced"},
	"SystemCallArchitectures": {Since: 209,
		Quote: "Also, SystemCallArchitectures= has been added to"},
	"RestrictAddressFamilies": {Since: 211, Quote: "A new unit file setting RestrictAddressFamilies= has been"},
	"FileDescriptorStoreMax":  {Since: 219, Quote: "systemd now provides a way to store file descriptors"},
	"ProtectHome":             {Since: 214, Quote: "Two new service settings, ProtectHome= and ProtectSystem="},
	"ProtectSystem":           {Since: 214, Quote: "Two new service settings, ProtectHome= and ProtectSystem="},
	"SocketUser":              {Since: 214, Quote: "Socket units gained new SocketUser= and SocketGroup="},
	"SocketGroup":             {Since: 214, Quote: "Socket units gained new SocketUser= and SocketGroup="},
	"RemoveOnStop":            {Since: 214, Quote: "Socket units gained a new RemoveOnStop= setting"},
	// NEWS never announced it (it came with the system call filter, 187); 227 lists it as one
	// of the settings transient units take.
	"NoNewPrivileges":     {Since: 227, Quote: "NoNewPrivileges=, TTYPath=, WorkingDirectory= and"},
	"AmbientCapabilities": {Since: 229, Quote: "A new service setting AmbientCapabilities= has been added"},
	// NEWS spells the new name "InaccessablePaths=".
	"InaccessiblePaths":      {Since: 231, Quote: "InaccessablePaths=, ReadOnlyPaths= and ReadWritePaths= and may now be"},
	"ReadWritePaths":         {Since: 231, Quote: "InaccessablePaths=, ReadOnlyPaths= and ReadWritePaths= and may now be"},
	"MemoryDenyWriteExecute": {Since: 231, Quote: "A new service setting MemoryDenyWriteExecute= has been added"},
	"RestrictRealtime":       {Since: 231, Quote: "A new RestrictRealtime= service setting has been added"},
	"RemoveIPC":              {Since: 232, Quote: "The new RemoveIPC= option can be used to remove IPC objects"},
	"ProtectKernelModules":   {Since: 232, Quote: "The new ProtectKernelModules= option can be used"},
	"ProtectKernelTunables":  {Since: 232, Quote: "The new ProtectKernelTunables= option can be used"},
	"ProtectControlGroups":   {Since: 232, Quote: "The new ProtectControlGroups= option can be used"},
	"RestrictNamespaces":     {Since: 233, Quote: "A new unit file option RestrictNamespaces= has been added"},
	"IPAddressDeny":          {Since: 235, Quote: "IPAddressDeny=, taking a list of IPv4 or IPv6 addresses and masks"},
	"KeyringMode":            {Since: 235, Quote: "A new setting KeyringMode= has been added to unit files"},
	"LockPersonality":        {Since: 235, Quote: "A new unit file setting LockPersonality= has been added"},

	// Newer than 237: ignored there, each for a reason that leaves the unit working.
	"RestrictSUIDSGID": {Since: 242, Quote: "A new boolean sandboxing option RestrictSUIDSGID= has been added",
		IfIgnored: "NoNewPrivileges=yes still keeps set-user-ID files from granting anything; the collector creates only 0640 capture files (UMask=0027)"},
	"ProtectHostname": {Since: 242, Quote: "A new unit setting ProtectHostname= may be used",
		IfIgnored: "sethostname() and setdomainname() stay denied by SystemCallFilter=~@privileged and the empty CapabilityBoundingSet="},
	"ProtectKernelLogs": {Since: 244, Quote: "Service units gained a new sandboxing option ProtectKernelLogs=",
		IfIgnored: "without CAP_SYSLOG (empty CapabilityBoundingSet=) the kernel log stays unreadable; PrivateDevices=yes hides /dev/kmsg"},
	"ProtectClock": {Since: 245, Quote: "A new per-service sandboxing option ProtectClock= has been added",
		IfIgnored: "SystemCallFilter=~@clock denies setting the clock on 237 too, and CAP_SYS_TIME is not in the bounding set"},
	"ProtectProc": {Since: 247, Quote: "Two new unit file settings ProtectProc= and ProcSubset= have been",
		IfIgnored: "other processes stay visible in /proc (as for any 18.04 service); the user dnstap owns no other process"},
	"ProcSubset": {Since: 247, Quote: "Two new unit file settings ProtectProc= and ProcSubset= have been",
		IfIgnored: "/proc shows its non-process files, read-only under ProtectKernelTunables=yes"},
}

// settingValues are values of a setting that came later than the setting itself.
var settingValues = map[string]since{
	"ProtectSystem=strict": {Since: 232, Quote: `ProtectSystem= option gained a new value "strict"`},
	// The "-" prefix: ignore a path that does not exist.
	"InaccessiblePaths=-": {Since: 207, Quote: `paths that are optionally prefixed with "-" to indicate that`},
}

// syscallGroups is every system call group of SystemCallFilter= that systemd 252 knows. A
// group unknown to the running systemd is ignored ("Unknown system call group, ignoring"):
// in an allow list that leaves nearly nothing allowed (on 18.04, @system-service killed the
// collector at every start), in a deny list it silently allows the group. So no group may
// be newer than 237: IfIgnored is never accepted here. NEWS introduced the groups in 231
// without listing them; those NEWS does not name are marked 231 and were checked in the
// v237 src/shared/seccomp-util.c (Ubuntu's bionic tree).
var syscallGroups = map[string]since{
	"@default": {Since: 231}, "@basic-io": {Since: 231}, "@cpu-emulation": {Since: 231}, "@debug": {Since: 231},
	"@io-event": {Since: 231}, "@ipc": {Since: 231}, "@keyring": {Since: 231}, "@module": {Since: 231},
	"@mount": {Since: 231}, "@network-io": {Since: 231}, "@obsolete": {Since: 231}, "@privileged": {Since: 231},
	"@process": {Since: 231}, "@raw-io": {Since: 231}, "@resources": {Since: 231},
	"@clock":          {Since: 231, Quote: "SystemCallFilter=@clock is now an effective way to make all clock"},
	"@file-system":    {Since: 233, Quote: `A new system call filter group "@filesystem" has been added`},
	"@reboot":         {Since: 233, Quote: `Group "@reboot" has been added`},
	"@swap":           {Since: 233, Quote: `group "@swap" has been added covering swap`},
	"@aio":            {Since: 235, Quote: "New system call filter groups @aio, @sync, @chown, @setuid, @memlock,"},
	"@sync":           {Since: 235, Quote: "New system call filter groups @aio, @sync, @chown, @setuid, @memlock,"},
	"@chown":          {Since: 235, Quote: "New system call filter groups @aio, @sync, @chown, @setuid, @memlock,"},
	"@setuid":         {Since: 235, Quote: "New system call filter groups @aio, @sync, @chown, @setuid, @memlock,"},
	"@memlock":        {Since: 235, Quote: "New system call filter groups @aio, @sync, @chown, @setuid, @memlock,"},
	"@signal":         {Since: 235, Quote: "@signal and @timer have been added, for usage with SystemCallFilter="},
	"@timer":          {Since: 235, Quote: "@signal and @timer have been added, for usage with SystemCallFilter="},
	"@system-service": {Since: 239, News: 241, Quote: "The mincore() system call has been dropped from the @system-service"},
	"@pkey":           {Since: 244, Quote: "A new @pkey system call group is now defined"},
	"@known":          {Since: 247, Quote: `A new system call filter list "@known" has been added`},
}

// unitLine is one setting of a unit file.
type unitLine struct {
	file, section, key, value string
	line                      int
}

// parseUnit reads the settings of a unit file (comments and empty lines skipped).
func parseUnit(path string) ([]unitLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []unitLine
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || l[0] == '#' || l[0] == ';':
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				return nil, fmt.Errorf("%s:%d: not a setting: %q", path, n, l)
			}
			out = append(out, unitLine{file: path, section: section, key: strings.TrimSpace(k), value: strings.TrimSpace(v), line: n})
		}
	}
	return out, sc.Err()
}

// checkSystemd returns what in lines would not work on systemd version v: settings the
// table does not know, settings newer than v that are not harmless when ignored, system
// call groups unknown or newer than v. notes gets one line per setting v ignores.
func checkSystemd(lines []unitLine, v int) (problems, notes []string) {
	for _, l := range lines {
		at := fmt.Sprintf("%s:%d: %s=", filepath.Base(l.file), l.line, l.key)
		s, ok := unitSettings[l.key]
		if !ok {
			problems = append(problems, at+": not in the table of unitcompat_test.go: add it with the systemd version that introduced it (NEWS)")
			continue
		}
		if s.Since > v {
			if s.IfIgnored == "" {
				problems = append(problems, fmt.Sprintf("%s: systemd %d ignores it (introduced in %d) and nothing says that is harmless", at, v, s.Since))
			} else {
				notes = append(notes, fmt.Sprintf("%s (systemd %d) is ignored: %s", l.key, s.Since, s.IfIgnored))
			}
		}
		for val, vs := range settingValues {
			k, prefix, _ := strings.Cut(val, "=")
			if k == l.key && strings.HasPrefix(l.value, prefix) && vs.Since > v {
				problems = append(problems, fmt.Sprintf("%s%s: that value came with systemd %d", at, l.value, vs.Since))
			}
		}
		if l.key == "SystemCallFilter" {
			for _, item := range strings.Fields(strings.TrimPrefix(l.value, "~")) {
				item, _, _ = strings.Cut(item, ":") // name:errno (236)
				if !strings.HasPrefix(item, "@") {
					continue
				}
				g, ok := syscallGroups[item]
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("%s: system call group %s is not in the table", at, item))
				case g.Since > v:
					problems = append(problems, fmt.Sprintf("%s: system call group %s came with systemd %d; systemd %d ignores it, which changes what the filter allows",
						at, item, g.Since, v))
				}
			}
		}
	}
	return problems, notes
}

// shippedUnits lists the unit files the toolkit installs: every nfpm definition's contents
// under a systemd unit directory, and the bind9-dnstap package's named.service.
func shippedUnits(t *testing.T) []string {
	t.Helper()
	defs, err := filepath.Glob("*.yaml")
	if err != nil || len(defs) == 0 {
		t.Fatalf("no nfpm definitions in packaging/: %v", err)
	}
	seen := map[string]bool{}
	for _, def := range defs {
		// The ${...} of a definition name generated files, never a unit.
		cfg, err := nfpm.ParseFileWithEnvMapping(def, func(string) string { return "generated" })
		if err != nil {
			t.Fatalf("%s: %v", def, err)
		}
		for _, c := range cfg.Contents {
			if strings.HasPrefix(c.Destination, "/usr/lib/systemd/system/") || strings.HasPrefix(c.Destination, "/lib/systemd/system/") {
				seen[filepath.Join("..", c.Source)] = true
			}
		}
	}
	// bind/deb.go installs bind/named.service as /usr/lib/systemd/system/named.service.
	seen[filepath.Join("..", "bind", "named.service")] = true
	var units []string
	for u := range seen {
		units = append(units, u)
	}
	sort.Strings(units)
	return units
}

// TestUnitsSystemd237 checks every unit file the packages install against the table of
// when systemd introduced each setting and system call group: on Ubuntu 18.04's systemd
// 237 each must be known, or ignoring it must be harmless (and the table says why).
func TestUnitsSystemd237(t *testing.T) {
	units := shippedUnits(t)
	for _, want := range []string{"dnstap-collector.service", "dnstap-collector.socket", "dnstap-collector.conf", "named.service"} {
		found := false
		for _, u := range units {
			found = found || filepath.Base(u) == want
		}
		if !found {
			t.Errorf("%s is not among the shipped units %v", want, units)
		}
	}
	for _, u := range units {
		t.Run(filepath.Base(filepath.Dir(u))+"/"+filepath.Base(u), func(t *testing.T) {
			lines, err := parseUnit(u)
			if err != nil {
				t.Fatal(err)
			}
			problems, notes := checkSystemd(lines, bionicSystemd)
			for _, p := range problems {
				t.Error(p)
			}
			for _, n := range notes {
				t.Log(n)
			}
		})
	}
}

// TestCheckSystemd shows that the check fails for what broke the collector on 18.04, and
// for the other mistakes it is there to catch.
func TestCheckSystemd(t *testing.T) {
	tests := []struct {
		name, unit, want string // want: "" for no problem, else part of the one problem
	}{
		{"allow list of a group 237 lacks", "[Service]\nSystemCallFilter=@system-service\n", "@system-service came with systemd 239"},
		{"deny list of a group 237 lacks", "[Service]\nSystemCallFilter=~@pkey\n", "@pkey came with systemd 244"},
		{"group not in the table", "[Service]\nSystemCallFilter=~@sandbox\n", "@sandbox is not in the table"},
		{"groups of 237", "[Service]\nSystemCallFilter=~@clock @mount\n", ""},
		{"single system calls", "[Service]\nSystemCallFilter=~ptrace\n", ""},
		{"newer setting, harmless", "[Service]\nProtectClock=yes\n", ""},
		{"newer setting, not known to be harmless", "[Service]\nPrivateIPC=yes\n", "not in the table"},
		{"newer value", "[Service]\nProtectSystem=strict\n", ""},
		{"old setting", "[Unit]\nAfter=network.target\n", ""},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "x.service")
			if err := os.WriteFile(p, []byte(tt.unit), 0o644); err != nil {
				t.Fatal(err)
			}
			lines, err := parseUnit(p)
			if err != nil {
				t.Fatal(err)
			}
			problems, _ := checkSystemd(lines, bionicSystemd)
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("checkSystemd(%q) = %q, want no problem", tt.unit, problems)
			case tt.want != "" && (len(problems) != 1 || !strings.Contains(problems[0], tt.want)):
				t.Errorf("checkSystemd(%q) = %q, want one problem containing %q", tt.unit, problems, tt.want)
			}
		})
	}
	// ProtectSystem=strict on a systemd older than 232.
	lines := []unitLine{{file: "x.service", key: "ProtectSystem", value: "strict", line: 1}}
	if problems, _ := checkSystemd(lines, 231); len(problems) != 1 || !strings.Contains(problems[0], "came with systemd 232") {
		t.Errorf("ProtectSystem=strict on 231: %q", problems)
	}
}

// TestSystemdNewsCitations checks each quote of the tables against systemd's own NEWS (the
// systemd package installs it): the phrase must be in the section of the version the table
// names, so the versions are systemd's word, not ours.
func TestSystemdNewsCitations(t *testing.T) {
	const path = "/usr/share/doc/systemd/NEWS.gz"
	f, err := os.Open(path)
	if err != nil {
		testenv.Unavailable(t, "%s: %v (apt-get install systemd)", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sections := newsSections(string(b))
	if len(sections) < 50 {
		t.Fatalf("%s: only %d CHANGES WITH sections", path, len(sections))
	}
	check := func(kind, name string, s since) {
		if s.Quote == "" {
			return
		}
		v := s.News
		if v == 0 {
			v = s.Since
		}
		text, ok := sections[v]
		if !ok {
			t.Errorf("%s %s: NEWS has no CHANGES WITH %d", kind, name, v)
		} else if !strings.Contains(text, strings.Join(strings.Fields(s.Quote), " ")) {
			t.Errorf("%s %s: CHANGES WITH %d of NEWS does not say %q", kind, name, v, s.Quote)
		}
	}
	for name, s := range unitSettings {
		check("setting", name, s)
	}
	for name, s := range settingValues {
		check("value", name, s)
	}
	for name, s := range syscallGroups {
		check("group", name, s)
	}
}

var newsHeading = regexp.MustCompile(`(?m)^CHANGES WITH (\d+)`)

// newsSections splits systemd's NEWS by "CHANGES WITH <version>" heading, with the
// whitespace of each section collapsed to single spaces.
func newsSections(news string) map[int]string {
	out := map[int]string{}
	idx := newsHeading.FindAllStringSubmatchIndex(news, -1)
	for i, m := range idx {
		end := len(news)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		v, _ := strconv.Atoi(news[m[2]:m[3]])
		out[v] = strings.Join(strings.Fields(news[m[0]:end]), " ")
	}
	return out
}
