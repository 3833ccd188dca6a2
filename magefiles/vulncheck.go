//go:build mage

package main

import (
	"context"
	"fmt"

	"github.com/magefile/mage/mg"

	"github.com/dnstapkit/dnstapkit/internal/devtool"
)

// Vulndb groups the targets of the pinned Go vulnerability database.
type Vulndb mg.Namespace

// Vulncheck builds the binaries into dist/ and scans them (govulncheck -mode binary) and the
// module's source, tests, magefiles and tools against the golang.org/x/vulndb version pinned
// in internal/devtool, offline. Fails when a shipped binary holds vulnerable code; what only
// the tooling reaches is a warning.
func Vulncheck(ctx context.Context) error {
	mg.CtxDeps(ctx, Build)
	return devtool.Vulncheck(ctx, distBuild())
}

// Update pins the newest golang.org/x/vulndb in internal/devtool/vulndb.go.
func (Vulndb) Update(ctx context.Context) error {
	old, cur, err := devtool.UpdateVulnDB(ctx, "internal/devtool/vulndb.go")
	if err == nil {
		fmt.Printf("vulndb: %s -> %s\n", old, cur)
	}
	return err
}
