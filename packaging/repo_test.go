package packaging

import (
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/bind"
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
