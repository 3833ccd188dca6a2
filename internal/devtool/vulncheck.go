package devtool

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
)

// sourcePatterns are the packages the source scan covers: the module with its tests, the
// magefiles and the e2e suite (build tags mage and e2e), and the go.mod tools.
var sourcePatterns = []string{"-test", "-tags=mage,e2e", "./...", "tool"}

// Vulncheck runs govulncheck against the local database of VulnDB (no network once the
// database is built) on the binaries that ship, the Binaries built by o, and on the source
// of the module, its tests, magefiles and tools. It fails when a shipped binary holds the
// vulnerable code of an entry. What only the build and test tooling reaches, and what a
// shipped binary's Go release or module versions are affected by without its vulnerable
// code being linked in, are printed as warnings with the version that fixes them.
//
// The shipped binaries are stripped, and govulncheck's binary mode can then see only the
// module versions in them: it reports every vulnerability of those versions as if it were
// called. So each is scanned twice: itself, and a twin that Build compiles from the same
// tree with the same toolchain but keeps the symbol table, whose scan tells which
// vulnerable functions the linker kept.
func Vulncheck(ctx context.Context, o BuildOptions) error {
	defer phase("vulncheck")()
	db, err := VulnDBDir(ctx, VulnDB)
	if err != nil {
		return err
	}
	dbURL := (&url.URL{Scheme: "file", Path: db}).String()
	fmt.Printf("vulncheck: database %s@%s in %s\n", vulnDBModule, VulnDB, db)
	twins, err := os.MkdirTemp("", "dnstapkit-vulncheck-")
	if err != nil {
		return fmt.Errorf("vulncheck: %w", err)
	}
	defer os.RemoveAll(twins)
	t := o
	t.OutDir, t.Symbols = twins, true
	if err := Build(ctx, t); err != nil {
		return fmt.Errorf("vulncheck: %w", err)
	}
	linked, shipped := map[string]*scan{}, map[string]*scan{}
	for _, name := range Binaries {
		bin, twin := filepath.Join(o.OutDir, name), filepath.Join(twins, name)
		if err := sameBuild(bin, twin); err != nil {
			return fmt.Errorf("vulncheck: %w (run go tool mage build)", err)
		}
		for _, s := range []struct {
			to   map[string]*scan
			path string
		}{{linked, bin}, {shipped, twin}} {
			if s.to[name], err = govulncheck(ctx, "-db", dbURL, "-mode", "binary", s.path); err != nil {
				return fmt.Errorf("vulncheck %s: %w", s.path, err)
			}
		}
	}
	src, err := govulncheck(ctx, append([]string{"-db", dbURL}, sourcePatterns...)...)
	if err != nil {
		return fmt.Errorf("vulncheck source: %w", err)
	}
	r := classify(shipped, linked, src)
	r.print(os.Stdout, Binaries)
	if len(r.Shipped) > 0 {
		return fmt.Errorf("vulncheck: %d vulnerabilities in the code of the shipped binaries", len(r.Shipped))
	}
	return nil
}

// sameBuild checks that the binaries at a and b were built with the same Go release from
// the same module versions, so the scan of one stands for the other.
func sameBuild(a, b string) error {
	ia, err := buildinfo.ReadFile(a)
	if err != nil {
		return err
	}
	ib, err := buildinfo.ReadFile(b)
	if err != nil {
		return err
	}
	deps := func(bi *debug.BuildInfo) string {
		var l []string
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			l = append(l, d.Path+"@"+d.Version)
		}
		return strings.Join(l, " ")
	}
	if ia.GoVersion != ib.GoVersion || deps(ia) != deps(ib) {
		return fmt.Errorf("%s (%s) is not the build of this tree with %s", a, ia.GoVersion, ib.GoVersion)
	}
	return nil
}

// scan is what one govulncheck -format json run reported.
type scan struct {
	Findings []finding
	Summary  map[string]string // OSV ID -> summary
}

// finding is govulncheck's finding: Trace[0] is the vulnerable module, package or function
// (by the scan level), the last frame the entry point of the call stack that reaches it.
type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
}

// name is the frame's function as Go prints it: pkg.F or pkg.(*T).M.
func (f frame) name() string {
	switch {
	case f.Function == "":
		return f.Package
	case f.Receiver != "":
		return fmt.Sprintf("%s.(%s).%s", f.Package, f.Receiver, f.Function)
	default:
		return f.Package + "." + f.Function
	}
}

// govulncheck runs the go.mod tool govulncheck with Toolchain and -format json.
func govulncheck(ctx context.Context, args ...string) (*scan, error) {
	cmd := goCmd(ctx, append([]string{"tool", "govulncheck", "-format", "json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("govulncheck %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return parseScan(&stdout)
}

// parseScan reads govulncheck's JSON stream: one object a message, of which the gate reads
// the OSV entries and the findings.
func parseScan(r io.Reader) (*scan, error) {
	s := &scan{Summary: map[string]string{}}
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			OSV *struct {
				ID      string `json:"id"`
				Summary string `json:"summary"`
			} `json:"osv"`
			Finding *finding `json:"finding"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("govulncheck output at byte %d: %w", dec.InputOffset(), err)
		}
		if msg.OSV != nil {
			s.Summary[msg.OSV.ID] = msg.OSV.Summary
		}
		if f := msg.Finding; f != nil {
			if f.OSV == "" || len(f.Trace) == 0 {
				return nil, fmt.Errorf("govulncheck output at byte %d: a finding without osv or trace", dec.InputOffset())
			}
			s.Findings = append(s.Findings, *f)
		}
	}
}

// vuln is one vulnerability as the gate reports it.
type vuln struct {
	ID      string
	Module  string   // "stdlib" for the standard library
	Version string   // the version found
	Fixed   string   // the version that fixes it; "" when none does
	Symbol  string   // a vulnerable function reached; "" when unreached
	Where   []string // Shipped, Linked: the binaries; Tooling: the entry point of one call stack
	Summary string
}

// report sorts the findings of the scans by who reaches the vulnerable code.
type report struct {
	Shipped   []vuln // a shipped binary holds the vulnerable function: the gate fails
	Linked    []vuln // a shipped binary's Go release or module version is affected, the function not linked in
	Tooling   []vuln // only build and test code calls it
	Unreached []vuln // in a required module or imported package, the vulnerable code not called
}

// classify builds the report from the scans of the binaries with symbols (shipped) and of
// the stripped ones (linked), both by binary name, and the source scan. An ID goes to the
// first list that has it: shipped, linked, tooling, unreached.
//
// Binary mode reports a vulnerable function that the linker kept in the binary, which is
// all the code the binary can run; on a stripped binary it reports every vulnerable
// function of the module versions it holds. The source scan's call graph covers the
// tooling.
func classify(shipped, linked map[string]*scan, src *scan) report {
	var r report
	seen := map[string]bool{}
	newVuln := func(f finding, s *scan) vuln {
		top := f.Trace[0]
		return vuln{ID: f.OSV, Module: top.Module, Version: top.Version, Fixed: f.FixedVersion,
			Symbol: symbol(f), Summary: s.Summary[f.OSV]}
	}
	// byBinary adds the symbol-level findings of bins to list, each ID once with the
	// binaries that have it.
	byBinary := func(list *[]vuln, bins map[string]*scan) {
		index := map[string]int{}
		for _, name := range slices.Sorted(maps.Keys(bins)) {
			for _, f := range bins[name].Findings {
				if symbol(f) == "" {
					continue
				}
				i, ok := index[f.OSV]
				if !ok {
					if seen[f.OSV] { // in an earlier list
						continue
					}
					i, index[f.OSV] = len(*list), len(*list)
					*list = append(*list, newVuln(f, bins[name]))
				}
				if w := (*list)[i].Where; len(w) == 0 || w[len(w)-1] != name {
					(*list)[i].Where = append(w, name)
				}
			}
		}
		for id := range index {
			seen[id] = true
		}
	}
	byBinary(&r.Shipped, shipped)
	byBinary(&r.Linked, linked)
	for _, f := range src.Findings {
		if seen[f.OSV] || symbol(f) == "" {
			continue
		}
		v := newVuln(f, src)
		v.Where = []string{f.Trace[len(f.Trace)-1].name()}
		r.Tooling, seen[f.OSV] = append(r.Tooling, v), true
	}
	scans := []*scan{src}
	for _, bins := range []map[string]*scan{shipped, linked} {
		for _, name := range slices.Sorted(maps.Keys(bins)) {
			scans = append(scans, bins[name])
		}
	}
	for _, s := range scans {
		for _, f := range s.Findings {
			if !seen[f.OSV] {
				r.Unreached, seen[f.OSV] = append(r.Unreached, newVuln(f, s)), true
			}
		}
	}
	for _, l := range [][]vuln{r.Shipped, r.Linked, r.Tooling, r.Unreached} {
		sort.Slice(l, func(i, j int) bool { return l[i].ID < l[j].ID })
	}
	return r
}

// symbol is the vulnerable function of a symbol-level finding, "" for a module or package one.
func symbol(f finding) string {
	if f.Trace[0].Function == "" {
		return ""
	}
	return f.Trace[0].name()
}

// print writes the report: a line for each shipped, linked and tooling vulnerability, one
// line listing the unreached ones, and the verdict for bins.
func (r report) print(w io.Writer, bins []string) {
	fixed := func(v vuln) string {
		if v.Fixed == "" {
			return "no fixed version"
		}
		return "fixed in " + v.Fixed
	}
	for _, v := range r.Shipped {
		fmt.Fprintf(w, "vulncheck: FAIL %s %s@%s, %s: %s in %s: %s\n", v.ID, v.Module, v.Version, fixed(v),
			v.Symbol, strings.Join(v.Where, ", "), v.Summary)
	}
	for _, v := range r.Linked {
		fmt.Fprintf(w, "vulncheck: warning: %s %s@%s, %s: in %s, its vulnerable code not linked in: %s\n", v.ID,
			v.Module, v.Version, fixed(v), strings.Join(v.Where, ", "), v.Summary)
	}
	for _, v := range r.Tooling {
		fmt.Fprintf(w, "vulncheck: warning: %s %s@%s, %s: %s, reached by tooling only (from %s): %s\n", v.ID,
			v.Module, v.Version, fixed(v), v.Symbol, v.Where[0], v.Summary)
	}
	if len(r.Unreached) > 0 {
		var l []string
		for _, v := range r.Unreached {
			l = append(l, fmt.Sprintf("%s (%s@%s, %s)", v.ID, v.Module, v.Version, fixed(v)))
		}
		fmt.Fprintf(w, "vulncheck: note: %d in required modules whose vulnerable code nothing calls: %s\n",
			len(l), strings.Join(l, ", "))
	}
	if len(r.Shipped) == 0 {
		fmt.Fprintf(w, "vulncheck: %s: no vulnerable code\n", strings.Join(bins, ", "))
	}
}
