package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set by the build (-ldflags "-X main.version=... -X main.commit=..."); when empty, the
// version and VCS revision come from what the go command stamps into every binary.
var version, commit string

// versionString returns "VERSION (revision REVISION[, TIME, modified], GOVERSION)": the
// -ldflags values when set, otherwise the module version and the VCS revision, time and
// modified flag from debug.ReadBuildInfo (present even in a plain `go build` of a git
// checkout), and the Go release that built the binary.
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(bi, version, commit, runtime.Version())
}

// versionFrom formats the version from the -ldflags values v and rev, falling back on bi
// (nil when the binary carries none), and the Go release goVersion.
func versionFrom(bi *debug.BuildInfo, v, rev, goVersion string) string {
	stamped := rev != ""
	var when string
	modified := false
	if bi != nil {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	details := []string{"revision unknown"}
	if rev != "" {
		details[0] = "revision " + rev
	}
	if when != "" && !stamped {
		details = append(details, when)
	}
	if modified && !stamped {
		details = append(details, "modified")
	}
	return v + " (" + strings.Join(append(details, goVersion), ", ") + ")"
}
