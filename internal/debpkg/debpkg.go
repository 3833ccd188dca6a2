// Package debpkg writes .deb packages with nfpm and the conventions every package of the
// project follows: packaging's dnstap-collector and dnstap-reader, and bind's bind9-dnstap.
// It is a leaf, so that both can use it (packaging imports bind for its repository).
package debpkg

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
)

// Write writes the .deb that info describes to out, with the conventions:
//
//   - every file has the mtime mtime (SOURCE_DATE_EPOCH), so a build is reproducible; a zero
//     mtime leaves nfpm's default (the time of the build);
//   - data.tar is xz, which every dpkg from Ubuntu 18.04's (1.19) on unpacks; zstd members
//     it does not (dpkg 1.21.18 and later only);
//   - the file appears whole: it is written beside out, then renamed.
//
// Relative paths in info are nfpm's (the working directory): callers give absolute ones.
func Write(info *nfpm.Info, mtime time.Time, out string) error {
	if !mtime.IsZero() {
		info.MTime = mtime.UTC()
	}
	if info.Deb.Compression == "" {
		info.Deb.Compression = "xz"
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.Validate(info); err != nil {
		return err
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := pkg.Package(info, &b); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// FileName is Debian's conventional name_version_arch.deb of info.
func FileName(info *nfpm.Info) (string, error) {
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return "", fmt.Errorf("deb packager: %w", err)
	}
	return pkg.ConventionalFileName(nfpm.WithDefaults(info)), nil
}
