package devtool

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// AptPackages reads the package list at path (one name a line, # comments).
func AptPackages(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read package list: %w", err)
	}
	defer f.Close()
	var pkgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line != "" {
			pkgs = append(pkgs, line)
		}
	}
	return pkgs, sc.Err()
}

// MissingPackages returns those of pkgs that dpkg does not list as installed.
func MissingPackages(ctx context.Context, pkgs []string) []string {
	var missing []string
	for _, p := range pkgs {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${db:Status-Status}", p).Output()
		if err != nil || strings.TrimSpace(string(out)) != "installed" {
			missing = append(missing, p)
		}
	}
	return missing
}

// InstallDeps installs the missing packages of listPath with apt-get (after apt-get update)
// and then makes sure a Docker engine answers. Without root it says what to run instead.
func InstallDeps(ctx context.Context, listPath string) error {
	pkgs, err := AptPackages(listPath)
	if err != nil {
		return err
	}
	missing := MissingPackages(ctx, pkgs)
	if len(missing) > 0 {
		if os.Geteuid() != 0 {
			return fmt.Errorf("missing Debian packages %s: run `sudo apt-get install %s` or .ci/run as root",
				strings.Join(missing, " "), strings.Join(missing, " "))
		}
		fmt.Printf("deps: installing %s\n", strings.Join(missing, " "))
		if err := run(ctx, nil, "apt-get", "update"); err != nil {
			return fmt.Errorf("apt-get update: %w", err)
		}
		args := append([]string{"install", "-y", "--no-install-recommends"}, missing...)
		if err := run(ctx, []string{"DEBIAN_FRONTEND=noninteractive"}, "apt-get", args...); err != nil {
			return fmt.Errorf("apt-get install: %w", err)
		}
	}
	if err := run(ctx, nil, ".ci/ensure-docker"); err != nil {
		return fmt.Errorf("docker: %w", err)
	}
	return nil
}

func run(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
