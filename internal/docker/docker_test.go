package docker

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

func TestCheckUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T)
		wantMsg string
	}{
		{
			name:    "no client",
			setup:   func(t *testing.T) { t.Setenv("PATH", t.TempDir()) },
			wantMsg: "apt-get install docker.io",
		},
		{
			name: "no engine",
			setup: func(t *testing.T) {
				testenv.LookPath(t, "docker", "docker.io")
				t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "nothing.sock"))
			},
			wantMsg: "the engine does not answer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup(t)
			err := Check(context.Background())
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Check() = %v, want ErrUnavailable", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "ensure-docker") {
				t.Errorf("Check() = %q, want it to say %q and how to start an engine", err, tt.wantMsg)
			}
		})
	}
}
