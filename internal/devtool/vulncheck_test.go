package devtool

import (
	"bytes"
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func readScan(t *testing.T, path string) *scan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := parseScan(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// TestClassify sorts real govulncheck findings (testdata/vulncheck/README.md) of the binaries
// of go1.26.8: what the binaries with symbols hold fails, what only the stripped ones show
// is a warning, what only the source scan reaches is tooling, the rest unreached.
func TestClassify(t *testing.T) {
	dir := filepath.Join("testdata", "vulncheck")
	shipped, linked := map[string]*scan{}, map[string]*scan{}
	for _, name := range Binaries {
		shipped[name] = readScan(t, filepath.Join(dir, "symbols-"+name+".json"))
		linked[name] = readScan(t, filepath.Join(dir, "stripped-"+name+".json"))
	}
	r := classify(shipped, linked, readScan(t, filepath.Join(dir, "source.json")))

	type where struct{ list, where string }
	got := map[string]where{}
	for _, l := range []struct {
		name  string
		vulns []vuln
	}{{"shipped", r.Shipped}, {"linked", r.Linked}, {"tooling", r.Tooling}, {"unreached", r.Unreached}} {
		for _, v := range l.vulns {
			if _, dup := got[v.ID]; dup {
				t.Errorf("%s reported twice", v.ID)
			}
			got[v.ID] = where{l.name, strings.Join(v.Where, ",")}
		}
	}
	want := map[string]where{
		"GO-2026-6603": {"shipped", "dnstap-collector,dnstap-reader"}, // also reached by a test: reported once
		"GO-2026-6809": {"shipped", "dnstap-collector"},
		"GO-2026-6599": {"shipped", "dnstap-reader"},
		"GO-2026-6605": {"linked", "dnstap-collector,dnstap-reader"}, // Go release affected, code not linked
		"GO-2026-6860": {"linked", "dnstap-reader"},                  // golang.org/x/net v0.60.0
		"GO-2026-4909": {"tooling", "github.com/dnstapkit/dnstapkit/packaging.init"},
		"GO-2026-5105": {"tooling", "github.com/dnstapkit/dnstapkit/packaging.init"},
		"GO-2026-5074": {"unreached", ""}, // package imported, function not called
		"GO-2026-5932": {"unreached", ""}, // module required only
		"GO-2026-6905": {"unreached", ""},
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %+v, want %+v", id, got[id], w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s reported, not in the fixtures' list", id)
		}
	}

	var out bytes.Buffer
	r.print(&out, Binaries)
	goldenFile(t, filepath.Join(dir, "report.txt"), out.Bytes())
}

func TestParseScanErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"truncated", `{"config":{}}` + "\n" + `{"finding":`, "govulncheck output at byte 13: unexpected EOF"},
		{"no trace", `{"finding":{"osv":"GO-2099-0001"}}`, "a finding without osv or trace"},
		{"no id", `{"finding":{"trace":[{"module":"stdlib"}]}}`, "a finding without osv or trace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseScan(strings.NewReader(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseScan: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestFrameName(t *testing.T) {
	tests := []struct {
		f    frame
		want string
	}{
		{frame{Package: "net/http", Function: "Serve", Receiver: "*Server"}, "net/http.(*Server).Serve"},
		{frame{Package: "net/http", Function: "ServeContent"}, "net/http.ServeContent"},
		{frame{Package: "net/http"}, "net/http"},
	}
	for _, tt := range tests {
		if got := tt.f.name(); got != tt.want {
			t.Errorf("name(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// TestVulncheckGovulncheck runs the real govulncheck (the go.mod tool) against a database that
// WriteVulnDB builds from testdata/vulncheck/db, on a module with a shipped program that
// reads CSV and a tool that scans text: the entry on encoding/csv is in the program's binary,
// the one on text/scanner only the tool reaches, and the one fixed in Go 1.0.0 is not reported.
func TestVulncheckGovulncheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds govulncheck and a binary")
	}
	db := t.TempDir()
	if err := WriteVulnDB(filepath.Join("testdata", "vulncheck", "db"), db, fixtureModified); err != nil {
		t.Fatal(err)
	}
	dbURL := (&url.URL{Scheme: "file", Path: db}).String()
	mod := t.TempDir()
	for name, text := range map[string]string{
		"go.mod": "module example.com/fx\n\ngo 1.26\n",
		"cmd/app/main.go": `package main

import (
	"encoding/csv"
	"fmt"
	"os"
)

func main() {
	rec, err := csv.NewReader(os.Stdin).Read()
	fmt.Println(rec, err)
}
`,
		"tools/lex/main.go": `package main

import (
	"fmt"
	"os"
	"text/scanner"
)

func main() {
	var s scanner.Scanner
	s.Init(os.Stdin)
	fmt.Println(s.Scan())
}
`,
	} {
		p := filepath.Join(mod, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	app := filepath.Join(t.TempDir(), "app")
	build := goCmd(ctx, "build", "-trimpath", "-o", app, "./cmd/app")
	build.Dir = mod
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin, err := govulncheck(ctx, "-db", dbURL, "-mode", "binary", app)
	if err != nil {
		t.Fatal(err)
	}
	src, err := govulncheck(ctx, "-db", dbURL, "-C", mod, "./...")
	if err != nil {
		t.Fatal(err)
	}
	r := classify(map[string]*scan{"app": bin}, nil, src)
	var out bytes.Buffer
	r.print(&out, []string{"app"})
	t.Logf("report:\n%s", out.Bytes())
	if len(r.Shipped) != 1 || r.Shipped[0].ID != "GO-2099-0101" || r.Shipped[0].Symbol != "encoding/csv.(*Reader).Read" && r.Shipped[0].Symbol != "encoding/csv.(Reader).Read" {
		t.Errorf("shipped = %+v, want GO-2099-0101 at encoding/csv Reader.Read", r.Shipped)
	}
	if len(r.Tooling) != 1 || r.Tooling[0].ID != "GO-2099-0102" || r.Tooling[0].Where[0] != "example.com/fx/tools/lex.main" {
		t.Errorf("tooling = %+v, want GO-2099-0102 from example.com/fx/tools/lex.main", r.Tooling)
	}
	if strings.Contains(out.String(), "GO-2099-0103") {
		t.Errorf("GO-2099-0103 (fixed in Go 1.0.0) reported")
	}
}

// goldenFile compares got with the file at path, or rewrites it under -update.
func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
