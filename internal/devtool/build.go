package devtool

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Binaries are the programs under cmd/ that Build compiles.
var Binaries = []string{"dnstap-collector", "dnstap-reader"}

// BuildOptions says what Build compiles and where.
type BuildOptions struct {
	GOARCH string // target architecture; "" means the host's
	OutDir string // directory the binaries are written to, created if missing
	// Symbols keeps the symbol table (no -s -w), which govulncheck needs to see which
	// functions a binary holds; the binaries that ship are stripped.
	Symbols bool
}

// Build compiles every program in Binaries with Toolchain as a static (CGO_ENABLED=0),
// trimmed and stripped binary with the version and commit from git stamped into
// main.version and main.commit.
func Build(ctx context.Context, o BuildOptions) error {
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	ldflags := fmt.Sprintf("-X main.version=%s -X main.commit=%s", Version(), Commit())
	if !o.Symbols {
		ldflags = "-s -w " + ldflags
	}
	for _, name := range Binaries {
		pkg := "./cmd/" + name
		if _, err := os.Stat(pkg); err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
		env := []string{"CGO_ENABLED=0"}
		if o.GOARCH != "" {
			env = append(env, "GOOS=linux", "GOARCH="+o.GOARCH)
		}
		if err := runGo(ctx, env, "build", "-trimpath", "-ldflags", ldflags,
			"-o", filepath.Join(o.OutDir, name), pkg); err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
	}
	return nil
}

// Version is VERSION from the environment, else `git describe --tags --dirty` with the
// leading "v" dropped (e.g. 1.2.0-3-gabc1234), else "0.0.0~git<hash>" when no tag exists
// (Debian versions must start with a digit and sort below the first release), else
// "0.0.0~dev" outside a git checkout.
var Version = sync.OnceValue(func() string {
	if v := os.Getenv("VERSION"); v != "" {
		return v
	}
	if out, err := exec.Command("git", "describe", "--tags", "--dirty").Output(); err == nil {
		if v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v"); v != "" && v[0] >= '0' && v[0] <= '9' {
			return v
		}
	}
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "0.0.0~dev"
	}
	return "0.0.0~git" + strings.TrimSpace(string(out))
})

// Commit is the full hash of HEAD, or "unknown" outside a git checkout.
var Commit = sync.OnceValue(func() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
})
