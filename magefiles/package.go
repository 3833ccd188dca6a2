//go:build mage

package main

import (
	"context"
	"os"

	"github.com/magefile/mage/mg"

	"github.com/dnstapkit/dnstapkit/internal/devtool"
	"github.com/dnstapkit/dnstapkit/packaging"
)

// Package builds the dnstap-collector and dnstap-reader .debs into dist/ (after Build).
// Uses VERSION, GOARCH and SOURCE_DATE_EPOCH (default: the commit time of HEAD).
func Package(ctx context.Context) error {
	mg.CtxDeps(ctx, Build)
	_, err := packaging.BuildAll(ctx, packaging.Options{Root: ".", BinDir: "dist", OutDir: "dist",
		Version: devtool.Version(), GOARCH: os.Getenv("GOARCH")})
	return err
}
