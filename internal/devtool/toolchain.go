package devtool

import (
	"context"
	"os"
	"os/exec"
)

// Toolchain is the Go release that builds, vets, tests and fuzzes everything `go tool mage`
// runs, so what is tested is what ships. The go command fetches it from the module proxy on
// first use (GOTOOLCHAIN), whatever Go runs mage itself; go.mod's go line stays the oldest Go
// that builds the module. Raise it to a release that fixes what `go tool mage vulncheck` finds
// in the standard library.
const Toolchain = "go1.27.3"

// PinToolchain sets GOTOOLCHAIN=Toolchain in this process's environment, so every go command
// that it or its children start (benchmarks, the e2e helpers, the packaging tests) uses it.
func PinToolchain() error { return os.Setenv("GOTOOLCHAIN", Toolchain) }

// goCmd returns the go command with args, run by Toolchain whatever the environment says.
func goCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+Toolchain)
	return cmd
}

// runGo runs the go command (Toolchain) with args and the extra environment env, its output
// going to ours.
func runGo(ctx context.Context, env []string, args ...string) error {
	cmd := goCmd(ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
