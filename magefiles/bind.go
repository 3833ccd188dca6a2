//go:build mage

package main

import (
	"context"
	"os"

	"github.com/dnstapkit/dnstapkit/bind"
)

// Build compiles BIND from source with dnstap in a container and packages it as
// dist/bind9-dnstap_<version>-<distro>_<arch>.deb. Uses BIND_VERSION (default 9.18),
// DISTRO (default debian:bookworm) and BIND_TARBALL (a local source tarball).
func (Bind) Build(ctx context.Context) error {
	_, err := bind.Build(ctx, bind.BuildOptions{Version: os.Getenv("BIND_VERSION"), Distro: os.Getenv("DISTRO"),
		Tarball: os.Getenv("BIND_TARBALL"), Progress: os.Stdout})
	return err
}
