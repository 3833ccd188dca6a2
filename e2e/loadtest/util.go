package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
)

// ensureLoopback makes sure addr is an address of an interface: named only listens on
// addresses that an interface holds, and Linux's lo holds just 127.0.0.1 of 127/8. It adds
// addr/32 to lo when missing (needs root).
func ensureLoopback(addr string) error {
	ip := net.ParseIP(addr)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("invalid address %q: must be an IPv4 loopback address", addr)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("list interface addresses: %w", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return nil
		}
	}
	if out, err := exec.Command("ip", "addr", "add", addr+"/32", "dev", "lo").CombinedOutput(); err != nil {
		return fmt.Errorf("add %s to lo (named listens only on interface addresses): %w: %s", addr, err, bytes.TrimSpace(out))
	}
	return nil
}

func isSocket(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s is not a socket", path)
	}
	return nil
}

// readTail returns the last KiB of a log file, for error messages.
func readTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("[%v]", err)
	}
	if len(b) > 1024 {
		b = b[len(b)-1024:]
	}
	return fmt.Sprintf("[%s: %s]", filepath.Base(path), bytes.TrimSpace(b))
}

func writeFile(path string, fill func(*os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// countDir counts the frames of every file the collector wrote into dir (it may rotate).
func countDir(dir string) (Frames, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return Frames{}, fmt.Errorf("capture dir: %w", err)
	}
	total := Frames{ByType: map[string]int64{}}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return total, fmt.Errorf("capture dir %s: the collector wrote no file", dir)
	}
	slices.Sort(names)
	for _, n := range names {
		fr, err := CountFrames(filepath.Join(dir, n))
		if err != nil {
			return total, err
		}
		total.Total += fr.Total
		for k, v := range fr.ByType {
			total.ByType[k] += v
		}
	}
	return total, nil
}

func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("count lines: %w", err)
	}
	defer f.Close()
	var n int64
	br := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 1<<20)
	for {
		k, err := br.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("count lines of %s: %w", path, err)
		}
	}
}

func framesTotal(f *Frames) any {
	if f == nil {
		return "-"
	}
	return f.Total
}
