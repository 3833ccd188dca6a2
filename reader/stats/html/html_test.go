package html

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dnstapkit/dnstapkit/internal/testenv"
	"github.com/dnstapkit/dnstapkit/reader"
	"github.com/dnstapkit/dnstapkit/reader/stats"
)

func mixedReport(t *testing.T) *stats.Report {
	t.Helper()
	d, err := reader.Open("../testdata/mixed.fstrm")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := stats.New(stats.Config{})
	var rec stats.Record
	for {
		m, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		stats.FromMessage(&rec, m)
		s.Add(&rec)
	}
	return s.Report()
}

// TestSelfContained: the page references nothing outside itself and shows the signals.
func TestSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, mixedReport(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"http://", "https://", "src=", "<link", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q: it must load nothing", bad)
		}
	}
	for _, want := range []string{"tunnel-c2.net.", "127.0.57.21", "many_subdomains", "nxdomain_ratio", "<svg"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, `<svg class="chart"`); n < 10 {
		t.Errorf("%d charts, want at least 10", n)
	}
	for _, chart := range []string{"top names by queries", "top names by NXDOMAIN", "top names by SERVFAIL",
		"top domains by NXDOMAIN", "top clients by NXDOMAIN"} {
		if !strings.Contains(page, `aria-label="`+chart+`"`) {
			t.Errorf("no chart %q", chart)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the page has a script")
	}
}

// TestEscapes: names from the wire are escaped in text and SVG.
func TestEscapes(t *testing.T) {
	r := &stats.Report{Domains: stats.TopTables{ByQueries: []stats.Top{{Key: `<script>alert(1)</script>.example.`, Count: 3}}},
		Signals: []stats.Signal{{Kind: "x", Subject: `<b>`, Reason: `"&'`}}}
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>alert") || strings.Contains(b.String(), "<b>") {
		t.Errorf("unescaped input in page:\n%s", b.String())
	}
}

// fitCheck is a script the test adds to the page: it marks the body with whether the
// signals table and the page fit the window's width, and what shows as text.
const fitCheck = `<script>
document.addEventListener("DOMContentLoaded", function () {
  var t = document.querySelector("table.signals"), w = document.body.clientWidth;
  var fits = t && t.getBoundingClientRect().width <= w && document.documentElement.scrollWidth <= window.innerWidth;
  document.body.setAttribute("data-test-fit", fits ? "fits" : "overflows: table " + (t ? t.getBoundingClientRect().width : 0) + ", body " + w + ", page " + document.documentElement.scrollWidth);
  document.body.setAttribute("data-test-text", document.body.innerText.replace(/\s+/g, " "));
});
</script>
</body>`

// TestChromium renders the page in Debian's headless chromium, with a window 1000 and 700
// pixels wide and signals whose sample names are as long as DNS allows: the signals table
// must fit the page (long names wrap), no internal marker may show as text, the console
// must show no error, and the screenshot must not be blank.
func TestChromium(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium", "chromium")
	dir := t.TempDir()
	page := filepath.Join(dir, "stats.html")
	r := mixedReport(t)
	long := strings.Repeat(strings.Repeat("x", 63)+".", 3) + "t.tunnel-c2.net."
	r.Signals = append(r.Signals, stats.Signal{Kind: stats.SignalSuspiciousClient, Subject: "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe",
		Reason: "250 of 250 queries for names with long or high-entropy labels (tunnelling, DGA)", Sample: long})
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, bytes.Replace(b.Bytes(), []byte("</body>"), []byte(fitCheck), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0"}
	run := func(args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(chromium, append(append([]string{}, common...), args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
		}
		return out.String(), errb.String()
	}
	for _, width := range []int{1000, 700} {
		dom, logs := run("--dump-dom", fmt.Sprintf("--window-size=%d,1600", width), "file://"+page)
		fit := regexp.MustCompile(`data-test-fit="([^"]*)"`).FindStringSubmatch(dom)
		if fit == nil {
			t.Fatalf("width %d: the test's script did not run", width)
		}
		if fit[1] != "fits" {
			t.Errorf("width %d: the signals table does not fit the page: %s", width, fit[1])
		}
		text := regexp.MustCompile(`data-test-text="([^"]*)"`).FindStringSubmatch(dom)
		if text == nil || !strings.Contains(text[1], "Abnormal signals") {
			t.Fatalf("width %d: no page text", width)
		}
		for _, marker := range []string{"rendered", "static report", "{{", "<no value>"} {
			if strings.Contains(text[1], marker) {
				t.Errorf("width %d: the page shows %q", width, marker)
			}
		}
		if m := regexp.MustCompile(`(?i)CONSOLE.*(error|uncaught)|Uncaught`).FindString(logs); m != "" {
			t.Errorf("script error in chromium's console: %s", m)
		}
	}
	shot := filepath.Join(dir, "shot.png")
	run("--screenshot="+shot, "--window-size=1000,1600", "--hide-scrollbars", "file://"+page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if v := variance(img); v < 100 {
		t.Errorf("screenshot pixel variance %.1f: the page looks blank", v)
	}
}

// variance returns the variance of the grey level of img's pixels (0-255 scale).
func variance(img image.Image) float64 {
	bnd := img.Bounds()
	var sum, sq, n float64
	for y := bnd.Min.Y; y < bnd.Max.Y; y += 2 {
		for x := bnd.Min.X; x < bnd.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			v := float64(r+g+b) / 3 / 257
			sum += v
			sq += v * v
			n++
		}
	}
	m := sum / n
	return sq/n - m*m
}
