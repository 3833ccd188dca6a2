//go:build mage

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
)

// Base makes the base image of DISTRO (default debian:bookworm; also debian:bullseye,
// debian:trixie, ubuntu:18.04 with UBUNTU_MIRROR): docker pull, else debootstrap from the
// host's apt mirror. SYSTEMD=true also makes the -systemd image.
func (Image) Base(ctx context.Context) error {
	opts := []baseimage.Option{baseimage.WithLog(os.Stdout)}
	if v := os.Getenv("SYSTEMD"); v == "true" || v == "1" {
		opts = append(opts, baseimage.WithSystemd())
	}
	ref, err := baseimage.Ensure(ctx, imageEnv("DISTRO", "debian:bookworm"), opts...)
	fmt.Println(ref)
	return err
}

func imageEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
