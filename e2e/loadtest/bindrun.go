package loadtest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// namedRunner starts named for one round: the host's binary (NAMED), or the toolkit's own
// bind9-dnstap in a container (LOAD_BIND).
type namedRunner struct {
	version  string // BIND's version for the table: BindVersion of `named -v`, plus where it runs
	zoneType string // "primary", or "master" for BIND before 9.16, which knows no other word
	start    func(ctx context.Context, dir, cpus string) (*proc, error)
}

// namedRunner picks the host's named, or with c.Bind set, the container of that BIND series.
func (c Config) namedRunner(ctx context.Context) (namedRunner, error) {
	if c.Bind != "" {
		return c.containerRunner(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.Named, "-v").CombinedOutput()
	if err != nil {
		return namedRunner{}, fmt.Errorf("%s -v: %w: %s", c.Named, err, strings.TrimSpace(string(out)))
	}
	v := BindVersion(string(out))
	return namedRunner{version: v, zoneType: zoneType(v),
		start: func(_ context.Context, dir, cpus string) (*proc, error) {
			return start("named", filepath.Join(dir, "named.stderr"), cpus,
				c.Named, "-f", "-4", "-c", filepath.Join(dir, "named.conf"))
		}}, nil
}

// BindVersion reads the version out of `named -v` ("BIND 9.18.49-1~deb12u3-Debian (Extended
// Support Version) <id:>" gives "9.18.49-1~deb12u3-Debian"); "unknown" when there is none.
func BindVersion(namedV string) string {
	for l := range strings.SplitSeq(namedV, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "BIND "); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0]
			}
		}
	}
	return "unknown"
}

// zoneType is the zone type word BIND of version v knows: "primary" from 9.16 on, "master"
// before.
func zoneType(v string) string {
	f := strings.SplitN(v, ".", 3)
	if len(f) >= 2 {
		major, err1 := strconv.Atoi(f[0])
		minor, err2 := strconv.Atoi(f[1])
		if err1 == nil && err2 == nil && (major < 9 || major == 9 && minor < 16) {
			return "master"
		}
	}
	return "primary"
}
