package packaging

import (
	"bufio"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/devtool"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// What Ubuntu 18.04 (bionic) has, which the packages must not outgrow.
const (
	bionicDpkg = "1.19.0.5" // dpkg: reads control.tar.{gz,xz} and data.tar.{gz,xz,bz2}; zstd only from 1.21.18
	bionicISH  = "1.51"     // init-system-helpers: deb-systemd-helper, deb-systemd-invoke
)

// debMember is a member of the .deb ar archive that bionic's dpkg reads.
var debMember = regexp.MustCompile(`^(debian-binary|control\.tar\.(gz|xz)|data\.tar\.(gz|xz))$`)

// checkDebMembers fails t unless the .deb at path has exactly debian-binary, a control
// and a data member, in that order, each in a format dpkg 1.19 reads (no zstd).
func checkDebMembers(t *testing.T, path string) {
	t.Helper()
	ar := testenv.LookPath(t, "ar", "binutils")
	out, err := exec.Command(ar, "t", path).Output()
	if err != nil {
		t.Fatalf("ar t %s: %v", path, err)
	}
	members := strings.Fields(string(out))
	if len(members) != 3 || members[0] != "debian-binary" || !strings.HasPrefix(members[1], "control.") ||
		!strings.HasPrefix(members[2], "data.") {
		t.Errorf("%s: members %v, want debian-binary, control.tar.*, data.tar.*", filepath.Base(path), members)
	}
	for _, m := range members {
		if !debMember.MatchString(m) {
			t.Errorf("%s: member %s: dpkg %s of Ubuntu 18.04 cannot read it", filepath.Base(path), m, bionicDpkg)
		}
	}
}

// TestDebsForUbuntu1804 builds the binaries as `go tool mage package` does (devtool.Build),
// packages them, and checks each .deb against what Ubuntu 18.04's dpkg 1.19 and apt 1.6
// handle: the ar members and their compression, the binaries static (no ELF interpreter,
// no shared library needed: glibc 2.27 never matters), Depends only on packages bionic has.
func TestDebsForUbuntu1804(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the programs")
	}
	dpkgDeb := testenv.LookPath(t, "dpkg-deb", "dpkg")
	bin := t.TempDir()
	t.Chdir("..")
	if err := devtool.Build(context.Background(), devtool.BuildOptions{OutDir: bin}); err != nil {
		t.Fatal(err)
	}
	debs, err := BuildAll(context.Background(), Options{Root: ".", BinDir: bin, OutDir: t.TempDir(), Version: "1.2.3", Time: testTime})
	if err != nil {
		t.Fatal(err)
	}
	// Depends a bionic system can satisfy (its systemd is 237).
	bionicHas := map[string]bool{"systemd": true}
	for i, deb := range debs {
		name := Names[i]
		t.Run(name, func(t *testing.T) {
			checkDebMembers(t, deb)
			out, err := exec.Command(dpkgDeb, "--field", deb, "Depends").Output()
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range strings.Split(strings.TrimSpace(string(out)), ",") {
				if d = strings.TrimSpace(d); d != "" && !bionicHas[strings.Fields(d)[0]] {
					t.Errorf("Depends %q: not known to be in Ubuntu 18.04", d)
				}
			}
			dir := t.TempDir()
			if out, err := exec.Command(dpkgDeb, "-x", deb, dir).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
			}
			f, err := elf.Open(filepath.Join(dir, "usr/bin", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("/usr/bin/%s has an ELF interpreter: it is not static", name)
				}
			}
			if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
				t.Errorf("/usr/bin/%s needs shared libraries %v (%v): it is not static", name, libs, err)
			}
		})
	}
}

// scriptCall is a command the maintainer scripts may run on Ubuntu 18.04, with the verbs
// and options bionic's version of it knows.
type scriptCall struct {
	verbs []string // the first word after the command (and its options), "" when it takes none
	since string   // where bionic's version has them
}

// bionicCalls is what the maintainer scripts may call, checked against bionic's versions:
// init-system-helpers 1.51, systemd 237, adduser 3.116, passwd 4.5.
var bionicCalls = map[string]scriptCall{
	// init-system-helpers' changelog: "deb-systemd-helper: implement was-enabled,
	// debian-installed, update-state" (1.8), "d-s-h: add “purge” verb" (1.18).
	"deb-systemd-helper": {verbs: []string{"enable", "disable", "was-enabled", "update-state", "purge", "mask", "unmask", "debian-installed"},
		since: "init-system-helpers 1.8 and 1.18"},
	// "add deb-systemd-invoke, a wrapper which respects (basic) policy-rc.d" (1.3).
	"deb-systemd-invoke": {verbs: []string{"start", "stop", "restart"}, since: "init-system-helpers 1.3"},
	// systemd 237's systemctl.
	"systemctl": {verbs: []string{"daemon-reload", "enable", "disable", "start", "stop", "restart", "is-active", "is-enabled"},
		since: "systemd 237"},
	// systemd-sysusers (215) and systemd-tmpfiles take config names and --root, --create in 237.
	"systemd-sysusers": {verbs: []string{""}, since: "systemd 215"},
	"systemd-tmpfiles": {verbs: []string{"--create"}, since: "systemd 237"},
	"adduser":          {verbs: []string{""}, since: "adduser 3.116"},
	"addgroup":         {verbs: []string{""}, since: "adduser 3.116"},
	"userdel":          {verbs: []string{""}, since: "passwd 4.5"},
	"groupdel":         {verbs: []string{""}, since: "passwd 4.5"},
}

// TestMaintainerScriptsBionic reads every maintainer script the toolkit's packages carry
// (packaging/scripts and bind/debian) and checks each call of the tools above uses a verb
// their Ubuntu 18.04 versions know. The scripts' own fallback for bionic's
// deb-systemd-helper, which looks for units in /lib/systemd/system only, is checked too.
func TestMaintainerScriptsBionic(t *testing.T) {
	scripts, _ := filepath.Glob("scripts/*")
	more, _ := filepath.Glob("../bind/debian/post*")
	more2, _ := filepath.Glob("../bind/debian/pre*")
	scripts = append(append(scripts, more...), more2...)
	if len(scripts) < 5 {
		t.Fatalf("found only %v", scripts)
	}
	call := regexp.MustCompile(`(?:^|[\s;&|(!])(` + strings.Join(mapKeys(bionicCalls), "|") + `)((?:\s+(?:-[-\w]+(?:=\S+)?|\$\{[^}]*\}))*)\s*(\S*)`)
	for _, s := range scripts {
		f, err := os.Open(s)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, m := range call.FindAllStringSubmatch(line, -1) {
				c := bionicCalls[m[1]]
				verb := m[3]
				// "command -v deb-systemd-helper >/dev/null" calls nothing.
				if c.verbs[0] == "" || strings.HasPrefix(verb, "$") || strings.HasPrefix(verb, ">") || strings.Contains(line, "command -v "+m[1]) {
					continue
				}
				if verb == "" && strings.Contains(m[2], "--create") {
					verb = "--create"
				}
				ok := false
				for _, v := range c.verbs {
					ok = ok || v == verb || strings.Contains(m[2], v)
				}
				if !ok {
					t.Errorf("%s:%d: %s %s: not known to %s (Ubuntu 18.04)", s, n, m[1], verb, c.since)
				}
			}
		}
		f.Close()
	}
	post, err := os.ReadFile("scripts/collector-postinst")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(post), "ln -s /usr/lib/systemd/system/dnstap-collector.socket") {
		t.Errorf("collector-postinst lacks the link it makes where deb-systemd-helper %s (Ubuntu 18.04) looks in /lib/systemd/system only", bionicISH)
	}
}

func mapKeys(m map[string]scriptCall) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, regexp.QuoteMeta(k))
	}
	return keys
}
