//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/dnstapkit/dnstapkit/bind"
)

// ciBINDVersions are the BIND series the suite builds and tests when BIND_VERSION is not
// set: 9.14 with the classic configure line (the routers' BIND), 9.18 (Debian 12's), 9.20.
var ciBINDVersions = []string{"9.14", "9.18", "9.20"}

// bindTarget is one BIND build the suite tests: a release on a distro.
type bindTarget struct {
	Version bind.Version
	Distro  string
}

// bindTargets returns the builds to test: BIND_VERSION (a series, a release, or a comma
// list of them; default ciBINDVersions), each on DISTRO or, when it is not set, on the
// distro the version table gives it.
func bindTargets() ([]bindTarget, error) {
	names := ciBINDVersions
	if v := os.Getenv("BIND_VERSION"); v != "" {
		names = strings.Split(v, ",")
	}
	var out []bindTarget
	for _, n := range names {
		v, err := bind.Lookup(n)
		if err != nil {
			return nil, err
		}
		d := os.Getenv("DISTRO")
		if d == "" {
			d = v.Distro
		}
		out = append(out, bindTarget{Version: v, Distro: d})
	}
	return out, nil
}

// bindBuildResult is what a bind.Build of a target gave, with its progress lines.
type bindBuildResult struct {
	res *bind.Result
	log string
	err error
}

// bindBuilds holds one build per target and test binary (a func() bindBuildResult made by
// sync.OnceValue): the background build that TestMain starts and the tests share it.
var bindBuilds sync.Map

// bindBuild builds tg (cached by its inputs in bind.DefaultCacheDir, so a later run on the
// same machine only packages), once per test binary, and returns the result and the
// build's progress lines. Sources: BIND_SOURCES (default ../shared/bind-src beside the
// checkout), or BIND_TARBALL when only one version is tested.
func bindBuild(tg bindTarget) (*bind.Result, string, error) {
	key := tg.Version.Release + "@" + tg.Distro
	f, _ := bindBuilds.LoadOrStore(key, sync.OnceValue(func() bindBuildResult {
		var log bytes.Buffer
		o := bind.BuildOptions{Version: tg.Version.Release, Distro: tg.Distro, DistDir: "../dist", Progress: &log,
			Sources: bindEnv("BIND_SOURCES", bind.DefaultSourcesDir(".."))}
		if targets, err := bindTargets(); err == nil && len(targets) == 1 {
			o.Tarball = os.Getenv("BIND_TARBALL")
		}
		res, err := bind.Build(context.Background(), o)
		return bindBuildResult{res: res, log: log.String(), err: err}
	}))
	r := f.(func() bindBuildResult)()
	return r.res, r.log, r.err
}

// bindSerial runs the tests that use the built BIND (TestBind, TestChain) one at a time.
// They are parallel tests, so Go starts them after every sequential test has run: by then
// the background build has had the time of those tests to compile.
var bindSerial sync.Mutex

// runsBIND reports whether the -run pattern selects a test that needs a BIND build.
func runsBIND(pattern string) bool {
	if pattern == "" {
		return true
	}
	top, _, _ := strings.Cut(pattern, "/")
	re, err := regexp.Compile(top)
	if err != nil {
		return false
	}
	return re.MatchString("TestBind") || re.MatchString("TestChain") || re.MatchString("TestDnstapReadGoldens") ||
		re.MatchString("TestLoadContainer") || re.MatchString("TestAptRepository") || re.MatchString("TestUpgrade")
}

// prebuildBIND builds every target, one after the other, in the background.
func prebuildBIND() {
	targets, err := bindTargets()
	if err != nil {
		return // the tests report it
	}
	go func() {
		for _, tg := range targets {
			bindBuild(tg)
		}
	}()
}
