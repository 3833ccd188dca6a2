//go:build mage

package main

import (
	"context"
	"os"

	"github.com/dnstapkit/dnstapkit/bind"
)

// Build compiles BIND from source with dnstap in a container and packages it as
// dist/bind9-dnstap_<version>-<distro>_<arch>.deb. Uses BIND_VERSION (default 9.18),
// DISTRO (default debian:bookworm), BIND_SOURCES (a directory of source tarballs listed
// in bind/versions.go; default ../shared/bind-src when it exists) and BIND_TARBALL (one
// local source tarball). Builds are cached by their inputs under ~/.cache/dnstapkit/bind.
func (Bind) Build(ctx context.Context) error {
	_, err := bind.Build(ctx, bindOptions())
	return err
}

// bindOptions reads the BIND knobs of the environment.
func bindOptions() bind.BuildOptions {
	return bind.BuildOptions{Version: os.Getenv("BIND_VERSION"), Distro: os.Getenv("DISTRO"),
		Tarball: os.Getenv("BIND_TARBALL"), Sources: imageEnv("BIND_SOURCES", bind.DefaultSourcesDir(".")),
		Progress: os.Stdout}
}
