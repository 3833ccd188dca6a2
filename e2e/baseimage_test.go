//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dnstapkit/dnstapkit/internal/baseimage"
	"github.com/dnstapkit/dnstapkit/internal/docker"
	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

// TestBaseImage checks the base image of DISTRO (default debian:bookworm): a second Ensure
// reuses it, its apt sources are the host's mirror and answer over the default bridge, and
// the -systemd image boots systemd without --privileged.
func TestBaseImage(t *testing.T) {
	testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	distro := bindEnv("DISTRO", "debian:bookworm")
	d, err := baseimage.ParseDistro(distro)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := baseimage.Ensure(ctx, distro)
	if err != nil {
		t.Fatal(err)
	}
	id := func(ref string) string {
		t.Helper()
		out, err := docker.Output(ctx, "image", "inspect", "--format", "{{.Id}}", ref)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := id(ref)
	if again, err := baseimage.Ensure(ctx, distro); err != nil || again != ref || id(again) != first {
		t.Errorf("second Ensure made another image: %s %v (was %s)", again, err, first)
	}

	t.Run("apt over the bridge", func(t *testing.T) {
		out, err := docker.Output(ctx, "run", "--rm", ref, "sh", "-c",
			"cat /etc/apt/sources.list && apt-get update -q >/dev/null && apt-cache policy libfstrm0 | grep -c Candidate")
		if err != nil {
			t.Fatal(err)
		}
		if m, err := baseimage.HostMirrors(d, "/"); err == nil && !strings.Contains(out, m.Archive+" "+d.Suite+" ") {
			t.Errorf("sources.list does not use the host mirror %s:\n%s", m.Archive, out)
		}
		if !strings.HasSuffix(strings.TrimSpace(out), "1") {
			t.Errorf("apt-get update in the container did not make packages installable:\n%s", out)
		}
	})

	t.Run("systemd", func(t *testing.T) {
		sref, err := baseimage.Ensure(ctx, distro, baseimage.WithSystemd())
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"run", "-d"}, baseimage.RunArgsSystemd...)
		name, err := docker.Output(ctx, append(args, sref)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = docker.Run(context.Background(), nil, "rm", "-f", name) })
		// Wait for systemd's bus, then for boot: --wait returns once boot has finished: "running", or "degraded" when a unit failed.
		// (is-system-running exits non-zero when degraded: read its output, not its status.)
		var buf bytes.Buffer
		_ = docker.Run(ctx, &buf, "exec", name, "timeout", "120", "sh", "-c",
			"until [ -S /run/systemd/private ]; do sleep 0.2; done; systemctl is-system-running --wait")
		out := strings.TrimSpace(buf.String())
		if out != "running" && out != "degraded" {
			logs, _ := docker.Output(ctx, "exec", name, "systemctl", "--failed", "--no-pager")
			t.Fatalf("systemd did not boot: is-system-running = %q\n%s", out, logs)
		}
		if out == "degraded" {
			logs, _ := docker.Output(ctx, "exec", name, "systemctl", "--failed", "--no-pager")
			t.Logf("systemd is degraded:\n%s", logs)
		}
	})
}
