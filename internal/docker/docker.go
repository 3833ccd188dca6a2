// Package docker is a thin wrapper around the docker CLI, used by the build targets of
// dnstapkit (base images, the BIND builder). It runs the docker program rather than linking
// the Engine API client, so that the build needs nothing but a working `docker` command, and
// it turns a missing client or engine into one clear error.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// ErrUnavailable is returned (wrapped) when the docker client is missing or no engine answers.
var ErrUnavailable = errors.New("docker: no Docker engine available")

// Check returns nil when the docker client is installed and an engine answers within 15 s.
// Otherwise it returns an error wrapping ErrUnavailable that says what is missing and how to
// get it.
func Check(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("%w: the docker client is not installed (apt-get install docker.io, then start dockerd or run .ci/ensure-docker)", ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", "version", "--format", "{{.Server.Version}}")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: the engine does not answer (%s); start it with .ci/ensure-docker or `dockerd &`",
			ErrUnavailable, firstLine(stderr.String(), err))
	}
	return nil
}

// Run runs `docker args...` with stdout and stderr sent to w (nil discards them).
func Run(ctx context.Context, w io.Writer, args ...string) error {
	return RunStdin(ctx, nil, w, args...)
}

// RunStdin is Run with the given standard input.
func RunStdin(ctx context.Context, stdin io.Reader, w io.Writer, args ...string) error {
	var tail bytes.Buffer
	out := io.Writer(&tail)
	if w != nil {
		out = io.MultiWriter(w, &tail)
	}
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %s", verb(args), lastLine(tail.String(), err))
	}
	return nil
}

// Output runs `docker args...` and returns its standard output, trimmed.
func Output(ctx context.Context, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("docker %s: %s", verb(args), firstLine(stderr.String(), err))
	}
	return strings.TrimSpace(string(out)), nil
}

// Label returns the value of label on the local image ref, and whether the image exists.
func Label(ctx context.Context, ref, label string) (string, bool, error) {
	out, err := Output(ctx, "image", "ls", "-q", ref)
	if err != nil {
		return "", false, err
	}
	if out == "" {
		return "", false, nil
	}
	v, err := Output(ctx, "image", "inspect", "--format", fmt.Sprintf("{{index .Config.Labels %q}}", label), ref)
	if err != nil {
		return "", true, err
	}
	if v == "<no value>" {
		v = ""
	}
	return v, true, nil
}

func verb(args []string) string {
	if len(args) == 0 {
		return ""
	}
	if len(args) > 1 && (args[0] == "image" || args[0] == "container") {
		return args[0] + " " + args[1]
	}
	return args[0]
}

func firstLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func lastLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return err.Error()
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return fmt.Sprintf("%v: %s", err, s)
}
