package packaging

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
)

var testMan = ManPage{
	Name: "dnstap-reader", Section: "1", Summary: "print dnstap files", Version: "1.2.3", Date: testTime,
	Description: []string{"First paragraph.", ".starts with a dot and has a back\\slash"},
	Help:        []byte("Usage of dnstap-reader:\n  -y\tprint YAML\n.hidden\n"),
	Files:       [][2]string{{"/var/log/dnstap", "The capture files."}},
	SeeAlso:     []string{"dnstap-read(1)", "dnstap-collector(8)"},
}

func TestManPageRoff(t *testing.T) { golden(t, "dnstap-reader.1", testMan.Roff()) }

// TestManPageRenders renders the page with man(1) and fails on any groff warning, the check
// lintian makes.
func TestManPageRenders(t *testing.T) {
	man := testenv.LookPath(t, "man", "man-db")
	cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-")
	cmd.Stdin = strings.NewReader(string(testMan.Roff()))
	cmd.Env = []string{"LANG=C.UTF-8", "MANWIDTH=80", "PATH=/usr/bin:/bin"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("man: %v\n%s", err, stderr.String())
	}
	plain := regexp.MustCompile(".\x08").ReplaceAll(out, nil) // drop overstrike (bold, underline)
	for _, want := range []string{"DNSTAP-READER(1)", "print dnstap files", "-y", "print YAML", ".hidden", `back\slash`, "dnstap-collector(8)"} {
		if !strings.Contains(string(plain), want) {
			t.Errorf("rendered page lacks %q:\n%s", want, plain)
		}
	}
}
