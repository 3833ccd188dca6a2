package devtool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// VulnDB is the version of the golang.org/x/vulndb module whose data/osv/ is the
// vulnerability database `go tool mage vulncheck` reads. Pinned so the gate gives the same
// answer for the same tree; `go tool mage vulndb:update` moves it to the newest version.
const VulnDB = "v0.0.0-20261105234957-e22db6528018"

// vulnDBModule is the Go module that carries the Go vulnerability database as OSV files.
const vulnDBModule = "golang.org/x/vulndb"

// VulnDBDir returns the directory of the local vulnerability database built from version of
// golang.org/x/vulndb, in the layout govulncheck's -db file:// reads. It is built once per
// version under the user's cache directory; the module comes through the go command (the
// module proxy and the checksum database, then the module cache).
func VulnDBDir(ctx context.Context, version string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("vulndb: %w", err)
	}
	dir := filepath.Join(cache, "dnstapkit", "vulndb", version)
	if _, err := os.Stat(filepath.Join(dir, "index", "modules.json")); err == nil {
		return dir, nil
	}
	mod, err := downloadModule(ctx, vulnDBModule+"@"+version)
	if err != nil {
		return "", fmt.Errorf("vulndb: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("vulndb: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), version+".tmp-")
	if err != nil {
		return "", fmt.Errorf("vulndb: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := WriteVulnDB(filepath.Join(mod.Dir, "data", "osv"), tmp, mod.Time); err != nil {
		return "", fmt.Errorf("vulndb %s: %w", version, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another run built the same version meanwhile: use its copy.
		if _, serr := os.Stat(filepath.Join(dir, "index", "modules.json")); serr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("vulndb: %w", err)
	}
	return dir, nil
}

// UpdateVulnDB sets the VulnDB constant in the Go file at path to the newest version of
// golang.org/x/vulndb and returns the old and new versions.
func UpdateVulnDB(ctx context.Context, path string) (old, new string, err error) {
	mod, err := downloadModule(ctx, vulnDBModule+"@latest")
	if err != nil {
		return "", "", fmt.Errorf("update vulndb: %w", err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("update vulndb: %w", err)
	}
	out, old, err := setVulnDB(src, mod.Version)
	if err != nil {
		return "", "", fmt.Errorf("update vulndb: %s: %w", path, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return "", "", fmt.Errorf("update vulndb: %w", err)
	}
	return old, mod.Version, nil
}

// vulnDBConst is the line that pins VulnDB.
var vulnDBConst = regexp.MustCompile(`(?m)^const VulnDB = "([^"]*)"$`)

// setVulnDB returns src with the VulnDB constant set to version, and the version it held.
func setVulnDB(src []byte, version string) (out []byte, old string, err error) {
	m := vulnDBConst.FindAllSubmatchIndex(src, -1)
	if len(m) != 1 {
		return nil, "", fmt.Errorf("want one line `const VulnDB = \"...\"`, found %d", len(m))
	}
	if !semver.IsValid(version) {
		return nil, "", fmt.Errorf("invalid module version %q", version)
	}
	old = string(src[m[0][2]:m[0][3]])
	out = append(append(append([]byte{}, src[:m[0][2]]...), version...), src[m[0][3]:]...)
	return out, old, nil
}

// module is what `go mod download -json` says of a module version.
type module struct {
	Version string
	Dir     string    // the extracted module in the module cache
	Time    time.Time // commit time, read from the .info file
	Error   string
}

// downloadModule fetches path@query (a version or "latest") into the module cache with the
// go command, which checks it against the checksum database. It runs outside this module,
// so go.mod and go.sum are left alone.
func downloadModule(ctx context.Context, query string) (module, error) {
	tmp, err := os.MkdirTemp("", "dnstapkit-download-")
	if err != nil {
		return module{}, err
	}
	defer os.RemoveAll(tmp)
	cmd := goCmd(ctx, "mod", "download", "-json", query)
	cmd.Dir = tmp
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var m struct {
		module
		Info string
	}
	if jerr := json.Unmarshal(out, &m); jerr != nil {
		return module{}, fmt.Errorf("go mod download %s: %w: %s", query, errors.Join(err, jerr), stderr.Bytes())
	}
	if m.Error != "" || err != nil {
		return module{}, fmt.Errorf("go mod download %s: %s %w", query, m.Error, err)
	}
	info, err := os.ReadFile(m.Info)
	if err != nil {
		return module{}, fmt.Errorf("go mod download %s: %w", query, err)
	}
	if err := json.Unmarshal(info, &m.module); err != nil || m.Time.IsZero() {
		return module{}, fmt.Errorf("go mod download %s: no commit time in %s: %v", query, m.Info, err)
	}
	return m.module, nil
}

// osvEntry is the part of an OSV entry (https://ossf.github.io/osv-schema/) the index needs.
type osvEntry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced"`
		Fixed      string `json:"fixed"`
	} `json:"events"`
}

// dbMeta is index/db.json.
type dbMeta struct {
	Modified time.Time `json:"modified"`
}

// moduleMeta is one element of index/modules.json.
type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

// WriteVulnDB writes the database of the OSV entries in osvDir (files named <ID>.json) to
// out in the layout of the Go vulnerability database API (go.dev/security/vuln/database):
// index/db.json, index/modules.json and ID/<ID>.json, the entries copied byte for byte.
// golang.org/x/vulndb's data/osv leaves "modified" unset (the zero time: its server sets it
// from the git history); the index then uses modified, the commit time of that data.
func WriteVulnDB(osvDir, out string, modified time.Time) error {
	files, err := filepath.Glob(filepath.Join(osvDir, "*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no OSV entries (*.json) in %s", osvDir)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return err
	}
	db := dbMeta{}
	modules := map[string]*moduleMeta{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var e osvEntry
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" || filepath.Base(f) != e.ID+".json" {
			return fmt.Errorf("%s: entry id %q does not match the file name", f, e.ID)
		}
		if e.Modified.IsZero() {
			e.Modified = modified
		}
		if e.Modified.After(db.Modified) {
			db.Modified = e.Modified
		}
		for _, a := range e.Affected {
			m := modules[a.Package.Name]
			if m == nil {
				m = &moduleMeta{Path: a.Package.Name}
				modules[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFix(a.Ranges)})
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), data, 0o644); err != nil {
			return err
		}
	}
	index := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.SliceStable(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		index = append(index, m)
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	for name, v := range map[string]any{"db.json": db, "modules.json": index} {
		if err := writeJSON(filepath.Join(out, "index", name), v); err != nil {
			return err
		}
	}
	return nil
}

// latestFix is the "fixed" of a modules.json entry: the latest fixed version of the SEMVER
// ranges, or "" when the vulnerability was introduced again after it (then every version
// may be affected). govulncheck skips an entry for a module version at or above it, so it
// must never be lower than a version that is still affected; this is the rule of
// golang.org/x/vuln's NonSupersededFix.
func latestFix(ranges []osvRange) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && lessVersion(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && lessVersion(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// lessVersion compares OSV versions (semver without the "v"); "" is less than any version.
func lessVersion(a, b string) bool {
	return semver.Compare(osvSemver(a), osvSemver(b)) < 0
}

func osvSemver(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
