package packaging

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dnstapkit/dnstapkit/bind"
	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// RepoSuites sorts the packages of debs into one suite per distro, named by its code name
// (debian:bookworm: bookworm; ubuntu:18.04: bionic). dnstap-collector and dnstap-reader are
// static programs that run on every distro: each of their versions goes into every suite.
// Each bind9-dnstap goes into the suite of the distro it was built for (its revision says
// which, bind.DebDistro), which is added when distros lacks it. Any other package is an
// error: the repository publishes what this project builds.
func RepoSuites(debs []*aptrepo.Deb, distros []string) ([]aptrepo.Suite, error) {
	var common []*aptrepo.Deb
	bindOf := map[string][]*aptrepo.Deb{}
	for _, d := range debs {
		switch name := d.Name(); {
		case slices.Contains(Names, name):
			common = append(common, d)
		case name == bind.PackageName:
			distro, ok := bind.DebDistro(d.Version())
			if !ok {
				return nil, fmt.Errorf("repo suites: %s: version %s names no known distro (%s)", filepath.Base(d.Path),
					d.Version(), strings.Join(baseimage.Known(), ", "))
			}
			bindOf[distro] = append(bindOf[distro], d)
			if !slices.Contains(distros, distro) {
				distros = append(distros, distro)
			}
		default:
			return nil, fmt.Errorf("repo suites: %s: package %s is not one this project builds (%s, %s)", filepath.Base(d.Path),
				name, strings.Join(Names, ", "), bind.PackageName)
		}
	}
	if len(common) == 0 {
		return nil, fmt.Errorf("repo suites: no %s package", strings.Join(Names, " or "))
	}
	var suites []aptrepo.Suite
	seen := map[string]bool{}
	for _, name := range distros {
		d, err := baseimage.ParseDistro(name)
		if err != nil {
			return nil, fmt.Errorf("repo suites: %w", err)
		}
		if seen[d.Suite] {
			continue
		}
		seen[d.Suite] = true
		suites = append(suites, aptrepo.Suite{
			Codename:    d.Suite,
			Description: "dnstapkit packages for " + d.String(),
			Debs:        append(append([]*aptrepo.Deb(nil), common...), bindOf[d.String()]...),
		})
	}
	sort.Slice(suites, func(i, j int) bool { return suites[i].Codename < suites[j].Codename })
	return suites, nil
}

// RepoOptions says what BuildRepo publishes.
type RepoOptions struct {
	DistDir string       // where the .debs are (dist/): every *.deb there is published
	Dir     string       // the repository root, replaced as a whole (dist/repo)
	Distros []string     // a suite for each ("debian:bookworm"); nil means baseimage.Known()
	Key     *aptrepo.Key // signs the Release files
	Date    time.Time    // the Release date; zero means now
}

// BuildRepo reads every .deb in o.DistDir, sorts them into suites (RepoSuites) and writes
// the signed repository to o.Dir. It returns the suites.
func BuildRepo(o RepoOptions) ([]aptrepo.Suite, error) {
	paths, err := filepath.Glob(filepath.Join(o.DistDir, "*.deb"))
	if err != nil {
		return nil, fmt.Errorf("build repo: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("build repo: no .deb in %s (go tool mage package makes them)", o.DistDir)
	}
	var debs []*aptrepo.Deb
	for _, p := range paths {
		d, err := aptrepo.ReadDeb(p)
		if err != nil {
			return nil, fmt.Errorf("build repo: %w", err)
		}
		debs = append(debs, d)
	}
	distros := o.Distros
	if distros == nil {
		distros = baseimage.Known()
	}
	suites, err := RepoSuites(debs, distros)
	if err != nil {
		return nil, err
	}
	if err := aptrepo.Build(aptrepo.Options{Dir: o.Dir, Suites: suites, Key: o.Key, Date: o.Date}); err != nil {
		return nil, err
	}
	return suites, nil
}

// RouterLines returns the shell lines that point a router at the repository at url (its
// root, where KeyringName is) and install the packages: the key, the sources line for the
// router's own release (VERSION_CODENAME of /etc/os-release: bionic on Ubuntu 18.04), then
// apt-get.
func RouterLines(url string) string {
	url = strings.TrimRight(url, "/")
	keyring := "/usr/share/keyrings/" + aptrepo.KeyringName
	return fmt.Sprintf("install -m 0644 %s %s    # the public key, copied from the build host (or %s/%s: check its fingerprint)\n"+
		"echo \"deb [signed-by=%s] %s $(. /etc/os-release; echo $VERSION_CODENAME) main\" > /etc/apt/sources.list.d/dnstapkit.list\n"+
		"apt-get update && apt-get install dnstap-collector dnstap-reader bind9-dnstap\n",
		aptrepo.KeyringName, keyring, url, aptrepo.KeyringName, keyring, url)
}
