package release

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	boom := errors.New("no source tarball")
	step := func(name string, debs []string, err error) Step {
		return Step{Name: name, Run: func(context.Context) ([]string, error) { return debs, err }}
	}
	tests := []struct {
		name     string
		steps    []Step
		wantOut  string // with durations replaced by D
		wantDebs []string
		wantErr  error
	}{
		{
			name: "all steps",
			steps: []Step{step("binaries", nil, nil), step("toolkit .debs", []string{"dist/a.deb", "dist/b.deb"}, nil),
				step("BIND 9.18 for debian:bookworm", []string{"dist/bind9-dnstap.deb"}, nil)},
			wantOut: "[1/3] binaries ... done (D)\n[2/3] toolkit .debs ... done (D)\n[3/3] BIND 9.18 for debian:bookworm ... done (D)\n" +
				"3 packages:\n  dist/a.deb\n  dist/b.deb\n  dist/bind9-dnstap.deb\n",
			wantDebs: []string{"dist/a.deb", "dist/b.deb", "dist/bind9-dnstap.deb"},
		},
		{
			name:     "a step fails",
			steps:    []Step{step("toolkit .debs", []string{"dist/a.deb"}, nil), step("BIND 9.14", nil, boom), step("never", nil, nil)},
			wantOut:  "[1/3] toolkit .debs ... done (D)\n[2/3] BIND 9.14 ... failed (D)\n",
			wantDebs: []string{"dist/a.deb"},
			wantErr:  boom,
		},
	}
	dur := regexp.MustCompile(`\(([0-9.]+(ms|s|µs|ns)|0s)\)`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			debs, err := Run(context.Background(), &out, tt.steps)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run() error = %v, want %v", err, tt.wantErr)
			}
			if got := dur.ReplaceAllString(out.String(), "(D)"); got != tt.wantOut {
				t.Errorf("Run() printed\n%s\nwant\n%s", got, tt.wantOut)
			}
			if strings.Join(debs, " ") != strings.Join(tt.wantDebs, " ") {
				t.Errorf("Run() = %v, want %v", debs, tt.wantDebs)
			}
		})
	}
}
