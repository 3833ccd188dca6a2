package baseimage

import (
	"fmt"
	"sort"
	"strings"
)

// Distro is a target distribution release, such as debian:bookworm or ubuntu:18.04.
type Distro struct {
	Name    string // "debian" or "ubuntu"
	Release string // as written after the colon: "bookworm", "18.04"
	Suite   string // the apt suite (code name): "bookworm", "bionic"
}

// known maps each supported distro to its apt suite.
var known = map[string]Distro{
	"debian:bullseye": {"debian", "bullseye", "bullseye"},
	"debian:bookworm": {"debian", "bookworm", "bookworm"},
	"debian:trixie":   {"debian", "trixie", "trixie"},
	"ubuntu:18.04":    {"ubuntu", "18.04", "bionic"},
	"ubuntu:bionic":   {"ubuntu", "18.04", "bionic"},
}

// Known returns the supported distro names, sorted.
func Known() []string {
	var names []string
	for n, d := range known {
		if n == d.String() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// ParseDistro parses "debian:bookworm", "debian:12"-style names are not accepted: use the
// code name for Debian and the number for Ubuntu.
func ParseDistro(s string) (Distro, error) {
	d, ok := known[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return Distro{}, fmt.Errorf("unknown distro %q: known are %s", s, strings.Join(Known(), ", "))
	}
	return d, nil
}

// String returns the name as a registry image would be called: "debian:bookworm".
func (d Distro) String() string { return d.Name + ":" + d.Release }

// Tag returns the image tag of the distro: "debian-bookworm", "ubuntu-18.04".
func (d Distro) Tag() string { return d.Name + "-" + d.Release }

// components returns the archive components an image needs.
func (d Distro) components() []string {
	if d.Name == "ubuntu" {
		return []string{"main", "universe"}
	}
	return []string{"main"}
}
