// Package release runs the steps that make the full set of .deb packages of a checkout
// (`go tool mage package`): each step is one line of output, and the packages made are
// listed at the end.
//
//	debs, err := release.Run(ctx, os.Stdout, []release.Step{
//		{Name: "binaries", Run: buildBinaries},
//		{Name: "dnstap-collector and dnstap-reader .debs", Run: buildDebs},
//	})
package release

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Step is one step of a release. Run returns the paths of the packages it made (none for a
// step that makes something else); it should print nothing itself, so that the step stays
// one line.
type Step struct {
	Name string
	Run  func(ctx context.Context) ([]string, error)
}

// Run runs the steps in order and writes one line per step to w: "[i/n] name ... done (5s)",
// then the packages made, one a line. It stops at the first step that fails and returns
// the packages made until then with the step's error.
func Run(ctx context.Context, w io.Writer, steps []Step) ([]string, error) {
	var debs []string
	for i, s := range steps {
		fmt.Fprintf(w, "[%d/%d] %s ... ", i+1, len(steps), s.Name)
		t0 := time.Now()
		made, err := s.Run(ctx)
		if err != nil {
			fmt.Fprintf(w, "failed (%s)\n", since(t0))
			return debs, fmt.Errorf("%s: %w", s.Name, err)
		}
		fmt.Fprintf(w, "done (%s)\n", since(t0))
		debs = append(debs, made...)
	}
	fmt.Fprintf(w, "%d packages:\n", len(debs))
	for _, d := range debs {
		fmt.Fprintf(w, "  %s\n", d)
	}
	return debs, nil
}

func since(t0 time.Time) string {
	d := time.Since(t0)
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
