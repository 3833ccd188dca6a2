//go:build mage

package main

import (
	"context"
	"os"
	"strings"

	"github.com/dnstapkit/dnstapkit/internal/certs"
)

// Certs makes a test CA, a server certificate for the central collector and a client
// certificate per router (CN = its name), in PEM, for trying the fleet out (docs/fleet.md);
// not for production. Knobs: CERTS_DIR (default dist/certs), CENTRAL (the central collector's
// DNS names and addresses, comma-separated; default central), ROUTERS (default
// router1,router2,router3).
func Certs(ctx context.Context) error {
	return certs.Main(os.Stdout, envOr("CERTS_DIR", "dist/certs"), list(os.Getenv("CENTRAL")), list(os.Getenv("ROUTERS")))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
