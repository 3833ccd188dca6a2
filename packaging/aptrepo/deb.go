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
	"strconv"
	"strings"

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

// arMagic starts every ar archive, and so every .deb (deb(5)).
const arMagic = "!<arch>\n"

// arMember is one member of an ar archive: its name and its bytes.
type arMember struct {
	name string
	data []byte
}

// nextMember returns the member of the ar archive data that starts at off, and the offset
// of the next one. The format is the common one of deb(5): a 60-byte header (name in 16
// bytes, "/" ended in GNU ar; size in decimal at 48; "`\n" at 58), the data, padded to an
// even offset.
func nextMember(data []byte, off int) (arMember, int, error) {
	const hdrLen = 60
	if len(data)-off < hdrLen {
		return arMember{}, 0, fmt.Errorf("ar header at offset %d cut short", off)
	}
	h := data[off : off+hdrLen]
	if string(h[58:60]) != "`\n" {
		return arMember{}, 0, fmt.Errorf("ar header at offset %d: bad magic %q", off, h[58:60])
	}
	size, err := strconv.ParseInt(strings.TrimSpace(string(h[48:58])), 10, 64)
	if err != nil || size < 0 || size > int64(len(data)-off-hdrLen) {
		return arMember{}, 0, fmt.Errorf("ar header at offset %d: size %q beyond the file", off, h[48:58])
	}
	start := off + hdrLen
	end := start + int(size)
	next := end + end%2
	return arMember{name: strings.TrimSuffix(strings.TrimSpace(string(h[:16])), "/"), data: data[start:end]}, next, nil
}

// debControl returns the control paragraph of a .deb held in data.
func debControl(data []byte) (Paragraph, error) {
	if !bytes.HasPrefix(data, []byte(arMagic)) {
		return nil, errors.New("not an ar archive: not a .deb")
	}
	off := len(arMagic)
	for i := 0; off < len(data); i++ {
		m, next, err := nextMember(data, off)
		if err != nil {
			return nil, err
		}
		off = next
		if i == 0 {
			if m.name != "debian-binary" {
				return nil, fmt.Errorf("first ar member is %q, not debian-binary: not a .deb", m.name)
			}
			continue
		}
		if !strings.HasPrefix(m.name, "control.tar") {
			continue
		}
		var tr io.Reader
		body := bytes.NewReader(m.data)
		switch path.Ext(m.name) {
		case ".tar":
			tr = body
		case ".gz":
			if tr, err = gzip.NewReader(body); err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
		case ".xz":
			if tr, err = xz.NewReader(body); err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
		case ".zst":
			zr, err := zstd.NewReader(body)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.name, err)
			}
			defer zr.Close()
			tr = zr
		default:
			return nil, fmt.Errorf("%s: unknown compression", m.name)
		}
		return controlFile(tar.NewReader(tr), m.name)
	}
	return nil, errors.New("no control.tar member")
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
