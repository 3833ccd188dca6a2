//go:build mage

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/magefile/mage/mg"

	"github.com/dnstapkit/dnstapkit/packaging"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// Repo groups the apt repository targets.
type Repo mg.Namespace

// Build (also `go tool mage repo`) turns every .deb in dist/ into a signed apt repository in
// REPO_DIR (default dist/repo): one suite per distro (REPO_DISTROS, a comma list, default
// every known one), dnstap-collector and dnstap-reader in each, each bind9-dnstap in its
// distro's. The key: REPO_KEY (an armored private key file) or GNUPGHOME (with REPO_KEY_ID
// when it holds several keys); REPO_KEY_PASSPHRASE for a protected one. REPO_URL (where the
// directory will be served) goes into the router's lines printed at the end.
func (Repo) Build(ctx context.Context) error {
	key, err := aptrepo.KeyFromEnv(ctx, os.Getenv)
	if err != nil {
		return err
	}
	var distros []string
	if v := os.Getenv("REPO_DISTROS"); v != "" {
		distros = strings.Split(v, ",")
	}
	dir := imageEnv("REPO_DIR", filepath.Join("dist", "repo"))
	suites, err := packaging.BuildRepo(packaging.RepoOptions{DistDir: "dist", Dir: dir, Distros: distros, Key: key})
	if err != nil {
		return err
	}
	fmt.Printf("repository %s, signed by %s:\n", dir, key.Fingerprint())
	for _, s := range suites {
		var pkgs []string
		for _, d := range s.Debs {
			pkgs = append(pkgs, d.Name()+" "+d.Version())
		}
		fmt.Printf("  %-9s %s\n", s.Codename, strings.Join(pkgs, ", "))
	}
	fmt.Printf("\nServe %s over HTTP; on each router (as root):\n%s", dir, packaging.RouterLines(imageEnv("REPO_URL", "http://REPO-HOST/dnstapkit")))
	return nil
}

// Key makes a test signing key: the private key in REPO_KEY (default dist/repo-key.asc;
// never overwritten) and the public one in dist/dnstapkit-archive-keyring.gpg, then prints
// how to use them. For trying the repository out: a real key lives off the build tree.
func (Repo) Key(ctx context.Context) error {
	priv := imageEnv("REPO_KEY", filepath.Join("dist", "repo-key.asc"))
	if _, err := os.Stat(priv); err == nil {
		return fmt.Errorf("repo:key: %s exists; remove it first to make a new key", priv)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("repo:key: %w", err)
	}
	key, err := aptrepo.GenerateKey("dnstapkit test repository", "dnstapkit@localhost")
	if err != nil {
		return err
	}
	armored, err := key.ArmoredPrivate()
	if err != nil {
		return err
	}
	pub, err := key.PublicKeyring()
	if err != nil {
		return err
	}
	pubPath := filepath.Join(filepath.Dir(priv), aptrepo.KeyringName)
	if err := os.MkdirAll(filepath.Dir(priv), 0o755); err != nil {
		return fmt.Errorf("repo:key: %w", err)
	}
	if err := os.WriteFile(priv, armored, 0o600); err != nil {
		return fmt.Errorf("repo:key: %w", err)
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		return fmt.Errorf("repo:key: %w", err)
	}
	abs, _ := filepath.Abs(priv)
	fmt.Printf("test key %s\n  private: %s (keep it on the build host)\n  public:  %s\n\n"+
		"export REPO_KEY=%s\ngo tool mage repo\n\nServe the repository over HTTP; on each router (as root):\n%s",
		key.Fingerprint(), priv, pubPath, abs, packaging.RouterLines(imageEnv("REPO_URL", "http://REPO-HOST/dnstapkit")))
	return nil
}
