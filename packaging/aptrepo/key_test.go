package aptrepo_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/packaging/aptrepo"
)

// TestKeyRoundTrip writes a key as repo:key does and reads it back, armored and from a
// GnuPG home that imported it with the real gpg, and checks that what it signs verifies.
func TestKeyRoundTrip(t *testing.T) {
	gpg := testenv.LookPath(t, "gpg", "gpg")
	gpgv := testenv.LookPath(t, "gpgv", "gpgv")
	a, _ := keys(t)
	armored, err := a.ArmoredPrivate()
	must(t, err)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.asc")
	must(t, os.WriteFile(keyFile, armored, 0o600))
	home := filepath.Join(dir, "gnupg")
	must(t, os.Mkdir(home, 0o700))
	run(t, gpg, "--homedir", home, "--batch", "--import", keyFile)
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })

	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"REPO_KEY", map[string]string{"REPO_KEY": keyFile}},
		{"GNUPGHOME, the only key", map[string]string{"GNUPGHOME": home}},
		{"GNUPGHOME and REPO_KEY_ID", map[string]string{"GNUPGHOME": home, "REPO_KEY_ID": a.Fingerprint()}},
		{"REPO_KEY before GNUPGHOME", map[string]string{"REPO_KEY": keyFile, "GNUPGHOME": "/nonexistent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := aptrepo.KeyFromEnv(context.Background(), func(n string) string { return tc.env[n] })
			if err != nil {
				t.Fatal(err)
			}
			if k.Fingerprint() != a.Fingerprint() {
				t.Errorf("Fingerprint() = %s, want %s", k.Fingerprint(), a.Fingerprint())
			}
			sig, err := k.ClearSign([]byte("Suite: bookworm\n"))
			must(t, err)
			f := filepath.Join(t.TempDir(), "InRelease")
			must(t, os.WriteFile(f, sig, 0o644))
			pub, err := a.PublicKeyring()
			must(t, err)
			ring := filepath.Join(t.TempDir(), "ring.gpg")
			must(t, os.WriteFile(ring, pub, 0o644))
			run(t, gpgv, "--keyring", ring, f)
		})
	}
}

// TestKeyPassphrase makes a passphrase-protected key with the real gpg and loads it from
// the GnuPG home and from an exported file, with and without the passphrase.
func TestKeyPassphrase(t *testing.T) {
	gpg := testenv.LookPath(t, "gpg", "gpg")
	home := filepath.Join(t.TempDir(), "gnupg")
	must(t, os.Mkdir(home, 0o700))
	t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
	run(t, gpg, "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "s3cret",
		"--quick-gen-key", "Protected <p@example.org>", "ed25519", "sign", "never")
	exported := run(t, gpg, "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "s3cret",
		"--armor", "--export-secret-keys")
	keyFile := filepath.Join(t.TempDir(), "key.asc")
	must(t, os.WriteFile(keyFile, exported, 0o600))
	for _, tc := range []struct {
		name, want string
		env        map[string]string
	}{
		{"file with passphrase", "", map[string]string{"REPO_KEY": keyFile, "REPO_KEY_PASSPHRASE": "s3cret"}},
		{"file without", "passphrase", map[string]string{"REPO_KEY": keyFile}},
		{"file, wrong one", "", map[string]string{"REPO_KEY": keyFile, "REPO_KEY_PASSPHRASE": "wrong"}},
		{"home with passphrase", "", map[string]string{"GNUPGHOME": home, "REPO_KEY_PASSPHRASE": "s3cret"}},
		{"home, unknown id", "no secret key", map[string]string{"GNUPGHOME": home, "REPO_KEY_ID": "nobody@example.org", "REPO_KEY_PASSPHRASE": "s3cret"}},
		{"nothing set", "no signing key", map[string]string{}},
		{"missing file", "no such file", map[string]string{"REPO_KEY": "/nonexistent/key.asc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := aptrepo.KeyFromEnv(context.Background(), func(n string) string { return tc.env[n] })
			if tc.name == "file, wrong one" {
				if err == nil {
					t.Fatal("a wrong passphrase unlocked the key")
				}
				return
			}
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("KeyFromEnv: %v, want an error with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.DetachSign([]byte("x")); err != nil {
				t.Errorf("DetachSign: %v", err)
			}
		})
	}
}

// TestReadKeyRefusesPublic checks that a public key alone is refused with a clear error.
func TestReadKeyRefusesPublic(t *testing.T) {
	a, _ := keys(t)
	pub, err := a.ArmoredPublic()
	must(t, err)
	if _, err := aptrepo.ReadKey(bytes.NewReader(pub), ""); err == nil || !strings.Contains(err.Error(), "public key only") {
		t.Errorf("ReadKey(public key): %v, want a public-key-only error", err)
	}
	if _, err := aptrepo.ReadKey(strings.NewReader("garbage"), ""); err == nil {
		t.Error("ReadKey(garbage) accepted it")
	}
}

// TestClearSignEveryLength verifies 48 InRelease files of different lengths with the real
// gpgv: the armored signature's last line takes every length, and GnuPG 2.2.40 refuses some
// of them when the armor has no checksum line.
func TestClearSignEveryLength(t *testing.T) {
	gpgv := testenv.LookPath(t, "gpgv", "gpgv")
	a, _ := keys(t)
	pub, err := a.PublicKeyring()
	must(t, err)
	dir := t.TempDir()
	ring := filepath.Join(dir, "ring.gpg")
	must(t, os.WriteFile(ring, pub, 0o644))
	for i := range 48 {
		text := "Suite: bookworm\nDescription: d" + strings.Repeat("x", i) + "\n"
		sig, err := a.ClearSign([]byte(text))
		must(t, err)
		if !bytes.Contains(sig, []byte("\n=")) {
			t.Fatalf("InRelease %d has no armor checksum line:\n%s", i, sig)
		}
		f := filepath.Join(dir, "InRelease")
		must(t, os.WriteFile(f, sig, 0o644))
		out := filepath.Join(dir, "out")
		os.Remove(out)
		if b, err := exec.Command(gpgv, "--keyring", ring, "--output", out, f).CombinedOutput(); err != nil {
			t.Fatalf("gpgv refuses InRelease %d: %v\n%s\n%s", i, err, b, sig)
		}
		if got, _ := os.ReadFile(out); strings.TrimRight(string(got), "\n") != strings.TrimRight(text, "\n") {
			t.Errorf("InRelease %d signs %q, want %q", i, got, text)
		}
	}
}
