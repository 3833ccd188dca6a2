package baseimage

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Mirrors are the apt archive URLs an image is made from and points to.
type Mirrors struct {
	Archive  string // the distro's archive, e.g. http://host/debian
	Security string // the security archive, or "" when unknown
}

// source is one apt source: its types, URIs and suites.
type source struct {
	types, uris, suites []string
}

// HostMirrors finds the mirrors for d: from DEBIAN_MIRROR/UBUNTU_MIRROR (and
// DEBIAN_SECURITY_MIRROR/UBUNTU_SECURITY_MIRROR) when set, else for Debian from the host's
// apt sources under root ("/" on a real machine).
func HostMirrors(d Distro, root string) (Mirrors, error) {
	prefix := strings.ToUpper(d.Name)
	if m := os.Getenv(prefix + "_MIRROR"); m != "" {
		return Mirrors{Archive: strings.TrimRight(m, "/"), Security: strings.TrimRight(os.Getenv(prefix+"_SECURITY_MIRROR"), "/")}, nil
	}
	if d.Name != "debian" {
		return Mirrors{}, fmt.Errorf("no %s mirror: set %s_MIRROR (for example http://archive.example/%s)", d, prefix, d.Name)
	}
	srcs, err := readHostSources(root)
	if err != nil {
		return Mirrors{}, err
	}
	m := pickMirrors(srcs, d.Name)
	if m.Archive == "" {
		return Mirrors{}, fmt.Errorf("no %s mirror in the host's apt sources (%s): set %s_MIRROR",
			d.Name, filepath.Join(root, "etc/apt"), prefix)
	}
	return m, nil
}

// pickMirrors returns the first deb source whose suites are not -security suites as the
// archive, and the first one with a -security suite as the security mirror.
func pickMirrors(srcs []source, name string) Mirrors {
	var m Mirrors
	for _, s := range srcs {
		if !contains(s.types, "deb") || len(s.uris) == 0 {
			continue
		}
		uri := strings.TrimRight(s.uris[0], "/")
		if !strings.HasPrefix(uri, "http://") && !strings.HasPrefix(uri, "https://") {
			continue
		}
		sec := false
		for _, su := range s.suites {
			if strings.HasSuffix(su, "-security") || strings.HasSuffix(su, "/updates") {
				sec = true
			}
		}
		switch {
		case sec && m.Security == "":
			m.Security = uri
		case !sec && m.Archive == "" && strings.HasSuffix(uri, "/"+name):
			m.Archive = uri
		}
	}
	return m
}

func readHostSources(root string) ([]source, error) {
	var srcs []source
	files, err := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d/*.sources"))
	if err != nil {
		return nil, fmt.Errorf("read apt sources: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read apt sources: %w", err)
		}
		srcs = append(srcs, parseDeb822(strings.NewReader(string(b)))...)
	}
	lists, _ := filepath.Glob(filepath.Join(root, "etc/apt/sources.list.d/*.list"))
	sort.Strings(lists)
	for _, f := range append([]string{filepath.Join(root, "etc/apt/sources.list")}, lists...) {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read apt sources: %w", err)
		}
		srcs = append(srcs, parseOneLine(strings.NewReader(string(b)))...)
	}
	return srcs, nil
}

// parseDeb822 reads stanzas of the deb822 sources format (Types, URIs, Suites, ...).
func parseDeb822(r io.Reader) []source {
	var out []source
	var cur source
	flush := func() {
		if len(cur.types) > 0 {
			out = append(out, cur)
		}
		cur = source{}
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		switch strings.ToLower(k) {
		case "types":
			cur.types = f
		case "uris":
			cur.uris = f
		case "suites":
			cur.suites = f
		case "enabled":
			if strings.EqualFold(strings.TrimSpace(v), "no") {
				cur.types = []string{"disabled"}
			}
		}
	}
	flush()
	return out
}

// parseOneLine reads the one-line format: "deb [opts] uri suite component...".
func parseOneLine(r io.Reader) []source {
	var out []source
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		typ, rest := f[0], f[1:]
		if strings.HasPrefix(rest[0], "[") {
			for len(rest) > 0 && !strings.HasSuffix(rest[0], "]") {
				rest = rest[1:]
			}
			if len(rest) > 0 {
				rest = rest[1:]
			}
		}
		if len(rest) < 2 {
			continue
		}
		out = append(out, source{types: []string{typ}, uris: []string{rest[0]}, suites: []string{rest[1]}})
	}
	return out
}

// SourcesList returns the /etc/apt/sources.list of an image of d using m. With src, it
// adds deb-src lines too.
func SourcesList(d Distro, m Mirrors, src bool) string {
	comps := strings.Join(d.components(), " ")
	var b strings.Builder
	types := []string{"deb"}
	if src {
		types = append(types, "deb-src")
	}
	for _, t := range types {
		fmt.Fprintf(&b, "%s %s %s %s\n", t, m.Archive, d.Suite, comps)
		fmt.Fprintf(&b, "%s %s %s-updates %s\n", t, m.Archive, d.Suite, comps)
		switch {
		case d.Name == "ubuntu":
			fmt.Fprintf(&b, "%s %s %s-security %s\n", t, m.Archive, d.Suite, comps)
		case m.Security != "":
			fmt.Fprintf(&b, "%s %s %s-security %s\n", t, m.Security, d.Suite, comps)
		}
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
