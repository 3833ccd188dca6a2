package aptrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/blakesmith/ar"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Deb is a .deb file read for an index: its control paragraph and its size and hashes.
type Deb struct {
	Path    string    // the file
	Control Paragraph // the control file of its control member
	Size    int64     // bytes
	MD5     string    // hex digests of the whole file
	SHA256  string
	SHA512  string
}

// Name, Version and Arch are the Package, Version and Architecture fields.
func (d *Deb) Name() string    { v, _ := d.Control.Get("Package"); return v }
func (d *Deb) Version() string { v, _ := d.Control.Get("Version"); return v }
func (d *Deb) Arch() string    { v, _ := d.Control.Get("Architecture"); return v }

// PoolPath is where the file goes in the repository, as Debian's archive lays it out:
// pool/main/<initial>/<name>/<name>_<version without epoch>_<arch>.deb, with "lib" and the
// next letter as the initial of lib* packages.
func (d *Deb) PoolPath() string {
	name := d.Name()
	initial := name[:1]
	if strings.HasPrefix(name, "lib") && len(name) > 3 {
		initial = name[:4]
	}
	v := d.Version()
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	return path.Join("pool/main", initial, name, name+"_"+v+"_"+d.Arch()+".deb")
}

// ReadDeb reads the control paragraph of the .deb at path and hashes the file. It checks
// what an index needs: the ar members dpkg expects and the Package, Version and
// Architecture fields.
func ReadDeb(path string) (*Deb, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read deb: %w", err)
	}
	control, err := debControl(data)
	if err != nil {
		return nil, fmt.Errorf("read deb %s: %w", path, err)
	}
	d := &Deb{Path: path, Control: control, Size: int64(len(data))}
	for _, f := range []string{"Package", "Version", "Architecture"} {
		if v, ok := control.Get(f); !ok || v == "" || strings.ContainsAny(v, " \t\n/") {
			return nil, fmt.Errorf("read deb %s: control field %s is %q", path, f, v)
		}
	}
	m, s256, s512 := md5.Sum(data), sha256.Sum256(data), sha512.Sum512(data)
	d.MD5, d.SHA256, d.SHA512 = hex.EncodeToString(m[:]), hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:])
	return d, nil
}

// debControl returns the control paragraph of a .deb held in data.
func debControl(data []byte) (Paragraph, error) {
	r := ar.NewReader(bytes.NewReader(data))
	for i := 0; ; i++ {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no control.tar member")
		}
		if err != nil {
			return nil, fmt.Errorf("ar member %d: %w", i, err)
		}
		name := strings.TrimSuffix(strings.TrimSpace(h.Name), "/")
		if i == 0 {
			if name != "debian-binary" {
				return nil, fmt.Errorf("first ar member is %q, not debian-binary: not a .deb", name)
			}
			continue
		}
		if !strings.HasPrefix(name, "control.tar") {
			continue
		}
		var tr io.Reader
		body := io.LimitReader(r, h.Size)
		switch path.Ext(name) {
		case ".tar":
			tr = body
		case ".gz":
			if tr, err = gzip.NewReader(body); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		case ".xz":
			if tr, err = xz.NewReader(body); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		case ".zst":
			zr, err := zstd.NewReader(body)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			defer zr.Close()
			tr = zr
		default:
			return nil, fmt.Errorf("%s: unknown compression", name)
		}
		return controlFile(tar.NewReader(tr), name)
	}
}

// controlFile returns the parsed ./control file of a control tarball.
func controlFile(tr *tar.Reader, member string) (Paragraph, error) {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s holds no control file", member)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != "control" || h.Typeflag != tar.TypeReg {
			continue
		}
		if h.Size > 1<<20 { // a control file of a MiB is not one
			return nil, fmt.Errorf("%s: control file of %d bytes", member, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		return ParseParagraph(b)
	}
}
