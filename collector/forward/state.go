package forward

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// state is the durable cursor: the spool files not yet shipped, in order, and how far the
// first is acknowledged. A file is added (and the state saved) before the collector writes
// its first frame, and dropped once every frame of it is acknowledged, so a file that is in
// the spool but not in the state was shipped: the state does not depend on file times or
// names sorting right (a clock stepped back, a name reused after retention).
type state struct {
	Version int `json:"version"`
	// Files are the spool files not yet shipped to their end, oldest first.
	Files []stateFile `json:"files"`
	// Offset is the byte offset in Files[0] (uncompressed) just after the last frame the
	// destination acknowledged: shipping resumes there.
	Offset int64 `json:"offset"`
	// Clean is true when the forwarder stopped with nothing sent and unacknowledged; false
	// after a crash or a kill, when the first batch after the restart may repeat frames the
	// far side already has.
	Clean bool `json:"clean"`
	// Saved is when the state was written.
	Saved time.Time `json:"saved"`
	// Destination names where the files were being shipped, for the operator.
	Destination string `json:"destination"`
}

// stateFile is a spool file in the state: its path without .part, .gz or .zst, and an
// identity that a later file of the same name (after retention freed it) does not share.
type stateFile struct {
	Path string `json:"path"`
	ID   string `json:"id"`
}

const stateVersion = 1

// loadState reads the state at p. A missing file gives (nil, nil): the first start.
func loadState(p string) (*state, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("forward state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("forward state %s: %w", p, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("forward state %s: version %d, this program reads %d", p, st.Version, stateVersion)
	}
	if st.Offset < 0 || (len(st.Files) == 0 && st.Offset != 0) {
		return nil, fmt.Errorf("forward state %s: offset %d with %d files", p, st.Offset, len(st.Files))
	}
	for i, sf := range st.Files {
		if sf.Path == "" || sf.ID == "" {
			return nil, fmt.Errorf("forward state %s: file %d has no path or id", p, i)
		}
	}
	return &st, nil
}

// save writes st to p atomically and durably: a temporary file in the same directory,
// fsync, rename over p, fsync of the directory. After a crash p holds this state or the
// previous one, never a mix.
func (st *state) save(p string) error {
	st.Version = stateVersion
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("forward state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("forward state: %w", err)
	}
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("forward state: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("forward state %s: %w", p, err)
	}
	d, err := os.Open(filepath.Dir(p))
	if err != nil {
		return fmt.Errorf("forward state: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("forward state: fsync %s: %w", filepath.Dir(p), err)
	}
	return nil
}

// DefaultStatePath is where the state goes when not given: a hidden file in the output
// template's first directory without strftime conversions, which the collector writes to
// anyway and retention never touches (it deletes only files matching the template).
func DefaultStatePath(template string) string {
	prefix := template
	for i := 0; i < len(template); i++ {
		if template[i] == '%' {
			prefix = template[:i]
			break
		}
	}
	return filepath.Join(filepath.Dir(prefix), ".dnstap-forward.state")
}
