package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

func fakeDeb(name, version string) *aptrepo.Deb {
	return &aptrepo.Deb{Path: "dist/" + name + "_" + version + "_amd64.deb",
		Control: aptrepo.Paragraph{{Name: "Package", Value: name}, {Name: "Version", Value: version}, {Name: "Architecture", Value: "amd64"}}}
}

// TestRepoSuites checks where each package goes: the toolkit's programs into every suite,
// each bind9-dnstap into its distro's only, several versions side by side.
func TestRepoSuites(t *testing.T) {
	bw := bind.DebRevision("debian:bookworm")
	bu := bind.DebRevision("debian:bullseye")
	debs := []*aptrepo.Deb{
		fakeDeb("dnstap-collector", "1.0.0"), fakeDeb("dnstap-collector", "1.0.1"), fakeDeb("dnstap-reader", "1.0.1"),
		fakeDeb("bind9-dnstap", "9.18.49-"+bw), fakeDeb("bind9-dnstap", "9.14.12-"+bu), fakeDeb("bind9-dnstap", "9.16.50-"+bu),
		fakeDeb("bind9-dnstap", "9.18.49-"+bind.DebRevision("ubuntu:18.04")),
	}
	for _, tc := range []struct {
		name    string
		distros []string
		want    string // suite: packages; ...
	}{
		{"every distro", []string{"debian:bullseye", "debian:bookworm", "debian:trixie", "ubuntu:18.04"},
			"bionic: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.18.49-1~ubuntu1804; " +
				"bookworm: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.18.49-1~debianbookworm; " +
				"bullseye: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.14.12-1~debianbullseye bind9-dnstap=9.16.50-1~debianbullseye; " +
				"trixie: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1"},
		{"a distro of a bind9-dnstap is added", []string{"debian:trixie"},
			"bionic: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.18.49-1~ubuntu1804; " +
				"bookworm: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.18.49-1~debianbookworm; " +
				"bullseye: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.14.12-1~debianbullseye bind9-dnstap=9.16.50-1~debianbullseye; " +
				"trixie: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1"},
		{"ubuntu:bionic and ubuntu:18.04 are one suite", []string{"ubuntu:bionic", "ubuntu:18.04"},
			"bionic: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.18.49-1~ubuntu1804; " +
				"bookworm: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.18.49-1~debianbookworm; " +
				"bullseye: dnstap-collector=1.0.0 dnstap-collector=1.0.1 dnstap-reader=1.0.1 bind9-dnstap=9.14.12-1~debianbullseye bind9-dnstap=9.16.50-1~debianbullseye"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			suites, err := RepoSuites(debs, tc.distros)
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, s := range suites {
				var pkgs []string
				for _, d := range s.Debs {
					pkgs = append(pkgs, d.Name()+"="+d.Version())
				}
				parts = append(parts, s.Codename+": "+strings.Join(pkgs, " "))
			}
			if got := strings.Join(parts, "; "); got != tc.want {
				t.Errorf("RepoSuites(%v) =\n%s\nwant\n%s", tc.distros, got, tc.want)
			}
		})
	}
}

func TestRepoSuitesRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		debs    []*aptrepo.Deb
		distros []string
		want    string
	}{
		{"foreign package", []*aptrepo.Deb{fakeDeb("dnstap-reader", "1"), fakeDeb("nginx", "1.0")}, nil, "not one this project builds"},
		{"bind9-dnstap of no known distro", []*aptrepo.Deb{fakeDeb("dnstap-reader", "1"), fakeDeb("bind9-dnstap", "9.18.49-1")}, nil, "names no known distro"},
		{"no toolkit package", []*aptrepo.Deb{fakeDeb("bind9-dnstap", "9.18.49-"+bind.DebRevision("debian:bookworm"))}, nil, "no dnstap-collector or dnstap-reader"},
		{"unknown distro", []*aptrepo.Deb{fakeDeb("dnstap-reader", "1")}, []string{"debian:sid"}, "unknown distro"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RepoSuites(tc.debs, tc.distros); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RepoSuites: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestRouterLines pins the lines a router runs: the README shows them.
func TestRouterLines(t *testing.T) {
	got := RouterLines("http://repo.example.net/dnstapkit/")
	for _, want := range []string{
		`echo "deb [signed-by=/usr/share/keyrings/dnstapkit-archive-keyring.gpg] http://repo.example.net/dnstapkit $(. /etc/os-release; echo $VERSION_CODENAME) main" > /etc/apt/sources.list.d/dnstapkit.list`,
		"apt-get update && apt-get install dnstap-collector dnstap-reader bind9-dnstap",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("RouterLines lacks the line\n%s\ngot:\n%s", want, got)
		}
	}
}

// TestBuildRepo runs what `go tool mage repo` runs on a dist/ of real packages (two versions
// of the collector, the reader, and files that are not .debs), and checks the suites and
// that gpgv accepts each InRelease with the repository's key file.
func TestBuildRepo(t *testing.T) {
	gpgv := testenv.LookPath(t, "gpgv", "gpgv")
	dist := t.TempDir()
	for _, d := range []string{
		buildVersion(t, "dnstap-collector", "1.0.0", testTime),
		buildVersion(t, "dnstap-collector", "1.0.1", testTime),
		buildVersion(t, "dnstap-reader", "1.0.1", testTime),
	} {
		data, err := os.ReadFile(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dist, filepath.Base(d)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dist, "dnstap-collector"), []byte("a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	key, err := aptrepo.GenerateKey("test", "test@example.org")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dist, "repo")
	suites, err := BuildRepo(RepoOptions{DistDir: dist, Dir: root, Distros: []string{"debian:bookworm", "ubuntu:18.04"}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != 2 || suites[0].Codename != "bionic" || suites[1].Codename != "bookworm" {
		t.Fatalf("suites %v, want bionic and bookworm", suites)
	}
	for _, s := range suites {
		if len(s.Debs) != 3 {
			t.Errorf("suite %s holds %d packages, want 3", s.Codename, len(s.Debs))
		}
		out, err := exec.Command(gpgv, "--keyring", filepath.Join(root, aptrepo.KeyringName), filepath.Join(root, "dists", s.Codename, "InRelease")).CombinedOutput()
		if err != nil {
			t.Errorf("gpgv %s/InRelease: %v\n%s", s.Codename, err, out)
		}
	}
	// A second run replaces the repository (the .debs in the pool are found again).
	if _, err := BuildRepo(RepoOptions{DistDir: dist, Dir: root, Distros: []string{"debian:bookworm"}, Key: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "dists", "bionic")); !os.IsNotExist(err) {
		t.Errorf("the second run left dists/bionic of the first (%v)", err)
	}
	if _, err := BuildRepo(RepoOptions{DistDir: t.TempDir(), Dir: root, Key: key}); err == nil || !strings.Contains(err.Error(), "no .deb") {
		t.Errorf("BuildRepo of an empty dist: %v, want a no .deb error", err)
	}
}
