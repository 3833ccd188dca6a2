//go:build e2e

package e2e

import (
	"flag"
	"os"
	"testing"
)

// TestMain starts the BIND builds the selected tests need in the background, so that they
// compile while the sequential tests (base images, packages, faults) run.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() && runsBIND(flag.Lookup("test.run").Value.String()) {
		prebuildBIND()
	}
	os.Exit(m.Run())
}
